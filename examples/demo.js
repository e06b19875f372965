#!/usr/bin/env node
// `npm run demo`: offload's three jobs on data it makes itself, with timings.
//
//   node examples/demo.js [--out DIR] [--photos N]
//
// 1. A Pool of worker processes renders sample landscape photos (CPU-heavy JavaScript,
//    kept off this process's event loop) and sends them back as JPEG bytes.
// 2. offload's image threads make thumbnails of them in several sizes and formats, one
//    with a watermark.
// 3. A few subprocesses look at the result: du, a find | wc pipeline, and a timeout.
// The event loop's delay is measured the whole time. Nothing is downloaded. index.html in the
// output folder shows the same figures, and each thumbnail with its size, format and bytes.
'use strict'
const fs = require('node:fs')
const path = require('node:path')
const { parseArgs } = require('node:util')
const { monitorEventLoopDelay } = require('node:perf_hooks')
const { Pool, resize, resizeFile, getConcurrency, execFile, pipeline } = require('offload')

const PHOTO = { width: 1600, height: 1067 }
const THUMBNAILS = [
  { name: 'square', options: { width: 200, height: 200, fit: 'cover', format: 'webp' } },
  { name: 'medium', options: { width: 640, height: 640, fit: 'inside', format: 'jpeg', quality: 82 }, watermark: true },
  { name: 'icon', options: { width: 64, height: 64, fit: 'contain', background: 'transparent', format: 'png' } },
]
const EXTENSIONS = { jpeg: 'jpg', png: 'png', webp: 'webp' }

const now = () => process.hrtime.bigint()
const ms = (since) => Number(now() - since) / 1e6
const kib = (bytes) => `${(bytes / 1024).toFixed(0)} KiB`

/** A round, semi-transparent badge drawn in raw RGBA, encoded as PNG for `composite`. */
function watermark(side) {
  const pixels = Buffer.alloc(side * side * 4)
  const centre = (side - 1) / 2
  for (let y = 0; y < side; y++) {
    for (let x = 0; x < side; x++) {
      const d = Math.hypot(x - centre, y - centre) / centre
      // A white ring with a soft edge, and a dot in the middle.
      const ring = Math.max(0, 1 - Math.abs(d - 0.75) * 8)
      const dot = Math.max(0, 1 - d * 4)
      pixels.set([255, 255, 255, Math.round(Math.min(1, ring + dot) * 200)], (y * side + x) * 4)
    }
  }
  return resize(pixels, { raw: { width: side, height: side, channels: 4 }, format: 'png' })
}

/** Runs `work(item)` over `items`, at most `limit` at a time. */
async function inBatches(items, limit, work) {
  let next = 0
  const lane = async () => {
    while (next < items.length) await work(items[next++])
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane))
}

async function main() {
  const { values } = parseArgs({
    options: {
      out: { type: 'string', default: path.join(__dirname, '..', 'demo-output') },
      photos: { type: 'string', default: '8' },
    },
  })
  const count = Number(values.photos)
  if (!Number.isInteger(count) || count < 1 || count > 500) {
    throw new RangeError(`--photos must be a whole number from 1 to 500, not '${values.photos}'`)
  }
  const out = path.resolve(values.out)
  // Only what an earlier run wrote is removed: --out may name a folder that holds other things.
  for (const dir of ['photos', ...THUMBNAILS.map((t) => t.name)]) {
    const folder = path.join(out, dir)
    fs.mkdirSync(folder, { recursive: true })
    for (const name of fs.readdirSync(folder)) {
      if (/^landscape-\d+\.(jpg|webp|png)$/.test(name)) fs.rmSync(path.join(folder, name))
    }
  }

  const loop = monitorEventLoopDelay({ resolution: 1 })
  loop.enable()
  const started = now()
  console.log('offload demo: worker processes, image threads and subprocesses, the event loop kept free\n')

  // 1. Render and encode in worker processes; write each photo as it arrives.
  let t = now()
  const pool = new Pool({ script: path.join(__dirname, 'demo', 'render-worker.js') })
  const photos = await Promise.all(
    Array.from({ length: count }, async (_, i) => {
      const jpeg = await pool.run({ seed: i + 1, ...PHOTO, quality: 90 })
      const file = path.join(out, 'photos', `landscape-${String(i + 1).padStart(2, '0')}.jpg`)
      await fs.promises.writeFile(file, jpeg)
      return { file, size: jpeg.length }
    }),
  )
  const stats = pool.stats()
  await pool.close()
  const summary = {}
  summary.render =
    `rendered ${count} photos of ${PHOTO.width}×${PHOTO.height} in a pool of ${stats.size} worker processes: ` +
    `${ms(t).toFixed(0)} ms (${stats.runTime.p50.toFixed(0)} ms each, median), ` +
    `${kib(photos.reduce((sum, p) => sum + p.size, 0))} of JPEG back as raw bytes`
  console.log(`1. ${summary.render}`)

  // 2. Thumbnails: every photo × every size, on the image threads (never libuv's threadpool).
  t = now()
  const badge = await watermark(72)
  const jobs = photos.flatMap((photo) => THUMBNAILS.map((thumb) => ({ photo, thumb })))
  let bytesOut = 0
  /** What resizeFile wrote, by the file's path below `out` (as the page links it). */
  const made = new Map()
  await inBatches(jobs, getConcurrency() * 2, async ({ photo, thumb }) => {
    const name = `${thumb.name}/${path.basename(photo.file, '.jpg')}.${EXTENSIONS[thumb.options.format]}`
    const options = thumb.watermark ? { ...thumb.options, composite: [{ input: badge, gravity: 'southeast', opacity: 0.8 }] } : thumb.options
    const info = await resizeFile(photo.file, path.join(out, name), options)
    made.set(name, info)
    bytesOut += info.size
  })
  const seconds = ms(t) / 1000
  // The sizes that came out ('inside' keeps the aspect ratio: 640×427, not the 640×640 asked for).
  const sizes = THUMBNAILS.map((x) => {
    const infos = [...made].filter(([name]) => name.startsWith(`${x.name}/`)).map(([, info]) => info)
    return `${x.name} ${[...new Set(infos.map((i) => `${i.width}×${i.height}`))].join('/')} ${x.options.format}`
  }).join(', ')
  summary.thumbnails =
    `made ${jobs.length} thumbnails (${sizes}) on ${getConcurrency()} image threads: ` +
    `${(seconds * 1000).toFixed(0)} ms, ${(jobs.length / seconds).toFixed(0)} thumbnails/s, ${kib(bytesOut)} written`
  console.log(`2. ${summary.thumbnails}`)

  // 3. Subprocesses, supervised from Rust: no fork() of this process, no shell unless asked.
  summary.subprocesses = []
  t = now()
  const du = await execFile('du', ['-sk', out])
  summary.subprocesses.push(`execFile du -sk                  → ${kib(Number(du.stdout.split('\t')[0]) * 1024)} on disk (${ms(t).toFixed(1)} ms)`)
  console.log(`3. ${summary.subprocesses.at(-1)}`)
  t = now()
  const counted = await pipeline(['find', out, '-type', 'f', '-name', '*.webp'], ['wc', '-l'])
  summary.subprocesses.push(`pipeline find … | wc -l           → ${counted.stdout.trim()} WebP files, bytes through a kernel pipe (${ms(t).toFixed(1)} ms)`)
  console.log(`4. ${summary.subprocesses.at(-1)}`)
  try {
    await execFile('sleep', ['10'], { timeout: 200 })
  } catch (err) {
    summary.subprocesses.push(`execFile sleep 10, timeout 200 ms → ${err.code}: ${err.message.split('\n')[0]}`)
    console.log(`5. ${summary.subprocesses.at(-1)}`)
  }

  loop.disable()
  summary.total = `${(ms(started) / 1000).toFixed(1)} s`
  summary.eventLoop = `p99 ${(loop.percentile(99) / 1e6).toFixed(1)} ms, max ${(loop.max / 1e6).toFixed(1)} ms`
  console.log(`\nAll done in ${summary.total}. Event-loop delay meanwhile: ${summary.eventLoop}.`)
  fs.writeFileSync(path.join(out, 'index.html'), gallery(photos, made, summary))
  console.log(`Output: ${out}  (open ${path.join(out, 'index.html')})`)
}

const escapeHtml = (text) => String(text).replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c])

/**
 * A page showing what the run did: at the top the figures the terminal printed (the same
 * text), then every photo with its thumbnails, each captioned with the size, format and
 * bytes resizeFile reported for it.
 */
function gallery(photos, made, summary) {
  const rows = photos.map(({ file, size }) => {
    const base = path.basename(file, '.jpg')
    const cells = THUMBNAILS.map((x) => {
      const name = `${x.name}/${base}.${EXTENSIONS[x.options.format]}`
      const info = made.get(name)
      return `<figure class="thumb"><img src="${name}" alt="${x.name}" width="${info.width}" height="${info.height}">` +
        `<figcaption>${info.width}×${info.height} ${info.format}, ${info.size} bytes</figcaption></figure>`
    })
    return `<section class="photo"><h2><a href="photos/${base}.jpg">${base}.jpg</a> ` +
      `<small>${PHOTO.width}×${PHOTO.height} jpeg, ${size} bytes, rendered in a pool worker</small></h2>\n${cells.join('\n')}</section>`
  })
  return `<!doctype html>
<meta charset="utf-8"><title>offload demo</title>
<style>
body{font:14px system-ui;background:#222;color:#ddd;margin:16px}
dl{display:grid;grid-template-columns:max-content 1fr;gap:4px 12px}dt{color:#999}dd{margin:0}
section{margin:16px 0}h2{font-size:15px;font-weight:normal}small{color:#999}
figure{display:inline-block;margin:4px 8px 4px 0;vertical-align:bottom}figcaption{font-size:12px;color:#aaa}img{display:block}
</style>
<h1>offload demo: ${photos.length} photos, ${made.size} thumbnails</h1>
<dl class="summary">
<dt>Pool render time</dt><dd id="render">${escapeHtml(summary.render)}</dd>
<dt>Thumbnails</dt><dd id="thumbnails">${escapeHtml(summary.thumbnails)}</dd>
<dt>Subprocesses</dt><dd id="subprocesses">${summary.subprocesses.map((line) => escapeHtml(line.replace(/ {2,}/g, ' '))).join('<br>')}</dd>
<dt>Whole run</dt><dd id="total">${escapeHtml(summary.total)}</dd>
<dt>Event-loop delay</dt><dd id="event-loop">${escapeHtml(summary.eventLoop)}, measured over the whole run</dd>
</dl>
${rows.join('\n')}
`
}

main().catch((err) => {
  console.error(err)
  process.exitCode = 1
})

#!/usr/bin/env node
// Thumbnails through an ImageMagick child process, versus offload's resizeFile().
//
// The version people copy:
//
//   const { execFile } = require('child_process')
//   for (const file of files) {
//     execFile('convert', [file, '-resize', '320x240', `thumbs/${file}`], (err) => { ... })
//   }
//
// What goes wrong: one process per image decodes the whole photo at full size
// (tens of MB for a phone picture) and costs several times the CPU of an
// in-process resize; each execFile() forks this Node process on its event loop
// thread, which stalls it longer the bigger the heap; the loop starts every
// convert at once (a folder of 1,000 photos is 1,000 processes); without
// -auto-orient a portrait photo is fitted to the box as stored, sideways, and
// without -strip its EXIF and colour profile bloat every thumbnail; and a convert
// that fails can leave an empty or half-written file behind.
//
// What offload does instead: `resizeFile(input, output, { width, height, fit: 'inside' })`
// decodes, resizes (JPEGs shrink while decoding) and encodes on offload's own
// threads, as many at once as there are CPUs, turns photos upright, strips
// metadata, writes to a temporary name and renames, and rejects bad input with
// a stable `code` (ERR_OFFLOAD_IMAGE_CORRUPT, ERR_OFFLOAD_IMAGE_TOO_LARGE, ...).
//
// This script resizes the same images both ways, as many at a time as there are
// CPUs, and prints the timings and output sizes side by side:
//
//   node examples/scenarios/imagemagick-vs-resize.js [folder or image ...]   (default: the test images)
//
// ImageMagick is `convert` on PATH (CONVERT=magick for ImageMagick 7 alone); without
// it, only the offload half runs.
'use strict'
const childProcess = require('node:child_process')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { monitorEventLoopDelay } = require('node:perf_hooks')
const { promisify } = require('node:util')
const { metadata, resizeFile } = require('offload')

const execFile = promisify(childProcess.execFile)
const BOX = { width: 320, height: 240 }
const IMAGE_EXTENSIONS = new Set(['.jpg', '.jpeg', '.png', '.webp', '.gif'])
const DEFAULT_FOLDER = path.join(__dirname, '../../../shared/fixtures/images')

/** ImageMagick's command and version, or `{ missing }` saying why there is none. */
async function findConvert(command = process.env.CONVERT || 'convert') {
  try {
    const { stdout } = await execFile(command, ['-version'])
    const version = /^Version: ImageMagick (\S+)/m.exec(stdout)
    if (version) return { command, version: version[1] }
    return { missing: `\`${command} -version\` does not say it is ImageMagick` }
  } catch (err) {
    return { missing: `\`${command}\` could not be run (${err.code})` }
  }
}

/** PNG stays PNG (it may have alpha); everything else becomes a JPEG. */
function thumbnailName(input) {
  const ext = path.extname(input).toLowerCase()
  return `${path.basename(input, path.extname(input))}${ext === '.png' ? '.png' : '.jpg'}`
}

async function resizeWithImageMagick(convert, input, output) {
  // `[0]`: the first frame of an animated GIF (otherwise one output file per frame);
  // -auto-orient and -strip, -depth 8 and -quality 80 make the same thumbnail as
  // resizeFile's defaults, so the sizes compare like with like.
  const args = [`${input}[0]`, '-auto-orient', '-resize', `${BOX.width}x${BOX.height}`, '-strip', '-depth', '8', '-quality', '80', output]
  await execFile(convert.command, args, { timeout: 60_000 })
  const { width, height, size } = await metadata(output)
  return { width, height, size }
}

async function resizeWithOffload(input, output) {
  const { width, height, size } = await resizeFile(input, output, { ...BOX, fit: 'inside', quality: 80 })
  return { width, height, size }
}

/** Calls `fn` on every item, at most `limit` at a time; results in the items' order. */
async function mapLimit(items, limit, fn) {
  const results = new Array(items.length)
  let next = 0
  const lane = async () => {
    while (next < items.length) {
      const i = next++
      results[i] = await fn(items[i])
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane))
  return results
}

/** Resizes every input into `outDir` with `resizeOne`; per image its result or error, and the batch's timings. */
async function runBatch(inputs, outDir, resizeOne) {
  fs.mkdirSync(outDir, { recursive: true })
  const loop = monitorEventLoopDelay({ resolution: 1 })
  loop.enable()
  const started = performance.now()
  const rows = await mapLimit(inputs, os.availableParallelism(), async (input) => {
    const t = performance.now()
    const output = path.join(outDir, thumbnailName(input))
    try {
      return { input, ...(await resizeOne(input, output)), ms: performance.now() - t }
    } catch (err) {
      const leftover = fs.existsSync(output) ? fs.statSync(output).size : null
      return { input, error: describeFailure(err), leftover, ms: performance.now() - t }
    }
  })
  loop.disable()
  return { rows, wallMs: performance.now() - started, loopP99Ms: loop.percentile(99) / 1e6 }
}

/** offload's stable code, or the gist of convert's first complaint ("convert: no images defined `x.png' @ ..."). */
function describeFailure(err) {
  if (String(err.code).startsWith('ERR_OFFLOAD_')) return err.code
  const complaint = /^convert: ([^`]+)/m.exec(err.stderr ?? '')
  return complaint ? complaint[1].trim() : err.message.split('\n')[0]
}

/** Both halves on the same inputs; `imagemagick` is null when `convert` is missing. */
async function compare({ inputs, outDir, convert }) {
  const imagemagick = convert.command ? await runBatch(inputs, path.join(outDir, 'imagemagick'), (i, o) => resizeWithImageMagick(convert, i, o)) : null
  const offload = await runBatch(inputs, path.join(outDir, 'offload'), resizeWithOffload)
  return { imagemagick, offload }
}

/** The image files among the arguments, folders expanded (not recursively). */
function listInputs(args) {
  const inputs = []
  for (const arg of args.length > 0 ? args : [DEFAULT_FOLDER]) {
    if (!fs.existsSync(arg)) throw new Error(`${arg} does not exist: give a folder of images or image files`)
    if (!fs.statSync(arg).isDirectory()) {
      inputs.push(path.resolve(arg))
      continue
    }
    for (const name of fs.readdirSync(arg).sort()) {
      if (IMAGE_EXTENSIONS.has(path.extname(name).toLowerCase())) inputs.push(path.resolve(arg, name))
    }
  }
  if (inputs.length === 0) throw new Error(`no .jpg, .jpeg, .png, .webp or .gif files in ${args.join(', ')}: give a folder of images or image files`)
  return inputs
}

function cell(row) {
  if (row === undefined) return ''
  if (row.error) return `failed: ${row.error}${row.leftover === null ? '' : `, left a ${row.leftover}-byte file`}`
  return `${row.width}×${row.height} ${(row.size / 1024).toFixed(1).padStart(6)} KiB ${row.ms.toFixed(0).padStart(5)} ms`
}

function report({ imagemagick, offload }, convert) {
  const widths = [38, 56]
  const line = (...cells) => console.log(cells.map((c, i) => String(c).padEnd(widths[i] ?? 0)).join('  ').trimEnd())
  line('image', convert.command ? `ImageMagick ${convert.version}` : 'ImageMagick (not run)', 'offload resizeFile')
  offload.rows.forEach((row, i) => line(path.basename(row.input).slice(0, 38), cell(imagemagick?.rows[i]), cell(row)))
  const total = (batch) => {
    const done = batch.rows.filter((r) => !r.error)
    const kib = done.reduce((sum, r) => sum + r.size, 0) / 1024
    return `${done.length} done, ${kib.toFixed(0)} KiB, ${(batch.wallMs / 1000).toFixed(2)} s; event-loop p99 ${batch.loopP99Ms.toFixed(1)} ms`
  }
  line('total', imagemagick ? total(imagemagick) : '', total(offload))
}

async function main() {
  const inputs = listInputs(process.argv.slice(2))
  const convert = await findConvert()
  if (convert.missing) {
    console.log(`ImageMagick: ${convert.missing}; running only the offload half (apt-get install imagemagick adds it).`)
  }
  const outDir = fs.mkdtempSync(path.join(os.tmpdir(), 'offload-thumbs-'))
  try {
    console.log(`${inputs.length} images → at most ${BOX.width}×${BOX.height}, ${os.availableParallelism()} at a time\n`)
    report(await compare({ inputs, outDir, convert }), convert)
  } finally {
    fs.rmSync(outDir, { recursive: true })
  }
}

if (require.main === module) {
  main().catch((err) => {
    console.error(err.message)
    process.exitCode = 1
  })
}

module.exports = { compare, findConvert, listInputs, BOX }

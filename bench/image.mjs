#!/usr/bin/env node
// Image benchmark: offload's resize() vs sharp, @napi-rs/image, jimp and an
// ImageMagick `convert` child process per image, in one run. sharp's own
// benchmark (test/bench/perf.js), mirrored, buffer in and buffer out:
//
//   JPEG: the 2725×2225 JPEG → 720×588 JPEG, quality 80
//   PNG:  the 2048×1536 RGBA PNG → 720×540 PNG, compression level 6
//
//   node bench/image.mjs            full run (about 4 minutes)
//   node bench/image.mjs --quick    short smoke run (about 30 s; numbers are rough)
//   options: --json=FILE (raw results), --rounds=N
//
// The inputs are read from ../shared/fixtures/images/ beside the repository.
//
// A fresh Node process (started by this script, with --expose-gc) loads every
// contender, warms each up (and checks its output: format, dimensions, a full
// decode by sharp, and the mean difference from sharp's pixels), then runs
// rounds; within a round, for each image and each mode, every contender runs a
// trial in turn, the contender order rotating every round:
//
//   1 in flight   sequential, each image awaited before the next (sharp's method,
//                 Benchmark.js with `defer`): ops/s = images / seconds.
//   2, 4 in flight  throughput: that many lanes, each starting its next image
//                 when its last one is done.
//
// A trial starts images until a time budget is spent (each lane at least one),
// and its rate is images done / seconds from the first start to the last answer.
// During every trial a fresh monitorEventLoopDelay({ resolution: 1 }) samples
// the event loop of this process, and /proc/stat gives the machine's busy CPU
// time (every process: ImageMagick's children and libvips/Rust threads too)
// per image. jimp (~1 image/s, pure JS on the event loop) runs in the first
// round only, one image per lane.
//
// Peak RSS: then, for each contender and image, a fresh Node process
// (`--rss NAME IMAGE COUNT`) loads that contender alone and resizes COUNT
// images (200; fewer for jimp and ImageMagick, see the report), 4 in flight,
// and reports process.resourceUsage().maxRSS. For ImageMagick that is the Node
// parent only, so each convert runs under /usr/bin/time -f %M (its own peak RSS)
// and the table gives parent + 4 × the largest convert (4 run at a time).
//
// Every output is checked (PNG or JPEG header, 720×588 / 720×540); errors are
// listed in the report. Rates are medians over rounds.

import { spawnSync } from 'node:child_process'
import { createRequire } from 'node:module'
import { performance, monitorEventLoopDelay } from 'node:perf_hooks'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

import { median, rotate, fmt, ratio, table } from './lib/stats.mjs'
import { machineInfo, addonInfo, gitRevision, ROOT } from './lib/machine.mjs'
import { findMagick, magickArgs, runMagick } from './lib/magick.mjs'

const MiB = 2 ** 20
const SELF = fileURLToPath(import.meta.url)
const FIXTURES = path.resolve(ROOT, '..', 'shared', 'fixtures', 'images')
const BASE = 'sharp'
const NAMES = ['sharp', 'offload', '@napi-rs/image', '@napi-rs/image fastResize', 'jimp', 'ImageMagick']
const MODES = [1, 2, 4]
const RSS_IN_FLIGHT = 4

const IMAGES = {
  jpeg: {
    label: 'JPEG 2725×2225 → 720×588 JPEG q80',
    file: '2569067123_aca715a2ee_o.jpg',
    width: 720,
    height: 588,
    format: 'jpeg',
  },
  png: {
    label: 'PNG 2048×1536 RGBA → 720×540 PNG compression 6',
    file: 'alpha-premultiply-2048x1536-paper.png',
    width: 720,
    height: 540,
    format: 'png',
  },
}
const IMAGE_KEYS = Object.keys(IMAGES)

// ---------------------------------------------------------------------------
// The contenders, each called as sharp's benchmark calls it: run(img, input) →
// Promise<Buffer>.

function version(name) {
  return JSON.parse(fs.readFileSync(path.join(ROOT, 'node_modules', name, 'package.json'), 'utf8')).version
}

async function loadContenders(plan, only) {
  const require = createRequire(import.meta.url)
  const want = (name) => only === undefined || only === name
  const list = []
  if (want('sharp')) {
    // sharp's benchmark: cache off (every call does the work), one libvips thread per CPU.
    const sharp = require('sharp')
    sharp.cache(false)
    sharp.concurrency(plan.threads)
    {
      list.push({
        name: 'sharp',
        about: `sharp ${version('sharp')} / libvips ${sharp.versions.vips}: sharp(buf).resize(w, h).jpeg({ quality: 80 }) or .png({ compressionLevel: 6 }), .toBuffer(); sharp.cache(false), sharp.concurrency(${sharp.concurrency()}) as in sharp's test/bench/perf.js`,
        run: (img, buf) =>
          img.format === 'jpeg'
            ? sharp(buf).resize(img.width, img.height).jpeg({ quality: 80 }).toBuffer()
            : sharp(buf).resize(img.width, img.height).png({ compressionLevel: 6 }).toBuffer(),
      })
    }
  }
  if (want('offload')) {
    const offload = require(ROOT)
    offload.setConcurrency(plan.threads)
    list.push({
      name: 'offload',
      about: `offload resize(buf, { width, height, format: 'jpeg', quality: 80 } or { …, format: 'png', png: { compressionLevel: 6 } }), getConcurrency() ${offload.getConcurrency()}`,
      run: (img, buf) =>
        img.format === 'jpeg'
          ? offload.resize(buf, { width: img.width, height: img.height, format: 'jpeg', quality: 80 })
          : offload.resize(buf, { width: img.width, height: img.height, format: 'png', png: { compressionLevel: 6 } }),
    })
  }
  if (want('@napi-rs/image') || want('@napi-rs/image fastResize')) {
    const { Transformer } = require('@napi-rs/image')
    const encode = (t, img) => (img.format === 'jpeg' ? t.jpeg(80) : t.png())
    if (want('@napi-rs/image')) {
      list.push({
        name: '@napi-rs/image',
        about: `@napi-rs/image ${version('@napi-rs/image')}: new Transformer(buf).resize(w, h) (its default filter and fit), .jpeg(80) or .png() (its defaults: CompressionType.Default, the nearest it has to level 6)`,
        run: (img, buf) => encode(new Transformer(buf).resize(img.width, img.height), img),
      })
    }
    if (want('@napi-rs/image fastResize')) {
      list.push({
        name: '@napi-rs/image fastResize',
        about: `@napi-rs/image: new Transformer(buf).fastResize({ width, height }) (SIMD resize, its default filter), .jpeg(80) or .png()`,
        run: (img, buf) => encode(new Transformer(buf).fastResize({ width: img.width, height: img.height }), img),
      })
    }
  }
  if (want('jimp')) {
    const { Jimp, JimpMime, ResizeStrategy } = await import('jimp')
    list.push({
      name: 'jimp',
      about: `jimp ${version('jimp')}: (await Jimp.read(buf)).resize({ w, h, mode: ResizeStrategy.BICUBIC }).getBuffer(JimpMime.jpeg, { quality: 80 }) or (JimpMime.png, { deflateLevel: 6 })`,
      run: async (img, buf) => {
        const image = await Jimp.read(buf)
        image.resize({ w: img.width, h: img.height, mode: ResizeStrategy.BICUBIC })
        return img.format === 'jpeg' ? image.getBuffer(JimpMime.jpeg, { quality: 80 }) : image.getBuffer(JimpMime.png, { deflateLevel: 6 })
      },
    })
  }
  if (want('ImageMagick') && plan.magick.cmd) {
    list.push({
      name: 'ImageMagick',
      about: `ImageMagick ${plan.magick.version}: one \`${plan.magick.cmd} ${magickArgs(IMAGES.jpeg).join(' ')}\` (PNG: \`… ${magickArgs(IMAGES.png).slice(-3).join(' ')}\`) per image, input on stdin, output on stdout`,
      run: (img, buf, withTime) => runMagick(plan.magick, img, buf, { withTime }),
    })
  }
  return list
}

// ---------------------------------------------------------------------------
// Checks.

/** Format and dimensions from a PNG or JPEG header; null if neither. */
function imageSize(buf) {
  if (buf.length > 24 && buf.readUInt32BE(0) === 0x89504e47 && buf.toString('latin1', 12, 16) === 'IHDR') {
    return { format: 'png', width: buf.readUInt32BE(16), height: buf.readUInt32BE(20) }
  }
  if (buf.length > 4 && buf[0] === 0xff && buf[1] === 0xd8) {
    let i = 2
    while (i + 9 < buf.length) {
      if (buf[i] !== 0xff) return null
      const m = buf[i + 1]
      if (m === 0xff) {
        i++
        continue
      }
      if (m === 0x01 || (m >= 0xd0 && m <= 0xd8)) {
        i += 2
        continue
      }
      if (m >= 0xc0 && m <= 0xcf && m !== 0xc4 && m !== 0xc8 && m !== 0xcc) {
        return { format: 'jpeg', height: buf.readUInt16BE(i + 5), width: buf.readUInt16BE(i + 7) }
      }
      i += 2 + buf.readUInt16BE(i + 2)
    }
  }
  return null
}

function asBuffer(out) {
  if (Buffer.isBuffer(out)) return out
  if (out instanceof Uint8Array) return Buffer.from(out.buffer, out.byteOffset, out.byteLength)
  return null
}

/** Checks one output; records an error and returns false when wrong. */
function check(c, key, out) {
  const img = IMAGES[key]
  const buf = asBuffer(out)
  const size = buf && imageSize(buf)
  const ok = size && size.format === img.format && size.width === img.width && size.height === img.height
  if (!ok) {
    c.errors.push(`${key}: wrong output (${buf ? `${buf.length} bytes, ${size ? `${size.format} ${size.width}×${size.height}` : 'not PNG/JPEG'}` : typeof out})`)
    return false
  }
  const sizes = (c.outputBytes[key] ??= [])
  if (!sizes.includes(buf.length)) sizes.push(buf.length)
  return true
}

function describeError(err) {
  return `${err?.code ? `${err.code}: ` : ''}${String(err?.message ?? err).split('\n')[0].slice(0, 200)}`
}

/**
 * Mean absolute difference from sharp's output over every channel (0–255), after a
 * full decode by sharp; for RGBA the colour channels are compared premultiplied
 * (colour under transparent pixels does not count).
 */
async function difference(sharp, out, ref, channels) {
  const decode = (b) => {
    const s = sharp(asBuffer(b))
    return (channels === 4 ? s.ensureAlpha() : s.removeAlpha()).raw().toBuffer({ resolveWithObject: true })
  }
  const [a, b] = await Promise.all([decode(out), decode(ref)])
  if (a.data.length !== b.data.length) return NaN
  let sum = 0
  const x = a.data
  const y = b.data
  if (channels === 4) {
    for (let i = 0; i < x.length; i += 4) {
      for (let k = 0; k < 3; k++) sum += Math.abs(x[i + k] * x[i + 3] - y[i + k] * y[i + 3]) / 255
      sum += Math.abs(x[i + 3] - y[i + 3])
    }
  } else {
    for (let i = 0; i < x.length; i++) sum += Math.abs(x[i] - y[i])
  }
  return sum / x.length
}

// ---------------------------------------------------------------------------
// Measurements.

const gc = () => globalThis.gc?.()

/** Busy clock ticks of the whole machine so far (every CPU), from /proc/stat. */
function machineBusyTicks() {
  const f = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number)
  // user nice system idle iowait irq softirq steal ...
  const total = f.slice(0, 8).reduce((a, b) => a + b, 0)
  return total - f[3] - f[4]
}
const TICK_MS = 1000 / 100 // USER_HZ is 100 on Linux

/** `lanes` images in flight until `budgetMs` is spent (each lane at least one image). */
async function trial(c, key, input, lanes, budgetMs, maxCount) {
  const h = monitorEventLoopDelay({ resolution: 1 })
  const ticks0 = machineBusyTicks()
  h.enable()
  let started = 0
  let done = 0
  const t0 = performance.now()
  const end = t0 + budgetMs
  let last = t0
  const lane = async () => {
    let mine = 0
    while (started < maxCount && (mine === 0 || performance.now() < end)) {
      started++
      mine++
      let out
      try {
        out = await c.run(IMAGES[key], input)
      } catch (err) {
        c.errors.push(`${key}, ${lanes} in flight: ${describeError(err)}`)
        return
      }
      if (check(c, key, out)) done++
      last = performance.now()
    }
  }
  await Promise.all(Array.from({ length: lanes }, lane))
  const ticks = machineBusyTicks() - ticks0
  // Let the histogram's timer run once more: work that held the event loop until
  // the end (jimp) is recorded only when it fires.
  await new Promise((resolve) => setTimeout(resolve, 2))
  h.disable()
  const s = (last - t0) / 1000
  return { done, s, rate: done / s, delayP99: h.count > 0 ? h.percentile(99) / 1e6 : NaN, cpuMs: (ticks * TICK_MS) / done }
}

async function worker(plan) {
  const t0 = performance.now()
  const log = (msg) => process.stderr.write(`  [${fmt((performance.now() - t0) / 1000)} s] ${msg}\n`)
  const list = await loadContenders(plan)
  const inputs = Object.fromEntries(IMAGE_KEYS.map((k) => [k, fs.readFileSync(path.join(FIXTURES, IMAGES[k].file))]))
  const sharp = createRequire(import.meta.url)('sharp')

  // Idle event-loop delay, for reference.
  const idle = monitorEventLoopDelay({ resolution: 1 })
  idle.enable()
  await new Promise((resolve) => setTimeout(resolve, plan.quick ? 200 : 1000))
  idle.disable()

  // Warm up, keeping one output of each for the checks against sharp's.
  const firstOutput = {}
  for (const c of list) {
    c.errors = []
    c.outputBytes = {}
    firstOutput[c.name] = {}
    const w0 = performance.now()
    for (const key of IMAGE_KEYS) {
      const n = c.name === 'jimp' ? 1 : plan.warmup
      for (let i = 0; i < n; i++) {
        try {
          const out = await c.run(IMAGES[key], inputs[key])
          if (check(c, key, out)) firstOutput[c.name][key] ??= asBuffer(out)
        } catch (err) {
          c.errors.push(`${key}, warm-up: ${describeError(err)}`)
        }
      }
      if (c.name !== 'jimp' && !plan.quick) {
        await Promise.allSettled(Array.from({ length: 4 }, () => c.run(IMAGES[key], inputs[key])))
      }
    }
    log(`${c.name}: warmed up in ${fmt(performance.now() - w0)} ms${c.errors.length ? ` — ${c.errors.length} error(s): ${c.errors[0]}` : ''}`)
  }

  const out = Object.fromEntries(
    list.map((c) => [
      c.name,
      Object.fromEntries(
        IMAGE_KEYS.map((k) => [k, Object.fromEntries(MODES.map((m) => [m, { rate: [], delayP99: [], cpuMs: [], done: [] }]))]),
      ),
    ]),
  )
  const diff = {}
  for (const c of list) {
    diff[c.name] = {}
    for (const key of IMAGE_KEYS) {
      const mine = firstOutput[c.name][key]
      const ref = firstOutput.sharp?.[key]
      try {
        diff[c.name][key] = mine && ref ? await difference(sharp, mine, ref, key === 'png' ? 4 : 3) : NaN
      } catch (err) {
        c.errors.push(`${key}: sharp cannot decode the output: ${describeError(err)}`)
        diff[c.name][key] = NaN
      }
    }
  }

  for (let r = 0; r < plan.rounds; r++) {
    for (const key of IMAGE_KEYS) {
      for (const lanes of MODES) {
        const order = rotate(list, r).filter((c) => c.name !== 'jimp' || (r < plan.jimpRounds && plan.jimpModes.includes(lanes)))
        for (const c of order) {
          gc()
          const jimp = c.name === 'jimp'
          const t = await trial(c, key, inputs[key], lanes, jimp ? 0 : plan.budgetMs, plan.maxCount)
          const o = out[c.name][key][lanes]
          o.rate.push(t.rate)
          o.delayP99.push(t.delayP99)
          o.cpuMs.push(t.cpuMs)
          o.done.push(t.done)
        }
        log(`round ${r + 1}/${plan.rounds} ${key} ${lanes} in flight, ops/s: ${order.map((c) => `${c.name} ${fmt(out[c.name][key][lanes].rate.at(-1))}`).join(', ')}`)
      }
    }
  }

  const result = { plan, idleDelayP99: idle.percentile(99) / 1e6, contenders: {} }
  for (const c of list) {
    result.contenders[c.name] = { about: c.about, modes: out[c.name], diff: diff[c.name], outputBytes: c.outputBytes, errors: c.errors }
  }
  fs.writeFileSync(plan.resultFile, JSON.stringify(result))
  setTimeout(() => {
    const handles = process._getActiveHandles().map((h) => h?.constructor?.name ?? typeof h)
    process.stderr.write(`ERROR: still alive 10 s after the last trial; active handles: ${handles.join(', ')}\n`)
    process.exit(3)
  }, 10_000).unref()
}

/** `--rss NAME IMAGE COUNT`: one contender alone, COUNT images, 4 in flight; JSON on stdout. */
async function rssWorker(name, key, count, plan) {
  const [c] = await loadContenders(plan, name)
  if (!c) throw new Error(`no contender ${name}`)
  c.errors = []
  c.outputBytes = {}
  const input = fs.readFileSync(path.join(FIXTURES, IMAGES[key].file))
  const baseKb = process.resourceUsage().maxRSS
  let started = 0
  let childPeakKb = 0
  const t0 = performance.now()
  const lane = async () => {
    while (started < count) {
      started++
      try {
        const out = await c.run(IMAGES[key], input, true)
        if (out.peakKb) childPeakKb = Math.max(childPeakKb, out.peakKb)
        check(c, key, out)
      } catch (err) {
        c.errors.push(`${key}: ${describeError(err)}`)
      }
    }
  }
  await Promise.all(Array.from({ length: RSS_IN_FLIGHT }, lane))
  const ms = performance.now() - t0
  process.stdout.write(JSON.stringify({ name, key, count, ms, baseKb, maxRssKb: process.resourceUsage().maxRSS, childPeakKb, errors: c.errors }))
}

// ---------------------------------------------------------------------------
// Main: the worker, the RSS processes, then the tables.

function parseArgs(argv) {
  const opts = { quick: false, json: null, rounds: null }
  for (const arg of argv) {
    if (arg === '--quick') opts.quick = true
    else if (arg.startsWith('--json=')) opts.json = arg.slice(7)
    else if (arg.startsWith('--rounds=')) opts.rounds = Number(arg.slice(9))
    else throw new Error(`unknown argument ${arg} (known: --quick, --json=FILE, --rounds=N)`)
  }
  return opts
}

function planFor(opts, magick) {
  const threads = os.cpus().length // as sharp's benchmark: sharp.concurrency(os.cpus().length)
  const plan = opts.quick
    ? { quick: true, rounds: 1, warmup: 1, budgetMs: 200, maxCount: 200, jimpRounds: 1, jimpModes: [1], rssCount: 8, rssJimp: 1, rssMagick: 2 }
    : { quick: false, rounds: 3, warmup: 3, budgetMs: 1_200, maxCount: 200, jimpRounds: 1, jimpModes: MODES, rssCount: 200, rssJimp: 8, rssMagick: 20 }
  if (opts.rounds) plan.rounds = opts.rounds
  return { ...plan, threads, magick }
}

function runRss(plan, names) {
  const results = {}
  for (const name of names) {
    results[name] = {}
    const count = name === 'jimp' ? plan.rssJimp : name === 'ImageMagick' ? plan.rssMagick : plan.rssCount
    for (const key of IMAGE_KEYS) {
      const r = spawnSync(process.execPath, [SELF, '--rss', name, key, String(count), JSON.stringify(plan)], {
        stdio: ['ignore', 'pipe', 'inherit'],
        encoding: 'utf8',
        timeout: 5 * 60_000,
      })
      if (r.status !== 0) {
        results[name][key] = { errors: [`RSS process failed (${r.status ?? r.signal}${r.error ? `: ${r.error.message}` : ''})`] }
        continue
      }
      results[name][key] = JSON.parse(r.stdout)
      const x = results[name][key]
      process.stderr.write(
        `  RSS ${name} ${key}: ${count} images in ${fmt(x.ms / 1000)} s, maxRSS ${fmt(x.maxRssKb / 1024)} MiB${x.childPeakKb ? `, largest convert ${fmt(x.childPeakKb / 1024)} MiB` : ''}\n`,
      )
    }
  }
  return results
}

/** Peak RSS in MiB as the table gives it: the process; for ImageMagick, parent + 4 × the largest convert. */
function peakMiB(x) {
  if (!x || x.maxRssKb === undefined) return NaN
  return (x.maxRssKb + RSS_IN_FLIGHT * (x.childPeakKb ?? 0)) / 1024
}

function summarize(result, rss, names) {
  const s = {}
  for (const name of names) {
    const c = result.contenders[name]
    s[name] = {}
    for (const key of IMAGE_KEYS) {
      const m = c.modes[key]
      const at = (lanes, field) => median(m[lanes][field])
      s[name][key] = {
        r1: at(1, 'rate'),
        r2: at(2, 'rate'),
        r4: at(4, 'rate'),
        d2: at(2, 'delayP99'),
        d4: at(4, 'delayP99'),
        cpu1: at(1, 'cpuMs'),
        cpu4: at(4, 'cpuMs'),
        rss: peakMiB(rss[name]?.[key]),
        bytes: c.outputBytes[key]?.[0] ?? NaN,
        diff: c.diff[key],
      }
    }
  }
  return s
}

const ROWS = [
  ['r1', 'ops/s, 1 in flight (sharp\'s method)', 'higher'],
  ['r2', 'ops/s, 2 in flight', 'higher'],
  ['r4', 'ops/s, 4 in flight', 'higher'],
  ['d2', 'event-loop delay p99 (ms), 2 in flight', 'lower'],
  ['d4', 'event-loop delay p99 (ms), 4 in flight', 'lower'],
  ['cpu1', 'machine CPU per image (ms), 1 in flight', 'lower'],
  ['cpu4', 'machine CPU per image (ms), 4 in flight', 'lower'],
  ['rss', (p) => `peak RSS (MiB), ${p.rssCount} images, ${RSS_IN_FLIGHT} in flight`, 'lower'],
  ['bytes', 'output bytes', 'lower'],
  ['diff', 'mean abs difference from sharp\'s pixels (0–255)', 'lower'],
]

function report(result, rss, opts, info, addon, elapsedS) {
  const lines = []
  const print = (s = '') => lines.push(s)
  const p = result.plan
  const names = NAMES.filter((n) => result.contenders[n])
  const s = summarize(result, rss, names)
  const C = result.contenders
  print(`## Images (bench/image.mjs)${opts.quick ? ' — QUICK run, rough numbers' : ''}`)
  print()
  print(`- date: ${info.date}`)
  print(`- machine: nproc ${info.nproc}, ${info.cpu}, ${info.memoryGiB} GiB RAM, kernel ${info.kernel}, load ${info.loadavg.join(' ')}${info.busy ? `; WARNING: running at start: ${info.busy}` : ''}`)
  print(`- Node ${info.node} (libuv ${info.libuv})`)
  print(`- offload: ${info.revision ? `git ${info.revision}; ` : ''}binary ${addon.file} (${fmt(addon.bytes / MiB, 2)} MiB, built ${addon.mtime})`)
  print(`- command: node bench/image.mjs${process.argv.slice(2).length ? ` ${process.argv.slice(2).join(' ')}` : ''} (${fmt(elapsedS)} s)`)
  for (const w of addon.warnings) print(`- WARNING: ${w}`)
  for (const key of IMAGE_KEYS) {
    print()
    const header = [`${IMAGES[key].label} (ratio = ÷ ${BASE})`, ...names]
    const rows = ROWS.map(([field, label, better]) => [
      `${typeof label === 'function' ? label(p) : label} (${better} is better)`,
      ...names.map((n) => {
        const v = s[n][key][field]
        if (field === 'diff') return n === BASE ? '0' : fmt(v)
        return n === BASE || Number.isNaN(v) ? fmt(v) : `${fmt(v)} (${ratio(v, s[BASE][key][field])})`
      }),
    ])
    print(table(header, rows))
  }
  print()
  print(
    `- ${p.rounds} round(s), contender order rotating; each trial starts images for ${fmt(p.budgetMs / 1000)} s (each lane at least one, at most ${p.maxCount} in all); ` +
      `ops/s, delay p99 and CPU: medians over rounds. Event-loop delay: monitorEventLoopDelay({ resolution: 1 }) per trial ` +
      `(idle, nothing running: p99 ${fmt(result.idleDelayP99)} ms). Machine CPU: /proc/stat busy time of every process (other tenants of the VM included) ÷ images.`,
  )
  const j = C.jimp?.modes
  if (j) print(`- jimp: round 1 only, one image per lane (${p.jimpModes.join(', ')} in flight), its rate from those few images; peak RSS over ${p.rssJimp} image(s), not ${p.rssCount}.`)
  const im = rss.ImageMagick
  if (C.ImageMagick) {
    const parts = IMAGE_KEYS.map((k) => (im?.[k]?.maxRssKb !== undefined ? `${k}: Node parent ${fmt(im[k].maxRssKb / 1024)} MiB + ${RSS_IN_FLIGHT} × ${im[k].childPeakKb ? `${fmt(im[k].childPeakKb / 1024)} MiB` : 'n/a (no /usr/bin/time)'}` : `${k}: n/a`))
    print(`- ImageMagick: geometry \`-resize 720x588^ -background none -gravity center -extent 720x588\` (sharp's fit 'cover'; the same 720×588 / 720×540 output as \`-resize 720x588\` here, the aspect ratios being nearly equal), \`-filter Lanczos\` as in sharp's benchmark, \`-strip\` (sharp writes no metadata by default); one process per image, its own threads (OpenMP) at their default. Peak RSS over ${p.rssMagick} images: the Node parent's maxRSS + ${RSS_IN_FLIGHT} × the largest convert's (/usr/bin/time %M) — ${parts.join('; ')}.`)
  } else {
    print(`- ImageMagick: ${p.magick.note}`)
  }
  print(`- peak RSS: a fresh Node process per contender and image, the contender alone, ${RSS_IN_FLIGHT} in flight; maxRSS after loading it and reading the input, before the first image: ${names.map((n) => `${n} ${IMAGE_KEYS.map((k) => fmt((rss[n]?.[k]?.baseKb ?? NaN) / 1024)).join('/')}`).join(', ')} MiB (jpeg/png).`)
  print(`- threads: sharp.concurrency(${p.threads}) (libvips threads per image; sharp's default here, glibc without jemalloc, is 1) and offload setConcurrency(${p.threads}), both = os.cpus().length as in sharp's benchmark; sharp and @napi-rs/image run on libuv's threadpool (UV_THREADPOOL_SIZE ${process.env.UV_THREADPOOL_SIZE ?? 'unset: 4'}).`)
  for (const key of IMAGE_KEYS) {
    print(`- ${key} ops/s per round: ${names.map((n) => `${n} ${MODES.map((m) => C[n].modes[key][m].rate.map((v) => fmt(v)).join('/') || '–').join(' | ')}`).join('; ')} (1 | 2 | 4 in flight)`)
  }
  const varying = names.flatMap((n) => IMAGE_KEYS.filter((k) => (C[n].outputBytes[k]?.length ?? 0) > 1).map((k) => `${n} ${k}: ${C[n].outputBytes[k].join(', ')}`))
  print(`- output bytes: ${varying.length ? `vary between runs for ${varying.join('; ')}` : 'the same at every run for every contender'}; every output is ${IMAGE_KEYS.map((k) => `${IMAGES[k].width}×${IMAGES[k].height} ${IMAGES[k].format}`).join(' / ')} (header checked at every run, full decode by sharp once).`)
  print(`- contenders: ${names.map((n) => C[n].about).join('; ')}`)
  const errors = names.filter((n) => C[n].errors.length || IMAGE_KEYS.some((k) => rss[n]?.[k]?.errors?.length))
  if (errors.length === 0) print('- every output checked: no errors, no wrong results')
  for (const n of errors) {
    const all = [...C[n].errors, ...IMAGE_KEYS.flatMap((k) => (rss[n]?.[k]?.errors ?? []).map((e) => `RSS run: ${e}`))]
    print(`- ERRORS ${n} (${all.length}): ${all.slice(0, 3).join('; ')}`)
  }
  print()
  print('Targets (offload):')
  const check = (ok) => (ok ? 'MET' : 'MISSED')
  const o = s.offload
  const sh = s.sharp
  const napi = s['@napi-rs/image fastResize']
  const modeLabel = { r1: '1 in flight', r2: '2 in flight', r4: '4 in flight' }
  if (o && sh) {
    for (const f of ['r1', 'r2', 'r4']) {
      const q = o.jpeg[f] / sh.jpeg[f]
      print(`- JPEG ≥ 1.15× sharp, ${modeLabel[f]}: ${fmt(o.jpeg[f])} vs ${fmt(sh.jpeg[f])} ops/s (${fmt(q, 2)}×) → ${check(q >= 1.15)}`)
    }
    const b = o.jpeg.bytes / sh.jpeg.bytes
    print(`- JPEG output ≤ 1.1× sharp's at q80: ${fmt(o.jpeg.bytes)} vs ${fmt(sh.jpeg.bytes)} bytes (${fmt(b, 3)}×) → ${check(b <= 1.1)}`)
    for (const f of ['r1', 'r2', 'r4']) {
      const q = o.png[f] / sh.png[f]
      const qn = napi ? o.png[f] / napi.png[f] : NaN
      print(
        `- PNG ≥ 1.5× sharp and ≥ 1.0× @napi-rs/image fastResize, ${modeLabel[f]}: ${fmt(o.png[f])} vs ${fmt(sh.png[f])} ops/s (${fmt(q, 2)}×) → ${check(q >= 1.5)}; ` +
          `vs ${fmt(napi?.png[f])} (${fmt(qn, 2)}×) → ${napi ? check(qn >= 1.0) : 'n/a'}`,
      )
    }
    for (const key of IMAGE_KEYS) {
      print(`- ${key.toUpperCase()} event-loop delay p99 ≤ 5 ms with both cores busy: ${fmt(o[key].d2)} ms at 2 in flight, ${fmt(o[key].d4)} ms at 4 → ${check(Math.max(o[key].d2, o[key].d4) <= 5)}`)
    }
    for (const key of IMAGE_KEYS) {
      print(`- ${key.toUpperCase()} peak RSS ≤ sharp's: ${fmt(o[key].rss)} vs ${fmt(sh[key].rss)} MiB (${ratio(o[key].rss, sh[key].rss)}) → ${check(o[key].rss <= sh[key].rss)}`)
    }
  }
  return lines.join('\n')
}

/** Compilers and linkers running (not stopped) as the benchmark starts: they share the two cores. */
function busyProcesses() {
  const r = spawnSync('ps', ['-o', 'stat=,comm=', '-C', 'rustc,cargo,cc1,cc1plus,ld'], { encoding: 'utf8' })
  const counts = {}
  for (const line of (r.stdout ?? '').trim().split('\n').filter(Boolean)) {
    const [stat, comm] = line.trim().split(/\s+/)
    if (stat.startsWith('T') || stat.startsWith('Z')) continue
    counts[comm] = (counts[comm] ?? 0) + 1
  }
  return Object.entries(counts).map(([n, k]) => `${k} ${n}`).join(', ')
}

async function main() {
  const opts = parseArgs(process.argv.slice(2))
  for (const k of IMAGE_KEYS) {
    const file = path.join(FIXTURES, IMAGES[k].file)
    if (!fs.existsSync(file)) throw new Error(`missing input ${file} (the repository is expected beside shared/)`)
  }
  const info = { ...machineInfo(), revision: gitRevision(), busy: busyProcesses() }
  const addon = addonInfo()
  for (const w of addon.warnings) process.stderr.write(`WARNING: ${w}\n`)
  const magick = findMagick()
  if (!magick.cmd) process.stderr.write(`NOTE: ${magick.note}\n`)
  const plan = planFor(opts, magick)
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'offload-image-bench-'))
  plan.resultFile = path.join(dir, 'result.json')
  const started = performance.now()
  const run = spawnSync(process.execPath, ['--expose-gc', SELF, '--worker', JSON.stringify(plan)], {
    stdio: ['ignore', 'inherit', 'inherit'],
    timeout: 10 * 60_000,
  })
  if (run.status !== 0) throw new Error(`the benchmark process failed (${run.status ?? run.signal}${run.error ? `: ${run.error.message}` : ''})`)
  const result = JSON.parse(fs.readFileSync(plan.resultFile, 'utf8'))
  fs.rmSync(dir, { recursive: true, force: true })
  const rss = runRss(plan, NAMES.filter((n) => result.contenders[n]))
  const elapsedS = (performance.now() - started) / 1000
  if (opts.json) fs.writeFileSync(opts.json, JSON.stringify({ info, addon, result, rss }, null, 1))
  process.stdout.write(`\n${report(result, rss, opts, info, addon, elapsedS)}\n`)
}

if (process.argv[2] === '--worker') await worker(JSON.parse(process.argv[3]))
else if (process.argv[2] === '--rss') await rssWorker(process.argv[3], process.argv[4], Number(process.argv[5]), JSON.parse(process.argv[6]))
else await main()

#!/usr/bin/env node
// Spawn benchmark: offload vs child_process, execa 9 and tinyexec, in one run.
//
//   node bench/spawn.mjs            full run (about 2 minutes)
//   node bench/spawn.mjs --quick    short smoke run (a few seconds; numbers are rough)
//   options: --json=FILE (raw results), --sizes=60,1536 (target RSS in MiB),
//            --baseline=DIR (another checkout of offload, built: its spawn() and
//            offload/child_process's spawn() run beside this one's, interleaved, for a
//            before/after comparison of a change in one run)
//
// For each memory size, a fresh worker Node process (started by this script)
// loads all four contenders, warms them up, grows its RSS to the target with
// off-heap Buffers that are filled (so every page is resident), then runs
// round-robin rounds, the contender order rotating every round:
//
//   1. event-loop delay + spawn() call time: N sequential spawns of /bin/true,
//      each awaited before the next, under a fresh monitorEventLoopDelay
//      ({ resolution: 1 }); the synchronous call alone (the spawn() /
//      execa() / x() expression) is timed with process.hrtime.bigint().
//   2. spawns per second, sequential (await each), for a fixed time.
//   3. spawns per second with 16 in flight, for a fixed time.
//
// Every contender runs /bin/true with all stdio ignored and is awaited until its
// 'close' (child_process) or until its promise settles (the others). Medians are
// taken over all samples (call time) or over rounds (delay p99, rates).

import { spawn as cpSpawn, spawnSync } from 'node:child_process'
import { createRequire } from 'node:module'
import { performance, monitorEventLoopDelay } from 'node:perf_hooks'
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

import { median, percentile, rotate, fmt, ratio, table } from './lib/stats.mjs'
import { machineInfo, addonInfo, gitRevision, ROOT } from './lib/machine.mjs'

const TRUE = '/bin/true'
const MiB = 2 ** 20
const SELF = fileURLToPath(import.meta.url)
const BASE_NAMES = ['child_process', 'offload', 'execa', 'tinyexec']
const BASELINE_NAMES = ['offload@baseline', 'offload/child_process', 'offload/child_process@baseline']
const namesFor = (baseline) => (baseline ? [...BASE_NAMES, ...BASELINE_NAMES] : BASE_NAMES)

// ---------------------------------------------------------------------------
// Worker: runs every measurement at one memory size and prints JSON on stdout.

/** child_process-style start and wait for `spawn` (Node's or offload/child_process's). */
function childProcessContender(name, spawn) {
  return {
    name,
    start: () => spawn(TRUE, [], { stdio: 'ignore' }),
    wait: (child) =>
      new Promise((resolve, reject) => {
        child.once('error', reject)
        child.once('close', (code, signal) =>
          code === 0 ? resolve() : reject(new Error(`${TRUE} exited with ${code ?? signal}`)),
        )
      }),
  }
}

/** offload's own spawn() from the checkout in `dir`. */
function offloadContender(name, dir) {
  const offload = createRequire(import.meta.url)(dir)
  return {
    name,
    start: () => offload.spawn(TRUE, [], { stdin: 'ignore', stdout: 'ignore', stderr: 'ignore' }),
    wait: (p) => p.then(() => undefined),
  }
}

async function loadContenders(baseline) {
  const dropIn = (dir) => createRequire(import.meta.url)(path.join(dir, 'lib', 'child_process.js')).spawn
  const { execa } = await import('execa')
  const { x } = await import('tinyexec')
  const settle = (p) => p.then(() => undefined)
  const contenders = [
    childProcessContender('child_process', cpSpawn),
    offloadContender('offload', ROOT),
    {
      name: 'execa',
      start: () => execa(TRUE, [], { stdio: 'ignore' }),
      wait: settle,
    },
    {
      name: 'tinyexec',
      start: () => x(TRUE, [], { nodeOptions: { stdio: 'ignore' }, throwOnError: true }),
      wait: settle,
    },
  ]
  if (baseline) {
    contenders.push(
      offloadContender('offload@baseline', baseline),
      childProcessContender('offload/child_process', dropIn(ROOT)),
      childProcessContender('offload/child_process@baseline', dropIn(baseline)),
    )
  }
  return contenders
}

const rss = () => process.memoryUsage.rss()

/** Grows RSS to `targetMiB` with filled (hence resident) off-heap Buffers. */
function growTo(targetMiB) {
  const target = targetMiB * MiB
  const chunks = []
  for (let now = rss(); now < target - MiB; now = rss()) {
    const chunk = Buffer.allocUnsafeSlow(Math.min(64 * MiB, target - now))
    chunk.fill(0x5a ^ (chunks.length & 0xff))
    chunks.push(chunk)
  }
  return chunks
}

const gc = () => globalThis.gc?.()
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

/** `count` sequential spawns under a fresh event-loop-delay monitor. */
async function delayBatch(c, count) {
  const calls = new Array(count)
  const h = monitorEventLoopDelay({ resolution: 1 })
  const started = performance.now()
  h.enable()
  for (let i = 0; i < count; i++) {
    const t0 = process.hrtime.bigint()
    const child = c.start()
    const t1 = process.hrtime.bigint()
    calls[i] = Number(t1 - t0) / 1e6
    await c.wait(child)
  }
  h.disable()
  return {
    calls,
    p99: h.percentile(99) / 1e6,
    max: h.max / 1e6,
    samples: h.count,
    ms: performance.now() - started,
  }
}

/** Completed spawns per second with `lanes` in flight, launching for `ms`. */
async function rate(c, lanes, ms) {
  let done = 0
  const start = performance.now()
  const end = start + ms
  const lane = async () => {
    while (performance.now() < end) {
      await c.wait(c.start())
      done++
    }
  }
  await Promise.all(Array.from({ length: lanes }, lane))
  return done / ((performance.now() - start) / 1000)
}

async function worker(plan) {
  const log = (msg) => process.stderr.write(`  [${plan.rssMiB} MiB] ${msg}\n`)
  const contenders = await loadContenders(plan.baseline)
  for (const c of contenders) for (let i = 0; i < plan.warmup; i++) await c.wait(c.start())

  const ballast = growTo(plan.rssMiB)
  gc()
  await sleep(50)
  const rssStart = rss()
  log(`RSS ${fmt(rssStart / MiB)} MiB`)

  const idle = monitorEventLoopDelay({ resolution: 1 })
  idle.enable()
  await sleep(plan.idleMs)
  idle.disable()

  const out = Object.fromEntries(contenders.map((c) => [c.name, { calls: [], delay: [], seq: [], par: [] }]))
  const rounds = Math.max(plan.delayRounds, plan.rateRounds)
  for (let r = 0; r < rounds; r++) {
    const order = rotate(contenders, r)
    if (r < plan.delayRounds) {
      for (const c of order) {
        gc()
        const b = await delayBatch(c, plan.delaySpawns)
        out[c.name].calls.push(...b.calls)
        out[c.name].delay.push({ p99: b.p99, max: b.max, samples: b.samples, ms: b.ms })
        log(`round ${r + 1}/${rounds} ${c.name}: ${plan.delaySpawns} spawns in ${fmt(b.ms)} ms, call median ${fmt(median(b.calls))} ms, delay p99 ${fmt(b.p99)} ms`)
      }
    }
    if (r < plan.rateRounds) {
      for (const [key, lanes] of [['seq', 1], ['par', plan.inFlight]]) {
        for (const c of order) {
          gc()
          out[c.name][key].push(await rate(c, lanes, plan.rateMs))
        }
      }
      log(`round ${r + 1}/${rounds} rates: ${order.map((c) => `${c.name} ${fmt(out[c.name].seq.at(-1))}/${fmt(out[c.name].par.at(-1))}`).join(', ')}`)
    }
  }
  const rssEnd = rss()
  ballast.length = 0
  process.stdout.write(
    JSON.stringify({
      plan,
      rssStartMiB: rssStart / MiB,
      rssEndMiB: rssEnd / MiB,
      idleDelayP99: idle.percentile(99) / 1e6,
      contenders: out,
    }),
  )
}

// ---------------------------------------------------------------------------
// Main: one worker per size, then the tables.

function parseArgs(argv) {
  const opts = { quick: false, json: null, sizes: [60, 1536], baseline: null }
  for (const arg of argv) {
    if (arg === '--quick') opts.quick = true
    else if (arg.startsWith('--json=')) opts.json = arg.slice(7)
    else if (arg.startsWith('--sizes=')) opts.sizes = arg.slice(8).split(',').map(Number)
    else if (arg.startsWith('--baseline=')) opts.baseline = path.resolve(arg.slice(11))
    else throw new Error(`unknown argument ${arg} (known: --quick, --json=FILE, --sizes=60,1536, --baseline=DIR)`)
  }
  return opts
}

function planFor(rssMiB, quick) {
  if (quick) {
    return { rssMiB, warmup: 3, idleMs: 100, delaySpawns: 30, delayRounds: 1, rateRounds: 1, rateMs: 150, inFlight: 16 }
  }
  // 200 sequential spawns take ~9 s per child_process-based contender at 1.5 GiB,
  // so the big size gets two delay rounds to keep the whole run near two minutes.
  return {
    rssMiB,
    warmup: 10,
    idleMs: 500,
    delaySpawns: 200,
    delayRounds: rssMiB >= 1024 ? 2 : 3,
    rateRounds: 5,
    rateMs: 600,
    inFlight: 16,
  }
}

function sizeLabel(mib) {
  return mib >= 1024 ? `${fmt(mib / 1024, 2)} GiB` : `${mib} MiB`
}

function summarize(result) {
  const s = {}
  for (const name of Object.keys(result.contenders)) {
    const c = result.contenders[name]
    s[name] = {
      callMedian: median(c.calls),
      callP99: percentile(c.calls, 99),
      delayP99: median(c.delay.map((d) => d.p99)),
      delayP99s: c.delay.map((d) => d.p99),
      seq: median(c.seq),
      par: median(c.par),
      spawns: c.calls.length,
    }
  }
  return s
}

const ROWS = [
  ['callMedian', 'spawn() call, median (ms)', 'lower'],
  ['callP99', 'spawn() call, p99 (ms)', 'lower'],
  ['delayP99', 'event-loop delay p99 (ms)', 'lower'],
  ['seq', 'spawns/s, sequential', 'higher'],
  ['par', 'spawns/s, 16 in flight', 'higher'],
]

function report(results, opts, info, addon, elapsedS) {
  const NAMES = namesFor(opts.baseline)
  const lines = []
  const print = (s = '') => lines.push(s)
  print(`## Spawn (bench/spawn.mjs)${opts.quick ? ' — QUICK run, rough numbers' : ''}`)
  print()
  print(`- date: ${info.date}`)
  print(`- machine: nproc ${info.nproc}, ${info.cpu}, ${info.memoryGiB} GiB RAM, kernel ${info.kernel}, load ${info.loadavg.join(' ')}`)
  print(`- Node ${info.node} (libuv ${info.libuv}); ${info.envVars} environment variables`)
  print(`- offload: git ${info.revision}; binary ${addon.file} (${fmt(addon.bytes / MiB, 2)} MiB, built ${addon.mtime})`)
  print(`- command: node bench/spawn.mjs${process.argv.slice(2).length ? ` ${process.argv.slice(2).join(' ')}` : ''} (${fmt(elapsedS)} s)`)
  for (const w of addon.warnings) print(`- WARNING: ${w}`)
  print()
  const header = ['metric (ratio = ÷ child_process)', ...NAMES]
  const rows = []
  for (const result of results) {
    const s = summarize(result)
    const size = sizeLabel(result.plan.rssMiB)
    for (const [key, label, better] of ROWS) {
      const base = s.child_process[key]
      rows.push([
        `${label} @ ${size} (${better} is better)`,
        ...NAMES.map((n) => (n === 'child_process' ? fmt(s[n][key]) : `${fmt(s[n][key])} (${ratio(s[n][key], base)})`)),
      ])
    }
  }
  print(table(header, rows))
  print()
  for (const result of results) {
    const s = summarize(result)
    const p = result.plan
    print(
      `- ${sizeLabel(p.rssMiB)}: RSS ${fmt(result.rssStartMiB)} → ${fmt(result.rssEndMiB)} MiB; ` +
        `${s.offload.spawns} timed spawns per contender (${p.delayRounds} round(s) of ${p.delaySpawns}); ` +
        `rates: median of ${p.rateRounds} round(s) of ${p.rateMs} ms; ` +
        `idle event-loop delay p99 (nothing running): ${fmt(result.idleDelayP99)} ms; ` +
        `per-round delay p99 (ms): ${NAMES.map((n) => `${n} ${s[n].delayP99s.map((v) => fmt(v)).join('/')}`).join(', ')}`,
    )
  }
  print()
  print('Targets (offload):')
  for (const result of results) {
    const s = summarize(result)
    const size = sizeLabel(result.plan.rssMiB)
    const check = (ok) => (ok ? 'MET' : 'MISSED')
    print(`- spawn() call ≤ 0.1 ms @ ${size}: median ${fmt(s.offload.callMedian)} ms, p99 ${fmt(s.offload.callP99)} ms → ${check(s.offload.callMedian <= 0.1)} (median)${s.offload.callP99 > 0.1 ? ', p99 above' : ''}`)
    if (result.plan.rssMiB >= 1024) {
      print(`- event-loop delay p99 ≤ 5 ms @ ${size}: ${fmt(s.offload.delayP99)} ms → ${check(s.offload.delayP99 <= 5)}`)
    }
    const r = s.offload.par / s.child_process.par
    print(`- ≥ 3× child_process spawns/s, 16 in flight @ ${size}: ${fmt(r, 2)}× → ${check(r >= 3)}`)
  }
  return lines.join('\n')
}

async function main() {
  const opts = parseArgs(process.argv.slice(2))
  const info = { ...machineInfo(), revision: gitRevision() }
  const addon = addonInfo()
  for (const w of addon.warnings) process.stderr.write(`WARNING: ${w}\n`)
  const started = performance.now()
  const results = []
  for (const mib of opts.sizes) {
    const plan = { ...planFor(mib, opts.quick), baseline: opts.baseline }
    process.stderr.write(`worker: target RSS ${sizeLabel(mib)}\n`)
    const heapMiB = Math.max(4096, mib * 2)
    const run = spawnSync(process.execPath, ['--expose-gc', `--max-old-space-size=${heapMiB}`, SELF, '--worker', JSON.stringify(plan)], {
      stdio: ['ignore', 'pipe', 'inherit'],
      maxBuffer: 256 * MiB,
      encoding: 'utf8',
    })
    if (run.status !== 0) throw new Error(`worker for ${sizeLabel(mib)} failed (${run.status ?? run.signal}${run.error ? `: ${run.error.message}` : ''})`)
    results.push(JSON.parse(run.stdout))
  }
  const elapsedS = (performance.now() - started) / 1000
  if (opts.json) fs.writeFileSync(opts.json, JSON.stringify({ info, addon, results }, null, 1))
  process.stdout.write(`\n${report(results, opts, info, addon, elapsedS)}\n`)
}

if (process.argv[2] === '--worker') await worker(JSON.parse(process.argv[3]))
else await main()

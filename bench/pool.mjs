#!/usr/bin/env node
// Pool benchmark: offload's Pool (json and advanced serialization, and serve()
// workers) vs a hand-rolled child_process.fork pool (json and advanced
// serialization), jest-worker, workerpool (process workers),
// tinypool (runtime: 'child_process') and piscina (worker threads, for
// reference), in one run.
//
//   node bench/pool.mjs            full run (about 3 minutes)
//   node bench/pool.mjs --quick    short smoke run (a few seconds; numbers are rough)
//   options: --json=FILE (raw results), --rounds=N, --only=NAME,NAME (those contenders alone)
//
// Every pool has two workers that echo their task back (bench/workers/). A fresh
// Node process (started by this script, with --expose-gc) creates all the pools,
// warms them up, then runs rounds; within a round each phase runs every
// contender in turn, the contender order rotating every round:
//
//   1. throughput: 20 000 tasks `{ i, s: 'hello' }` submitted at once, all
//      awaited; tasks per second from the first submission to the last answer.
//      The CPU time of this process (process.cpuUsage(), every thread: piscina's
//      workers and offload's Rust threads included) and of the whole machine
//      (/proc/stat, so the worker processes too) is divided by the task count.
//   2. round trip: 2 000 sequential tasks, each awaited before the next; the
//      time from run() to its answer (process.hrtime.bigint()), pooled over all
//      rounds for p50 and p99.
//   3. 1 MiB Buffer: the same random 1 MiB Buffer echoed 500 times, 4 in flight
//      (one running and one waiting per worker), no new echo started after a
//      2.5 s budget (the slow JSON paths stop there); MB/s = echoes × 1 MiB /
//      seconds / 10^6 (one way). Each library's default serialization, as its
//      users get it: through JSON a Buffer travels as { type: 'Buffer', data:
//      [...] } and comes back as that plain object (tinypool's child_process
//      path turns it into a Uint8Array first, which JSON makes { "0": …, … }).
//
// Every answer is checked (i and s, or the Buffer's length and bytes). Rates are
// the median over rounds. Every pool is closed at the end and the process exits
// by itself (a watchdog reports what kept it alive if it does not).

import { fork as cpFork, spawnSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { createRequire } from 'node:module'
import { performance } from 'node:perf_hooks'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

import { median, percentile, rotate, fmt, ratio, table } from './lib/stats.mjs'
import * as machine from './lib/machine.mjs'

const { machineInfo, addonInfo, ROOT } = machine
const MiB = 2 ** 20
const SELF = fileURLToPath(import.meta.url)
const WORKERS = path.join(path.dirname(SELF), 'workers')
const SIZE = 2
const BASE = 'fork json'
const ALL = ['fork json', 'fork advanced', 'offload', 'offload advanced', 'offload serve', 'jest-worker', 'workerpool', 'tinypool', 'piscina']
// The contenders of this run (--only); the baseline always takes part.
let NAMES = ALL
const choose = (only) => {
  if (!only) return
  for (const n of only) if (!ALL.includes(n)) throw new Error(`--only: no contender '${n}' (known: ${ALL.join(', ')})`)
  NAMES = ALL.filter((n) => n === BASE || only.includes(n))
}

// ---------------------------------------------------------------------------
// The hand-rolled pool: child_process.fork workers, one task at a time each,
// a FIFO queue in the parent. The plain `process.on('message')` echo worker.

class ForkPool {
  #queue = []
  #head = 0
  #idle = []
  #workers = []
  #closing = false

  constructor(script, size, serialization) {
    for (let k = 0; k < size; k++) {
      const child = cpFork(script, [], { serialization })
      const w = { child, job: null }
      child.on('message', (msg) => {
        const job = w.job
        w.job = null
        this.#next(w)
        job?.resolve(msg)
      })
      child.on('exit', (code, signal) => {
        if (this.#closing) return
        const err = new Error(`fork worker ${child.pid} exited (${code ?? signal})`)
        w.job?.reject(err)
        w.job = null
        this.#idle = this.#idle.filter((x) => x !== w)
      })
      this.#workers.push(w)
      this.#idle.push(w)
    }
  }

  run(task) {
    return new Promise((resolve, reject) => {
      const job = { task, resolve, reject }
      const w = this.#idle.pop()
      if (w) this.#start(w, job)
      else this.#queue.push(job)
    })
  }

  #start(w, job) {
    w.job = job
    w.child.send(job.task)
  }

  #next(w) {
    if (this.#head < this.#queue.length) {
      const job = this.#queue[this.#head]
      this.#queue[this.#head++] = undefined
      if (this.#head === this.#queue.length) {
        this.#queue.length = 0
        this.#head = 0
      }
      this.#start(w, job)
    } else {
      this.#idle.push(w)
    }
  }

  close() {
    this.#closing = true
    return Promise.all(
      this.#workers.map(
        ({ child }) =>
          new Promise((resolve) => {
            if (child.exitCode !== null || child.signalCode !== null) return resolve()
            child.once('exit', resolve)
            child.disconnect() // the echo worker then has nothing left to wait for
          }),
      ),
    )
  }
}

// ---------------------------------------------------------------------------
// The contenders: `create()` returns { run(task) → Promise, close() → Promise }.

async function contenders() {
  const require = createRequire(import.meta.url)
  const { Pool } = require(ROOT)
  const { Worker: JestWorker } = await import('jest-worker')
  const workerpool = (await import('workerpool')).default
  const { Tinypool } = await import('tinypool')
  const { Piscina } = await import('piscina')
  const echo = path.join(WORKERS, 'echo.cjs')
  const version = (name) => JSON.parse(fs.readFileSync(path.join(ROOT, 'node_modules', name, 'package.json'), 'utf8')).version
  return [
    {
      name: 'fork json',
      about: 'hand-rolled child_process.fork pool, serialization json',
      create: () => new ForkPool(echo, SIZE, 'json'),
    },
    {
      name: 'fork advanced',
      about: 'hand-rolled child_process.fork pool, serialization advanced',
      create: () => new ForkPool(echo, SIZE, 'advanced'),
    },
    {
      name: 'offload',
      about: `offload Pool({ script, size: ${SIZE} }) (Node's json IPC)`,
      create: () => {
        const pool = new Pool({ script: echo, size: SIZE })
        return { run: (t) => pool.run(t), close: () => pool.close(), stats: () => pool.stats() }
      },
    },
    {
      name: 'offload advanced',
      about: `offload Pool({ script, size: ${SIZE}, serialization: 'advanced' }) (Node's advanced IPC, the same plain worker)`,
      create: () => {
        const pool = new Pool({ script: echo, size: SIZE, serialization: 'advanced' })
        return { run: (t) => pool.run(t), close: () => pool.close(), stats: () => pool.stats() }
      },
    },
    {
      name: 'offload serve',
      about: `offload Pool({ script, size: ${SIZE} }) with a serve() worker (offload/worker: binary frames, raw Buffers)`,
      create: () => {
        const pool = new Pool({ script: path.join(WORKERS, 'offload-serve.cjs'), size: SIZE })
        return { run: (t) => pool.run(t), close: () => pool.close(), stats: () => pool.stats() }
      },
    },
    {
      name: 'jest-worker',
      about: `jest-worker ${version('jest-worker')} (child processes; its default serialization: advanced)`,
      create: () => {
        const w = new JestWorker(path.join(WORKERS, 'jest-worker.cjs'), {
          numWorkers: SIZE,
          enableWorkerThreads: false,
          exposedMethods: ['echo'],
          maxRetries: 0,
        })
        return { run: (t) => w.echo(t), close: () => w.end() }
      },
    },
    {
      name: 'workerpool',
      about: `workerpool ${version('workerpool')} (workerType 'process'; json)`,
      create: () => {
        const pool = workerpool.pool(path.join(WORKERS, 'workerpool.cjs'), {
          minWorkers: SIZE,
          maxWorkers: SIZE,
          workerType: 'process',
        })
        return { run: (t) => pool.exec('echo', [t]), close: () => pool.terminate() }
      },
    },
    {
      name: 'tinypool',
      about: `tinypool ${version('tinypool')} (runtime 'child_process'; json)`,
      create: () => {
        const pool = new Tinypool({
          filename: pathToFileURL(path.join(WORKERS, 'tinypool.mjs')).href,
          runtime: 'child_process',
          minThreads: SIZE,
          maxThreads: SIZE,
        })
        return { run: (t) => pool.run(t), close: () => pool.destroy() }
      },
    },
    {
      name: 'piscina',
      about: `piscina ${version('piscina')} (worker threads; structured clone)`,
      create: () => {
        const pool = new Piscina({ filename: path.join(WORKERS, 'piscina.cjs'), minThreads: SIZE, maxThreads: SIZE })
        return { run: (t) => pool.run(t), close: () => pool.destroy() }
      },
    },
  ]
}

// ---------------------------------------------------------------------------
// Measurements.

const gc = () => globalThis.gc?.()
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

/** Busy clock ticks of the whole machine so far (every CPU), from /proc/stat. */
function machineBusyTicks() {
  const f = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number)
  // user nice system idle iowait irq softirq steal ...
  const total = f.slice(0, 8).reduce((a, b) => a + b, 0)
  return total - f[3] - f[4]
}
const TICK_US = 1e6 / 100 // USER_HZ is 100 on Linux

function checkEcho(r, i) {
  return r !== null && typeof r === 'object' && r.i === i && r.s === 'hello'
}

/** How a 1 MiB Buffer came back, and whether its bytes are the ones sent. */
function checkBuffer(r, sent) {
  let kind
  let bytes
  if (Buffer.isBuffer(r)) [kind, bytes] = ['Buffer', r]
  else if (r instanceof Uint8Array) [kind, bytes] = ['Uint8Array', r]
  else if (r && r.type === 'Buffer' && Array.isArray(r.data)) [kind, bytes] = ['{ type, data } object', r.data]
  else if (r && typeof r === 'object' && r[0] !== undefined) {
    // A Uint8Array through JSON: { "0": …, "1": …, … } (tinypool's child_process path).
    kind = '{ "0": …, "1": … } object'
    bytes = { length: r[sent.length - 1] !== undefined && r[sent.length] === undefined ? sent.length : -1 }
    for (const k of [0, 1, sent.length >> 1, sent.length - 2, sent.length - 1]) bytes[k] = r[k]
  } else return { kind: typeof r, ok: false }
  const n = sent.length
  const ok = bytes.length === n && [0, 1, n >> 1, n - 2, n - 1].every((k) => bytes[k] === sent[k])
  return { kind, ok }
}

function describeError(err) {
  return `${err?.code ? `${err.code}: ` : ''}${String(err?.message ?? err).split('\n')[0].slice(0, 200)}`
}

async function throughput(c, n) {
  const cpu0 = process.cpuUsage()
  const ticks0 = machineBusyTicks()
  const t0 = performance.now()
  const promises = new Array(n)
  for (let i = 0; i < n; i++) promises[i] = c.pool.run({ i, s: 'hello' })
  const settled = await Promise.allSettled(promises)
  const ms = performance.now() - t0
  const cpu = process.cpuUsage(cpu0)
  const ticks = machineBusyTicks() - ticks0
  let wrong = 0
  for (let i = 0; i < n; i++) {
    const s = settled[i]
    if (s.status === 'rejected') c.errors.push(`throughput task ${i}: ${describeError(s.reason)}`)
    else if (!checkEcho(s.value, i)) wrong++
  }
  if (wrong) c.errors.push(`throughput: ${wrong} wrong answers`)
  return {
    rate: n / (ms / 1000),
    parentCpuUs: (cpu.user + cpu.system) / n,
    machineCpuUs: (ticks * TICK_US) / n,
  }
}

async function roundTrips(c, n) {
  const us = []
  for (let i = 0; i < n; i++) {
    const t0 = process.hrtime.bigint()
    let r
    try {
      r = await c.pool.run({ i, s: 'hello' })
    } catch (err) {
      c.errors.push(`round trip ${i}: ${describeError(err)}`)
      continue
    }
    us.push(Number(process.hrtime.bigint() - t0) / 1e3)
    if (!checkEcho(r, i)) c.errors.push(`round trip ${i}: wrong answer ${JSON.stringify(r).slice(0, 100)}`)
  }
  return us
}

async function bufferEcho(c, buf, count, budgetMs, lanes) {
  let started = 0
  let done = 0
  const t0 = performance.now()
  const end = t0 + budgetMs
  const lane = async () => {
    while (started < count && performance.now() < end) {
      started++
      let r
      try {
        r = await c.pool.run(buf)
      } catch (err) {
        c.errors.push(`1 MiB echo: ${describeError(err)}`)
        return
      }
      const check = checkBuffer(r, buf)
      c.bufferKind = check.kind
      if (!check.ok) c.errors.push(`1 MiB echo: wrong answer (${check.kind})`)
      done++
    }
  }
  await Promise.all(Array.from({ length: lanes }, lane))
  const s = (performance.now() - t0) / 1000
  return { done, s, mbps: (done * buf.length) / 1e6 / s }
}

async function worker(plan) {
  const t0 = performance.now()
  const log = (msg) => process.stderr.write(`  [${fmt((performance.now() - t0) / 1000)} s] ${msg}\n`)
  choose(plan.only)
  const list = (await contenders()).filter((c) => NAMES.includes(c.name))
  const buf = randomBytes(MiB)

  // Start each pool on its own, timing its first answer, then warm it up.
  for (const c of list) {
    c.errors = []
    const t0 = performance.now()
    c.pool = c.create()
    try {
      const r = await c.pool.run({ i: -1, s: 'hello' })
      if (!checkEcho(r, -1)) c.errors.push(`first task: wrong answer ${JSON.stringify(r)}`)
    } catch (err) {
      c.errors.push(`first task: ${describeError(err)}`)
    }
    c.startMs = performance.now() - t0
    await throughput(c, plan.warmupTasks)
    await roundTrips(c, plan.warmupRoundTrips)
    await bufferEcho(c, buf, plan.warmupEchoes, 2000, 2)
    log(`${c.name}: first answer after ${fmt(c.startMs)} ms; warmed up${c.errors.length ? ` — ${c.errors.length} error(s): ${c.errors[0]}` : ''}`)
  }

  const out = Object.fromEntries(
    list.map((c) => [c.name, { about: c.about, rate: [], parentCpuUs: [], machineCpuUs: [], rtt: [], rttP50: [], mbps: [], echoes: [], stats: [] }]),
  )
  for (let r = 0; r < plan.rounds; r++) {
    const order = rotate(list, r)
    for (const c of order) {
      gc()
      const t = await throughput(c, plan.tasks)
      out[c.name].rate.push(t.rate)
      out[c.name].parentCpuUs.push(t.parentCpuUs)
      out[c.name].machineCpuUs.push(t.machineCpuUs)
    }
    log(`round ${r + 1}/${plan.rounds} tasks/s: ${order.map((c) => `${c.name} ${fmt(out[c.name].rate.at(-1))}`).join(', ')}`)
    for (const c of order) {
      gc()
      const us = await roundTrips(c, plan.sequential)
      out[c.name].rtt.push(...us)
      out[c.name].rttP50.push(median(us))
      if (c.pool.stats) out[c.name].stats.push(c.pool.stats())
    }
    log(`round ${r + 1}/${plan.rounds} round trip p50 (µs): ${order.map((c) => `${c.name} ${fmt(out[c.name].rttP50.at(-1))}`).join(', ')}`)
    for (const c of order) {
      gc()
      const b = await bufferEcho(c, buf, plan.echoes, plan.echoBudgetMs, plan.echoInFlight)
      out[c.name].mbps.push(b.mbps)
      out[c.name].echoes.push(b.done)
    }
    log(`round ${r + 1}/${plan.rounds} 1 MiB MB/s: ${order.map((c) => `${c.name} ${fmt(out[c.name].mbps.at(-1))} (${out[c.name].echoes.at(-1)})`).join(', ')}`)
  }

  const closeMs = {}
  for (const c of list) {
    const t0 = performance.now()
    await c.pool.close()
    closeMs[c.name] = performance.now() - t0
  }
  for (const c of list) {
    out[c.name].startMs = c.startMs
    out[c.name].closeMs = closeMs[c.name]
    out[c.name].bufferKind = c.bufferKind
    out[c.name].errors = c.errors
  }
  fs.writeFileSync(plan.resultFile, JSON.stringify({ plan, contenders: out }))
  log(`all pools closed (${list.map((c) => `${c.name} ${fmt(closeMs[c.name])} ms`).join(', ')})`)
  // Should something keep this process alive, say what and give up.
  setTimeout(() => {
    const handles = process._getActiveHandles().map((h) => h?.constructor?.name ?? typeof h)
    process.stderr.write(`ERROR: still alive 10 s after closing every pool; active handles: ${handles.join(', ')}\n`)
    process.exit(3)
  }, 10_000).unref()
}

// ---------------------------------------------------------------------------
// Main: run the worker, then the table.

function parseArgs(argv) {
  const opts = { quick: false, json: null, rounds: null, only: null }
  for (const arg of argv) {
    if (arg === '--quick') opts.quick = true
    else if (arg.startsWith('--json=')) opts.json = arg.slice(7)
    else if (arg.startsWith('--rounds=')) opts.rounds = Number(arg.slice(9))
    else if (arg.startsWith('--only=')) opts.only = arg.slice(7).split(',')
    else throw new Error(`unknown argument ${arg} (known: --quick, --json=FILE, --rounds=N, --only=NAME,NAME)`)
  }
  return opts
}

function planFor(opts) {
  const plan = opts.quick
    ? { rounds: 1, warmupTasks: 200, warmupRoundTrips: 20, warmupEchoes: 0, tasks: 2_000, sequential: 200, echoes: 10, echoBudgetMs: 200, echoInFlight: 2 }
    : // A JSON path moves a 1 MiB Buffer at ~10 MB/s, so 500 echoes would take
      // ~50 s per contender and round: those stop at the time budget. The warm-up is
      // one round's worth of tasks for every contender: with 2,000, the first round
      // still ran half as fast as the others (the JIT had not settled), so the median
      // of 5 rounds measured warm-up as much as the pools.
      { rounds: 5, warmupTasks: 20_000, warmupRoundTrips: 2_000, warmupEchoes: 2, tasks: 20_000, sequential: 2_000, echoes: 500, echoBudgetMs: 2_500, echoInFlight: 4 }
  if (opts.rounds) plan.rounds = opts.rounds
  return plan
}

const ROWS = [
  ['rate', (p) => `tasks/s, ${fmt(p.tasks)} submitted at once`, 'higher'],
  ['rttP50', 'round trip p50 (µs)', 'lower'],
  ['rttP99', 'round trip p99 (µs)', 'lower'],
  ['mbps', '1 MiB Buffer echo (MB/s)', 'higher'],
  ['parentCpuUs', 'this process CPU per task (µs)', 'lower'],
  ['machineCpuUs', 'machine CPU per task (µs)', 'lower'],
  ['startMs', 'start → first answer (ms)', 'lower'],
]

function summarize(result) {
  const s = {}
  for (const name of NAMES) {
    const c = result.contenders[name]
    s[name] = {
      rate: median(c.rate),
      rttP50: percentile(c.rtt, 50),
      rttP99: percentile(c.rtt, 99),
      mbps: median(c.mbps),
      parentCpuUs: median(c.parentCpuUs),
      machineCpuUs: median(c.machineCpuUs),
      startMs: c.startMs,
    }
  }
  return s
}

function report(result, opts, info, addon, elapsedS) {
  const lines = []
  const print = (s = '') => lines.push(s)
  const p = result.plan
  const s = summarize(result)
  const C = result.contenders
  print(`## Pool (bench/pool.mjs)${opts.quick ? ' — QUICK run, rough numbers' : ''}`)
  print()
  print(`- date: ${info.date}`)
  print(`- machine: nproc ${info.nproc}, ${info.cpu}, ${info.memoryGiB} GiB RAM, kernel ${info.kernel}, load ${info.loadavg.join(' ')}`)
  print(`- Node ${info.node} (libuv ${info.libuv})`)
  print(`- offload: ${info.revision ? `git ${info.revision}; ` : ''}binary ${addon.file} (${fmt(addon.bytes / MiB, 2)} MiB, built ${addon.mtime})`)
  print(`- command: node bench/pool.mjs${process.argv.slice(2).length ? ` ${process.argv.slice(2).join(' ')}` : ''} (${fmt(elapsedS)} s)`)
  for (const w of addon.warnings) print(`- WARNING: ${w}`)
  print()
  const header = [`metric, ${SIZE} workers (ratio = ÷ ${BASE})`, ...NAMES]
  const rows = ROWS.map(([key, label, better]) => [
    `${typeof label === 'function' ? label(p) : label} (${better} is better)`,
    ...NAMES.map((n) => (n === BASE ? fmt(s[n][key]) : `${fmt(s[n][key])} (${ratio(s[n][key], s[BASE][key])})`)),
  ])
  print(table(header, rows))
  print()
  print(
    `- ${p.rounds} round(s), contender order rotating; tasks/s and MB/s: median over rounds; round trips: p50/p99 over all ` +
      `${fmt(p.rounds * p.sequential)} sequential tasks per contender; CPU per task: median over rounds of the throughput phase ` +
      `(this process includes piscina's threads and offload's Rust threads; machine = /proc/stat, all processes, including anything else running on the VM).`,
  )
  print(`- 1 MiB echoes: ${p.echoInFlight} in flight, up to ${p.echoes} or ${fmt(p.echoBudgetMs / 1000)} s per round; echoes done per round: ${NAMES.map((n) => `${n} ${C[n].echoes.join('/')}`).join(', ')}`)
  print(`- a 1 MiB Buffer comes back as: ${NAMES.map((n) => `${n} ${C[n].bufferKind ?? 'n/a'}`).join(', ')}`)
  print(`- tasks/s per round: ${NAMES.map((n) => `${n} ${C[n].rate.map((v) => fmt(v)).join('/')}`).join(', ')}`)
  for (const name of ['offload', 'offload advanced', 'offload serve']) {
    const st = C[name]?.stats.at(-1)
    if (!st) continue
    print(
      `- ${name}: its own stats() after the last round-trip phase (last 1,024 tasks, dispatch to answer in Rust): run time p50 ${fmt(st.runTime.p50 * 1000)} µs, ` +
        `p99 ${fmt(st.runTime.p99 * 1000)} µs; wait time p50 ${fmt(st.waitTime.p50 * 1000)} µs; completed ${st.completed}, failed ${st.failed}, crashed ${st.crashed}, restarted ${st.restarted}`,
    )
  }
  print(`- close(): ${NAMES.map((n) => `${n} ${fmt(C[n].closeMs)} ms`).join(', ')}`)
  print(`- contenders: ${NAMES.map((n) => C[n].about).join('; ')}`)
  const errors = NAMES.filter((n) => C[n].errors.length)
  if (errors.length === 0) print('- every answer checked: no errors, no wrong results')
  for (const n of errors) print(`- ERRORS ${n} (${C[n].errors.length}): ${C[n].errors.slice(0, 3).join('; ')}`)
  print()
  print("Targets (offload with a serve() worker, offload's worker runtime; the plain `process.on('message')` worker is the 'offload' column):")
  const o = s['offload serve']
  if (!o) return lines.join('\n')
  const check = (ok) => (ok ? 'MET' : 'MISSED')
  print(`- ≥ 100,000 tasks/s: ${fmt(o.rate)} (${fmt(o.rate / 100_000, 2)}× the target) → ${check(o.rate >= 100_000)}`)
  print(`- round trip p50 ≤ 40 µs: ${fmt(o.rttP50)} µs (p99 ${fmt(o.rttP99)} µs) → ${check(o.rttP50 <= 40)}`)
  print(`- ≥ 800 MB/s for 1 MiB Buffers: ${fmt(o.mbps)} MB/s (${fmt(o.mbps / 800, 2)}× the target) → ${check(o.mbps >= 800)}`)
  return lines.join('\n')
}

async function main() {
  const opts = parseArgs(process.argv.slice(2))
  const info = { ...machineInfo(), revision: machine.gitRevision?.() }
  const addon = addonInfo()
  for (const w of addon.warnings) process.stderr.write(`WARNING: ${w}\n`)
  const plan = planFor(opts)
  plan.only = opts.only
  choose(opts.only)
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'offload-pool-bench-'))
  plan.resultFile = path.join(dir, 'result.json')
  const started = performance.now()
  const run = spawnSync(process.execPath, ['--expose-gc', SELF, '--worker', JSON.stringify(plan)], {
    stdio: ['ignore', 'inherit', 'inherit'],
    timeout: 10 * 60_000,
  })
  const elapsedS = (performance.now() - started) / 1000
  if (run.status !== 0) throw new Error(`the benchmark process failed (${run.status ?? run.signal}${run.error ? `: ${run.error.message}` : ''})`)
  const result = JSON.parse(fs.readFileSync(plan.resultFile, 'utf8'))
  fs.rmSync(dir, { recursive: true, force: true })
  if (opts.json) fs.writeFileSync(opts.json, JSON.stringify({ info, addon, result }, null, 1))
  process.stdout.write(`\n${report(result, opts, info, addon, elapsedS)}\n`)
}

if (process.argv[2] === '--worker') await worker(JSON.parse(process.argv[3]))
else await main()

#!/usr/bin/env node
// Soak: a server's day of subprocesses, pool tasks and resizes, compressed into
// minutes, to see whether anything the process holds keeps growing.
//
//   node bench/soak.mjs                      10 minutes at 50 operations/s of each kind
//   options: --minutes=N, --rate=N (operations per second of each kind), --quick (1 minute)
//
// Three loops run side by side, each paced to --rate operations per second (one
// at a time, the next started at its slot or at once if the last one ran late):
//   - spawns, in turn: a buffered execFile('/bin/echo'), spawn(...).lines(), and
//     a two-stage pipeline (echo | cat);
//   - pool tasks: run({ i }) on a Pool of two plain Node workers (bench/workers/echo.cjs);
//   - resizes: the 1920×1080 flowers.jpeg to a 320-wide JPEG.
// Every answer is checked. Nothing forces a garbage collection: this is what a
// server sees. Each minute prints RSS, V8's heapTotal, open descriptors, threads
// and live child processes; the last line is the verdict: the peak RSS of the
// second half of the run may exceed the first half's by at most 10 MiB (RSS
// follows V8's heap, which swings between minutes), the fewest descriptors and
// threads seen in the second half may not exceed the first half's (a sample may
// catch operations in flight), and no child may be left once everything is closed. Exits 1 when the verdict is "growing".

import fs from 'node:fs'
import path from 'node:path'
import { createRequire } from 'node:module'
import { setTimeout as sleep } from 'node:timers/promises'

import { ROOT, machineInfo, gitRevision, addonInfo } from './lib/machine.mjs'
import { childrenAndZombiesOf, openFdCount } from '../__test__/lib/proc.mjs'

const require = createRequire(import.meta.url)
const { execFile, spawn, pipeline, Pool, resize } = require(path.join(ROOT, 'index.js'))

const IMAGE = path.resolve(ROOT, '..', 'shared', 'fixtures', 'images', 'flowers.jpeg')
const ECHO_WORKER = path.join(ROOT, 'bench', 'workers', 'echo.cjs')
const MIB = 1024 * 1024
const RSS_SLACK = 10 * MIB

function parseArgs(argv) {
  const opts = { minutes: 10, rate: 50 }
  for (const arg of argv) {
    if (arg === '--quick') opts.minutes = 1
    else if (arg.startsWith('--minutes=')) opts.minutes = Number(arg.slice(10))
    else if (arg.startsWith('--rate=')) opts.rate = Number(arg.slice(7))
    else throw new Error(`unknown argument ${arg} (known: --minutes=N, --rate=N, --quick)`)
  }
  if (!(opts.minutes > 0)) throw new Error('--minutes must be a positive number')
  if (!(opts.rate > 0)) throw new Error('--rate must be a positive number')
  return opts
}

function threads() {
  return Number(/^Threads:\s+(\d+)/m.exec(fs.readFileSync('/proc/self/status', 'utf8'))[1])
}

function sample() {
  const { rss, heapTotal } = process.memoryUsage()
  return { rss, heapTotal, fds: openFdCount(), threads: threads(), children: childrenAndZombiesOf(process.pid).length }
}

function check(condition, what) {
  if (!condition) throw new Error(`soak: wrong answer from ${what}`)
}

const spawnKinds = [
  async () => {
    const { stdout } = await execFile('/bin/echo', ['x'])
    check(stdout === 'x', 'execFile')
  },
  async () => {
    const lines = []
    for await (const line of spawn('/bin/echo', ['x']).lines()) lines.push(line)
    check(lines.length === 1 && lines[0] === 'x', 'lines()')
  },
  async () => {
    const { stdout } = await pipeline(['/bin/echo', 'x'], ['/bin/cat'])
    check(stdout === 'x', 'pipeline')
  },
]

/** Runs `op(i)` one at a time, started every 1000/rate ms, until `until` (ms since the epoch). */
async function paced(op, rate, until, counter) {
  const every = 1000 / rate
  let next = Date.now()
  for (let i = 0; Date.now() < until; i++) {
    await op(i)
    counter.done++
    next += every
    const wait = next - Date.now()
    if (wait > 0) await sleep(wait)
    else next = Date.now()
  }
}

const mib = (bytes) => (bytes / MIB).toFixed(1)

async function main() {
  const opts = parseArgs(process.argv.slice(2))
  const machine = machineInfo()
  const addon = addonInfo()
  console.log(`# soak: ${opts.minutes} min, ${opts.rate} operations/s of each kind (spawns, pool tasks, resizes)`)
  console.log(`# ${machine.date}; nproc ${machine.nproc}, ${machine.cpu}, ${machine.memoryGiB} GiB RAM, kernel ${machine.kernel}, load ${machine.loadavg.join(' ')}`)
  console.log(`# Node ${machine.node}; offload git ${gitRevision()}, ${addon.file}${addon.mtime ? ` built ${addon.mtime}` : ''}`)
  const override = process.env.NAPI_RS_NATIVE_LIBRARY_PATH
  if (override) console.log(`# addon loaded instead (NAPI_RS_NATIVE_LIBRARY_PATH): ${override}`)
  else for (const warning of addon.warnings) console.log(`# warning: ${warning}`)
  const malloc = Object.keys(process.env).filter((k) => k.startsWith('MALLOC_') || k === 'GLIBC_TUNABLES')
  console.log(`# malloc tuning in the environment: ${malloc.length ? malloc.join(', ') : 'none'}`)

  const image = fs.readFileSync(IMAGE)
  const pool = new Pool({ script: ECHO_WORKER, size: 2 })
  const counts = { spawns: { done: 0 }, tasks: { done: 0 }, resizes: { done: 0 } }
  const start = Date.now()
  const until = start + opts.minutes * 60_000
  const loops = Promise.all([
    paced((i) => spawnKinds[i % spawnKinds.length](), opts.rate, until, counts.spawns),
    paced(async (i) => check((await pool.run({ i })).i === i, 'the pool'), opts.rate, until, counts.tasks),
    paced(async () => {
      const out = await resize(image, { width: 320 })
      check(out[0] === 0xff && out[1] === 0xd8, 'resize')
    }, opts.rate, until, counts.resizes),
  ])

  const header = '| minute | spawns | pool tasks | resizes | RSS (MiB) | V8 heapTotal (MiB) | fds | threads | children |'
  console.log(header)
  console.log(header.replace(/[^|]/g, '-'))
  const rows = []
  const row = (label, s) =>
    console.log(`| ${label} | ${counts.spawns.done} | ${counts.tasks.done} | ${counts.resizes.done} | ${mib(s.rss)} | ${mib(s.heapTotal)} | ${s.fds} | ${s.threads} | ${s.children} |`)
  const first = sample()
  row('0', first)
  let finished = false
  loops.then(() => (finished = true))
  for (let minute = 1; minute <= Math.ceil(opts.minutes); minute++) {
    const due = start + Math.min(minute, opts.minutes) * 60_000
    while (Date.now() < due && !finished) await sleep(Math.min(1000, due - Date.now()))
    const s = sample()
    rows.push(s)
    row(String(Math.min(minute, opts.minutes)), s)
  }
  await loops
  await pool.close()
  const closed = sample()
  row('closed', closed)

  // RSS follows V8's heap, which swings by tens of MiB between minutes: compare peaks.
  const half = Math.ceil(rows.length / 2)
  const peak = (list) => Math.max(...list.map((r) => r.rss))
  const firstPeak = peak(rows.slice(0, half))
  const secondPeak = peak(rows.slice(half).length ? rows.slice(half) : rows)
  // Operations in flight hold descriptors (pipes, pidfds) and a sample may catch them:
  // the fewest seen in each half is what the process holds at rest.
  const fewest = (list, key) => Math.min(...list.map((r) => r[key]))
  const secondHalf = rows.slice(half).length ? rows.slice(half) : rows
  const fds = [fewest(rows.slice(0, half), 'fds'), fewest(secondHalf, 'fds')]
  const threads = [fewest(rows.slice(0, half), 'threads'), fewest(secondHalf, 'threads')]
  const last = rows[rows.length - 1]
  const grew = secondPeak - firstPeak
  const problems = []
  if (grew > RSS_SLACK) problems.push(`peak RSS grew ${mib(grew)} MiB from the first half to the second`)
  if (fds[1] > fds[0]) problems.push(`descriptors at rest grew ${fds[0]} → ${fds[1]}`)
  if (threads[1] > threads[0]) problems.push(`threads grew ${threads[0]} → ${threads[1]}`)
  if (closed.children > 0) problems.push(`${closed.children} child process(es) left after close()`)
  const total = counts.spawns.done + counts.tasks.done + counts.resizes.done
  const verdict = problems.length === 0 ? 'steady' : 'growing'
  console.log(
    `verdict: ${verdict}: ${total} operations in ${((Date.now() - start) / 60_000).toFixed(1)} min; RSS ${mib(first.rss)} MiB at the start, peak ${mib(firstPeak)} MiB in the first half and ${mib(secondPeak)} MiB in the second (${grew >= 0 ? '+' : ''}${mib(grew)}, limit +${mib(RSS_SLACK)}), ${mib(last.rss)} MiB at the end; fds at rest (fewest per half) ${fds[0]} → ${fds[1]}; threads ${threads[0]} → ${threads[1]}; children left after close: ${closed.children}${problems.length ? ` (${problems.join('; ')})` : ''}`,
  )
  process.exitCode = problems.length === 0 ? 0 : 1
}

await main()

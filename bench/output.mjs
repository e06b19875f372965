#!/usr/bin/env node
// Output paths of offload's subprocesses, for comparing two builds of the addon:
// buffered small and large output, streamed output, lines() and fork() IPC.
//
//   node bench/output.mjs                       the addon require('offload') loads here
//   node bench/output.mjs --builds=A.node,B.node  each build in turn, alternating, 3 rounds
//   options: --rounds=N, --json=FILE (raw results)
//
// Each trial runs in a fresh Node process (NAPI_RS_NATIVE_LIBRARY_PATH picks the
// build); the builds alternate trial by trial and the table gives the median over
// rounds. Metrics:
//   - buffered execFile('/bin/echo', ['x']): calls/s, one at a time and 16 in flight;
//   - buffered 32 MiB: execFile('cat', [a 32 MiB file], { encoding: 'buffer' }): MB/s;
//   - streamed 32 MiB: spawn('cat', [the file]).stdout read to the end: MB/s;
//   - lines(): spawn('cat', [a 200 000-line file]).lines(): lines/s;
//   - fork() IPC: one child answering 2 000 sequential messages: round trips/s;
//   - RSS per 1 000 buffered spawns: RSS after 2 000 more execFile('/bin/echo')
//     calls minus RSS after the first 500, both after a full collection, ÷ 2
//     (measured first, before the large outputs).
// Every answer is checked (output length, line count, message).

import { execFileSync, spawnSync } from 'node:child_process'
import { once } from 'node:events'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { createRequire } from 'node:module'

import { ROOT, machineInfo, gitRevision } from './lib/machine.mjs'
import { median, fmt } from './lib/stats.mjs'

const BIG = 32 * 1024 * 1024
const LINES = 200_000

async function trial(dir) {
  const require = createRequire(import.meta.url)
  const { execFile, spawn, fork } = require(path.join(ROOT, 'index.js'))
  const bigFile = path.join(dir, 'big.bin')
  const linesFile = path.join(dir, 'lines.txt')
  const echoChild = path.join(ROOT, 'bench', 'workers', 'echo.cjs')
  const result = {}
  const now = () => performance.now()

  const rate = async (name, seconds, inFlight, op) => {
    let done = 0
    const end = now() + seconds * 1000
    const started = now()
    await Promise.all(Array.from({ length: inFlight }, async () => {
      while (now() < end) {
        await op()
        done++
      }
    }))
    result[name] = done / ((now() - started) / 1000)
  }
  const echo = async () => {
    const { stdout } = await execFile('/bin/echo', ['x'])
    if (stdout !== 'x') throw new Error('echo')
  }
  {
    const settled = () => {
      globalThis.gc()
      globalThis.gc()
      return process.memoryUsage().rss
    }
    for (let i = 0; i < 500; i++) await echo()
    const before = settled()
    for (let i = 0; i < 2000; i++) await echo()
    result['RSS per 1 000 buffered spawns (MiB)'] = (settled() - before) / 1024 / 1024 / 2
  }
  await rate('buffered echo, 1 in flight (calls/s)', 1.5, 1, echo)
  await rate('buffered echo, 16 in flight (calls/s)', 1.5, 16, echo)

  const mbps = async (name, times, op) => {
    const started = now()
    for (let i = 0; i < times; i++) await op()
    result[name] = (times * BIG) / 1e6 / ((now() - started) / 1000)
  }
  await mbps('buffered 32 MiB (MB/s)', 5, async () => {
    const { stdout } = await execFile('cat', [bigFile], { encoding: 'buffer' })
    if (stdout.length !== BIG) throw new Error('buffered length')
  })
  await mbps('streamed 32 MiB (MB/s)', 5, async () => {
    const child = spawn('cat', [bigFile])
    let got = 0
    child.stdout.on('data', (chunk) => (got += chunk.length))
    await child
    if (got !== BIG) throw new Error('streamed length')
  })
  {
    const started = now()
    let count = 0
    for await (const line of spawn('cat', [linesFile]).lines()) if (line.length > 0) count++
    if (count !== LINES) throw new Error(`lines: ${count}`)
    result['lines() (lines/s)'] = count / ((now() - started) / 1000)
  }
  {
    const child = fork(echoChild)
    const started = now()
    for (let i = 0; i < 2000; i++) {
      const reply = once(child, 'message')
      await child.send({ i })
      const [message] = await reply
      if (message.i !== i) throw new Error('fork reply')
    }
    result['fork() IPC (round trips/s)'] = 2000 / ((now() - started) / 1000)
    child.disconnect()
    await child
  }
  return result
}

function makeFiles(dir) {
  const big = Buffer.alloc(BIG)
  for (let i = 0; i < BIG; i += 4096) big[i] = i & 0xff
  fs.writeFileSync(path.join(dir, 'big.bin'), big)
  fs.writeFileSync(path.join(dir, 'lines.txt'), Array.from({ length: LINES }, (_, i) => `line ${i} of the file`).join('\n') + '\n')
}

function parseArgs(argv) {
  const opts = { builds: [null], rounds: 3, json: null }
  for (const arg of argv) {
    if (arg.startsWith('--builds=')) opts.builds = arg.slice(9).split(',').map((b) => path.resolve(b))
    else if (arg.startsWith('--rounds=')) opts.rounds = Number(arg.slice(9))
    else if (arg.startsWith('--json=')) opts.json = arg.slice(7)
    else throw new Error(`unknown argument ${arg} (known: --builds=A.node,B.node, --rounds=N, --json=FILE)`)
  }
  return opts
}

async function main() {
  const opts = parseArgs(process.argv.slice(2))
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'offload-output-bench-'))
  try {
    makeFiles(dir)
    const started = Date.now()
    const results = opts.builds.map(() => [])
    for (let round = 0; round < opts.rounds; round++) {
      for (const [b, build] of opts.builds.entries()) {
        const env = { ...process.env }
        if (build) env.NAPI_RS_NATIVE_LIBRARY_PATH = build
        const out = execFileSync(process.execPath, ['--expose-gc', new URL(import.meta.url).pathname, '--trial', dir], { env, encoding: 'utf8' })
        results[b].push(JSON.parse(out))
      }
    }
    const machine = machineInfo()
    console.log(`- date: ${machine.date}`)
    console.log(`- machine: nproc ${machine.nproc}, ${machine.cpu}, ${machine.memoryGiB} GiB RAM, kernel ${machine.kernel}, load ${machine.loadavg.join(' ')}`)
    console.log(`- Node ${machine.node}; offload git ${gitRevision()}`)
    console.log(`- command: node bench/output.mjs ${process.argv.slice(2).join(' ')} (${Math.round((Date.now() - started) / 1000)} s)`)
    const names = opts.builds.map((b) => (b ? path.basename(b) : 'this checkout'))
    const metrics = Object.keys(results[0][0])
    console.log(`\n| metric (median of ${opts.rounds}) | ${names.join(' | ')} |`)
    console.log(`|---|${names.map(() => '---:').join('|')}|`)
    for (const m of metrics) console.log(`| ${m} | ${results.map((r) => fmt(median(r.map((x) => x[m])))).join(' | ')} |`)
    console.log('\nper round:')
    for (const m of metrics) console.log(`- ${m}: ${results.map((r, b) => `${names[b]} ${r.map((x) => fmt(x[m])).join('/')}`).join('; ')}`)
    if (opts.json) fs.writeFileSync(opts.json, JSON.stringify({ machine, builds: names, results }, null, 2))
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
}

if (process.argv[2] === '--trial') process.stdout.write(JSON.stringify(await trial(process.argv[3])))
else await main()

#!/usr/bin/env node
// Server benchmark: the POST /thumbnail endpoint of examples/express/ served
// three ways, each in its own process (bench/servers/thumbnail.mjs), loaded
// with autocannon on loopback:
//
//   offload       offload's resize() on its own image threads
//   sharp         sharp (libvips on libuv's threadpool)
//   ImageMagick   one `convert` per request, started with node:child_process
//
//   node bench/server.mjs                 3 rounds of 5 s per server (about 1 minute)
//   node bench/server.mjs --quick         1 round of 3 s (numbers are rough)
//   options: --rounds=N, --duration=S, --connections=N, --json=FILE
//
// Every request uploads the same 2725×2225 JPEG (829 KB, sharp's benchmark
// image) and asks for a 720×588 JPEG (quality 80), as sharp's own benchmark.
// Each server's answer is checked first (200, image/jpeg, 720×588). Then, per
// round, each server in turn (order rotating every round) gets `connections`
// concurrent keep-alive connections for `duration` seconds. Measured:
//
//   requests/s         2xx responses / seconds, from autocannon
//   latency p50, p99   autocannon's per-request latency (ms)
//   event-loop p99     the server's own /health (monitorEventLoopDelay, 1 ms
//                      resolution, so an idle loop shows ~1.1 ms): fetched
//                      0.4 s before the load ends, its last complete window
//                      (duration / 2.5 s long) lies inside the load
//
// Medians over rounds. autocannon runs in this process, on the same 2 cores
// as the servers, so absolute rates are below the machine's; every server
// pays the same.

import { spawn } from 'node:child_process'
import { once } from 'node:events'
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { createRequire } from 'node:module'

import { median, rotate, fmt, ratio, table } from './lib/stats.mjs'
import { machineInfo, addonInfo, gitRevision, ROOT } from './lib/machine.mjs'
import { findMagick } from './lib/magick.mjs'

const require = createRequire(import.meta.url)
const autocannon = require('autocannon')
const { metadata } = require('../index.js')

const SERVER = path.join(ROOT, 'bench', 'servers', 'thumbnail.mjs')
const IMAGE = path.resolve(ROOT, '..', 'shared', 'fixtures', 'images', '2569067123_aca715a2ee_o.jpg')
const QUERY = 'width=720&height=588&format=jpeg'
const BASE = 'sharp'
const CONTENDERS = [
  { name: 'sharp', engine: 'sharp' },
  { name: 'offload', engine: 'offload' },
  { name: 'ImageMagick', engine: 'magick' },
]

function options() {
  const arg = (name) => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3)
  const quick = process.argv.includes('--quick')
  return {
    quick,
    rounds: Number(arg('rounds') ?? (quick ? 1 : 3)),
    duration: Number(arg('duration') ?? (quick ? 3 : 5)),
    connections: Number(arg('connections') ?? 4),
    json: arg('json'),
  }
}

/** Starts one server process; resolves with `{ name, url, child }` once it listens. */
async function startServer({ name, engine }, windowMs) {
  const child = spawn(process.execPath, [SERVER, `--engine=${engine}`, `--window-ms=${windowMs}`], { stdio: ['ignore', 'pipe', 'inherit'] })
  let output = ''
  child.stdout.setEncoding('utf8')
  const url = await new Promise((resolve, reject) => {
    child.stdout.on('data', (chunk) => {
      output += chunk
      const m = /listening on (http:\S+)/.exec(output)
      if (m) resolve(m[1])
    })
    child.once('exit', (code) => reject(new Error(`the ${name} server exited (${code}) before listening: ${output}`)))
  })
  return { name, url, child }
}

async function stopServer(server) {
  if (server.child.exitCode !== null || server.child.signalCode !== null) return
  const exited = once(server.child, 'exit')
  server.child.kill('SIGTERM')
  const late = setTimeout(() => {
    console.error(`the ${server.name} server did not exit 5 s after SIGTERM: killing it`)
    server.child.kill('SIGKILL')
  }, 5000)
  await exited
  clearTimeout(late)
}

/** One request, checked: the thumbnail must be a 720×588 JPEG. */
async function check(server, body) {
  const res = await fetch(`${server.url}/thumbnail?${QUERY}`, { method: 'POST', body, headers: { 'Content-Type': 'image/jpeg' } })
  const bytes = Buffer.from(await res.arrayBuffer())
  if (res.status !== 200) throw new Error(`${server.name}: status ${res.status}: ${bytes.toString('utf8').slice(0, 300)}`)
  const info = await metadata(bytes)
  if (res.headers.get('content-type') !== 'image/jpeg' || info.format !== 'jpeg' || info.width !== 720 || info.height !== 588) {
    throw new Error(`${server.name}: expected a 720×588 image/jpeg, got ${res.headers.get('content-type')} ${info.format} ${info.width}×${info.height}`)
  }
  return bytes.length
}

/** Loads `server` for `duration` s; reads its /health 0.4 s before the end. */
async function trial(server, body, { duration, connections }) {
  const startedAt = Date.now()
  const load = autocannon({
    url: `${server.url}/thumbnail?${QUERY}`,
    method: 'POST',
    body,
    headers: { 'content-type': 'image/jpeg' },
    connections,
    duration,
  })
  const health = new Promise((resolve, reject) => {
    setTimeout(() => fetch(`${server.url}/health`).then((r) => r.json()).then(resolve, reject), duration * 1000 - 400)
  })
  const [result, report] = await Promise.all([load, health])
  const loop = report.eventLoopDelayMs
  return {
    rps: result['2xx'] / result.duration,
    p50: result.latency.p50,
    p99: result.latency.p99,
    loopP99: loop.p99,
    // Whether the /health window lay wholly inside this trial's load.
    windowInLoad: !loop.partial && Date.parse(loop.from) >= startedAt,
    errors: result.errors + result.timeouts + result.non2xx,
    requests: result['2xx'],
  }
}

async function main() {
  const opts = options()
  const machine = machineInfo()
  const addon = addonInfo()
  const magick = findMagick()
  const contenders = CONTENDERS.filter((c) => c.engine !== 'magick' || magick.cmd)
  const windowMs = Math.round((opts.duration * 1000) / 2.5)
  const body = fs.readFileSync(IMAGE)

  const say = (line) => process.stdout.write(`${line}\n`)
  say(`server benchmark: POST /thumbnail (${QUERY}), body ${path.basename(IMAGE)} (${body.length} bytes), ${opts.connections} connections, ${opts.rounds} round(s) of ${opts.duration} s`)
  say(`machine: nproc ${machine.nproc}, ${machine.cpu}, Node ${machine.node}, load average ${machine.loadavg.join(' ')}; offload ${gitRevision()}, ${addon.file}`)
  for (const w of addon.warnings) say(`warning: ${w}`)
  if (!magick.cmd) say(`note: ${magick.note}`)
  else say(`ImageMagick ${magick.version} (${magick.cmd}), one process per request`)

  const servers = []
  try {
    for (const c of contenders) servers.push(await startServer(c, windowMs))
    for (const s of servers) say(`  ${s.name}: ${s.url}, checked: 720×588 JPEG of ${await check(s, body)} bytes`)
    // Warm-up: JIT, libvips caches, page cache for convert.
    for (const s of servers) await trial(s, body, { duration: 1, connections: opts.connections })

    const results = Object.fromEntries(servers.map((s) => [s.name, []]))
    for (let round = 0; round < opts.rounds; round++) {
      for (const s of rotate(servers, round)) {
        const r = await trial(s, body, opts)
        results[s.name].push(r)
        say(`  round ${round + 1} ${s.name.padEnd(11)} ${fmt(r.rps).padStart(6)} req/s, latency p50 ${fmt(r.p50)} ms p99 ${fmt(r.p99)} ms, event-loop p99 ${fmt(r.loopP99)} ms${r.windowInLoad ? '' : ' (window not wholly under load)'}${r.errors ? `, ${r.errors} errors` : ''}`)
      }
    }

    const names = servers.map((s) => s.name)
    const metrics = [
      ['requests/s (higher is better)', (r) => r.rps],
      ['latency p50 (ms) (lower is better)', (r) => r.p50],
      ['latency p99 (ms) (lower is better)', (r) => r.p99],
      ['event-loop delay p99 under load (ms) (lower is better)', (r) => r.loopP99],
    ]
    const rows = metrics.map(([label, pick]) => {
      const base = median(results[BASE].map(pick))
      return [label, ...names.map((n) => {
        const value = median(results[n].map(pick))
        return n === BASE ? fmt(value) : `${fmt(value)} (${ratio(value, base)})`
      })]
    })
    const errors = names.map((n) => results[n].reduce((sum, r) => sum + r.errors, 0))
    rows.push(['errors (timeouts, non-2xx)', ...errors.map(String)])
    say('')
    say(table([`metric, ${opts.connections} connections (ratio = ÷ ${BASE})`, ...names], rows))
    say(`\nmedians of ${opts.rounds} round(s) of ${opts.duration} s; event-loop window ${windowMs} ms`)
    if (opts.json) fs.writeFileSync(opts.json, JSON.stringify({ machine, addon, opts, windowMs, results }, null, 2))
  } finally {
    await Promise.all(servers.map(stopServer))
  }
}

main().catch((err) => {
  console.error(err)
  process.exitCode = 1
})

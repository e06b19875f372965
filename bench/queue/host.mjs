// One host of bench/queue.mjs: a Worker of concurrency 2 in `mode` (fork,
// threads, offload, offload@DIR, inprocess) on `queue`. Over IPC: 'report' answers with its
// event-loop delay p99 since the last report and the RSS of itself and of
// every process under it; 'stop' closes the Worker and exits.
import { createRequire } from 'node:module'
import { monitorEventLoopDelay } from 'node:perf_hooks'
import fs from 'node:fs'
import { childrenOf } from '../../__test__/lib/proc.mjs'

const require = createRequire(import.meta.url)
const bullmq = require('bullmq')
const [mode, port, queue, processor, poolJson] = process.argv.slice(2)
const connection = { host: '127.0.0.1', port: Number(port) }
const common = { connection, concurrency: 2, removeOnComplete: { count: 1_000_000 } }
let worker
if (mode === 'fork') worker = new bullmq.Worker(queue, processor, common)
else if (mode === 'threads') worker = new bullmq.Worker(queue, processor, { ...common, useWorkerThreads: true })
else if (mode === 'inprocess') worker = new bullmq.Worker(queue, require(processor), common)
// offload@DIR: the copy of offload in DIR (another commit, for before/after in one run).
else if (mode === 'offload' || mode.startsWith('offload@')) {
  const { Worker } = require(mode === 'offload' ? 'offload/bullmq' : `${mode.slice('offload@'.length)}/lib/bullmq`)
  worker = new Worker(queue, processor, { ...common, pool: { size: 2, ...JSON.parse(poolJson ?? '{}') } })
}
else throw new Error(`unknown mode ${mode}`)
worker.on('error', (err) => console.error(`${mode} host: ${err.message}`))

// Its 1 ms timer costs the host ~25 ms of CPU a second: profile.mjs, which
// does not report it, turns it off (BENCH_HOST_DELAY=off).
const delay = process.env.BENCH_HOST_DELAY === 'off' ? null : monitorEventLoopDelay({ resolution: 1 })
delay?.enable()

function rssOf(pid) {
  try {
    return Number(fs.readFileSync(`/proc/${pid}/statm`, 'utf8').split(' ')[1]) * 4096
  } catch {
    return null
  }
}
const descendants = (pid) => childrenOf(pid).flatMap((child) => [child, ...descendants(child)])

process.on('message', async (msg) => {
  if (msg === 'report') {
    const children = descendants(process.pid).map((pid) => rssOf(pid)).filter((r) => r !== null)
    process.send({ delayP99: delay ? delay.percentile(99) / 1e6 : null, rss: rssOf(process.pid), children })
    delay?.reset()
  } else if (msg === 'stop') {
    await worker.close()
    process.exit(0)
  }
})
await worker.waitUntilReady()
process.send('ready')

// BullMQ job processors four ways, on one Redis, two hosts of concurrency 2
// each, interleaved round by round (the order rotating):
//   fork      BullMQ's sandboxed processor (a child process per concurrent job)
//   threads   the same with useWorkerThreads
//   offload   offload/bullmq's Worker (the same processor file in an offload Pool)
//   inprocess the processor in the host's own event loop (the blocking baseline)
// Tasks: a ~2 ms CPU job (one processor file for all), and a 320-pixel JPEG
// thumbnail (sharp in BullMQ's modes, offload's resize in offload's). Then a
// leaky run: 10 000 jobs keeping 100 KiB each, and the RSS of every process.
//
//   node bench/queue.mjs [--rounds 3] [--jobs 3000] [--thumbs 300] [--leak 10000]
//                        [--modes fork,threads,offload,inprocess,offload@DIR]
//
// Reported: jobs/s (all jobs added at once, to the last completed), latency
// from add to completed (job.finishedOn − job.timestamp, p50/p99), CPU per job
// of the benchmark's own processes (/proc/<pid>/stat: Redis, the hosts and all
// under them, the producer) and of the whole machine (/proc/stat), and the
// event-loop delay p99 of a host.
import childProcess from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'
import { createRequire } from 'node:module'
import { startRedis } from '../__test__/lib/redis.mjs'
import { treeCpuTicks } from '../__test__/lib/proc.mjs'

const require = createRequire(import.meta.url)
const { Queue, QueueEvents } = require('bullmq')
const here = (file) => fileURLToPath(new URL(file, import.meta.url))
const arg = (name, fallback) => {
  const at = process.argv.indexOf(`--${name}`)
  return at > 0 ? Number(process.argv[at + 1]) : fallback
}
const ROUNDS = arg('rounds', 3)
const JOBS = arg('jobs', 3000)
const THUMBS = arg('thumbs', 300)
const LEAK = arg('leak', 10000)
// offload@DIR: another copy of offload (a checkout of another commit, with its
// addon), measured in the same run: before/after of a change, interleaved.
const MODES = (process.argv.includes('--modes') ? process.argv[process.argv.indexOf('--modes') + 1] : 'fork,threads,offload,inprocess').split(',')
const isOffload = (mode) => mode === 'offload' || mode.startsWith('offload@')
const IMAGE = here('../../shared/fixtures/images/flowers.jpeg')

const TASKS = {
  cpu: { jobs: JOBS, file: () => here('queue/cpu.js'), data: { ms: 2 } },
  thumbnail: { jobs: THUMBS, file: (mode) => here(isOffload(mode) ? 'queue/thumb-offload.js' : 'queue/thumb-sharp.js'), data: { path: IMAGE } },
}

function machineTicks() {
  const [, ...fields] = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/)
  const n = fields.map(Number)
  return { busy: n[0] + n[1] + n[2] + n[5] + n[6] + n[7], all: n.reduce((a, b) => a + b, 0) }
}
const TICK_MS = 1000 / 100 // USER_HZ

/**
 * CPU time (ms) of the benchmark's own processes: redis-server, the hosts and
 * every process under them, and this producer. Unlike the machine's, it holds
 * when other work shares the machine.
 */
function ownCpuMs(redis, hosts) {
  const self = process.cpuUsage()
  let ticks = treeCpuTicks(redis.pid)
  for (const host of hosts) ticks += treeCpuTicks(host.pid)
  return ticks * TICK_MS + (self.user + self.system) / 1000
}

const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]

async function startHosts(redis, mode, queueName, file, pool) {
  const hosts = [0, 1].map(() => childProcess.fork(here('queue/host.mjs'), [mode, String(redis.port), queueName, file, JSON.stringify(pool ?? {})], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }))
  await Promise.all(hosts.map(async (host) => {
    const [msg] = await once(host, 'message')
    if (msg !== 'ready') throw new Error(`host said ${msg}`)
  }))
  return hosts
}
const ask = async (host) => {
  host.send('report')
  return (await once(host, 'message'))[0]
}
async function stopHosts(hosts) {
  for (const host of hosts) host.send('stop')
  await Promise.all(hosts.map((host) => once(host, 'exit')))
}

/** One measured run: `count` jobs of `task` on two fresh hosts in `mode`. */
async function run(redis, mode, taskName, count, options = {}) {
  const task = TASKS[taskName] ?? options.task
  const name = `bench-${mode}-${taskName}-${Date.now()}`
  const queue = new Queue(name, { connection: redis.connection })
  const events = new QueueEvents(name, { connection: redis.connection })
  await events.waitUntilReady()
  const hosts = await startHosts(redis, mode, name, options.file ?? task.file(mode), options.pool)
  // Warm-up: each host's workers started and loaded.
  await queue.addBulk(Array.from({ length: 8 }, () => ({ name: 'warm', data: task.data })))
  await new Promise((resolve) => {
    let n = 0
    const on = () => ++n === 8 && (events.off('completed', on), resolve())
    events.on('completed', on)
  })
  await queue.clean(0, 100, 'completed')
  await Promise.all(hosts.map(ask)) // resets the delay histograms
  let done = 0
  const finished = new Promise((resolve) => events.on('completed', () => ++done === count && resolve()))
  const ticks0 = machineTicks()
  const own0 = ownCpuMs(redis, hosts)
  const t0 = performance.now()
  for (let at = 0; at < count; at += 1000) {
    await queue.addBulk(Array.from({ length: Math.min(1000, count - at) }, () => ({ name: taskName, data: task.data })))
  }
  await finished
  const seconds = (performance.now() - t0) / 1000
  const ticks1 = machineTicks()
  const own1 = ownCpuMs(redis, hosts)
  const reports = await Promise.all(hosts.map(ask))
  const jobs = await queue.getJobs(['completed'], 0, count)
  const latencies = jobs.map((j) => j.finishedOn - j.timestamp).sort((a, b) => a - b)
  const failed = await queue.getFailedCount()
  await stopHosts(hosts)
  await events.close()
  await queue.obliterate({ force: true })
  await queue.close()
  return {
    jobsPerSecond: count / seconds,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    cpuMsPerJob: ((ticks1.busy - ticks0.busy) * TICK_MS) / count,
    ownCpuMsPerJob: (own1 - own0) / count,
    delayP99: Math.max(...reports.map((r) => r.delayP99)),
    reports,
    failed,
  }
}

const fmt = (x, digits = 1) => x.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits })

async function main() {
  const redis = await startRedis()
  console.log(`node ${process.version}, ${os.cpus().length} × ${os.cpus()[0].model}, load ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}; ${ROUNDS} rounds; ${JOBS} cpu jobs, ${THUMBS} thumbnails (${IMAGE.split('/').pop()}), ${LEAK} leaky jobs`)
  try {
    for (const taskName of Object.keys(TASKS)) {
      const results = Object.fromEntries(MODES.map((m) => [m, []]))
      for (let round = 0; round < ROUNDS; round++) {
        const order = MODES.map((_, i) => MODES[(i + round) % MODES.length])
        for (const mode of order) {
          const r = await run(redis, mode, taskName, TASKS[taskName].jobs)
          if (r.failed) throw new Error(`${mode} ${taskName}: ${r.failed} jobs failed`)
          results[mode].push(r)
          process.stderr.write(`${taskName} round ${round + 1} ${mode}: ${fmt(r.jobsPerSecond, 0)} jobs/s, p50 ${r.p50} ms, p99 ${r.p99} ms, ${fmt(r.cpuMsPerJob, 2)} machine CPU ms/job, ${fmt(r.ownCpuMsPerJob, 2)} own CPU ms/job, host delay p99 ${fmt(r.delayP99)} ms\n`)
        }
      }
      console.log(`\n${taskName} (${TASKS[taskName].jobs} jobs a run; medians of ${ROUNDS} runs; ratio = ÷ ${MODES[0]})\n`)
      console.log('| mode | jobs/s | latency p50 (ms) | latency p99 (ms) | own CPU ms/job | machine CPU ms/job | host event-loop delay p99 (ms) |')
      console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: |')
      const base = median(results[MODES[0]].map((r) => r.jobsPerSecond))
      for (const mode of MODES) {
        const rs = results[mode]
        const jps = median(rs.map((r) => r.jobsPerSecond))
        console.log(`| ${mode} | ${fmt(jps, 0)} (${fmt(jps / base, 2)}×) | ${median(rs.map((r) => r.p50))} | ${median(rs.map((r) => r.p99))} | ${fmt(median(rs.map((r) => r.ownCpuMsPerJob)), 2)} | ${fmt(median(rs.map((r) => r.cpuMsPerJob)), 2)} | ${fmt(median(rs.map((r) => r.delayP99)))} |`)
      }
    }
    if (LEAK > 0) {
      console.log(`\nleaky processor (100 KiB kept per job, ${LEAK} jobs over two hosts; offload: pool maxRssBytes 128 MiB): RSS after the run, MiB\n`)
      console.log('| mode | jobs/s | host RSS | children RSS (each) |')
      console.log('| --- | ---: | ---: | --- |')
      for (const mode of MODES) {
        const r = await run(redis, mode, 'leak', LEAK, { task: { data: {} }, file: here('queue/leak.js'), pool: isOffload(mode) ? { maxRssBytes: 128 * 2 ** 20 } : undefined })
        const mib = (b) => fmt(b / 2 ** 20, 0)
        console.log(`| ${mode} | ${fmt(r.jobsPerSecond, 0)} | ${r.reports.map((h) => mib(h.rss)).join(', ')} | ${r.reports.map((h) => h.children.map(mib).join(', ') || '—').join(' / ')} |`)
      }
    }
  } finally {
    await redis.stop()
  }
}

main().catch((err) => {
  console.error(err)
  process.exitCode = 1
})

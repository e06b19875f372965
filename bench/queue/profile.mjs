// Where one host's per-job CPU goes: one host of bench/queue.mjs (a Worker of
// concurrency 2 in `mode`) on a fresh redis-server, `jobs` jobs added at once
// after a warm-up, and the CPU time (utime + stime from /proc) each process
// spent meanwhile, per job: redis-server, the host (each of its threads), the
// processes under it (BullMQ's children or offload's pool workers), and this
// producer. With --cpu-prof DIR the host (and, through the inherited execArgv,
// the processes it starts) write V8 CPU profiles there; `--summarize DIR`
// prints, per profile, the main thread's samples attributed to the code that
// caused them, over the measured window only (bench/queue/profile-summary.mjs).
//
//   node bench/queue/profile.mjs --mode offload --task cpu [--ms 2] --jobs 2000 [--cpu-prof DIR]
import childProcess from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'
import { createRequire } from 'node:module'
import { startRedis } from '../../__test__/lib/redis.mjs'
import { procStat, childrenOf } from '../../__test__/lib/proc.mjs'

const require = createRequire(import.meta.url)
const { Queue } = require('bullmq')
const here = (file) => fileURLToPath(new URL(file, import.meta.url))
const option = (name, fallback) => {
  const at = process.argv.indexOf(`--${name}`)
  return at > 0 ? process.argv[at + 1] : fallback
}
const MODE = option('mode', 'offload')
const TASK = option('task', 'cpu')
const JOBS = Number(option('jobs', 2000))
const PROFILE_DIR = option('cpu-prof', null)
// --ms 0: the cpu job does nothing, so that all the CPU left is the per-job cost.
const MS = Number(option('ms', 2))
const IMAGE = here('../../../shared/fixtures/images/flowers.jpeg')
const TASKS = {
  cpu: { file: () => here('cpu.js'), data: { ms: MS } },
  thumbnail: { file: (mode) => here(mode.startsWith('offload') ? 'thumb-offload.js' : 'thumb-sharp.js'), data: { path: IMAGE } },
}
const TICK_MS = 1000 / 100 // USER_HZ

const ticks = (pid) => {
  const stat = procStat(pid)
  return stat === null ? 0 : stat.utime + stat.stime
}

/** CPU ticks of every process of interest, and of each thread of the host. */
function sample(redisPid, hostPid) {
  const threads = {}
  for (const tid of fs.readdirSync(`/proc/${hostPid}/task`)) {
    const stat = procStat(`${hostPid}/task/${tid}`)
    if (stat) threads[`${tid} ${stat.name}`] = stat.utime + stat.stime
  }
  const children = {}
  for (const pid of childrenOf(hostPid)) children[pid] = ticks(pid)
  const self = process.cpuUsage()
  return { redis: ticks(redisPid), host: ticks(hostPid), threads, children, producerMs: (self.user + self.system) / 1000 }
}

async function main() {
  const redis = await startRedis()
  const task = TASKS[TASK]
  const queueName = `profile-${MODE}-${TASK}`
  const queue = new Queue(queueName, { connection: redis.connection })
  const execArgv = PROFILE_DIR ? ['--cpu-prof', `--cpu-prof-dir=${PROFILE_DIR}`] : []
  // offload's pool ends its workers with SIGTERM after the end of their input: a profiled
  // worker exits on it, so that its profile is written (BullMQ's children do so on their own).
  const pool = PROFILE_DIR ? { execArgv: [...execArgv, '--import', 'data:text/javascript,process.on("SIGTERM",()=>process.exit(0))'] } : {}
  const host = childProcess.fork(here('host.mjs'), [MODE, String(redis.port), queueName, task.file(MODE), JSON.stringify(pool)], { execArgv, env: { ...process.env, BENCH_HOST_DELAY: 'off' }, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
  try {
    const [msg] = await once(host, 'message')
    if (msg !== 'ready') throw new Error(`host said ${msg}`)
    const completed = async (n) => {
      while ((await queue.getCompletedCount()) < n) await new Promise((resolve) => setTimeout(resolve, 50))
    }
    await queue.addBulk(Array.from({ length: 8 }, () => ({ name: 'warm', data: task.data })))
    await completed(8)
    const before = sample(redis.pid, host.pid)
    const t0 = performance.now()
    const startUs = process.hrtime.bigint() / 1000n
    for (let at = 0; at < JOBS; at += 1000) {
      await queue.addBulk(Array.from({ length: Math.min(1000, JOBS - at) }, () => ({ name: TASK, data: task.data })))
    }
    await completed(8 + JOBS)
    // The measured window on the clock V8 stamps its samples with (CLOCK_MONOTONIC, µs).
    if (PROFILE_DIR) fs.writeFileSync(`${PROFILE_DIR}/window.json`, JSON.stringify({ startUs: String(startUs), endUs: String(process.hrtime.bigint() / 1000n), jobs: JOBS }))
    const seconds = (performance.now() - t0) / 1000
    const after = sample(redis.pid, host.pid)
    const failed = await queue.getFailedCount()
    const perJob = (ticks) => Number(((ticks * TICK_MS) / JOBS).toFixed(3))
    const threads = Object.entries(after.threads)
      .map(([k, v]) => [k, perJob(v - (before.threads[k] ?? 0))])
      .filter(([, ms]) => ms > 0)
    const childTicks = Object.entries(after.children).map(([pid, v]) => [pid, v - (before.children[pid] ?? 0)])
    const result = {
      mode: MODE,
      task: TASK,
      jobs: JOBS,
      failed,
      jobsPerSecond: Math.round(JOBS / seconds),
      cpuMsPerJob: {
        redis: perJob(after.redis - before.redis),
        host: perJob(after.host - before.host),
        children: perJob(childTicks.reduce((sum, [, ticks]) => sum + ticks, 0)),
        producer: Number(((after.producerMs - before.producerMs) / JOBS).toFixed(3)),
      },
      hostThreads: Object.fromEntries(threads),
      childrenEach: Object.fromEntries(childTicks.map(([pid, ticks]) => [pid, perJob(ticks)])),
      loadAverage: os.loadavg()[0],
    }
    result.cpuMsPerJob.total = Number(Object.values(result.cpuMsPerJob).reduce((a, b) => a + b, 0).toFixed(3))
    console.log(JSON.stringify(result))
  } finally {
    host.send('stop')
    await once(host, 'exit')
    await queue.obliterate({ force: true }).catch(() => {})
    await queue.close()
    await redis.stop()
  }
}

main().catch((err) => {
  console.error(err)
  process.exitCode = 1
})

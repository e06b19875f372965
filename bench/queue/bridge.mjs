// The bridge alone, without Redis in the loop: the processor function BullMQ's
// Worker would call, called directly with one real Job (made once on a
// redis-server), concurrency 2, over and over; CPU per job of this process
// (the host's side) and of the processes under it (the sandbox side).
//   fork     BullMQ's own sandbox (its ChildPool and sandbox processor)
//   offload  offload/bullmq's processor (a Pool running sandbox-runtime.js)
//   offload@DIR  the same from another copy of offload (before/after a change)
// The processor is bench/queue/cpu.js with `ms` 0: every CPU millisecond left
// is the bridge's. Rounds alternate the modes; medians are printed.
//
//   node bench/queue/bridge.mjs [--jobs 5000] [--rounds 5] [--modes fork,offload] [--cpu-prof DIR]
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { createRequire } from 'node:module'
import { startRedis } from '../../__test__/lib/redis.mjs'
import { procStat, childrenOf } from '../../__test__/lib/proc.mjs'

const require = createRequire(import.meta.url)
const { Queue } = require('bullmq')
const bullmqDir = path.dirname(require.resolve('bullmq/package.json'))
const { ChildPool } = require(path.join(bullmqDir, 'dist/cjs/classes/child-pool.js'))
const sandbox = require(path.join(bullmqDir, 'dist/cjs/classes/sandbox.js')).default

const option = (name, fallback) => {
  const at = process.argv.indexOf(`--${name}`)
  return at > 0 ? process.argv[at + 1] : fallback
}
const JOBS = Number(option('jobs', 5000))
const ROUNDS = Number(option('rounds', 5))
const MODES = option('modes', 'fork,offload').split(',')
const PROFILE_DIR = option('cpu-prof', null)
const PROCESSOR = fileURLToPath(new URL('cpu.js', import.meta.url))
const TICK_MS = 1000 / 100

/** CPU ticks of the processes under this one but `except` (redis-server). */
function childTicks(except) {
  const ticks = { user: 0, system: 0 }
  for (const pid of childrenOf(process.pid)) {
    const stat = pid === except ? null : procStat(pid)
    if (stat === null) continue
    ticks.user += stat.utime
    ticks.system += stat.stime
  }
  return ticks
}

async function makeProcessor(mode) {
  if (mode === 'offload' || mode.startsWith('offload@')) {
    const root = mode === 'offload' ? fileURLToPath(new URL('../..', import.meta.url)) : mode.slice('offload@'.length)
    const { Pool } = require(root)
    const { createProcessor, markSandbox } = require(path.join(root, 'lib/bullmq/processor'))
    // --cpu-prof DIR: each pool worker writes a V8 CPU profile there (on the SIGTERM that ends it).
    const execArgv = PROFILE_DIR ? ['--cpu-prof', `--cpu-prof-dir=${PROFILE_DIR}`, '--import', 'data:text/javascript,process.on("SIGTERM",()=>process.exit(0))'] : undefined
    const pool = markSandbox(new Pool({ script: path.join(root, 'lib/bullmq/sandbox-runtime.js'), args: [PROCESSOR], size: 2, execArgv }))
    return { process: createProcessor(pool), close: () => pool.close() }
  }
  const childPool = new ChildPool({ mainFile: path.join(bullmqDir, 'dist/cjs/classes/main.js') })
  return { process: sandbox(PROCESSOR, childPool), close: () => childPool.clean() }
}

async function round(mode, job, redisPid) {
  const { process: processJob, close } = await makeProcessor(mode)
  // Warm-up: both workers started, the code paths compiled.
  for (let i = 0; i < 200; i++) await Promise.all([processJob(job, 'token'), processJob(job, 'token')])
  const ticks0 = childTicks(redisPid)
  const cpu0 = process.cpuUsage()
  const t0 = performance.now()
  let left = JOBS
  // Each slot as BullMQ runs it: its own AbortController per job.
  const slot = async () => {
    while (left-- > 0) await processJob(job, 'token', new AbortController().signal)
  }
  await Promise.all([slot(), slot()])
  const seconds = (performance.now() - t0) / 1000
  const cpu = process.cpuUsage(cpu0)
  const ticks1 = childTicks(redisPid)
  await close()
  const perJob = (ticks) => (ticks * TICK_MS) / JOBS
  return {
    jobsPerSecond: JOBS / seconds,
    hostMs: (cpu.user + cpu.system) / 1000 / JOBS,
    hostSystemMs: cpu.system / 1000 / JOBS,
    sandboxMs: perJob(ticks1.user + ticks1.system - ticks0.user - ticks0.system),
    sandboxSystemMs: perJob(ticks1.system - ticks0.system),
  }
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]

async function main() {
  const redis = await startRedis()
  const queue = new Queue('bridge', { connection: redis.connection })
  const job = await queue.add('cpu', { ms: 0 })
  const results = Object.fromEntries(MODES.map((m) => [m, []]))
  try {
    for (let r = 0; r < ROUNDS; r++) {
      for (const mode of r % 2 ? [...MODES].reverse() : MODES) {
        const result = await round(mode, job, redis.pid)
        results[mode].push(result)
        process.stderr.write(`round ${r + 1} ${mode}: ${result.jobsPerSecond.toFixed(0)} jobs/s, host ${result.hostMs.toFixed(3)} ms/job (system ${result.hostSystemMs.toFixed(3)}), sandbox ${result.sandboxMs.toFixed(3)} ms/job (system ${result.sandboxSystemMs.toFixed(3)})\n`)
      }
    }
  } finally {
    await queue.obliterate({ force: true })
    await queue.close()
    await redis.stop()
  }
  console.log(`\n${JOBS} jobs a round, ${ROUNDS} rounds, medians`)
  console.log('| mode | jobs/s | host CPU ms/job (system) | sandbox CPU ms/job (system) | total |')
  console.log('| --- | ---: | ---: | ---: | ---: |')
  for (const mode of MODES) {
    const rs = results[mode]
    const host = median(rs.map((x) => x.hostMs))
    const box = median(rs.map((x) => x.sandboxMs))
    const sys = (key) => median(rs.map((x) => x[key])).toFixed(3)
    console.log(`| ${mode} | ${median(rs.map((x) => x.jobsPerSecond)).toFixed(0)} | ${host.toFixed(3)} (${sys('hostSystemMs')}) | ${box.toFixed(3)} (${sys('sandboxSystemMs')}) | ${(host + box).toFixed(3)} |`)
  }
}

main().catch((err) => {
  console.error(err)
  process.exitCode = 1
})

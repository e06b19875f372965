// offload/bullmq against a real Redis (a redis-server started here) and the
// real BullMQ: sandboxed processor files run in offload Pool workers. What
// depends on BullMQ's backend (the job's methods and options as they reach the
// processor, many hosts sharing a queue) runs against a real PostgreSQL too.
import { test, describe, before, after } from 'node:test'
import assert from 'node:assert/strict'
import childProcess from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { once } from 'node:events'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { createRequire } from 'node:module'

import { startRedis, redisServerPath } from './lib/redis.mjs'
import { startPostgres, postgresBinDir } from './lib/postgres.mjs'
import { alive, childrenOf, pollUntil } from './lib/proc.mjs'

const require = createRequire(import.meta.url)
const fixture = (name) => fileURLToPath(new URL(`./fixtures/bullmq/${name}`, import.meta.url))
const PROCESSOR = fixture('processor.js')
const { Pool } = require('../index.js')
const NO_REDIS = redisServerPath() === null && 'redis-server is not installed (apt-get install redis-server; .ci/run installs it)'
const NO_POSTGRES = postgresBinDir() === null && 'PostgreSQL is not installed (apt-get install postgresql; .ci/run installs it)'

/** A Queue and QueueEvents on `name`, ready; both pushed on `open` (to close after). */
async function openQueue(bullmq, name, connection, backendFactory, open) {
  const queue = new bullmq.Queue(name, { connection }, backendFactory)
  const events = new bullmq.QueueEvents(name, { connection }, backendFactory)
  open.push(queue, events)
  await events.waitUntilReady()
  return { queue, events }
}

describe('offload/bullmq', { skip: NO_REDIS, timeout: 120_000 }, () => {
  let redis, bullmq, Worker, createProcessor
  let n = 0
  const open = [] // queues, workers and event streams to close after each test's own close
  const queueName = () => `q${++n}`

  before(async () => {
    redis = await startRedis()
    bullmq = require('bullmq')
    ;({ Worker, createProcessor } = require('offload/bullmq'))
  })
  after(async () => {
    for (const thing of open.reverse()) await thing.close().catch(() => {})
    await redis?.stop()
  })

  const queueOf = (name) => openQueue(bullmq, name, redis.connection, undefined, open)

  function workerOf(name, processor, options = {}) {
    const worker = new Worker(name, processor, { connection: redis.connection, ...options })
    open.push(worker)
    return worker
  }

  test('require("offload") does not load bullmq; require("offload/bullmq") does', () => {
    const loaded = (entry) =>
      childProcess.execFileSync(process.execPath, ['-e', `require(${JSON.stringify(entry)}); console.log(Object.keys(require.cache).some((k) => k.includes('/node_modules/bullmq/')))`], { cwd: fileURLToPath(new URL('..', import.meta.url)) }).toString().trim()
    assert.equal(loaded('offload'), 'false')
    assert.equal(loaded('offload/bullmq'), 'true')
  })

  test('it is a BullMQ Worker: a returned value completes the job, and the job is what BullMQ\'s sandbox gives', async () => {
    const name = queueName()
    const { queue, events } = await queueOf(name)
    const worker = workerOf(name, PROCESSOR, { pool: { size: 2 } })
    assert.ok(worker instanceof bullmq.Worker)
    assert.equal(worker.opts.concurrency, 2) // the pool's capacity
    const completed = []
    worker.on('completed', (job, value) => completed.push([job.id, value]))
    const job = await queue.add('greet', { action: 'echo', x: [1, 'two'] })
    const value = await job.waitUntilFinished(events)
    assert.deepEqual({ ...value, pid: 0 }, { data: { action: 'echo', x: [1, 'two'] }, id: job.id, name: 'greet', attemptsMade: 0, hasToken: true, pid: 0 })
    assert.notEqual(value.pid, process.pid)
    assert.deepEqual((await queue.getJob(job.id)).returnvalue, value)
    assert.deepEqual(completed, [[job.id, value]])
    // An ESM processor file, given as a file URL.
    const esmName = queueName()
    const esm = await queueOf(esmName)
    workerOf(esmName, pathToFileURL(fixture('processor.mjs')), { pool: { size: 1 } })
    const sum = await esm.queue.add('add', { a: 2, b: 40 })
    assert.deepEqual(await sum.waitUntilFinished(esm.events), { esm: true, sum: 42 })
  })

  test('a thrown error fails the job with its message, stack and code, and attempts/backoff apply', async () => {
    const name = queueName()
    const { queue, events } = await queueOf(name)
    const worker = workerOf(name, PROCESSOR, { pool: { size: 1 } })
    const failures = []
    worker.on('failed', (job, err) => failures.push({ id: job.id, message: err.message, code: err.code }))
    const job = await queue.add('t', { action: 'throw' }, { attempts: 2, backoff: { type: 'fixed', delay: 10 } })
    await assert.rejects(job.waitUntilFinished(events), /failed on attempt 2/)
    const stored = await queue.getJob(job.id)
    assert.equal(stored.attemptsMade, 2)
    assert.equal(stored.failedReason, 'failed on attempt 2')
    assert.equal(stored.stacktrace.length, 2)
    assert.match(stored.stacktrace[0], /^Error: failed on attempt 1\n\s+at .*fixtures\/bullmq\/processor\.js/)
    assert.deepEqual(failures, [
      { id: job.id, message: 'failed on attempt 1', code: 'E_PROCESSOR' },
      { id: job.id, message: 'failed on attempt 2', code: 'E_PROCESSOR' },
    ])
    const retried = await queue.add('t', { action: 'throw', succeedOn: 3 }, { attempts: 3, backoff: { type: 'exponential', delay: 10 } })
    assert.equal(await retried.waitUntilFinished(events), 'finally')
    assert.equal((await queue.getJob(retried.id)).attemptsStarted, 3)
  })

  test('a worker crash (exit, SIGKILL) fails that job with ERR_OFFLOAD_WORKER_CRASHED, the worker is replaced and the next jobs run', async () => {
    const name = queueName()
    const { queue, events } = await queueOf(name)
    const worker = workerOf(name, PROCESSOR, { pool: { size: 1 } })
    const codes = []
    worker.on('failed', (job, err) => codes.push(err.code))
    const before = (await (await queue.add('e', { action: 'echo' })).waitUntilFinished(events)).pid
    const exited = await queue.add('x', { action: 'exit' })
    await assert.rejects(exited.waitUntilFinished(events), /ERR_OFFLOAD_WORKER_CRASHED: the worker \(pid \d+\) exited with code 3/)
    const killed = await queue.add('k', { action: 'sigkill' })
    await assert.rejects(killed.waitUntilFinished(events), /ERR_OFFLOAD_WORKER_CRASHED: .*killed by signal 9/)
    assert.match((await queue.getJob(killed.id)).failedReason, /^ERR_OFFLOAD_WORKER_CRASHED: .*killed by signal 9/)
    assert.deepEqual(codes, ['ERR_OFFLOAD_WORKER_CRASHED', 'ERR_OFFLOAD_WORKER_CRASHED'])
    const next = await Promise.all([1, 2, 3].map(async () => (await queue.add('e', { action: 'echo' })).waitUntilFinished(events)))
    assert.notEqual(next[0].pid, before)
    assert.ok(!alive(before))
    assert.equal(worker.pool.stats().crashed, 2)
  })

  test('taskTimeout kills a worker stuck in a CPU loop and fails the job with ERR_OFFLOAD_TIMEOUT', async () => {
    const name = queueName()
    const { queue, events } = await queueOf(name)
    const worker = workerOf(name, PROCESSOR, { pool: { size: 1, taskTimeout: 300 } })
    const errors = []
    worker.on('error', (err) => errors.push(err.code))
    const looping = await queue.add('l', { action: 'loop' })
    const started = Date.now()
    await assert.rejects(looping.waitUntilFinished(events), /^Error: ERR_OFFLOAD_TIMEOUT/)
    // The timeout fires while the processor never yields; the stuck worker is
    // killed 1 s later (its AbortSignal cannot run).
    assert.ok(Date.now() - started < 10_000)
    assert.match((await queue.getJob(looping.id)).failedReason, /^ERR_OFFLOAD_TIMEOUT/)
    assert.equal((await (await queue.add('e', { action: 'echo' })).waitUntilFinished(events)).attemptsMade, 0)
    assert.ok(worker.pool.stats().restarted + worker.pool.stats().crashed >= 1)
    assert.deepEqual(errors, ['ERR_OFFLOAD_WORKER_UNRESPONSIVE'])
  })

  test('BullMQ\'s cancellation signal aborts the running task: the processor\'s AbortSignal fires, the worker lives on', async () => {
    const name = queueName()
    const { queue, events } = await queueOf(name)
    const worker = workerOf(name, PROCESSOR, { pool: { size: 1 } })
    const pid = (await (await queue.add('e', { action: 'echo' })).waitUntilFinished(events)).pid
    const waiting = await queue.add('w', { action: 'wait-abort' })
    const [{ jobId }] = await once(events, 'progress') // the processor is running
    assert.equal(jobId, waiting.id)
    assert.equal(worker.cancelJob(waiting.id, 'enough'), true)
    await assert.rejects(waiting.waitUntilFinished(events), /ERR_OFFLOAD_ABORTED/)
    // Same worker process: it stopped on its signal instead of being killed.
    assert.equal((await (await queue.add('e', { action: 'echo' })).waitUntilFinished(events)).pid, pid)
    assert.equal(worker.pool.stats().crashed, 0)
  })

  test('a job that burns a worker\'s CPU for 3 × lockDuration completes and is not stalled', async () => {
    const name = queueName()
    const { queue, events } = await queueOf(name)
    const worker = workerOf(name, PROCESSOR, { pool: { size: 1 }, lockDuration: 600, stalledInterval: 300 })
    const stalled = []
    worker.on('stalled', (id) => stalled.push(id))
    events.on('stalled', ({ jobId }) => stalled.push(jobId))
    const job = await queue.add('spin', { action: 'spin', ms: 1800 })
    assert.equal(await job.waitUntilFinished(events), true)
    const stored = await queue.getJob(job.id)
    assert.equal(stored.attemptsStarted, 1)
    assert.ok(stored.finishedOn - stored.processedOn >= 1800)
    assert.deepEqual(stalled, [])
  })

  test('a missing processor file is refused at construction, as BullMQ refuses it', () => {
    assert.throws(() => new Worker('nope', fixture('no-such-processor.js'), { connection: redis.connection }), {
      code: 'ERR_OFFLOAD_BULLMQ_PROCESSOR_MISSING',
      message: /no-such-processor\.js does not exist/,
    })
  })

  for (const [broken, why] of [['throws-on-load.js', /the model file is missing/], ['syntax-error.js', /SyntaxError/]]) {
    test(`a processor file that cannot load (${broken}) fails its jobs with ERR_OFFLOAD_WORKER_START_FAILED, emits 'error', and starts stay bounded`, async () => {
      const name = queueName()
      const { queue, events } = await queueOf(name)
      const worker = workerOf(name, fixture(broken), { pool: { size: 2, stderr: 'pipe', maxStartFailures: 2, startBackoff: { initial: 100, max: 400 } } })
      const errors = []
      worker.on('error', (err) => errors.push(err))
      const exits = []
      worker.pool.on('workerExit', (pid) => exits.push(pid))
      const job = await queue.add('b', { action: 'echo' })
      await assert.rejects(job.waitUntilFinished(events), /ERR_OFFLOAD_WORKER_START_FAILED/)
      const stored = await queue.getJob(job.id)
      assert.match(stored.failedReason, why)
      assert.ok(errors.some((e) => e.code === 'ERR_OFFLOAD_WORKER_START_FAILED'))
      // No restart storm: a handful of starts, not one per millisecond.
      assert.ok(exits.length <= 10, `${exits.length} worker starts`)
    })
  }

  test('recycling by count: maxTasksPerWorker replaces workers', async () => {
    const name = queueName()
    const { queue, events } = await queueOf(name)
    const worker = workerOf(name, PROCESSOR, { pool: { size: 1, maxTasksPerWorker: 5 } })
    const jobs = await queue.addBulk(Array.from({ length: 20 }, () => ({ name: 'e', data: { action: 'echo' } })))
    const pids = (await Promise.all(jobs.map((j) => j.waitUntilFinished(events)))).map((v) => v.pid)
    const perPid = new Map()
    for (const pid of pids) perPid.set(pid, (perPid.get(pid) ?? 0) + 1)
    assert.ok(perPid.size >= 4, `${perPid.size} workers`)
    for (const count of perPid.values()) assert.ok(count <= 5)
    assert.ok(worker.pool.stats().restarted >= 3)
  })

  test('recycling by memory: a processor leaking 1 MB per job stays under maxRssBytes over 2 000 jobs', async (t) => {
    const name = queueName()
    const { queue } = await queueOf(name)
    const maxRssBytes = 256 * 1024 * 1024
    const worker = workerOf(name, PROCESSOR, { pool: { size: 2, maxRssBytes } })
    let done = 0
    let mostLeaked = 0
    let mostRss = 0
    const pids = new Set()
    const finished = new Promise((resolve) => {
      worker.on('completed', (job, value) => {
        mostLeaked = Math.max(mostLeaked, value.leaked)
        pids.add(value.pid)
        try {
          // The worker's resident size now (it may already have been replaced).
          mostRss = Math.max(mostRss, Number(fs.readFileSync(`/proc/${value.pid}/statm`, 'utf8').split(' ')[1]) * 4096)
        } catch {}
        if (++done === 2000) resolve()
      })
    })
    await queue.addBulk(Array.from({ length: 2000 }, () => ({ name: 'leak', data: { action: 'leak' }, opts: { removeOnComplete: true } })))
    await finished
    t.diagnostic(`${pids.size} workers; most leaked by one: ${mostLeaked} MB; largest worker RSS seen: ${(mostRss / 2 ** 20).toFixed(0)} MB`)
    // Without recycling one worker would hold ~1 000 MB.
    assert.ok(mostLeaked * 2 ** 20 < maxRssBytes, `a worker held ${mostLeaked} MB of leaks`)
    assert.ok(pids.size >= 2000 / 256, `${pids.size} workers for 2 000 MB of leaks`)
    assert.equal(worker.pool.stats().crashed, 0)
    assert.equal(await queue.getFailedCount(), 0)
  })

  test('close() stops fetching, finishes the jobs in flight, closes the pool and leaves nothing running', async () => {
    const name = queueName()
    const { queue } = await queueOf(name)
    const worker = workerOf(name, PROCESSOR, { pool: { size: 2 } })
    const pids = []
    worker.on('completed', (job, value) => pids.push(value.pid))
    const started = new Set()
    worker.on('active', (job) => started.add(job.id))
    await queue.addBulk(Array.from({ length: 6 }, () => ({ name: 's', data: { action: 'slow', ms: 400 } })))
    while ((await queue.getActiveCount()) < 2) await once(worker, 'active')
    await worker.close()
    // Every job that started finished (none left active or failed); the rest were not fetched.
    assert.ok(started.size >= 2 && started.size < 6, `${started.size} jobs started`)
    assert.equal(await queue.getActiveCount(), 0)
    assert.equal(await queue.getFailedCount(), 0)
    assert.equal(await queue.getCompletedCount(), started.size)
    assert.equal(await queue.getWaitingCount(), 6 - started.size)
    assert.equal(pids.length, started.size)
    assert.deepEqual(pids.filter(alive), [])
    assert.equal(worker.pool.stats().size, 0)
  })

  test('an offload Pool of serve() workers as the processor: job.data is the task, the handler gets the job\'s id and name', async () => {
    const pool = new Pool({ script: fixture('serve-worker.js'), size: 2, concurrency: 2 })
    open.push(pool)
    const name = queueName()
    const { queue, events } = await queueOf(name)
    const worker = workerOf(name, pool)
    assert.equal(worker.opts.concurrency, 4)
    const job = await queue.add('thumb', { text: 'x' })
    const value = await job.waitUntilFinished(events)
    assert.deepEqual(value.task, { text: 'x' })
    assert.deepEqual(value.meta, { id: job.id, name: 'thumb' })
    await worker.close()
    // The pool is the caller's: still open.
    assert.equal((await pool.run({ a: 1 })).task.a, 1)
  })

  test('createProcessor(pool) for BullMQ\'s own Worker: handler by job, and BullMQ\'s cancel aborts the handler', async () => {
    const pool = new Pool({ script: fixture('serve-worker.js'), size: 1 })
    open.push(pool)
    const name = queueName()
    const { queue, events } = await queueOf(name)
    const processor = createProcessor(pool, { handler: (job) => job.name })
    assert.equal(processor.length, 3)
    const worker = new bullmq.Worker(name, processor, { connection: redis.connection, concurrency: 2 })
    open.push(worker)
    const upper = await queue.add('upper', { text: 'shout' })
    assert.equal(await upper.waitUntilFinished(events), 'SHOUT')
    const waiting = await queue.add('waitAbort', {})
    // 'active' comes before BullMQ tracks the job for cancelJob(): wait until the handler runs.
    while (pool.stats().busy < 1) await new Promise((resolve) => setImmediate(resolve))
    assert.equal(worker.cancelJob(waiting.id), true)
    await assert.rejects(waiting.waitUntilFinished(events), /ERR_OFFLOAD_ABORTED/)
    // The job's own timeout applies to a Pool processor too: the handler's AbortSignal fires.
    const timed = await queue.add('waitAbort', {}, { timeout: 200 })
    await assert.rejects(timed.waitUntilFinished(events), /ERR_OFFLOAD_TIMEOUT/)
    assert.equal(pool.stats().crashed, 0)
    assert.throws(() => createProcessor({}), { code: 'ERR_INVALID_ARG_TYPE' })
    assert.throws(() => createProcessor(pool, { handlr: 'x' }), { code: 'ERR_INVALID_ARG_VALUE' })
  })

  test('examples/distributed: two worker hosts, a producer and a gatherer find the eight orientations of one photo as one group; SIGTERM stops each host with exit 0', async (t) => {
    const example = (file) => fileURLToPath(new URL(`../examples/distributed/${file}`, import.meta.url))
    const thumbs = fs.mkdtempSync(path.join(os.tmpdir(), 'offload-thumbs-'))
    t.after(() => fs.rmSync(thumbs, { recursive: true, force: true }))
    const env = { ...process.env, REDIS_URL: redis.url, QUEUE: queueName(), POOL_SIZE: '1' }
    const hosts = [0, 1].map(() => childProcess.spawn(process.execPath, [example('worker-host.js')], { env, stdio: ['ignore', 'pipe', 'inherit'] }))
    const outputs = hosts.map((host) => {
      let out = ''
      host.stdout.on('data', (d) => { out += d })
      return () => out
    })
    t.after(() => hosts.forEach((host) => host.kill('SIGKILL')))
    const exits = hosts.map((host) => once(host, 'exit'))
    await Promise.all(hosts.map(async (host, i) => {
      while (!/ready/.test(outputs[i]())) await once(host.stdout, 'data')
    }))
    const run = (file, args = []) => new Promise((resolve, reject) => {
      childProcess.execFile(process.execPath, [example(file), ...args], { env }, (err, stdout, stderr) => (err ? reject(Object.assign(err, { stderr })) : resolve(stdout)))
    })
    const IMAGES = fileURLToPath(new URL('../../shared/fixtures/images/', import.meta.url))
    assert.match(await run('producer.js', [IMAGES, thumbs]), /^24 images queued on 'q\d+'$/m)
    const report = await run('gatherer.js', ['--clean'])
    const group = /^group 1: 8 near-duplicates \(at most 12 of 128 bits apart\)\n((?: {2}.*\n){8})/m.exec(report)
    assert.ok(group, report)
    const names = group[1].trim().split('\n').map((line) => line.trim().split(/\s+/)[1]).sort()
    assert.deepEqual(names, Array.from({ length: 8 }, (_, i) => `Landscape_${i + 1}.jpg`))
    assert.doesNotMatch(report, /^group 2:/m)
    assert.match(report, /^17 images hashed, 7 failed, by [12] worker host\(s\)$/m)
    assert.match(report, /^not hashed: corrupt-header\.jpg \(ERR_OFFLOAD_IMAGE_CORRUPT: /m)
    assert.match(report, /^not hashed: with-alpha\.png \(.*too plain to hash/m)
    // A thumbnail per hashed image, at most 320 a side.
    assert.equal(fs.readdirSync(thumbs).length, 17)
    const { width, height } = await require('../index.js').metadata(path.join(thumbs, 'Landscape_6.jpg'))
    assert.ok(Math.max(width, height) === 320, `${width}×${height}`)
    for (const host of hosts) host.kill('SIGTERM')
    for (const [i, exit] of exits.entries()) {
      assert.deepEqual(await exit, [0, null])
      assert.match(outputs[i](), /stopped/)
    }
  })

  test('bad options are refused before any process starts', () => {
    assert.throws(() => new Worker('q', PROCESSOR, { connection: redis.connection, pool: { script: 'x.js' } }), { code: 'ERR_INVALID_ARG_VALUE', message: /sets 'script'/ })
    assert.throws(() => new Worker('q', PROCESSOR, { connection: redis.connection, pool: { sise: 2 } }), { code: 'ERR_INVALID_ARG_VALUE', message: /unknown option 'sise'/ })
    assert.throws(() => new Worker('q', 42, { connection: redis.connection }), { code: 'ERR_INVALID_ARG_TYPE' })
    assert.throws(() => new Worker('q', PROCESSOR, {}), /requires a connection/)
  })
})

// What depends on BullMQ's backend, on each one: the job as it reaches the
// processor (its methods, its options) and many hosts sharing one queue.
const BACKENDS = [
  { name: 'Redis', id: 'redis', skip: NO_REDIS, start: () => startRedis() },
  { name: 'PostgreSQL', id: 'postgres', skip: NO_POSTGRES, start: () => startPostgres() },
]

for (const backend of BACKENDS) {
  describe(`offload/bullmq on ${backend.name}`, { skip: backend.skip, timeout: 240_000 }, () => {
    let server, bullmq, Worker, backendFactory
    let n = 0
    const open = []
    const queueName = () => `${backend.id}${++n}`

    before(async () => {
      server = await backend.start()
      bullmq = require('bullmq')
      ;({ Worker } = require('offload/bullmq'))
      // BullMQ's PostgreSQL backend: the fourth argument of its Queue, QueueEvents and Worker.
      backendFactory = backend.id === 'postgres' ? bullmq.createPostgresBackend : undefined
    })
    after(async () => {
      for (const thing of open.reverse()) await thing.close().catch(() => {})
      if (server?.clients) {
        // BullMQ's close() on PostgreSQL can resolve while a pooled connection is
        // still ending: wait for every one to go (a connection that stays is a leak).
        await pollUntil(async () => (await server.clients()).length === 0, { deadlineMs: 10_000, what: 'every closed BullMQ object to disconnect' })
      }
      // PostgreSQL's stop() throws if the server left a process, shared memory or its directory behind.
      await server?.stop()
    })

    const queueOf = (name) => openQueue(bullmq, name, server.connection, backendFactory, open)

    function workerOf(name, processor, options = {}) {
      const worker = new Worker(name, processor, { connection: server.connection, ...options }, backendFactory)
      open.push(worker)
      return worker
    }

    test('job.updateProgress(), log() and updateData() in the processor reach the real job', async () => {
      const name = queueName()
      const { queue, events } = await queueOf(name)
      workerOf(name, PROCESSOR, { pool: { size: 1 } })
      const progress = []
      events.on('progress', ({ data }) => progress.push(data))
      const job = await queue.add('p', { action: 'progress' })
      assert.deepEqual(await job.waitUntilFinished(events), { seen: 50, data: { action: 'progress', updated: true } })
      const stored = await queue.getJob(job.id)
      assert.deepEqual(stored.data, { action: 'progress', updated: true })
      assert.deepEqual(stored.progress, { done: true })
      assert.deepEqual((await queue.getJobLogs(job.id)).logs, ['half way'])
      assert.deepEqual(progress, [50, { done: true }])
    })

    test('a job\'s own timeout (queue.add(name, data, { timeout })) kills a worker stuck in a CPU loop and fails the job with ERR_OFFLOAD_TIMEOUT; it replaces the pool\'s taskTimeout', async () => {
      const name = queueName()
      const { queue, events } = await queueOf(name)
      // No taskTimeout: only the job's own timeout can end the loop.
      const worker = workerOf(name, PROCESSOR, { pool: { size: 1 } })
      const errors = []
      worker.on('error', (err) => errors.push(err.code))
      const looping = await queue.add('l', { action: 'loop' }, { timeout: 300 })
      const timedOut = once(worker, 'failed')
      await assert.rejects(looping.waitUntilFinished(events), /^Error: ERR_OFFLOAD_TIMEOUT/)
      assert.equal((await timedOut)[1].code, 'ERR_OFFLOAD_TIMEOUT')
      const stored = await queue.getJob(looping.id)
      assert.match(stored.failedReason, /^ERR_OFFLOAD_TIMEOUT/)
      assert.ok(stored.finishedOn - stored.processedOn >= 300, `failed after ${stored.finishedOn - stored.processedOn} ms`)
      // The looping worker, deaf to its AbortSignal, was killed 1 s later; its replacement runs the next job.
      assert.equal((await (await queue.add('e', { action: 'echo' })).waitUntilFinished(events)).attemptsMade, 0)
      assert.deepEqual(errors, ['ERR_OFFLOAD_WORKER_UNRESPONSIVE'])
      // A job's timeout is checked as a Pool option is: a bad one fails that job, naming the option.
      const refused = once(worker, 'failed')
      const bad = await queue.add('b', { action: 'echo' }, { timeout: '5s' })
      await assert.rejects(bad.waitUntilFinished(events), /The "job\.opts\.timeout" argument must be of type number/)
      assert.equal((await refused)[1].code, 'ERR_INVALID_ARG_TYPE')

      // With a taskTimeout on the pool, a job's timeout replaces it, longer as well as shorter.
      const slowName = queueName()
      const slow = await queueOf(slowName)
      workerOf(slowName, PROCESSOR, { pool: { size: 1, taskTimeout: 200 } })
      const longer = await slow.queue.add('s', { action: 'slow', ms: 600 }, { timeout: 20_000 })
      assert.equal(typeof (await longer.waitUntilFinished(slow.events)).pid, 'number')
      const plain = await slow.queue.add('s', { action: 'slow', ms: 600 })
      await assert.rejects(plain.waitUntilFinished(slow.events), /^Error: ERR_OFFLOAD_TIMEOUT/)
    })

    test('many hosts: three host processes share a queue of 5 000 jobs, one is SIGKILLed mid-run, its pool dies with it, its jobs come back, every job completes', async (t) => {
      const name = queueName()
      const { queue, events } = await queueOf(name)
      const JOBS = 5000
      const hosts = [0, 1, 2].map(() =>
        childProcess.spawn(process.execPath, [fixture('host.mjs'), backend.id, JSON.stringify(server.connection), name, fixture('cpu.js')], { stdio: ['ignore', 'pipe', 'inherit'] }),
      )
      // A failed assertion must not leave hosts retrying a stopped server (and this file running).
      t.after(() => hosts.forEach((host) => host.kill('SIGKILL')))
      const exits = hosts.map((host) => once(host, 'exit'))
      await Promise.all(hosts.map(async (host) => {
        const [line] = await once(host.stdout, 'data')
        assert.equal(String(line).trim(), 'ready')
      }))
      // Progress is read from the queue, not from QueueEvents: BullMQ's PostgreSQL
      // backend drops some of its events (README, "Scaling past one machine").
      const completedEvents = new Set()
      events.on('completed', ({ jobId }) => completedEvents.add(jobId))
      const stalled = []
      events.on('stalled', ({ jobId }) => stalled.push({ jobId, at: Date.now() }))
      const until = (count) => pollUntil(async () => (await queue.getCompletedCount()) >= count, { deadlineMs: 180_000, everyMs: 100, what: `${count} completed jobs` })
      const addedAt = Date.now()
      for (let at = 0; at < JOBS; at += 1000) {
        await queue.addBulk(Array.from({ length: 1000 }, (_, i) => ({ name: 'cpu', data: { ms: 2, i: at + i } })))
      }
      await until(JOBS * 0.3)
      // The victim's pool workers, then the victim, without warning.
      const [victim] = hosts
      const orphans = childrenOf(victim.pid)
      assert.equal(orphans.length, 2)
      const killedAt = Date.now()
      victim.kill('SIGKILL')
      assert.deepEqual(await exits[0], [null, 'SIGKILL'])
      // The workers die with their host (no event for a non-child's death: poll, bounded).
      await pollUntil(() => !orphans.some(alive), { deadlineMs: 5000, what: 'the killed host\'s pool workers to die' })
      await until(JOBS)
      const doneAt = Date.now()
      assert.equal(await queue.getCompletedCount(), JOBS)
      assert.equal(await queue.getFailedCount(), 0)
      assert.equal(await queue.getActiveCount(), 0)
      // At least once: the jobs active on the killed host were moved back as stalled and ran (started) again elsewhere.
      const jobs = await queue.getJobs(['completed'], 0, JOBS - 1)
      assert.equal(jobs.length, JOBS)
      const ranTwice = jobs.filter((job) => job.attemptsStarted > 1)
      // When they were moved back (QueueEvents' 'stalled', if delivered) and started again (the jobs' own record).
      const sinceKill = (at) => (at > 0 ? `${at - killedAt} ms` : '(not seen)')
      const movedBackAt = Math.max(0, ...stalled.map((s) => s.at))
      const restartedAt = Math.max(0, ...ranTwice.map((job) => job.processedOn))
      t.diagnostic(`${backend.name}: ${JOBS} jobs on 3 hosts; one SIGKILLed after ${JOBS * 0.3} completed; its active jobs moved back ${sinceKill(movedBackAt)} after the kill and started again ${sinceKill(restartedAt)} after it; all done ${doneAt - killedAt} ms after it (${doneAt - addedAt} ms after the first add); ${ranTwice.length} started twice (${ranTwice.map((j) => j.id).join(', ')}); QueueEvents delivered ${completedEvents.size} of ${JOBS} 'completed' events`)
      // At most the jobs the killed host had active: its concurrency (its pool's capacity, 2).
      assert.ok(ranTwice.length <= 2, `${ranTwice.length} jobs ran twice`)
      for (const job of ranTwice) assert.equal(job.stalledCounter, 1, `job ${job.id} ran twice without being moved back as stalled`)
      // The other hosts close on SIGTERM and exit 0.
      for (const host of hosts.slice(1)) host.kill('SIGTERM')
      for (const exit of exits.slice(1)) assert.deepEqual(await exit, [0, null])
    })
  })
}

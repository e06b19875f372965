// Pools of worker processes, with real Node and Python workers.
import { test, describe } from 'node:test'
import assert from 'node:assert/strict'
import childProcess from 'node:child_process'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'

import { Pool } from '../index.js'
import { alive } from './lib/proc.mjs'

const fixture = (name) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url))
const WORKER = fixture('pool-worker.js')

async function gone(pids, ms = 5000) {
  const deadline = Date.now() + ms
  while (pids.some(alive) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20))
  return pids.filter(alive)
}

describe('dispatch', () => {
  test('20 000 tasks across two workers: every result matches its task, none lost or duplicated', async () => {
    const pool = new Pool({ script: WORKER, size: 2 })
    const results = await Promise.all(Array.from({ length: 20000 }, (_, i) => pool.run({ i })))
    results.forEach((r, i) => assert.equal(r.doubled, i * 2))
    assert.equal(new Set(results.map((r) => r.pid)).size, 2, 'both workers took tasks')
    const stats = pool.stats()
    assert.equal(stats.completed, 20000)
    assert.equal(stats.failed, 0)
    assert.ok(stats.runTime.p50 > 0 && stats.runTime.max >= stats.runTime.p99)
    await pool.close()
  })

  test('a plain worker that sends a handle is refused it, and its answer still comes (Node holds messages back until then)', { timeout: 20000 }, async () => {
    const pool = new Pool({ script: WORKER, size: 1 })
    const answer = await pool.run({ i: 21, sendHandle: true })
    assert.deepEqual([answer.i, answer.doubled, answer.withHandle], [21, 42, undefined])
    assert.equal((await pool.run({ i: 4 })).doubled, 8)
    assert.equal(pool.stats().failed, 0)
    await pool.close()
  })

  test('a plain worker\'s messages of a few MiB cross whole, in order, between small ones', async () => {
    const pool = new Pool({ script: fixture('proc-ipc-echo.cjs'), size: 1 })
    const sizes = [3, 3 << 20, 10, 700_000, 1]
    const texts = sizes.map((n, k) => String.fromCharCode(97 + k).repeat(n))
    const answers = await Promise.all(texts.map((s, k) => pool.run({ k, s })))
    answers.forEach(({ echo }, k) => assert.ok(echo.k === k && echo.s === texts[k], `message ${k} (${sizes[k]} characters)`))
    await pool.close()
  })

  test('a Python worker through command', async () => {
    const pool = new Pool({ command: ['python3', fixture('pool-worker.py')], size: 2 })
    const results = await Promise.all(Array.from({ length: 300 }, (_, i) => pool.run({ i })))
    results.forEach((r, i) => assert.deepEqual(r, { i, doubled: i * 2, lang: 'python' }))
    await pool.close()
  })
})

describe('failures settle the task and replace the worker', () => {
  for (const [what, task, check] of [
    ['process.exit(1)', { exit: 1 }, (e) => assert.equal(e.exitCode, 1)],
    ['SIGKILL', { kill: true }, (e) => assert.equal(e.signal, 'SIGKILL')],
    ['an asynchronous throw', { throwLater: true }, (e) => assert.match(e.stderr, /boom in a timer/)],
  ]) {
    test(`a worker that dies mid-task by ${what}`, async () => {
      const pool = new Pool({ script: WORKER, size: 1, stderr: 'pipe' })
      const exits = []
      pool.on('workerExit', (pid) => exits.push(pid))
      const first = await pool.run({ i: 1 })
      const err = await pool.run(task).catch((e) => e)
      assert.equal(err.code, 'ERR_OFFLOAD_WORKER_CRASHED')
      check(err)
      const next = await Promise.all([pool.run({ i: 2 }), pool.run({ i: 3 })])
      assert.deepEqual(next.map((r) => r.doubled), [4, 6])
      assert.notEqual(next[0].pid, first.pid, 'a new worker took over')
      assert.deepEqual(exits, [first.pid])
      assert.equal(pool.stats().crashed, 1)
      await pool.close()
    })
  }

  test('a task past its timeout rejects with ERR_OFFLOAD_TIMEOUT and the pool goes on', async () => {
    const pool = new Pool({ script: WORKER, size: 1, taskTimeout: 200 })
    await pool.run({ i: 0 })
    const err = await pool.run({ stall: true }).catch((e) => e)
    assert.equal(err.code, 'ERR_OFFLOAD_TIMEOUT')
    assert.equal((await pool.run({ i: 4 }, { timeout: 20000 })).doubled, 8)
    await pool.close()
  })

  test("regression: run(task, { timeout: 0 }) fell back to the pool's taskTimeout; 0 now means no timeout, as Node's timeout: 0", async () => {
    const pool = new Pool({ script: WORKER, size: 1, taskTimeout: 100 })
    await pool.run({ i: 0 })
    // Five times the pool's timeout: with the old fallback it was killed at 100 ms.
    assert.equal((await pool.run({ i: 3, delay: 500 }, { timeout: 0 })).doubled, 6)
    assert.equal((await pool.run({ i: 5, delay: 500 }).catch((e) => e)).code, 'ERR_OFFLOAD_TIMEOUT', "without it, the pool's taskTimeout")
    await pool.close()
  })

  test('a pool of taskTimeout 0 has no timeout, as Node\'s timeout: 0', async () => {
    const pool = new Pool({ script: WORKER, size: 1, taskTimeout: 0 })
    assert.equal((await pool.run({ i: 2, delay: 300 })).doubled, 4)
    await pool.close()
  })

  test('abort of a queued and of a running task', async () => {
    const pool = new Pool({ script: WORKER, size: 1 })
    await pool.run({ i: 0 })
    const running = new AbortController()
    const queued = new AbortController()
    const a = pool.run({ stall: true }, { signal: running.signal }).catch((e) => e)
    const b = pool.run({ i: 1 }, { signal: queued.signal }).catch((e) => e)
    queued.abort()
    running.abort()
    for (const p of [a, b]) assert.equal((await p).code, 'ERR_OFFLOAD_ABORTED')
    const already = pool.run({ i: 1 }, { signal: AbortSignal.abort() })
    assert.equal((await already.catch((e) => e)).code, 'ERR_OFFLOAD_ABORTED')
    assert.equal((await pool.run({ i: 5 })).doubled, 10)
    await pool.close()
  })

  test('past maxQueue, run rejects with ERR_OFFLOAD_QUEUE_FULL', async () => {
    const pool = new Pool({ script: WORKER, size: 1, maxQueue: 1 })
    await pool.run({ i: 0 })
    const stuck = pool.run({ stall: true }).catch((e) => e)
    const waiting = pool.run({ i: 1 }).catch((e) => e)
    const refused = await pool.run({ i: 2 }).catch((e) => e)
    assert.equal(refused.code, 'ERR_OFFLOAD_QUEUE_FULL')
    await pool.destroy()
    assert.equal((await stuck).code, 'ERR_OFFLOAD_POOL_CLOSED')
    assert.equal((await waiting).code, 'ERR_OFFLOAD_POOL_CLOSED')
  })
})

describe('recycling', () => {
  test('maxTasksPerWorker replaces a worker after that many tasks', async () => {
    const pool = new Pool({ script: WORKER, size: 1, maxTasksPerWorker: 2 })
    const pids = []
    for (let i = 0; i < 6; i++) pids.push((await pool.run({ i })).pid)
    assert.equal(new Set(pids).size, 3)
    assert.deepEqual([pids[0] === pids[1], pids[1] === pids[2], pids[2] === pids[3]], [true, false, true])
    assert.equal(pool.stats().crashed, 0)
    await pool.close()
  })

  test('maxRssBytes replaces a worker whose memory grew past it', async () => {
    // Every Node process is past 1 MiB: each task gets a fresh worker.
    const pool = new Pool({ script: WORKER, size: 1, maxRssBytes: 1024 * 1024 })
    const pids = []
    for (let i = 0; i < 3; i++) pids.push((await pool.run({ i })).pid)
    assert.equal(new Set(pids).size, 3)
    await pool.close()
  })

  test('retries: a crashed task runs again on a fresh worker before it is reported', async () => {
    const pool = new Pool({ script: WORKER, size: 1, retries: 2 })
    const err = await pool.run({ exit: 4 }).catch((e) => e)
    assert.equal(err.code, 'ERR_OFFLOAD_WORKER_CRASHED')
    assert.match(err.message, /after 2 retries/)
    assert.equal(pool.stats().crashed, 3)
    assert.equal((await pool.run({ i: 1 })).doubled, 2)
    await pool.close()
  })
})

describe('limits', () => {
  test('limits apply to every worker, as for spawn', async () => {
    const pool = new Pool({ script: WORKER, size: 1, limits: { openFiles: 77, nice: 5 } })
    assert.deepEqual(await pool.run({ limits: true }), { openFiles: 77, nice: 5 })
    await pool.close()
  })
})

describe('sizing', () => {
  test('the pool grows with demand to size, and idle workers beyond minSize stop after idleTimeout', async () => {
    const pool = new Pool({ script: WORKER, size: 3, minSize: 1, idleTimeout: 150 })
    const exits = []
    pool.on('workerExit', (pid) => exits.push(pid))
    // 60 tasks of 20 ms: more than one worker's worth while the others start.
    const results = await Promise.all(Array.from({ length: 60 }, (_, i) => pool.run({ i, delay: 20 })))
    const used = new Set(results.map((r) => r.pid))
    assert.ok(used.size > 1, 'more workers than minSize took tasks')
    // An idle pool does not keep Node alive; this test waits for it on purpose.
    const keepAlive = setInterval(() => {}, 60_000)
    while (pool.stats().size > 1) await once(pool, 'workerExit')
    clearInterval(keepAlive)
    assert.equal(pool.stats().crashed, 0)
    assert.equal((await pool.run({ i: 7 })).doubled, 14)
    await pool.close()
  })
})

describe('closing', () => {
  test('close() finishes the queue, refuses new tasks, and leaves no worker behind', async () => {
    const pool = new Pool({ script: WORKER, size: 2 })
    const pids = []
    pool.on('workerExit', (pid) => pids.push(pid))
    const queued = Array.from({ length: 200 }, (_, i) => pool.run({ i }))
    const closed = pool.close({ timeout: 2000 })
    assert.equal((await pool.run({ i: 1 }).catch((e) => e)).code, 'ERR_OFFLOAD_POOL_CLOSED')
    assert.equal((await Promise.all(queued)).length, 200)
    await closed
    assert.equal(pids.length, 2)
    assert.deepEqual(await gone(pids), [])
  })

  test('destroy() rejects everything pending with ERR_OFFLOAD_POOL_CLOSED', async () => {
    const pool = new Pool({ script: WORKER, size: 1 })
    await pool.run({ i: 0 })
    const pending = [pool.run({ stall: true }), pool.run({ i: 1 }), pool.run({ i: 2 })].map((p) => p.catch((e) => e))
    await pool.destroy()
    for (const err of await Promise.all(pending)) assert.equal(err.code, 'ERR_OFFLOAD_POOL_CLOSED')
  })

  test('an idle pool does not keep Node alive, and its workers die with it', async () => {
    const child = childProcess.spawn(process.execPath, [fixture('pool-parent.cjs'), 'idle'], { stdio: ['ignore', 'pipe', 'inherit'] })
    let out = ''
    child.stdout.on('data', (d) => (out += d))
    const [code] = await once(child, 'exit')
    assert.equal(code, 0)
    assert.deepEqual(await gone(JSON.parse(out).pids), [])
  })

  test('close() or destroy() called again after the pool closed kept Node alive forever (bug): now it exits', { timeout: 20_000 }, async (t) => {
    const child = childProcess.spawn(process.execPath, [fixture('pool-parent.cjs'), 'close-twice'], { stdio: ['ignore', 'pipe', 'inherit'] })
    t.after(() => child.kill('SIGKILL'))
    const [code] = await once(child, 'exit')
    assert.equal(code, 0)
  })

  test('the parent killed with kill -9 leaves no worker behind', async (t) => {
    const child = childProcess.spawn(process.execPath, [fixture('pool-parent.cjs'), 'hold'], { stdio: ['ignore', 'pipe', 'inherit'] })
    t.after(() => child.kill('SIGKILL')) // a failed assertion must not leave it holding this file open
    const [line] = await once(child.stdout, 'data')
    const { pids } = JSON.parse(line)
    assert.ok(pids.every(alive))
    child.kill('SIGKILL')
    await once(child, 'exit')
    assert.deepEqual(await gone(pids), [])
  })
})

describe('bad input', () => {
  test('options are checked at the call', () => {
    assert.throws(() => new Pool({}), { code: 'ERR_INVALID_ARG_VALUE', message: /script.*command/ })
    assert.throws(() => new Pool({ script: WORKER, size: 0 }), { name: 'RangeError', code: 'ERR_INVALID_ARG_VALUE' })
    assert.throws(() => new Pool({ script: WORKER, sise: 2 }), { code: 'ERR_INVALID_ARG_VALUE', message: /unknown option 'sise'/ })
    assert.throws(() => new Pool({ script: WORKER, concurrency: 0 }), { name: 'RangeError', code: 'ERR_INVALID_ARG_VALUE' })
    assert.throws(() => new Pool({ script: WORKER, concurrency: 1.5 }), { code: 'ERR_INVALID_ARG_VALUE' })
    assert.throws(() => new Pool({ script: WORKER, maxTasksPerWorker: 0 }), { name: 'RangeError' })
    assert.throws(() => new Pool({ script: WORKER, size: 2, minSize: 3 }), { name: 'RangeError', message: /must not exceed size/ })
    assert.throws(() => new Pool({ command: 'python3' }), { code: 'ERR_INVALID_ARG_TYPE' })
  })

  // Each numeric option, each way it can be wrong: lib/pool.js refuses it with a stable code
  // (the addon then trusts what it gets, and only debug-asserts it).
  test('every bad number of the pool options is refused with its code, naming the option', () => {
    const wholes = ['size', 'minSize', 'idleTimeout', 'maxQueue', 'taskTimeout', 'concurrency', 'maxTasksPerWorker', 'maxRssBytes', 'retries', 'maxStartFailures']
    for (const name of wholes) {
      for (const [value, code] of [[-1, 'ERR_INVALID_ARG_VALUE'], [1.5, 'ERR_INVALID_ARG_VALUE'], [Infinity, 'ERR_INVALID_ARG_VALUE'], [NaN, 'ERR_INVALID_ARG_TYPE'], ['2', 'ERR_INVALID_ARG_TYPE'], [null, 'ERR_INVALID_ARG_TYPE']]) {
        const options = { script: WORKER, size: 4, [name]: value }
        if (name === 'size' && value === null) continue // null is "not given" for size, as for every `??` default
        assert.throws(() => new Pool(options), (err) => err.code === code && err.message.includes(`options.${name}`), `${name}: ${String(value)}`)
      }
    }
    for (const name of ['size', 'concurrency', 'maxTasksPerWorker', 'maxStartFailures']) {
      assert.throws(() => new Pool({ script: WORKER, [name]: 0 }), { name: 'RangeError', code: 'ERR_INVALID_ARG_VALUE', message: new RegExp(`options\\.${name}.*must be at least 1`) })
    }
    assert.throws(() => new Pool({ script: WORKER, size: 2, minSize: 3 }), { code: 'ERR_INVALID_ARG_VALUE', message: /must not exceed size \(2\)/ })
    assert.throws(() => new Pool({ script: WORKER, serialization: 'advanced', concurrency: 2 }), { code: 'ERR_INVALID_ARG_VALUE', message: /must be 1 with serialization 'advanced'/ })
    assert.throws(() => new Pool({ script: WORKER, startBackoff: { initial: 100, max: 50 } }), { code: 'ERR_INVALID_ARG_VALUE', message: /startBackoff\.max.*must not be less than initial \(100\)/ })
    assert.throws(() => new Pool({ script: WORKER, startBackoff: { initial: 1.5 } }), { code: 'ERR_INVALID_ARG_VALUE', message: /startBackoff\.initial/ })
    assert.throws(() => new Pool({ script: WORKER, serialization: 'v8' }), { code: 'ERR_INVALID_ARG_VALUE' })
    assert.throws(() => new Pool({ script: WORKER, stderr: 'ignore' }), { code: 'ERR_INVALID_ARG_VALUE', message: /options\.stderr/ })
    assert.throws(() => new Pool({ command: [] }), { code: 'ERR_INVALID_ARG_TYPE', message: /options\.command/ })
    assert.throws(() => new Pool({ command: ['cat'], args: ['x'] }), { code: 'ERR_INVALID_ARG_VALUE', message: /only a 'script' pool takes/ })
  })

  test('every bad run() option is refused with its code, naming the option', async () => {
    const pool = new Pool({ script: WORKER, size: 1 })
    for (const [value, code] of [[-1, 'ERR_INVALID_ARG_VALUE'], [1.5, 'ERR_INVALID_ARG_VALUE'], [Infinity, 'ERR_INVALID_ARG_VALUE'], [NaN, 'ERR_INVALID_ARG_TYPE'], ['5', 'ERR_INVALID_ARG_TYPE']]) {
      assert.throws(() => pool.run({ i: 1 }, { timeout: value }), (err) => err.code === code && err.message.includes('options.timeout'), String(value))
    }
    assert.throws(() => pool.run({ i: 1 }, { handler: '' }), { code: 'ERR_INVALID_ARG_VALUE', message: /options\.handler/ })
    assert.throws(() => pool.run({ i: 1 }, { signal: {} }), { code: 'ERR_INVALID_ARG_TYPE', message: /options\.signal/ })
    assert.throws(() => pool.close({ timeout: -1 }), { code: 'ERR_INVALID_ARG_VALUE', message: /options\.timeout/ })
    assert.equal(pool.stats().queued, 0, 'nothing refused reached the pool')
    await pool.close()
  })

  test('a task that JSON cannot carry is refused at the call', async () => {
    const pool = new Pool({ script: WORKER, size: 1 })
    assert.throws(() => pool.run(undefined), { code: 'ERR_INVALID_ARG_VALUE' })
    assert.throws(() => pool.run({ big: 1n }), TypeError)
    await pool.close()
  })

  test('a worker command that does not exist fails its tasks with a clear error (a failed start: see pool-start-failure.test.mjs)', async () => {
    const pool = new Pool({ command: ['/nonexistent/offload-worker'], size: 1 })
    const errors = []
    pool.on('error', (e) => errors.push(e))
    const err = await pool.run({ i: 1 }).catch((e) => e)
    assert.equal(err.code, 'ERR_OFFLOAD_WORKER_START_FAILED')
    assert.match(err.message, /`\/nonexistent\/offload-worker` could not be started.*No such file/)
    // The pool says so on its own too, once.
    assert.equal(errors.length, 1)
    assert.equal(errors[0].code, 'ERR_OFFLOAD_WORKER_START_FAILED')
    assert.match(errors[0].message, /No such file/)
    await pool.destroy()
  })
})

describe('node -e', () => {
  // Regression: workers and forked children inherited `-e <code>` from process.execArgv, so
  // each ran the parent's code again and started workers of its own, without end.
  test('a pool and a fork started from `node -e` do not run the eval code again', () => {
    const code = `
      const { Pool, fork } = require(${JSON.stringify(fileURLToPath(new URL('../index.js', import.meta.url)))})
      console.log('eval ran')
      const pool = new Pool({ script: ${JSON.stringify(WORKER)}, size: 1 })
      pool.run({ i: 21 }).then(async (r) => {
        const child = fork(${JSON.stringify(fixture('echo-once.js'))})
        const echo = new Promise((resolve) => child.once('message', resolve))
        child.send('hi')
        console.log('results', r.doubled, (await echo).echo)
        await pool.close()
      })`
    const run = childProcess.spawnSync(process.execPath, ['-e', code], { encoding: 'utf8', timeout: 30000 })
    assert.equal(run.signal, null, `timed out: ${run.stdout}${run.stderr}`)
    assert.equal(run.stdout, 'eval ran\nresults 42 hi\n')
    assert.equal(run.status, 0)
  })
})

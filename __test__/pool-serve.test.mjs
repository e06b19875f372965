// Pools of workers that call serve() from 'offload/worker'.
import { test, describe } from 'node:test'
import assert from 'node:assert/strict'
import childProcess from 'node:child_process'
import { once } from 'node:events'
import { randomBytes } from 'node:crypto'
import { fileURLToPath } from 'node:url'
import { createRequire } from 'node:module'
import v8 from 'node:v8'
import vm from 'node:vm'

import { Pool } from '../index.js'

const require = createRequire(import.meta.url)
const fixture = (name) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url))
const SERVE = fixture('pool-serve.js')
const PLAIN = fixture('pool-worker.js')

describe('serve()', () => {
  test('named handlers, the default one, and an unknown name', async () => {
    const pool = new Pool({ script: SERVE, size: 1 })
    assert.deepEqual(await pool.run({ a: [1, 'x'] }), { a: [1, 'x'] })
    assert.equal((await pool.run({ n: 21 }, { handler: 'double' })).doubled, 42)
    const err = await pool.run({}, { handler: 'nope' }).catch((e) => e)
    assert.equal(err.code, 'ERR_OFFLOAD_NO_HANDLER')
    assert.match(err.message, /no handler named 'nope' \(it has: default, double/)
    assert.equal(pool.stats().crashed, 0)
    await pool.close()
  })

  test('an ES module worker that calls serve() was taken for a plain one: its first tasks arrived as plain messages', async () => {
    const pool = new Pool({ script: fixture('pool-serve-esm.mjs'), size: 2 })
    const [bytes, doubled] = await Promise.all([pool.run({ length: 5 }, { handler: 'bytes' }), pool.run({ n: 4 }, { handler: 'double' })])
    assert.ok(Buffer.isBuffer(bytes), 'a Buffer, as raw bytes')
    assert.deepEqual([...bytes], [7, 7, 7, 7, 7])
    assert.deepEqual(doubled, { doubled: 8 })
    await pool.close()
    // A plain ES module worker that listens late is sent its tasks once it listens.
    const plain = new Pool({ script: fixture('pool-worker-esm.mjs'), size: 1, taskTimeout: 5000 })
    assert.deepEqual(await Promise.all([1, 2, 3].map((i) => plain.run({ i }))), [1, 2, 3].map((i) => ({ doubled: i * 2 })))
    await plain.close()
  })

  test('a handler name given to a plain worker is refused, not guessed', async () => {
    const pool = new Pool({ script: PLAIN, size: 1 })
    const err = await pool.run({ i: 1 }, { handler: 'double' }).catch((e) => e)
    assert.equal(err.code, 'ERR_OFFLOAD_NO_HANDLER')
    assert.match(err.message, /serve\(\)/)
    assert.equal((await pool.run({ i: 2 })).doubled, 4)
    await pool.close()
  })

  test('errors cross back with their class, message, code, own properties and stack', async () => {
    const pool = new Pool({ script: SERVE, size: 1 })
    const sync = await pool.run({ message: 'out of range', code: 'E_RANGE' }, { handler: 'fail' }).catch((e) => e)
    assert.ok(sync instanceof RangeError)
    assert.equal(sync.message, 'out of range')
    assert.equal(sync.code, 'E_RANGE')
    assert.deepEqual(sync.detail, { n: 1 })
    assert.match(sync.stack, /pool-serve\.js/)
    const later = await pool.run({}, { handler: 'failLater' }).catch((e) => e)
    assert.ok(later instanceof Error)
    assert.equal(later.message, 'rejected later')
    assert.equal(later.code, 'E_LATER')
    const thrown = await pool.run({}, { handler: 'throwString' }).catch((e) => e)
    assert.ok(thrown instanceof Error)
    assert.equal(thrown.message, 'not an Error')
    const { pid } = await pool.run({}, { handler: 'seen' })
    assert.equal(pool.stats().crashed, 0, 'a thrown error is no crash')
    assert.equal((await pool.run({ n: 1 }, { handler: 'double' })).pid, pid)
    await pool.close()
  })

  test('concurrency: a worker runs that many tasks at once, and no more', async () => {
    for (const concurrency of [1, 4]) {
      const pool = new Pool({ script: SERVE, size: 1, concurrency })
      const results = await Promise.all(Array.from({ length: 8 }, (_, key) => pool.run({ key, ms: 50 }, { handler: 'wait' })))
      assert.deepEqual(results.map((r) => r.key), [0, 1, 2, 3, 4, 5, 6, 7])
      assert.equal((await pool.run({}, { handler: 'seen' })).maxRunning, concurrency)
      await pool.close()
    }
  })

  test('abort and timeout fire the handler\'s AbortSignal; the worker lives on', async () => {
    const pool = new Pool({ script: SERVE, size: 1, concurrency: 3 })
    const { pid } = await pool.run({}, { handler: 'seen' })
    const controller = new AbortController()
    const aborted = pool.run({ key: 'aborted', ms: 60000 }, { handler: 'wait', signal: controller.signal })
    const timedOut = pool.run({ key: 'timed out', ms: 60000 }, { handler: 'wait', timeout: 100 })
    // Tasks start in order: once this one answers, both handlers are running.
    await pool.run({}, { handler: 'seen' })
    controller.abort()
    assert.equal((await aborted.catch((e) => e)).code, 'ERR_OFFLOAD_ABORTED')
    const err = await timedOut.catch((e) => e)
    assert.equal(err.code, 'ERR_OFFLOAD_TIMEOUT')
    assert.match(err.message, /timed out after 100 ms; its handler's AbortSignal fired/)
    const seen = await pool.run({}, { handler: 'seen' })
    assert.deepEqual(seen.aborted.sort(), ['aborted', 'timed out'])
    assert.equal(seen.pid, pid, 'the same worker, not a replacement')
    assert.equal(pool.stats().restarted, 0)
    await pool.close()
  })

  test('a handler that ignores its AbortSignal gets a grace period, then its worker is replaced', async () => {
    const pool = new Pool({ script: SERVE, size: 1, stderr: 'pipe' })
    const errors = []
    pool.on('error', (e) => errors.push(e))
    const { pid } = await pool.run({}, { handler: 'seen' })
    // (Not events.once: it rejects on the 'error' event this test expects.)
    const exited = new Promise((resolve) => pool.once('workerExit', (...args) => resolve(args)))
    const err = await pool.run({}, { handler: 'never', timeout: 50 }).catch((e) => e)
    assert.equal(err.code, 'ERR_OFFLOAD_TIMEOUT')
    // Nothing is pending now, and an idle pool does not keep Node alive.
    const keepAlive = setInterval(() => {}, 1000)
    const [exitedPid, , signal] = await exited
    clearInterval(keepAlive)
    assert.deepEqual([exitedPid, signal], [pid, 'SIGKILL'])
    assert.equal(errors.length, 1)
    assert.equal(errors[0].code, 'ERR_OFFLOAD_WORKER_UNRESPONSIVE')
    assert.notEqual((await pool.run({ n: 1 }, { handler: 'double' })).pid, pid)
    await pool.close()
  })

  test('Buffers cross as raw bytes, both ways, nested too', async () => {
    const pool = new Pool({ script: SERVE, size: 1 })
    const data = randomBytes(1 << 20)
    let sum = 0
    for (const b of data) sum += b
    const r = await pool.run({ data }, { handler: 'bytes' })
    assert.deepEqual([r.isBuffer, r.size, r.sum], [true, data.length, sum])
    assert.ok(Buffer.isBuffer(r.echo))
    assert.ok(r.echo.equals(data))
    assert.ok(r.nested[0].equals(data.subarray(0, 2)))
    // A bare Uint8Array and an empty one.
    const u8 = await pool.run(new Uint8Array([1, 2, 3]))
    assert.deepEqual([...u8], [1, 2, 3])
    assert.equal((await pool.run({ data: Buffer.alloc(0) }, { handler: 'bytes' })).size, 0)
    await pool.close()
  })

  test('regression: a task JSON could not serialise kept its Buffers alive until the next run()', async () => {
    // The encoder once gathered byte arrays in module-level scratch that only the
    // next successful encoding emptied.
    v8.setFlagsFromString('--expose-gc')
    const gc = vm.runInNewContext('gc')
    const pool = new Pool({ script: SERVE, size: 1 })
    const ref = (() => {
      const data = Buffer.alloc(8 << 20)
      assert.throws(() => pool.run({ data, n: 1n }), { code: 'ERR_INVALID_ARG_VALUE', message: /BigInt/ })
      return new WeakRef(data)
    })()
    await new Promise(setImmediate) // a WeakRef holds its target until the job that made it ends
    gc()
    assert.equal(ref.deref(), undefined, 'the refused task\'s Buffer is garbage')
    assert.deepEqual(await pool.run({ a: 1 }), { a: 1 })
    await pool.close()
  })

  test('Buffers on both sides of the reader\'s 64 KiB in-place limit, many in flight, come back intact', async () => {
    const pool = new Pool({ script: SERVE, size: 2, concurrency: 4 })
    const sizes = [0, 1, 65_000, 65_522, 65_523, 65_536, 65_537, 200_000, 3, 1 << 20, 70_000, 17]
    const inputs = Array.from({ length: 120 }, (_, n) => randomBytes(sizes[n % sizes.length]))
    const echoes = await Promise.all(inputs.map((data) => pool.run({ data }, { handler: 'bytes' })))
    echoes.forEach((r, n) => assert.ok(r.echo.equals(inputs[n]), `task ${n} (${inputs[n].length} bytes)`))
    await pool.close()
  })

  test('the worker\'s frame reader: any split of the byte stream gives the same frames', () => {
    const { encodeFrame, TaskFrameReader, TaskFrame: { TASK } } = require('../lib/task-frame.js')
    const sent = []
    const chunks = []
    for (let id = 1; id <= 60; id++) {
      const buffers = id % 3 === 0 ? [] : [randomBytes((id * 7919) % 150_000), randomBytes(id % 5)]
      const frame = { id, name: id % 2 ? 'h' : '', json: JSON.stringify({ id, s: 'é'.repeat(id) }), buffers }
      sent.push(frame)
      chunks.push(...encodeFrame(TASK, id, frame.name, frame.json, buffers))
    }
    const stream = Buffer.concat(chunks)
    for (const maxRead of [1, 7, 4096, 65_536, stream.length]) {
      const got = []
      const reader = new TaskFrameReader((kind, id, name, json, buffers) => got.push({ kind, id, name, json, buffers: buffers ?? [] }))
      let at = 0
      while (at < stream.length) {
        const target = reader.target()
        assert.ok(target.length > 0, 'the reader always has room for the next read')
        const n = stream.copy(target, 0, at, Math.min(stream.length, at + maxRead))
        at += n
        reader.filled(n)
      }
      assert.equal(got.length, sent.length, `reads of up to ${maxRead} bytes`)
      got.forEach((frame, i) => {
        assert.deepEqual([frame.kind, frame.id, frame.name, frame.json], [TASK, sent[i].id, sent[i].name, sent[i].json])
        assert.equal(frame.buffers.length, sent[i].buffers.length)
        frame.buffers.forEach((b, j) => assert.ok(b.equals(sent[i].buffers[j]), `frame ${i} buffer ${j}, reads of ${maxRead}`))
      })
    }
  })

  test('the worker\'s frame reader refuses a frame whose lengths do not add up', () => {
    const { TaskFrameReader } = require('../lib/task-frame.js')
    const reader = new TaskFrameReader(() => assert.fail('no frame'))
    const bad = Buffer.alloc(4 + 9 + 4)
    bad.writeUInt32LE(9 + 4, 0)
    bad.writeUInt16LE(1, 9) // one buffer...
    bad.writeUInt32LE(1000, 13) // ...longer than the frame
    bad.copy(reader.target())
    assert.throws(() => reader.filled(bad.length), { code: 'ERR_OFFLOAD_WORKER_PROTOCOL' })
  })

  test('a plain worker gets a Buffer the way child_process.fork() would give it', async () => {
    const pool = new Pool({ script: fixture('echo-once.js'), size: 1 })
    const back = await pool.run({ b: Buffer.from([7, 255]) })
    assert.deepEqual(back.echo.b, { type: 'Buffer', data: [7, 255] })
    await pool.close()
  })

  test('20 000 tasks with concurrency 4 on two workers: none lost or duplicated', async () => {
    const pool = new Pool({ script: SERVE, size: 2, concurrency: 4 })
    const results = await Promise.all(Array.from({ length: 20000 }, (_, n) => pool.run({ n }, { handler: 'double' })))
    results.forEach((r, n) => assert.equal(r.doubled, n * 2))
    assert.equal(new Set(results.map((r) => r.pid)).size, 2)
    assert.deepEqual([pool.stats().completed, pool.stats().failed], [20000, 0])
    await pool.close()
  })

  test('a crash fails only the task that was running; the ones sent ahead run on a fresh worker', async () => {
    const pool = new Pool({ script: SERVE, size: 1 })
    for (let i = 0; i < 50; i++) await pool.run({ n: i }, { handler: 'double' }) // short tasks: the pool pipelines
    const runs = Array.from({ length: 100 }, (_, n) =>
      n === 50 ? pool.run({ code: 3 }, { handler: 'exit' }) : pool.run({ n }, { handler: 'double' }),
    )
    const settled = await Promise.allSettled(runs)
    settled.forEach((s, n) => {
      if (n === 50) {
        assert.equal(s.status, 'rejected')
        assert.equal(s.reason.code, 'ERR_OFFLOAD_WORKER_CRASHED')
        assert.equal(s.reason.exitCode, 3)
      } else {
        assert.equal(s.status, 'fulfilled', `task ${n}: ${s.reason?.message}`)
        assert.equal(s.value.doubled, n * 2)
      }
    })
    assert.equal(pool.stats().crashed, 1)
    await pool.close()
  })

  test('a blocked JS thread does not stall the pool: answers are read and the queue keeps moving', async () => {
    // Answers are read on the JS thread's own loop when it is free; when it is
    // not, the Rust side reads them and hands the workers their next tasks.
    const pool = new Pool({ script: SERVE, size: 1 })
    await pool.run({ n: 0 }, { handler: 'double' })
    const runs = Array.from({ length: 300 }, (_, n) => pool.run({ key: n, ms: 1 }, { handler: 'wait' }))
    const before = pool.stats().completed
    const until = Date.now() + 700
    while (Date.now() < until) {
      // Busy: no event loop turn.
    }
    const during = pool.stats().completed - before
    assert.ok(during >= 100, `only ${during} tasks completed while the JS thread was blocked`)
    const results = await Promise.all(runs)
    results.forEach((r, n) => assert.equal(r.key, n))
    await pool.close()
  })

  test('a worker that writes garbage on its channel is replaced, and the pool says why', async () => {
    const pool = new Pool({ script: fixture('pool-garbage.js'), size: 1 })
    const errors = []
    pool.on('error', (e) => errors.push(e))
    const exited = new Promise((resolve) => pool.once('workerExit', (...args) => resolve(args)))
    const keepAlive = setInterval(() => {}, 1000)
    const [, , signal] = await exited
    clearInterval(keepAlive)
    assert.equal(signal, 'SIGKILL')
    assert.equal(errors[0]?.code, 'ERR_OFFLOAD_WORKER_PROTOCOL')
    assert.match(errors[0].message, /wrote a frame shorter than its header on its task channel/)
    await pool.destroy()
  })

  test('misuse: serve() twice, outside a worker, with no handlers', async () => {
    const { serve } = require('offload/worker')
    assert.throws(() => serve(42), { code: 'ERR_INVALID_ARG_TYPE' })
    assert.throws(() => serve({}), { code: 'ERR_INVALID_ARG_VALUE' })
    assert.throws(() => serve({ a: 1 }), { code: 'ERR_INVALID_ARG_TYPE' })
    assert.throws(() => serve(() => 1), { code: 'ERR_OFFLOAD_NOT_A_WORKER' })
    const pool = new Pool({ script: fixture('pool-serve-twice.js'), size: 1 })
    assert.deepEqual(await pool.run({}), { secondCall: 'ERR_OFFLOAD_ALREADY_SERVING' })
    await pool.close()
  })

  test('serve(promise): tasks reach the handlers over the task channel once the promise resolves', async () => {
    const pool = new Pool({ script: fixture('pool-serve-later.js'), size: 1 })
    assert.equal(await pool.run(null, { handler: 'arch' }), process.arch)
    assert.equal(await pool.run(null, { handler: 'twice', onRequest: () => 21 }), 42)
    await pool.close()
  })

  test('serve(promise) that rejects: the worker says why on stderr and exits 1', async () => {
    const child = childProcess.fork(fixture('pool-serve-later-broken.js'), { stdio: ['ignore', 'ignore', 'pipe', 'ipc'] })
    let stderr = ''
    child.stderr.on('data', (d) => { stderr += d })
    const [code] = await once(child, 'exit')
    assert.equal(code, 1)
    assert.match(stderr, /the handlers given to serve\(\) did not load: .*no-such-module-here\.mjs/s)
  })

  test('a serve() worker also works under child_process.fork()', async () => {
    const child = childProcess.fork(SERVE, { stdio: 'ignore' })
    child.send({ hello: 'fork' })
    const [answer] = await once(child, 'message')
    assert.deepEqual(answer, { hello: 'fork' })
    child.kill()
    await once(child, 'exit')
  })
})

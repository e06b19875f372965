// Pools of plain process.on('message') workers with Node's `serialization: 'advanced'`:
// tasks and answers are V8's structured clones, read and written on the worker's side
// by Node itself.

import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createHash, randomBytes } from 'node:crypto'
import { fileURLToPath } from 'node:url'
import { Pool } from '../index.js'

const fixture = (name) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url))
const VALUES = fixture('ipc-values.js')
const MIB = 1024 * 1024

test('tasks and answers keep their types: Buffer, typed arrays, Map, Set, Date, BigInt, an Error', async () => {
  const pool = new Pool({ script: VALUES, size: 1, serialization: 'advanced' })
  const task = {
    buffer: Buffer.from([1, 2, 3]),
    floats: new Float32Array([0.5, 2]),
    map: new Map([['a', new Set([1n])]]),
    date: new Date(86_400_000),
    error: new TypeError('typed'),
    missing: undefined,
  }
  assert.deepStrictEqual(await pool.run({ op: 'echo', value: task }), task)
  assert.deepStrictEqual(await pool.run({ op: 'kinds', value: task }), {
    buffer: 'Buffer',
    floats: 'Float32Array',
    map: 'Map',
    date: 'Date',
    error: 'TypeError',
    missing: 'undefined',
  })
  // An array answer, and null.
  assert.deepStrictEqual(await pool.run({ op: 'echo', value: [2n ** 64n] }), [2n ** 64n])
  assert.equal(await pool.run({ op: 'echo', value: null }), null)
  await pool.close()
})

test('a 32 MiB Buffer crosses whole, each way', { timeout: 60_000 }, async () => {
  const pool = new Pool({ script: VALUES, size: 1, serialization: 'advanced' })
  const big = randomBytes(32 * MIB)
  assert.deepStrictEqual(await pool.run({ op: 'digest', value: big }), {
    kind: 'Buffer',
    length: 32 * MIB,
    sha256: createHash('sha256').update(big).digest('hex'),
  })
  const made = await pool.run({ op: 'make', size: 32 * MIB, fill: 0x5a })
  assert.ok(Buffer.isBuffer(made) && made.equals(Buffer.alloc(32 * MIB, 0x5a)))
  await pool.close()
})

test('many tasks at once on two workers: each settles with its own answer', { timeout: 60_000 }, async () => {
  const pool = new Pool({ script: VALUES, size: 2, serialization: 'advanced' })
  const answers = await Promise.all(Array.from({ length: 3000 }, (_, i) => pool.run({ op: 'echo', value: [i, new Date(i)] })))
  assert.ok(answers.every(([n, d], i) => n === i && d.getTime() === i))
  const stats = pool.stats()
  assert.equal(stats.failed, 0)
  await pool.close()
})

test('a worker that sends a handle is refused it in the advanced form, and its answer still comes', { timeout: 20_000 }, async () => {
  const pool = new Pool({ script: fixture('pool-worker.js'), size: 1, serialization: 'advanced' })
  const answer = await pool.run({ i: 21, sendHandle: true })
  assert.deepEqual([answer.i, answer.doubled, answer.withHandle], [21, 42, undefined])
  assert.equal((await pool.run({ i: 4 })).doubled, 8)
  await pool.close()
})

test('a serve() worker in an advanced pool answers its messages with its default handler', async () => {
  const pool = new Pool({ script: fixture('pool-serve.js'), size: 1, serialization: 'advanced' })
  const task = new Map([['bytes', new Uint8Array([9])]])
  assert.deepStrictEqual(await pool.run(task), task)
  await assert.rejects(pool.run({ n: 1 }, { handler: 'double' }), { code: 'ERR_OFFLOAD_NO_HANDLER' })
  await pool.close()
})

test('an answer V8 cannot read rejects its task with ERR_OFFLOAD_BAD_RESULT; the worker goes on', async () => {
  const pool = new Pool({ script: fixture('ipc-bad-frame.js'), size: 1, serialization: 'advanced' })
  await assert.rejects(pool.run('first'), { code: 'ERR_OFFLOAD_BAD_RESULT', message: /bytes V8 cannot deserialize \(an IPC message holds a host object of unknown tag 7\)/ })
  assert.deepStrictEqual(await pool.run(new Set([1])), new Set([1]))
  await pool.close()
})

test('bad input: an uncloneable task, concurrency above 1, serialization on a command pool', async () => {
  const pool = new Pool({ script: VALUES, size: 1, serialization: 'advanced' })
  assert.throws(() => pool.run({ op: 'echo', value: () => 1 }), { code: 'ERR_INVALID_ARG_VALUE', message: /must be a value V8 can serialize/ })
  assert.deepStrictEqual(await pool.run({ op: 'echo', value: 'still fine' }), 'still fine')
  await pool.close()
  assert.throws(() => new Pool({ script: VALUES, serialization: 'advanced', concurrency: 2 }), {
    name: 'RangeError',
    code: 'ERR_INVALID_ARG_VALUE',
    message: /'options.concurrency' must be 1 with serialization 'advanced'/,
  })
  assert.throws(() => new Pool({ command: ['cat'], serialization: 'advanced' }), {
    code: 'ERR_INVALID_ARG_VALUE',
    message: /has 'serialization', which only a 'script' pool takes/,
  })
})

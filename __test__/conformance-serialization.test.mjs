// Node's `serialization: 'advanced'` IPC (V8's structured clone, length-framed): each
// scenario runs on node:child_process, on offload/child_process and on offload's own
// fork(), against the same unmodified child (process.on('message') / process.send()),
// and must give the same values. The child's end is Node's own, so what crosses is
// Node's wire format, read and written by Node on the other side.

import { test } from 'node:test'
import assert from 'node:assert/strict'
import * as nodeCp from 'node:child_process'
import { randomBytes, createHash } from 'node:crypto'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'
import * as offloadCp from 'offload/child_process'
import { fork as offloadFork, Pool } from '../index.js'

const CHILD = fileURLToPath(new URL('./fixtures/ipc-values.js', import.meta.url))
const MIB = 1024 * 1024

/** The three ways to fork the child; each gives an object with send(), disconnect() and 'message'/'exit' events. */
const FORKS = {
  'node:child_process': (options) => nodeCp.fork(CHILD, options),
  'offload/child_process': (options) => offloadCp.fork(CHILD, options),
  'offload fork()': (options) => offloadFork(CHILD, options),
}

/** The child's messages, in order, as they come. */
function inbox(child) {
  const got = []
  let wake = null
  child.on('message', (message) => {
    got.push(message)
    wake?.()
  })
  return async function next() {
    while (got.length === 0) await new Promise((resolve) => (wake = resolve))
    wake = null
    return got.shift()
  }
}

/** Runs `scenario(child, next)` on a fresh advanced child from each fork; returns the results by fork. */
async function onEachFork(scenario, makeChild = (fork) => fork({ serialization: 'advanced' })) {
  const results = {}
  for (const [name, fork] of Object.entries(FORKS)) {
    const child = makeChild(fork)
    const next = inbox(child)
    const exited = once(child, 'exit')
    try {
      results[name] = await scenario(child, next)
    } finally {
      child.disconnect()
    }
    const [code, signal] = await exited
    assert.deepEqual({ code, signal }, { code: 0, signal: null }, `${name}: the child ends once disconnected`)
  }
  return results
}

function sample() {
  return {
    buffer: Buffer.from('héllo, wörld'),
    bytes: new Uint8Array([0, 1, 254, 255]),
    doubles: new Float64Array([1.5, -0, Number.NaN, Infinity]),
    map: new Map([
      [1, { a: 1 }],
      ['k', [2n, null]],
    ]),
    set: new Set(['a', 2, undefined]),
    date: new Date(Date.UTC(2024, 1, 29, 12)),
    big: 2n ** 70n + 1n,
    nested: { a: [{ b: { c: [1, 'two', { d: undefined }] } }], e: /x+y/gi },
    error: new RangeError('out of range'),
    missing: undefined,
  }
}

const SAMPLE_KINDS = {
  buffer: 'Buffer',
  bytes: 'Uint8Array',
  doubles: 'Float64Array',
  map: 'Map',
  set: 'Set',
  date: 'Date',
  big: 'bigint',
  nested: 'Object',
  error: 'RangeError',
  missing: 'undefined',
}

test('Buffer, typed arrays, Map, Set, Date, BigInt, nested objects and an Error cross as themselves, both ways', async () => {
  const results = await onEachFork(async (child, next) => {
    child.send({ op: 'echo', value: sample() })
    const echoed = await next()
    child.send({ op: 'kinds', value: sample() })
    return { echoed, kinds: await next() }
  })
  for (const [name, { echoed, kinds }] of Object.entries(results)) {
    assert.deepStrictEqual(kinds, SAMPLE_KINDS, `${name}: what Node's child made of each value`)
    assert.deepStrictEqual(echoed, sample(), `${name}: the values back`)
    assert.ok(Buffer.isBuffer(echoed.buffer) && echoed.error instanceof RangeError, name)
  }
  assert.deepStrictEqual(results['offload/child_process'], results['node:child_process'])
  assert.deepStrictEqual(results['offload fork()'], results['node:child_process'])
})

test('a 32 MiB Buffer crosses whole, each way', { timeout: 120_000 }, async () => {
  const big = randomBytes(32 * MIB)
  const sha256 = createHash('sha256').update(big).digest('hex')
  const results = await onEachFork(async (child, next) => {
    child.send({ op: 'digest', value: big })
    const received = await next()
    child.send({ op: 'make', size: 32 * MIB, fill: 0xab })
    const made = await next()
    return { received, made: { isBuffer: Buffer.isBuffer(made), length: made.length, whole: made.equals(Buffer.alloc(32 * MIB, 0xab)) } }
  })
  for (const [name, result] of Object.entries(results)) {
    assert.deepStrictEqual(result, { received: { kind: 'Buffer', length: 32 * MIB, sha256 }, made: { isBuffer: true, length: 32 * MIB, whole: true } }, name)
  }
})

test('many small messages arrive in order, both ways', { timeout: 60_000 }, async () => {
  const COUNT = 5000
  const results = await onEachFork(async (child, next) => {
    child.send({ op: 'burst', count: COUNT })
    const fromChild = []
    for (let i = 0; i < COUNT; i++) fromChild.push(await next())
    for (let i = 0; i < COUNT; i++) child.send({ op: 'echo', value: [i, BigInt(i)] })
    const echoed = []
    for (let i = 0; i < COUNT; i++) echoed.push(await next())
    return { fromChild, echoed }
  })
  for (const [name, { fromChild, echoed }] of Object.entries(results)) {
    assert.ok(
      fromChild.every((m, i) => m.i === i && m.at instanceof Date && m.at.getTime() === i),
      `${name}: the child's ${COUNT} messages, in order`,
    )
    assert.ok(
      echoed.every(([n, b], i) => n === i && b === BigInt(i)),
      `${name}: ${COUNT} messages to the child, answered in order`,
    )
  }
})

test("spawn() with an 'ipc' stdio entry speaks advanced serialization too", async () => {
  const spawnChild = (cp) => cp.spawn(process.execPath, [CHILD], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], serialization: 'advanced' })
  const results = {}
  for (const [name, cp] of [
    ['node:child_process', nodeCp],
    ['offload/child_process', offloadCp],
  ]) {
    const child = spawnChild(cp)
    const next = inbox(child)
    child.send({ op: 'echo', value: new Map([['when', new Date(5)]]) })
    results[name] = await next()
    const exited = once(child, 'exit')
    child.disconnect()
    assert.deepEqual(await exited, [0, null], name)
  }
  assert.deepStrictEqual(results['node:child_process'], new Map([['when', new Date(5)]]))
  assert.deepStrictEqual(results['offload/child_process'], results['node:child_process'])
})

test("a message in the form of Node's own is an 'internalMessage', not a 'message'", async () => {
  const results = {}
  for (const name of ['node:child_process', 'offload/child_process']) {
    const child = FORKS[name]({ serialization: 'advanced' })
    const events = []
    child.on('message', (m) => events.push(['message', m]))
    const internal = new Promise((resolve) => child.on('internalMessage', (m) => resolve(['internalMessage', m])))
    child.send({ op: 'internal', value: new Set([1n]) })
    results[name] = [await internal, events]
    const exited = once(child, 'exit')
    child.disconnect()
    await exited
  }
  assert.deepStrictEqual(results['node:child_process'], [['internalMessage', { cmd: 'NODE_OFFLOAD_TEST', value: new Set([1n]) }], []])
  assert.deepStrictEqual(results['offload/child_process'], results['node:child_process'])
})

test('what V8 cannot clone throws at send(), as in Node', async () => {
  const results = await onEachFork(async (child, next) => {
    let thrown
    try {
      await child.send({ op: 'echo', value: () => 1 })
    } catch (err) {
      thrown = { name: err.name, message: err.message }
    }
    // The channel is still good.
    child.send({ op: 'echo', value: [1n] })
    return { thrown, after: await next() }
  })
  const node = results['node:child_process']
  assert.match(node.thrown.message, /could not be cloned/)
  assert.deepStrictEqual(results['offload/child_process'], node)
  assert.deepStrictEqual(results['offload fork()'], node)
})

test("a bad 'serialization' is refused with Node's code and message", () => {
  const refusal = (start) => {
    try {
      start()
    } catch (err) {
      return { name: err.name, code: err.code, message: err.message }
    }
    assert.fail('not refused')
  }
  for (const bad of ['xml', 'JSON', null, 5, { mode: 'advanced' }]) {
    const node = refusal(() => nodeCp.fork(CHILD, { serialization: bad }))
    assert.equal(node.code, 'ERR_INVALID_ARG_VALUE')
    const ours = {
      'offload/child_process fork': refusal(() => offloadCp.fork(CHILD, { serialization: bad })),
      'offload/child_process spawn': refusal(() => offloadCp.spawn(process.execPath, [CHILD], { stdio: ['pipe', 'pipe', 'pipe', 'ipc'], serialization: bad })),
      'offload fork()': refusal(() => offloadFork(CHILD, { serialization: bad })),
      Pool: refusal(() => new Pool({ script: CHILD, serialization: bad })),
    }
    for (const [name, error] of Object.entries(ours)) assert.deepStrictEqual(error, node, `${name} with ${String(bad)}`)
  }
})

test("the json path is untouched: a child forked with 'json' gets JSON's values", async () => {
  const results = await onEachFork(
    async (child, next) => {
      child.send({ op: 'kinds', value: { buffer: Buffer.from('a'), date: new Date(0), map: new Map([[1, 2]]) } })
      return next()
    },
    (fork) => fork({ serialization: 'json' }),
  )
  assert.deepStrictEqual(results['node:child_process'], { buffer: 'Object', date: 'string', map: 'Object' })
  assert.deepStrictEqual(results['offload/child_process'], results['node:child_process'])
  assert.deepStrictEqual(results['offload fork()'], results['node:child_process'])
})

// What a serve() task exchanges with the code that ran it besides the task and
// its answer: requests (context.request(message) in the worker, pool.run(task,
// { onRequest }) in the parent) and meta (run(task, { meta }) → context.meta).
import { test } from 'node:test'
import assert from 'node:assert/strict'
import net from 'node:net'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'

import { Pool } from '../index.js'

const REQUESTS = fileURLToPath(new URL('./fixtures/pool-requests.js', import.meta.url))

test('requests reach the task\'s onRequest in order, and its answers come back', async () => {
  const pool = new Pool({ script: REQUESTS, size: 1 })
  const seen = []
  const answers = await pool.run({ asks: [1, 'two', { three: [3] }] }, {
    handler: 'ask',
    onRequest: async (message) => {
      seen.push(message)
      await new Promise((resolve) => setImmediate(resolve))
      return { echo: message }
    },
  })
  assert.deepEqual(seen, [1, 'two', { three: [3] }])
  assert.deepEqual(answers, [{ echo: 1 }, { echo: 'two' }, { echo: { three: [3] } }])
  await pool.close()
})

test('requests of tasks running at once each reach their own task\'s onRequest', async () => {
  const pool = new Pool({ script: REQUESTS, size: 2, concurrency: 4 })
  const runs = []
  for (let t = 0; t < 8; t++) {
    runs.push(pool.run({ asks: [0, 1, 2] }, { handler: 'askAll', onRequest: (i) => `${t}:${i}` }))
  }
  const results = await Promise.all(runs)
  results.forEach((answers, t) => assert.deepEqual(answers, [`${t}:0`, `${t}:1`, `${t}:2`]))
  await pool.close()
})

test('what onRequest throws rejects the worker\'s request with its message and code', async () => {
  const pool = new Pool({ script: REQUESTS, size: 1 })
  const failed = await pool.run({ ask: 'x' }, {
    handler: 'askAndCatch',
    onRequest: () => {
      throw Object.assign(new RangeError('no such thing'), { code: 'E_NOPE' })
    },
  })
  assert.deepEqual(failed, { name: 'RangeError', message: 'no such thing', code: 'E_NOPE' })
  await pool.close()
})

test('a request from a task run without onRequest is refused with ERR_OFFLOAD_NO_REQUEST_HANDLER', async () => {
  const pool = new Pool({ script: REQUESTS, size: 1 })
  // Another task's onRequest makes the pool listen: the refusal is per task.
  await pool.run({ asks: [1] }, { handler: 'ask', onRequest: () => 1 })
  const refused = await pool.run({ ask: 'x' }, { handler: 'askAndCatch' })
  assert.equal(refused.code, 'ERR_OFFLOAD_NO_REQUEST_HANDLER')
  await pool.close()
})

test('onRequest is checked at the call', async () => {
  const pool = new Pool({ script: REQUESTS, size: 1 })
  assert.throws(() => pool.run({}, { onRequest: 'yes' }), { code: 'ERR_INVALID_ARG_TYPE', message: /options\.onRequest/ })
  await pool.close()
  const command = new Pool({ command: ['cat'], size: 1 })
  assert.throws(() => command.run({}, { onRequest: () => 1 }), { code: 'ERR_INVALID_ARG_VALUE', message: /'command' worker cannot send requests/ })
  await command.close()
})

test('a connection without the pool\'s token gets no answer and is closed', async () => {
  const pool = new Pool({ script: REQUESTS, size: 1 })
  const address = await pool.run({}, { handler: 'address' })
  // A task with an onRequest that is still running: a forged request for it must not reach it.
  let forged = false
  let release
  const running = pool.run({ asks: ['real'] }, {
    handler: 'ask',
    onRequest: (message) => {
      if (message !== 'real') forged = true
      return new Promise((resolve) => { release = resolve })
    },
  })
  while (release === undefined) await new Promise((resolve) => setImmediate(resolve))
  const [name] = address.split(' ')
  const socket = net.createConnection(`\0${name}`)
  socket.write('not-the-token\n{"task":2,"n":1,"message":"forged"}\n')
  let answered = ''
  socket.on('data', (d) => { answered += d })
  socket.on('error', () => {})
  await once(socket, 'close')
  assert.equal(answered, '')
  assert.equal(forged, false)
  release('done')
  assert.deepEqual(await running, ['done'])
  await pool.close()
})

test('meta reaches the handler as context.meta, apart from the task, with or without a handler name', async () => {
  const pool = new Pool({ script: REQUESTS, size: 1 })
  assert.deepEqual(await pool.run({ a: 1 }, { handler: 'meta', meta: { id: '42', name: 'resize' } }), { task: { a: 1 }, meta: { id: '42', name: 'resize' } })
  assert.deepEqual(await pool.run('x', { handler: 'meta' }), { task: 'x', meta: 'none' })
  assert.deepEqual(await pool.run('é', { handler: 'meta', meta: 'ünï\0code' }), { task: 'é', meta: 'ünï\0code' })
  const big = 'x'.repeat(70000)
  assert.throws(() => pool.run(1, { handler: 'meta', meta: big }), { code: 'ERR_INVALID_ARG_VALUE', message: /options\.meta.*65535 bytes/ })
  assert.throws(() => pool.run(1, { handler: 'a\0b' }), { code: 'ERR_INVALID_ARG_VALUE', message: /without null bytes/ })
  assert.throws(() => pool.run(1, { meta: 10n }), { code: 'ERR_INVALID_ARG_VALUE', message: /options\.meta/ })
  await pool.close()
})

test('capacity is size × concurrency', async () => {
  const pool = new Pool({ script: REQUESTS, size: 3, minSize: 0, concurrency: 4 })
  assert.equal(pool.capacity, 12)
  await pool.close()
})

test('a pool made inside another pool\'s worker answers its own tasks\' requests, not the outer pool\'s', async () => {
  // What a worker of an outer pool inherits, given here explicitly.
  const pool = new Pool({ script: REQUESTS, size: 1, env: { OFFLOAD_REQUESTS: 'offload-1-outer sometoken' } })
  assert.deepEqual(await pool.run({ asks: ['inner'] }, { handler: 'ask', onRequest: (m) => `${m}!` }), ['inner!'])
  assert.doesNotMatch(await pool.run({}, { handler: 'address' }), /outer/)
  await pool.close()
})

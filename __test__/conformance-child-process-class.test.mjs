// Conformance of offload/child_process's ChildProcess class with Node's: built with `new` and
// started with Node's `spawn(options)` shape, the class of what every function returns, the
// 'internalMessage' event, and that spawn() goes through ChildProcess.prototype.spawn (code that
// wraps it sees every launch). Each scenario runs on node:child_process and on the drop-in.

import { test } from 'node:test'
import assert from 'node:assert/strict'
import * as nodeCp from 'node:child_process'
import { EventEmitter, once } from 'node:events'
import { promisify } from 'node:util'
import { fileURLToPath } from 'node:url'
import * as offloadCp from 'offload/child_process'

const fixture = (name) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url))

async function both(scenario) {
  return { node: await scenario(nodeCp), offload: await scenario(offloadCp) }
}

function collect(stream) {
  let text = ''
  stream.setEncoding('utf8')
  stream.on('data', (chunk) => (text += chunk))
  return () => text
}

test('new ChildProcess() has Node\'s state before spawn()', async () => {
  const { node, offload } = await both((cp) => {
    const child = new cp.ChildProcess()
    const { connected, signalCode, exitCode, killed, spawnfile, pid, stdin, stdout, stdio } = child
    return { connected, signalCode, exitCode, killed, spawnfile, pid, stdin, stdout, stdio, isEmitter: child instanceof EventEmitter }
  })
  assert.deepEqual(offload, node)
  assert.equal(node.spawnfile, null)
})

test('ChildProcess#spawn(options) with Node\'s shape: argv with argv[0], envPairs as the whole environment', async () => {
  const { node, offload } = await both(async (cp) => {
    const child = new cp.ChildProcess()
    const events = []
    child.on('spawn', () => events.push('spawn'))
    child.on('exit', (code, signal) => events.push(['exit', code, signal]))
    const options = { file: '/bin/sh', args: ['custom-argv0', '-c', 'echo "$0|$A|${HOME-unset}"'], envPairs: ['A=from-pairs'], stdio: 'pipe' }
    const returned = child.spawn(options)
    const out = collect(child.stdout)
    const pidIsNumber = typeof child.pid === 'number' && child.pid > 0
    const [code, signal] = await once(child, 'close')
    events.push(['close', code, signal])
    return {
      returned,
      pidIsNumber,
      out: out(),
      events,
      spawnfile: child.spawnfile,
      spawnargs: child.spawnargs,
      sameArgs: child.spawnargs === options.args,
      stdio: child.stdio.map((s) => s === null),
    }
  })
  assert.deepEqual(offload, node)
  assert.equal(node.out, 'custom-argv0|from-pairs|unset\n')
})

test('ChildProcess#spawn without envPairs: the child gets this process\'s environment', async () => {
  process.env.OFFLOAD_CONFORMANCE_VAR = 'inherited'
  try {
    const { node, offload } = await both(async (cp) => {
      const child = new cp.ChildProcess()
      child.spawn({ file: '/bin/sh', args: ['sh', '-c', 'echo "$OFFLOAD_CONFORMANCE_VAR"'], stdio: ['ignore', 'pipe', 'inherit'] })
      const out = collect(child.stdout)
      await once(child, 'close')
      return out()
    })
    assert.equal(offload, node)
    assert.equal(node, 'inherited\n')
  } finally {
    delete process.env.OFFLOAD_CONFORMANCE_VAR
  }
})

test('ChildProcess#spawn with an IPC entry adds NODE_CHANNEL_FD to envPairs and connects', async () => {
  const { node, offload } = await both(async (cp) => {
    const child = new cp.ChildProcess()
    const envPairs = [`PATH=${process.env.PATH}`]
    child.spawn({ file: process.execPath, args: [process.execPath, fixture('cp-echo-ipc.js'), 'x'], envPairs, stdio: ['ignore', 'ignore', 'inherit', 'ipc'] })
    const connected = child.connected
    child.send('ping')
    const [reply] = await once(child, 'message')
    child.send('exit')
    const [code] = await once(child, 'exit')
    return { connected, reply, code, envPairs, hasSend: typeof child.send }
  })
  assert.deepEqual(offload, node)
  assert.deepEqual(node.envPairs.slice(1), ['NODE_CHANNEL_FD=3', 'NODE_CHANNEL_SERIALIZATION_MODE=json'])
  assert.deepEqual(node.reply, { echo: 'ping', argv: ['x'] })
})

test('a launch that fails through ChildProcess#spawn is an error event with Node\'s fields', async () => {
  const { node, offload } = await both(async (cp) => {
    const child = new cp.ChildProcess()
    child.spawn({ file: '/no/such/program', args: ['/no/such/program', 'a'], stdio: 'pipe' })
    const [err] = await once(child, 'error')
    return { pid: child.pid, message: err.message, code: err.code, errno: err.errno, syscall: err.syscall, path: err.path, spawnargs: err.spawnargs }
  })
  assert.deepEqual(offload, node)
})

test('what every function returns is an instance of the module\'s ChildProcess, as in Node', async () => {
  const { node, offload } = await both(async (cp) => {
    const children = {
      spawn: cp.spawn('true'),
      exec: cp.exec('true'),
      execFile: cp.execFile('true'),
      fork: cp.fork(fixture('cp-send-and-exit.js'), { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] }),
    }
    const promisedExec = promisify(cp.exec)('true')
    const promisedExecFile = promisify(cp.execFile)('true')
    children['promisify(exec).child'] = promisedExec.child
    children['promisify(execFile).child'] = promisedExecFile.child
    const classes = Object.fromEntries(Object.entries(children).map(([name, child]) => [name, child instanceof cp.ChildProcess && child instanceof EventEmitter]))
    await Promise.all([promisedExec, promisedExecFile, ...Object.values(children).map((child) => (child.exitCode === null ? once(child, 'close') : null))])
    return classes
  })
  assert.deepEqual(offload, node)
  assert.ok(Object.values(node).every(Boolean))
})

test('messages whose cmd starts with NODE_ go to \'internalMessage\', the rest to \'message\', in order', async () => {
  const { node, offload } = await both(async (cp) => {
    const child = cp.fork(fixture('cp-internal-message.js'), { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] })
    const seen = []
    child.on('message', (message) => seen.push(['message', message]))
    child.on('internalMessage', (message) => seen.push(['internalMessage', message]))
    await once(child, 'close')
    return seen
  })
  assert.deepEqual(offload, node)
  assert.deepEqual(
    node.map(([event, message]) => `${event} ${message.n}`),
    ['message 1', 'internalMessage 2', 'message 3', 'message 4', 'internalMessage 5'],
  )
})

test('spawn(), exec(), execFile() and fork() launch through ChildProcess.prototype.spawn, which wrappers can observe', async () => {
  const { node, offload } = await both(async (cp) => {
    const original = cp.ChildProcess.prototype.spawn
    const seen = []
    cp.ChildProcess.prototype.spawn = function (options) {
      seen.push({ file: options.file, args: options.args, hasEnvPairs: Array.isArray(options.envPairs), stdio: options.stdio })
      return original.call(this, options)
    }
    try {
      const children = [
        cp.spawn('true', ['a']),
        cp.exec('true b'),
        cp.execFile('true', ['c']),
        cp.fork(fixture('cp-send-and-exit.js'), { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] }),
      ]
      await Promise.all(children.map((child) => once(child, 'close')))
    } finally {
      cp.ChildProcess.prototype.spawn = original
    }
    return seen.map((call) => ({ ...call, args: call.args.map((arg) => (arg === process.execPath ? 'node' : arg)) }))
  })
  assert.deepEqual(offload, node)
  assert.equal(node.length, 4)
})

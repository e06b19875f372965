// Conformance of offload/child_process's argument checks with node:child_process: every bad
// argument of spawn, exec, execFile, fork, ChildProcess#spawn, kill, send and disconnect is
// given to both modules in the same test, which must agree on the outcome: the same error
// class, code, message and printed header ("TypeError [ERR_X]: ..."), or no throw from either.
// The generated table crosses every kind of value Node describes differently ("type number
// (5)", "an instance of Map", "function foo", strings cut at 25 characters, ...) with every
// argument and option; the hand-written table covers orders, IPC, URLs and the sync functions.

import { after, test } from 'node:test'
import assert from 'node:assert/strict'
import * as nodeCp from 'node:child_process'
import { once } from 'node:events'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { createRequire } from 'node:module'
import * as offloadCp from 'offload/child_process'

const require = createRequire(import.meta.url)
const syncArguments = require('../lib/child_process/arguments.js')
const fixture = (name) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url))
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'offload-conformance-args-'))
after(() => fs.rmSync(tmp, { recursive: true, force: true }))

// A launch that gets past the checks must not run anything: it fails with ENOENT instead.
const MISSING = path.join(tmp, 'no-such-program')
const started = []

/** What calling `call(module)` does: the error it throws, as the test compares it, or 'returned'. */
function outcome(call, module) {
  let result
  try {
    result = call(module)
  } catch (err) {
    if (!(err instanceof Error)) return { threw: err }
    return {
      class: err.constructor.name,
      instanceOfBuiltIn: err instanceof TypeError ? 'TypeError' : err instanceof RangeError ? 'RangeError' : 'Error',
      code: err.code,
      message: err.message,
      header: String(err.stack).split('\n')[0],
      toString: String(err),
    }
  }
  if (result instanceof offloadCp.ChildProcess || result instanceof nodeCp.ChildProcess) {
    result.on('error', () => {})
    started.push(result)
  }
  return 'returned'
}

/** Both outcomes of `call`; a `makeCall` gives each module fresh arguments (Node writes into some). */
function sameOutcome(label, call, makeCall = () => call) {
  const node = outcome(makeCall(), nodeCp)
  const offload = outcome(makeCall(), offloadCp)
  assert.deepEqual(offload, node, label)
  return node
}

after(async () => {
  // Everything that got past the checks failed to launch: wait until each says so.
  await Promise.all(started.map((child) => (child.exitCode !== null || child.signalCode !== null ? null : once(child, 'close'))))
})

class Foo {}
const values = () => ({
  null: null,
  undefined,
  zero: 0,
  'minus zero': -0,
  five: 5,
  fraction: 1.5,
  negative: -1,
  NaN,
  Infinity,
  '-Infinity': -Infinity,
  'beyond 2**32': 2 ** 40,
  'below -2**32': -(2 ** 40),
  bigint: 5n,
  'big bigint': 2n ** 40n,
  true: true,
  false: false,
  'empty string': '',
  string: 'word',
  'long string': 'abcdefghijklmnopqrstuvwxyz0123456789',
  "string with '": "it's",
  'long string with \'': "it's abcdefghijklmnopqrstuvwxyz",
  'NUL byte': 'a\u0000b',
  symbol: Symbol('s'),
  'symbol without description': Symbol(),
  'named function': function foo() {},
  'anonymous function': (() => () => {})(),
  class: Foo,
  'class instance': new Foo(),
  object: {},
  'null-prototype object': Object.create(null),
  'empty array': [],
  array: [1, 'two'],
  Map: new Map(),
  Date: new Date(0),
  RegExp: /re/,
  Buffer: Buffer.from('x'),
  Uint8Array: new Uint8Array([0x2f]),
  'http URL': new URL('http://example.com/'),
  'file URL with a host': new URL('file://host/tmp'),
  'file URL with %2F': new URL('file:///tmp%2Fx'),
  'URL-shaped object': { href: 'http://example.com/', protocol: 'http:' },
})

/** Every way a value can reach each function: each argument, and each option of each function. */
const SLOTS = {
  'spawn(file)': (v) => (cp) => cp.spawn(v),
  'spawn(file, args)': (v) => (cp) => cp.spawn(MISSING, v),
  'spawn(file, args, options)': (v) => (cp) => cp.spawn(MISSING, [], v),
  'spawn(file, [arg])': (v) => (cp) => cp.spawn(MISSING, [v]),
  'exec(command)': (v) => (cp) => cp.exec(v, { shell: MISSING }),
  'exec(command, options, callback)': (v) => (cp) => cp.exec('x', { shell: MISSING }, v),
  'execFile(file)': (v) => (cp) => cp.execFile(v),
  'execFile(file, args)': (v) => (cp) => cp.execFile(MISSING, v),
  'execFile(file, args, options)': (v) => (cp) => cp.execFile(MISSING, [], v),
  'execFile(file, args, options, callback)': (v) => (cp) => cp.execFile(MISSING, [], {}, v),
  'fork(modulePath)': (v) => (cp) => cp.fork(v, { execPath: MISSING }),
  'fork(modulePath, args)': (v) => (cp) => cp.fork('m.js', v, { execPath: MISSING }),
  'fork(modulePath, args, options)': (v) => (cp) => cp.fork('m.js', [], v),
  'new ChildProcess().spawn(options)': (v) => (cp) => new cp.ChildProcess().spawn(v),
  'new ChildProcess().kill(signal)': (v) => (cp) => new cp.ChildProcess().kill(v),
}
const SPAWN_OPTIONS = ['cwd', 'detached', 'uid', 'gid', 'shell', 'argv0', 'windowsHide', 'windowsVerbatimArguments', 'timeout', 'signal', 'killSignal', 'serialization', 'env']
const EXEC_FILE_OPTIONS = ['cwd', 'uid', 'gid', 'shell', 'argv0', 'timeout', 'maxBuffer', 'killSignal', 'signal', 'encoding', 'windowsHide']
const FORK_OPTIONS = ['cwd', 'execPath', 'execArgv', 'silent', 'detached', 'uid', 'gid', 'serialization', 'timeout', 'killSignal', 'signal', 'env']
for (const name of SPAWN_OPTIONS) SLOTS[`spawn options.${name}`] = (v) => (cp) => cp.spawn(MISSING, [], { [name]: v })
for (const name of EXEC_FILE_OPTIONS) {
  SLOTS[`execFile options.${name}`] = (v) => (cp) => cp.execFile(MISSING, [], { [name]: v })
  if (name !== 'shell') SLOTS[`exec options.${name}`] = (v) => (cp) => cp.exec('x', { shell: MISSING, [name]: v })
}
for (const name of FORK_OPTIONS) {
  SLOTS[`fork options.${name}`] = (v) => (cp) => cp.fork('m.js', [], { execPath: MISSING, [name]: v })
}
SLOTS['spawn options.env value'] = (v) => (cp) => cp.spawn(MISSING, [], { env: { KEY: v } })
SLOTS['spawn options.stdio'] = (v) => (cp) => cp.spawn(MISSING, [], { stdio: v })

// Values a slot takes as valid where running with them would start a real program or signal
// one: fork()
// falls back to process.execPath when `execPath` is falsy or `options` has none, and 'stdio'
// entries beyond Node's words are the stdio conformance suite's.
function skipped(slot, value) {
  // Node's kill() on a ChildProcess that never spawned signals pid 0, its own process group:
  // only signals it refuses are tried.
  if (slot === 'new ChildProcess().kill(signal)') return value === undefined || value === 0 || Object.values(os.constants.signals).includes(value)
  // Node 20 aborts (a failed assertion in process_wrap.cc) on a uid or gid of -0.
  if (/\.(uid|gid)$/.test(slot) && Object.is(value, -0)) return true
  if (slot === 'fork options.execPath') return !value
  if (slot === 'fork(modulePath, args, options)' && value == null) return true
  if (slot === 'fork(modulePath, args, options)' || slot === 'fork(modulePath, args)') {
    return value !== null && typeof value === 'object' && !Array.isArray(value)
  }
  // A uid or gid the OS refuses is a launch failure: Node throws it, offload emits it as
  // 'error' (a documented difference, child_process.d.ts).
  if (/\.(uid|gid)$/.test(slot) && Number.isInteger(value) && value < 0) return true
  // A function where execFile() takes a callback gets called (a class would throw then), and a valid timeout
  // beyond 2**31 - 1 only makes both print a TimeoutOverflowWarning.
  if (/^exec(File)?\(/.test(slot) && typeof value === 'function') return true
  if (slot.endsWith('.timeout') && typeof value === 'number' && value > 2 ** 31 - 1) return true
  if (slot === 'spawn options.stdio') return typeof value === 'object' && value !== null && !Array.isArray(value) ? false : Array.isArray(value)
  return false
}

test('the generated table: every kind of value in every argument and option gives Node\'s outcome', () => {
  let compared = 0
  let threw = 0
  for (const [slot, makeCall] of Object.entries(SLOTS)) {
    for (const [kind, value] of Object.entries(values())) {
      if (skipped(slot, value)) continue
      const result = sameOutcome(`${slot} with ${kind}`, null, () => makeCall(values()[kind]))
      compared++
      if (result !== 'returned') threw++
    }
  }
  // The table must really exercise the checks: most pairs are errors.
  assert.ok(compared > 2000, `${compared} pairs compared`)
  assert.ok(threw > 1500, `${threw} of ${compared} pairs threw`)
})

test('errors carry Node\'s exact messages (spot checks of the wording, beyond agreeing with Node)', () => {
  const cases = [
    [(cp) => cp.spawn('ls', [], 5), 'The "options" argument must be of type object. Received type number (5)'],
    [(cp) => cp.spawn(function foo() {}), 'The "file" argument must be of type string. Received function foo'],
    [(cp) => cp.spawn(new Foo()), 'The "file" argument must be of type string. Received an instance of Foo'],
    [(cp) => cp.spawn('x', 'abcdefghijklmnopqrstuvwxyz0123456789'), "The \"args\" argument must be of type object. Received type string ('abcdefghijklmnopqrstuvwxy...')"],
    [(cp) => cp.spawn('x', [], { shell: 5 }), 'The "options.shell" property must be one of type boolean or string. Received type number (5)'],
    [(cp) => cp.spawn('x', [], { serialization: 'yaml' }), "The property 'options.serialization' must be one of: undefined, 'json', 'advanced'. Received 'yaml'"],
    [(cp) => cp.spawn(''), "The argument 'file' cannot be empty. Received ''"],
    [(cp) => cp.spawn('x', [], { timeout: -(2 ** 40) }), 'The value of "timeout" is out of range. It must be an unsigned integer. Received -1_099_511_627_776'],
    [(cp) => cp.spawn('x', [], { cwd: new URL('http://example.com/') }), 'The URL must be of scheme file'],
    [(cp) => cp.spawn('x', [], { cwd: new URL('file://host/tmp') }), 'File URL host must be "localhost" or empty on linux'],
    [(cp) => cp.spawn('x', [], { cwd: new URL('file:///a%2Fb') }), 'File URL path must not include encoded / characters'],
    [(cp) => cp.spawn('x', [], { cwd: 'a\u0000b' }), "The property 'options.cwd' must be a string, Uint8Array, or URL without null bytes. Received 'a\\x00b'"],
    [(cp) => cp.spawn('x', [], { killSignal: {} }), 'The "options.killSignal" property must be one of type string or number. Received an instance of Object'],
    [(cp) => new cp.ChildProcess().kill({}), 'Unknown signal: {}'],
    [(cp) => cp.fork('m.js', { stdio: ['pipe', 'pipe', 'pipe'] }), "Forked processes must have an IPC channel, missing value 'ipc' in options.stdio"],
    [(cp) => cp.spawn('x', [], { stdio: ['pipe', 'pipe', 'pipe', 'ipc', 'ipc'] }), 'Child process can have only one IPC pipe'],
  ]
  for (const [call, message] of cases) {
    for (const cp of [nodeCp, offloadCp]) assert.throws(() => call(cp), { message }, `${call}`)
  }
})

// Regression tests, one per wording the drop-in used to get wrong.
const REGRESSIONS = {
  'an anonymous function was described as "function <anonymous>" (Node: "function ")': [
    (cp) => cp.spawn((() => () => {})()),
    'The "file" argument must be of type string. Received function ',
  ],
  'a long string was cut inside its quotes (Node cuts the text at 25 characters, then quotes it)': [
    (cp) => cp.spawn('x', 'abcdefghijklmnopqrstuvwxyz0123456789'),
    "The \"args\" argument must be of type object. Received type string ('abcdefghijklmnopqrstuvwxy...')",
  ],
  'a dotted name was called an argument (Node: "property")': [
    (cp) => cp.spawn('x', [], { detached: 1 }),
    'The "options.detached" property must be of type boolean. Received type number (1)',
  ],
  'two expected types read "of type a or b" (Node: "one of type a or b")': [
    (cp) => cp.spawn('x', [], { shell: [] }),
    'The "options.shell" property must be one of type boolean or string. Received an instance of Array',
  ],
  'a NUL byte in cwd had the args wording (Node names Uint8Array and URL)': [
    (cp) => cp.spawn('x', [], { cwd: 'a\u0000' }),
    "The property 'options.cwd' must be a string, Uint8Array, or URL without null bytes. Received 'a\\x00'",
  ],
  'an unknown signal that is an object printed "[object Object]" (Node: "{}")': [(cp) => new cp.ChildProcess().kill({}), 'Unknown signal: {}'],
  'a URL-shaped object was not taken as a URL': [(cp) => cp.spawn('x', [], { cwd: { href: 'http://h/', protocol: 'http:' } }), 'The URL must be of scheme file'],
}
for (const [bug, [call, message]] of Object.entries(REGRESSIONS)) {
  test(`regression: ${bug}`, () => {
    for (const cp of [nodeCp, offloadCp]) assert.throws(() => call(cp), { message }, cp === nodeCp ? 'node' : 'offload')
  })
}

test('regression: send() refused a handle before checking the channel and the message (Node: ERR_IPC_CHANNEL_CLOSED, ERR_MISSING_ARGS first)', async () => {
  const results = {}
  for (const [name, cp] of [['node', nodeCp], ['offload', offloadCp]]) {
    const child = cp.fork(fixture('cp-echo-ipc.js'))
    const missing = outcome((c) => c.send(undefined, {}), child)
    child.disconnect()
    const closed = await new Promise((resolve) => child.send('x', {}, (err) => resolve(err.code)))
    await once(child, 'exit')
    results[name] = { missing, closed }
  }
  assert.deepEqual(results.offload, results.node)
  assert.equal(results.node.missing.code, 'ERR_MISSING_ARGS')
  assert.equal(results.node.closed, 'ERR_IPC_CHANNEL_CLOSED')
})

test('the first bad argument wins, in Node\'s order', () => {
  const calls = {
    'file before args': (cp) => cp.spawn(5, 5),
    'args before options': (cp) => cp.spawn('x', 5, 5),
    'NUL in args before options': (cp) => cp.spawn('x', ['a\u0000'], 5),
    'cwd before detached': (cp) => cp.spawn('x', [], { cwd: 5, detached: 5 }),
    'detached before uid': (cp) => cp.spawn('x', [], { detached: 5, uid: 'x' }),
    'uid before gid': (cp) => cp.spawn('x', [], { uid: 'x', gid: 'x' }),
    'gid before shell': (cp) => cp.spawn('x', [], { gid: 'x', shell: 5 }),
    'shell before argv0': (cp) => cp.spawn('x', [], { shell: 5, argv0: 5 }),
    'argv0 before windowsHide': (cp) => cp.spawn('x', [], { argv0: 5, windowsHide: 5 }),
    'windowsHide before windowsVerbatimArguments': (cp) => cp.spawn('x', [], { windowsHide: 5, windowsVerbatimArguments: 5 }),
    'NUL in shell before env': (cp) => cp.spawn('x', [], { shell: 'a\u0000', env: { A: 'a\u0000' } }),
    'env before timeout': (cp) => cp.spawn('x', [], { env: { A: 'a\u0000' }, timeout: -1 }),
    'NUL in an env key': (cp) => cp.spawn('x', [], { env: { 'A\u0000': 'a' } }),
    'timeout before signal': (cp) => cp.spawn('x', [], { timeout: -1, signal: 5 }),
    'signal before killSignal': (cp) => cp.spawn('x', [], { signal: 5, killSignal: 'NOPE' }),
    'killSignal before stdio': (cp) => cp.spawn('x', [], { killSignal: 'NOPE', stdio: 'bogus' }),
    'stdio before serialization': (cp) => cp.spawn('x', [], { stdio: 'bogus', serialization: 'yaml' }),
    'execFile: options before callback': (cp) => cp.execFile('x', [], 5, 5),
    'execFile: callback before argv0': (cp) => cp.execFile('x', [], { argv0: 5 }, 5),
    'execFile: argv0 before timeout': (cp) => cp.execFile('x', [], { argv0: 5, timeout: -1 }),
    'execFile: timeout before maxBuffer': (cp) => cp.execFile('x', [], { timeout: -1, maxBuffer: -1 }),
    'execFile: maxBuffer before killSignal': (cp) => cp.execFile('x', [], { maxBuffer: -1, killSignal: 'NOPE' }),
    'execFile: killSignal before file': (cp) => cp.execFile(5, [], { killSignal: 'NOPE' }),
    'execFile: file before args': (cp) => cp.execFile(5, 5),
    'exec: command before callback': (cp) => cp.exec(5, {}, 5),
    'exec: a shell string that has a NUL': (cp) => cp.exec('x', { shell: 'a\u0000' }),
    'fork: modulePath before args': (cp) => cp.fork(5, 5),
    'fork: args before options': (cp) => cp.fork('m.js', 5, 5),
    'fork: execPath NUL before execArgv NUL': (cp) => cp.fork('m.js', { execPath: 'a\u0000', execArgv: ['b\u0000'] }),
    'fork: execArgv not a list': (cp) => cp.fork('m.js', { execPath: MISSING, execArgv: 5 }),
    'fork: a NUL in execArgv': (cp) => cp.fork('m.js', { execPath: MISSING, execArgv: ['--x', 'b\u0000'] }),
    'fork: a NUL in modulePath bytes': (cp) => cp.fork(Buffer.from('m\u0000.js')),
    'fork: stdio without ipc before the rest': (cp) => cp.fork('m.js', { stdio: ['pipe', 'pipe', 'pipe'], cwd: 5 }),
    'fork: a stdio word': (cp) => cp.fork('m.js', { stdio: 'bogus' }),
    'fork: two ipc entries': (cp) => cp.fork('m.js', { execPath: MISSING, stdio: ['pipe', 'pipe', 'pipe', 'ipc', 'ipc'] }),
    'fork: an unknown serialization': (cp) => cp.fork('m.js', { execPath: MISSING, serialization: 'yaml' }),
    'ChildProcess#spawn: stdio before serialization': (cp) => new cp.ChildProcess().spawn({ stdio: 'bogus', serialization: 'yaml' }),
    'ChildProcess#spawn: serialization before file': (cp) => new cp.ChildProcess().spawn({ serialization: 'yaml', file: 5 }),
    'ChildProcess#spawn: envPairs with ipc before file': (cp) =>
      new cp.ChildProcess().spawn({ stdio: ['pipe', 'pipe', 'pipe', 'ipc'], envPairs: 5, file: 5 }),
    'ChildProcess#spawn: file before args': (cp) => new cp.ChildProcess().spawn({ file: 5, args: 5 }),
    'ChildProcess#spawn: args': (cp) => new cp.ChildProcess().spawn({ file: MISSING, args: 'x' }),
    'spawn: Buffer input in stdio': (cp) => cp.spawn('x', [], { stdio: [Buffer.from('input')] }),
    'spawn: string input in stdio': (cp) => cp.spawn('x', [], { stdio: ['pipe', 'text'] }),
  }
  for (const [label, call] of Object.entries(calls)) assert.notEqual(sameOutcome(label, call), 'returned', label)
})

test('send() and disconnect(): Node\'s checks and errors on a live channel and a closed one', async () => {
  const children = { node: nodeCp.fork(fixture('cp-echo-ipc.js')), offload: offloadCp.fork(fixture('cp-echo-ipc.js')) }
  const circular = {}
  circular.self = circular
  const sends = {
    'no message': (child) => child.send(),
    'undefined message': (child) => child.send(undefined, () => {}),
    'a function': (child) => child.send(function foo() {}),
    'a symbol': (child) => child.send(Symbol('s')),
    'a bigint': (child) => child.send(5n),
    'options not an object': (child) => child.send('x', null, 5),
    'options a string': (child) => child.send('x', undefined, 'opts'),
    'a BigInt inside': (child) => child.send({ n: 1n }),
    'a circular object': (child) => child.send(circular),
    'a handle of no sendable type': (child) => child.send('x', {}),
    'a number as handle': (child) => child.send('x', 5),
  }
  for (const [label, send] of Object.entries(sends)) {
    assert.deepEqual(outcome(send, children.offload), outcome(send, children.node), label)
  }
  // The channel still works after every refusal.
  for (const child of Object.values(children)) child.send('after')
  const [nodeReply, offloadReply] = await Promise.all([once(children.node, 'message'), once(children.offload, 'message')])
  assert.deepEqual(offloadReply, nodeReply)

  for (const child of Object.values(children)) child.disconnect()
  const closed = {}
  for (const [name, child] of Object.entries(children)) {
    const errors = []
    child.on('error', (err) => errors.push(err))
    const callbackError = new Promise((resolve) => child.send('late', resolve))
    const returned = child.send('late again')
    child.disconnect()
    const viaCallback = await callbackError
    await new Promise((resolve) => setImmediate(resolve))
    closed[name] = {
      returned,
      viaCallback: [viaCallback.constructor.name, viaCallback.code, viaCallback.message],
      events: errors.map((err) => [err.constructor.name, err.code, err.message]),
    }
  }
  assert.deepEqual(closed.offload, closed.node)
  assert.deepEqual(closed.node.events, [
    ['Error', 'ERR_IPC_DISCONNECTED', 'IPC channel is already disconnected'],
    ['Error', 'ERR_IPC_CHANNEL_CLOSED', 'Channel closed'],
  ])
  await Promise.all(Object.values(children).map((child) => (child.exitCode === null ? once(child, 'exit') : null)))
})

test('the sync functions\' argument checks are Node\'s (the drop-in\'s functions once they exist, else the checks they call)', () => {
  const dropInHas = typeof offloadCp.spawnSync === 'function'
  // Without the drop-in's functions, the table holds Node's to the shared checks they will call.
  const viaChecks = {
    spawnSync: (file, args, options) => {
      const spec = syncArguments.normalizeSpawnSyncArguments(file, args, options)
      if (spec.options.input) syncArguments.validateSyncInput(spec.options.input, 0)
    },
    execFileSync: (file, args, options) => {
      ;({ file, args, options } = syncArguments.normalizeExecFileArgs(file, args, options))
      viaChecks.spawnSync(file, args, options)
    },
    execSync: (command, options) => {
      const normalized = syncArguments.normalizeExecArgs(command, options, null)
      viaChecks.spawnSync(normalized.file, normalized.options)
    },
  }
  const dropIn = dropInHas ? offloadCp : viaChecks
  const calls = {
    'spawnSync(5)': (m) => m.spawnSync(5),
    "spawnSync('')": (m) => m.spawnSync(''),
    'spawnSync args': (m) => m.spawnSync('x', 5),
    'spawnSync options': (m) => m.spawnSync('x', [], 5),
    'spawnSync cwd': (m) => m.spawnSync('x', [], { cwd: 5 }),
    'spawnSync cwd URL': (m) => m.spawnSync('x', [], { cwd: new URL('http://example.com/') }),
    'spawnSync timeout': (m) => m.spawnSync('x', [], { timeout: 1.5 }),
    'spawnSync maxBuffer': (m) => m.spawnSync('x', [], { maxBuffer: -1 }),
    'spawnSync maxBuffer NaN': (m) => m.spawnSync('x', [], { maxBuffer: NaN }),
    'spawnSync maxBuffer string': (m) => m.spawnSync('x', [], { maxBuffer: '1' }),
    'spawnSync killSignal': (m) => m.spawnSync('x', [], { killSignal: 'SIGNOPE' }),
    'spawnSync killSignal type': (m) => m.spawnSync('x', [], { killSignal: true }),
    'spawnSync input': (m) => m.spawnSync('x', [], { input: 5 }),
    'spawnSync input object': (m) => m.spawnSync('x', [], { input: {} }),
    'spawnSync env NUL': (m) => m.spawnSync('x', [], { env: { A: '\u0000' } }),
    'spawnSync timeout before maxBuffer': (m) => m.spawnSync('x', [], { timeout: -1, maxBuffer: -1 }),
    'spawnSync maxBuffer before killSignal': (m) => m.spawnSync('x', [], { maxBuffer: -1, killSignal: 'NOPE' }),
    'spawnSync killSignal before input': (m) => m.spawnSync('x', [], { killSignal: 'NOPE', input: 5 }),
    'execFileSync(5)': (m) => m.execFileSync(5),
    'execFileSync options': (m) => m.execFileSync('x', [], 5),
    'execFileSync argv0': (m) => m.execFileSync('x', [], { argv0: 5 }),
    'execFileSync timeout': (m) => m.execFileSync('x', { timeout: -1 }),
    'execFileSync input': (m) => m.execFileSync('x', { input: 5n }),
    'execSync(5)': (m) => m.execSync(5),
    'execSync NUL': (m) => m.execSync('a\u0000'),
    'execSync shell NUL': (m) => m.execSync('x', { shell: 'a\u0000' }),
    'execSync timeout': (m) => m.execSync('x', { timeout: 'soon' }),
    'execSync uid': (m) => m.execSync('x', { uid: 'root' }),
    'execSync input': (m) => m.execSync('x', { input: [1] }),
  }
  for (const [label, call] of Object.entries(calls)) {
    const node = outcome(call, nodeCp)
    assert.notEqual(node, 'returned', label)
    assert.deepEqual(outcome(call, dropIn), node, label)
  }
})

test('file URLs are taken wherever Node takes a path: cwd and fork(modulePath)', async () => {
  const dir = fs.mkdtempSync(path.join(tmp, 'url dir '))
  const run = async (cp) => {
    const child = cp.spawn('pwd', [], { cwd: pathToFileURL(dir) })
    let out = ''
    child.stdout.on('data', (chunk) => (out += chunk))
    const [code] = await once(child, 'close')
    const forked = cp.fork(pathToFileURL(fixture('cp-echo-ipc.js')), ['a'], { cwd: pathToFileURL(dir) })
    forked.send('hi')
    const [reply] = await once(forked, 'message')
    forked.send('exit')
    const [exitCode] = await once(forked, 'exit')
    const fromBuffer = await new Promise((resolve) => cp.execFile('pwd', { cwd: Buffer.from(dir) }, (err, stdout) => resolve([err, stdout])))
    return { out, code, reply, exitCode, fromBuffer, spawnargs: forked.spawnargs.slice(-2) }
  }
  const [node, offload] = [await run(nodeCp), await run(offloadCp)]
  assert.deepEqual(offload, node)
  assert.equal(node.out, `${dir}\n`)
  assert.deepEqual(node.reply, { echo: 'hi', argv: ['a'] })
})

test('ERR_CHILD_PROCESS_STDIO_MAXBUFFER: the same error, the same cut output, on stdout and on stderr', async () => {
  const run = (cp, script, options) =>
    new Promise((resolve) => {
      cp.execFile('sh', ['-c', script], options, (err, stdout, stderr) => {
        resolve({ class: err.constructor.name, code: err.code, message: err.message, header: String(err.stack).split('\n')[0], cmd: err.cmd, stdout, stderr })
      })
    })
  for (const [script, options] of [
    ['echo 1234567890', { maxBuffer: 4 }],
    ['echo 1234567890 >&2', { maxBuffer: 4 }],
    ['printf héllo', { maxBuffer: 2, encoding: 'buffer' }],
  ]) {
    const [node, offload] = [await run(nodeCp, script, options), await run(offloadCp, script, options)]
    assert.deepEqual(offload, node, script)
    assert.equal(node.code, 'ERR_CHILD_PROCESS_STDIO_MAXBUFFER')
  }
})

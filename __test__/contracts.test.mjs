// The contracts between the Rust side and lib/ have one owner: src/js/ declares the numbers
// (spawn slots, stdio kinds, flags, descriptor entries, event kinds, the IPC descriptor, the
// spawn defaults) and the addon exports them. These tests fail when lib/ uses a name the
// addon does not export, when the numbers stop making sense as a layout, or when lib/ writes
// one of those numbers down itself again.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import fs from 'node:fs'
import path from 'node:path'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'

const require = createRequire(import.meta.url)
const ROOT = path.join(path.dirname(fileURLToPath(import.meta.url)), '..')
const binding = require('../lib/binding.js')

const TABLES = ['SpawnSlot', 'SpawnText', 'StdioKind', 'SpawnFlag', 'FdEntry', 'EventKind', 'SpawnDefault', 'PoolSlot', 'PoolSerialization', 'PoolDefault']
// Read in a worker, which does not load the addon: lib/ keeps a copy, compared below.
const WORKER_SIDE = ['TaskFrame']

const distinct = (values) => new Set(values).size === values.length

test('the addon exports every contract table, each a set of whole numbers', () => {
  for (const name of [...TABLES, ...WORKER_SIDE]) {
    const table = binding[name]
    assert.equal(typeof table, 'object', `${name} is exported`)
    assert.ok(Object.keys(table).length > 0, `${name} is not empty`)
    for (const [key, value] of Object.entries(table)) assert.ok(Number.isInteger(value), `${name}.${key} is a whole number`)
  }
  assert.ok(Number.isInteger(binding.IPC_FD) && binding.IPC_FD > 2, 'IPC_FD is past stdio')
})

test('spawn flags are distinct single bits', () => {
  const bits = Object.values(binding.SpawnFlag)
  for (const [name, bit] of Object.entries(binding.SpawnFlag)) assert.ok(bit > 0 && (bit & (bit - 1)) === 0, `${name} is one bit`)
  assert.ok(distinct(bits), `flags share a bit: ${JSON.stringify(binding.SpawnFlag)}`)
})

test('spawn slots are distinct places inside the settings array, the six limits last', () => {
  for (const [table, lenName] of [[binding.SpawnSlot, 'LEN'], [binding.SpawnText, 'LEN']]) {
    const { [lenName]: len, ...slots } = table
    assert.ok(distinct(Object.values(slots)), `slots overlap: ${JSON.stringify(slots)}`)
    for (const [name, at] of Object.entries(slots)) assert.ok(at >= 0 && at < len, `${name} (${at}) is inside ${len}`)
  }
  const { MEMORY_BYTES, NICE, LEN } = binding.SpawnSlot
  assert.equal(NICE - MEMORY_BYTES + 1, 6, 'the six limits of packLimits')
  assert.equal(NICE, LEN - 1)
  const named = Object.entries(binding.SpawnSlot).filter(([name]) => name !== 'LEN').map(([, at]) => at)
  for (const at of named) assert.ok(at < MEMORY_BYTES || at === NICE || at === MEMORY_BYTES, `slot ${at} falls among the limits`)
})

test('pool slots are distinct places inside the numbers array, the six limits last; UNSET is no value an option takes', () => {
  const { LEN, LIMITS, UNSET, ...named } = binding.PoolSlot
  assert.ok(distinct([...Object.values(named), LIMITS]), `slots overlap: ${JSON.stringify(binding.PoolSlot)}`)
  for (const [name, at] of Object.entries(named)) assert.ok(at >= 0 && at < LIMITS, `${name} (${at}) is before the limits`)
  assert.equal(LEN - LIMITS, 6, 'the six limits of packLimits')
  assert.ok(UNSET < 0, 'every pool number is a size, a count or a time, never negative')
  assert.ok(distinct(Object.values(binding.PoolSerialization)))
  assert.deepEqual(Object.keys(binding.PoolSerialization).map((k) => k.toLowerCase()).sort(), ['advanced', 'json'], "checkSerialization's names")
})

test('the pool defaults are the ones documented', () => {
  assert.deepEqual({ ...binding.PoolDefault }, { MAX_START_FAILURES: 3, START_BACKOFF_INITIAL_MS: 1000, START_BACKOFF_MAX_MS: 30000 })
})

// A worker does not load the addon: lib/task-frame.js (the frames of serve()'s channel) and
// lib/codec.js (the placeholder of a raw buffer in a task's JSON) keep copies of the engine's.
test("the worker side's frame layout and bytes key are the addon's", () => {
  const { TaskFrame } = require('../lib/task-frame.js')
  const { BYTES_KEY } = require('../lib/codec.js')
  assert.deepEqual({ ...TaskFrame }, { ...binding.TaskFrame })
  assert.equal(BYTES_KEY, binding.BYTES_KEY)
  const { LENGTHS_AT, NAME_LEN_AT, COUNT_AT, ID_AT, KIND_AT } = binding.TaskFrame
  assert.deepEqual([KIND_AT, ID_AT, COUNT_AT, NAME_LEN_AT, LENGTHS_AT], [4, 4 + 1, 5 + 4, 9 + 2, 11 + 2], 'u32 length, u8 kind, u32 id, u16 count, u16 name length')
  const kinds = ['TASK', 'CANCEL', 'HELLO', 'RESULT', 'ERROR'].map((k) => binding.TaskFrame[k])
  assert.ok(distinct(kinds) && kinds.every((k) => k > 0 && k < 256), 'frame kinds are distinct bytes')
})

test('event kinds, stdio kinds and descriptor entries are distinct; descriptor entries are not descriptors', () => {
  assert.ok(distinct(Object.values(binding.EventKind)), JSON.stringify(binding.EventKind))
  assert.ok(distinct(Object.values(binding.StdioKind)), JSON.stringify(binding.StdioKind))
  assert.ok(distinct(Object.values(binding.FdEntry)), JSON.stringify(binding.FdEntry))
  for (const [name, entry] of Object.entries(binding.FdEntry)) assert.ok(entry < 0, `FdEntry.${name} cannot be taken for a descriptor`)
  // lib/options.js describes stdio with these kinds; lib/native-layout.js looks them up by name.
  const kinds = Object.keys(binding.StdioKind).map((k) => k.toLowerCase()).sort()
  assert.deepEqual(kinds, ['child', 'data', 'fd', 'file', 'ignore', 'pipe'])
})

test('the spawn defaults are the ones documented', () => {
  const { constants } = require('node:os')
  assert.equal(binding.SpawnDefault.KILL_SIGNAL, constants.signals.SIGTERM)
  assert.equal(binding.SpawnDefault.FORCE_KILL_AFTER_MS, 5000)
  assert.equal(binding.SpawnDefault.MAX_BUFFER, 100 * 1024 * 1024)
  assert.equal(binding.IPC_FD, 3, "Node's fork() puts the channel at 3")
})

function libFiles(dir = path.join(ROOT, 'lib')) {
  const files = []
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name)
    if (entry.isDirectory()) files.push(...libFiles(full))
    else if (entry.name.endsWith('.js')) files.push(full)
  }
  return files
}

test('lib/ declares none of the numbers the addon owns', () => {
  const names = new Set(TABLES.flatMap((t) => Object.keys(binding[t])))
  names.add('IPC_FD')
  // A name of the addon's given a bare number, as a constant or an object key.
  const declared = new RegExp(`(^|[\\s{,])(${[...names].join('|')})\\s*[=:]\\s*-?\\d+\\s*(,|;|}|//|$)`)
  const retired = [
    /\bconst\s+(EXTRA|NATIVE)_[A-Z]+\s*=\s*-\d/, // descriptor entries under another name
    /NODE_CHANNEL_FD\s*[:=]\s*'?\d/, // the IPC descriptor
    /\{\s*(pipe|ignore|fd|file|data|child)\s*:\s*\d/, // a table of stdio kinds by their lib/options.js names
  ]
  // The main API's defaults are the engine's; offload/child_process's are Node's own.
  const engineDefaults = /\b(maxBuffer|forceKillAfter|killSignal)\s*:\s*(\d|'SIG)/
  const found = []
  for (const file of [...libFiles(), path.join(ROOT, 'index.js')]) {
    const lines = fs.readFileSync(file, 'utf8').split('\n')
    lines.forEach((line, i) => {
      if (/^\s*(\/\/|\*)/.test(line)) return
      const dropIn = file.includes(`${path.sep}child_process${path.sep}`)
      if (declared.test(line) || retired.some((re) => re.test(line)) || (!dropIn && engineDefaults.test(line))) found.push(`${path.relative(ROOT, file)}:${i + 1}: ${line.trim()}`)
    })
  }
  assert.deepEqual(found, [], 'lib/ writes down a number of the addon')
})

// Every table replaced by one that throws on a name it does not have: a name lib/ reads that
// the addon lost (or never had) fails here, at load (tables are destructured there) or at the call.
test('every contract name lib/ reads exists in the addon', async () => {
  const originals = {}
  for (const name of TABLES) {
    originals[name] = binding[name]
    binding[name] = new Proxy(originals[name], {
      get(target, key) {
        if (typeof key === 'string' && /^[A-Z][A-Z0-9_]*$/.test(key) && !(key in target)) throw new Error(`the addon has no ${name}.${key}`)
        return target[key]
      },
    })
  }
  const fixture = (name) => path.join(ROOT, '__test__', 'fixtures', name)
  try {
    const offload = require('../index.js')
    const cp = require('../lib/child_process.js')

    // Every stdio kind the main API has, the flags, the defaults and a child's events.
    const dir = fs.mkdtempSync(path.join(fs.realpathSync(require('node:os').tmpdir()), 'offload-contracts-'))
    const out = path.join(dir, 'out')
    const first = offload.spawn(process.execPath, ['-e', 'process.stdout.write("a")'], { stdin: 'ignore', stderr: 'inherit' })
    const result = await offload.spawn(process.execPath, ['-e', 'process.stdout.write(require("fs").readFileSync(0, "utf8"))'], {
      stdin: 'through a file',
      stdout: { file: out },
      detached: true,
      killTree: true,
      cleanup: false,
      timeout: 60_000,
    })
    assert.equal((await first).stdout, 'a')
    assert.equal(result.exitCode, 0)
    assert.equal(fs.readFileSync(out, 'utf8'), 'through a file')
    fs.rmSync(dir, { recursive: true })

    const forked = offload.fork(fixture('cp-send-and-exit.js'), [], { serialization: 'advanced' })
    const messages = []
    forked.on('message', (m) => messages.push(m))
    await forked
    assert.deepEqual(messages, [{ n: 1 }, { n: 2 }])

    const sync = cp.spawnSync(process.execPath, ['-e', 'process.stdout.write("x")'], { stdio: ['ignore', 'pipe', 'inherit'] })
    assert.equal(String(sync.stdout), 'x')

    const child = cp.spawn(process.execPath, ['-e', 'require("fs").writeSync(3, "three")'], { stdio: ['ignore', 'ignore', 'inherit', 'pipe'] })
    let third = ''
    child.stdio[3].on('data', (d) => (third += d))
    await new Promise((resolve) => child.on('close', resolve))
    assert.equal(third, 'three')

    const pool = new offload.Pool({ script: fixture('pool-worker.js'), size: 1 })
    try {
      assert.equal((await pool.run({ i: 21 })).doubled, 42)
    } finally {
      await pool.close()
    }
  } finally {
    for (const name of TABLES) binding[name] = originals[name]
  }
})

// A worker does not load the addon, so lib/worker-ready.js writes the message down; this
// holds it to the one src/pool/config.rs waits for (its V8 form is checked by every pool
// test of serialization 'advanced', which would never see a worker ready).
test('lib/worker-ready.js sends the ready message the pool waits for', async () => {
  const { fork } = await import('node:child_process')
  // echo-once.js listens for messages, which is when worker-ready.js says the worker is ready.
  const child = fork(path.join(ROOT, '__test__', 'fixtures', 'echo-once.js'), [], {
    execArgv: ['--require', path.join(ROOT, 'lib', 'worker-ready.js')],
  })
  const [message] = await new Promise((resolve, reject) => {
    child.once('message', (m) => resolve([m]))
    child.once('exit', (code) => reject(new Error(`worker exited (${code}) before it was ready`)))
  })
  child.kill()
  assert.deepEqual(message, JSON.parse(binding.WORKER_READY_MESSAGE))
  assert.equal(JSON.stringify(message), binding.WORKER_READY_MESSAGE)
})

// The contracts between the Rust side and lib/ have one owner: src/js/ declares the numbers
// (spawn slots, stdio kinds, flags, descriptor entries, event kinds, the IPC descriptor, the
// spawn defaults; the image slots, flags, names, defaults and ranges) and the addon exports them. These tests fail when lib/ uses a name the
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

const TABLES = ['SpawnSlot', 'SpawnText', 'StdioKind', 'SpawnFlag', 'FdEntry', 'LimitSlot', 'OutputStream', 'EventKind', 'SpawnDefault', 'PoolSlot', 'PoolSerialization', 'PoolDefault', 'ImageSlot', 'ImageOverlaySlot', 'ImageFlag']
// Read in a worker, which does not load the addon: lib/ keeps a copy, compared below.
const WORKER_SIDE = ['TaskFrame']
/** The image tables that hold names, lists and booleans besides numbers. */
const IMAGE_TABLES = ['ImageName', 'ImageDefault', 'ImageRange']

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

test('spawn flags and image flags are distinct single bits', () => {
  for (const table of [binding.SpawnFlag, binding.ImageFlag]) {
    for (const [name, bit] of Object.entries(table)) assert.ok(bit > 0 && (bit & (bit - 1)) === 0, `${name} is one bit`)
    assert.ok(distinct(Object.values(table)), `flags share a bit: ${JSON.stringify(table)}`)
  }
})

test('spawn slots are distinct places inside the numbers array, the six limits last', () => {
  for (const [table, lenName] of [[binding.SpawnSlot, 'LEN'], [binding.SpawnText, 'LEN'], [binding.ImageSlot, 'LEN'], [binding.ImageOverlaySlot, 'LEN']]) {
    const { [lenName]: len, ...slots } = table
    assert.ok(distinct(Object.values(slots)), `slots overlap: ${JSON.stringify(slots)}`)
    for (const [name, at] of Object.entries(slots)) assert.ok(at >= 0 && at < len, `${name} (${at}) is inside ${len}`)
  }
  const { MEMORY_BYTES, NICE, LEN } = binding.SpawnSlot
  const { LEN: LIMITS, ...limits } = binding.LimitSlot
  assert.ok(distinct(Object.values(limits)), `limit slots overlap: ${JSON.stringify(limits)}`)
  for (const [name, at] of Object.entries(limits)) assert.ok(at >= 0 && at < LIMITS, `LimitSlot.${name} (${at}) is inside ${LIMITS}`)
  assert.equal(LEN - MEMORY_BYTES, LIMITS, 'the limits fill the settings from MEMORY_BYTES to the end')
  assert.equal(NICE, MEMORY_BYTES + binding.LimitSlot.NICE)
  const named = Object.entries(binding.SpawnSlot).filter(([name]) => name !== 'LEN').map(([, at]) => at)
  for (const at of named) assert.ok(at < MEMORY_BYTES || at === NICE || at === MEMORY_BYTES, `slot ${at} falls among the limits`)
})

test('pool slots are distinct places inside the numbers array, the six limits last; NOT_SET is no value an option takes', () => {
  const { LEN, LIMITS, ...named } = binding.PoolSlot
  assert.ok(distinct([...Object.values(named), LIMITS]), `slots overlap: ${JSON.stringify(binding.PoolSlot)}`)
  for (const [name, at] of Object.entries(named)) assert.ok(at >= 0 && at < LIMITS, `${name} (${at}) is before the limits`)
  assert.equal(LEN - LIMITS, binding.LimitSlot.LEN, 'the limits of packLimits')
  assert.ok(binding.NOT_SET < 0, 'every pool number is a size, a count or a time, never negative')
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

test('the absent marker is no value an option can have, and the outputs are named by their descriptors', () => {
  // Whole-number options (uid, gid, limits, forceKillAfter) are validated as >= 0.
  assert.ok(binding.NOT_SET < 0)
  // lib/subprocess.js indexes its per-descriptor arrays with them.
  assert.deepEqual({ ...binding.OutputStream }, { STDOUT: 1, STDERR: 2 })
})

test('the image names are lists of distinct names; outputs and inputs are formats; each position has one alias', () => {
  const { ImageName: NAMES } = binding
  for (const [name, list] of Object.entries(NAMES)) {
    assert.ok(Array.isArray(list) && list.length > 0 && list.every((n) => typeof n === 'string'), `${name} is a list of names`)
    assert.ok(distinct(list), `${name} repeats a name: ${list}`)
  }
  for (const id of [...NAMES.OUTPUT_FORMATS, ...NAMES.INPUT_FORMATS]) assert.ok(NAMES.FORMATS.includes(id), id)
  assert.equal(NAMES.POSITION_ALIASES.length, NAMES.POSITIONS.length)
  assert.ok(distinct([...NAMES.POSITIONS, ...NAMES.POSITION_ALIASES]), 'an alias is also a position')
  // sharp's names; lib/image.js exports FITS for the CLI.
  assert.deepEqual(NAMES.FITS, ['cover', 'contain', 'fill', 'inside', 'outside'])
  assert.deepEqual(require('../lib/image.js').FITS, NAMES.FITS)
})

test('the image ranges are [min, max] whole numbers and the image defaults are inside them and documented', () => {
  const { ImageRange: RANGE, ImageDefault: DEFAULT, ImageName: NAMES } = binding
  for (const [name, range] of Object.entries(RANGE)) {
    assert.ok(Array.isArray(range) && range.length === 2 && range.every(Number.isInteger) && range[0] <= range[1], `${name}: ${range}`)
  }
  for (const key of ['QUALITY', 'PNG_COMPRESSION_LEVEL', 'WEBP_EFFORT', 'AVIF_EFFORT']) {
    assert.ok(DEFAULT[key] >= RANGE[key][0] && DEFAULT[key] <= RANGE[key][1], key)
  }
  assert.ok(NAMES.FITS.includes(DEFAULT.FIT) && NAMES.POSITIONS.includes(DEFAULT.POSITION) && NAMES.KERNELS.includes(DEFAULT.KERNEL))
  // The README's image options table.
  assert.deepEqual(
    { ...DEFAULT },
    { FIT: 'cover', POSITION: 'centre', KERNEL: 'lanczos3', BACKGROUND: [0, 0, 0, 255], QUALITY: 80, PNG_COMPRESSION_LEVEL: 6, WEBP_EFFORT: 4, AVIF_EFFORT: 4, AUTO_ORIENT: true, LIMIT_INPUT_PIXELS: 268402689 },
  )
  assert.deepEqual([RANGE.SIDE, RANGE.QUALITY, RANGE.PNG_COMPRESSION_LEVEL, RANGE.WEBP_EFFORT, RANGE.AVIF_EFFORT], [[1, 65535], [1, 100], [0, 9], [0, 6], [0, 9]])
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
  names.add('NOT_SET')
  // A name of the addon's given a bare number, as a constant or an object key.
  const declared = new RegExp(`(^|[\\s{,])(${[...names].join('|')})\\s*[=:]\\s*-?\\d+\\s*(,|;|}|//|$)`)
  const retired = [
    /\bconst\s+(EXTRA|NATIVE)_[A-Z]+\s*=\s*-\d/, // descriptor entries under another name
    /NODE_CHANNEL_FD\s*[:=]\s*'?\d/, // the IPC descriptor
    /\{\s*(pipe|ignore|fd|file|data|child)\s*:\s*\d/, // a table of stdio kinds by their lib/options.js names
    /\bconst\s+ABSENT\s*=\s*-\d/, // the absent marker under its old name
    /\bconst\s+(STDOUT|STDERR)\s*=\s*\d/, // the outputs' numbers
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

test("lib/ writes down none of the image engine's names, defaults or ranges", () => {
  const { ImageName: NAMES, ImageDefault: DEFAULT, ImageRange: RANGE } = binding
  const quoted = (names) => new RegExp(`['"\`](${names.map((n) => n.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|')})['"\`]`)
  // A fit, position or kernel name in quotes; two format names in one list.
  // ('top' and 'left' are also an overlay's offsets.)
  const aliases = NAMES.POSITION_ALIASES.filter((name) => name !== 'top' && name !== 'left')
  const aName = quoted([...NAMES.FITS, ...NAMES.POSITIONS, ...aliases, ...NAMES.KERNELS])
  const format = quoted(NAMES.FORMATS).source
  const aFormatList = new RegExp(`\\[\\s*${format}\\s*,\\s*${format}`)
  // A bound or default of the engine's (past the small numbers every file uses), in decimal or hex.
  const numbers = new Set([...Object.values(RANGE).flat(), ...Object.values(DEFAULT).filter(Number.isInteger)].filter((n) => Math.abs(n) > 9 && n !== 255))
  const anEngineNumber = (line) => [...line.matchAll(/\b(0x[0-9a-f]+|\d[\d_]*)\b/gi)].some(([n]) => numbers.has(Number(n.replaceAll('_', ''))))
  // A small default or range written next to the option it belongs to.
  const aSmallOne = /(quality|effort|compressionLevel|channels)\b[^\n]*(\?\?\s*'?[2-9]\b|,\s*\d+\s*,\s*\d+\s*\))/
  const found = []
  for (const file of [...libFiles(), path.join(ROOT, 'index.js')]) {
    const text = fs.readFileSync(file, 'utf8')
    // lib/image.js and the files that use it or the addon's image tables.
    const imageFile = file.endsWith(`${path.sep}image.js`) || /require\('\.{1,2}\/image'\)|\bImage(Name|Default|Range)\b/.test(text)
    text.split('\n').forEach((line, i) => {
      if (/^\s*(\/\/|\*)/.test(line)) return
      if (imageFile && (aName.test(line) || aFormatList.test(line) || anEngineNumber(line) || aSmallOne.test(line))) found.push(`${path.relative(ROOT, file)}:${i + 1}: ${line.trim()}`)
    })
  }
  assert.deepEqual(found, [], "lib/ writes down a name, default or range of the image engine's")
})

// Every table replaced by one that throws on a name it does not have: a name lib/ reads that
// the addon lost (or never had) fails here, at load (tables are destructured there) or at the call.
test('every contract name lib/ reads exists in the addon', async () => {
  const originals = {}
  for (const name of [...TABLES, ...IMAGE_TABLES]) {
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

    // Every image option that crosses the boundary, a metadata read and the thread count.
    const photo = path.resolve(ROOT, '..', 'shared', 'fixtures', 'images', '320x240.jpg')
    const overlay = await offload.resize(photo, { width: 8, height: 8, format: 'png' })
    const thumb = await offload.resize(photo, {
      width: 40, height: 40, fit: 'contain', position: 'right top', kernel: 'cubic', withoutEnlargement: true, background: '#ff000080',
      format: 'jpg', quality: 70, jpeg: { progressive: true, chromaSubsampling: '4:4:4' }, png: { compressionLevel: 3 }, webp: { lossless: true, effort: 2 },
      avif: { effort: 1 }, autoOrient: false, keepMetadata: true, composite: [{ input: overlay, gravity: 'southeast', opacity: 0.5 }, { input: overlay, top: 1, left: 2 }],
      limitInputPixels: 10_000_000, signal: new AbortController().signal, animated: true, failOn: 'none', resolveWithObject: true,
    })
    assert.deepEqual([thumb.info.format, thumb.info.width, thumb.info.height, thumb.info.size], ['jpeg', 40, 40, thumb.data.length])
    assert.equal((await offload.metadata(thumb.data)).format, 'jpeg')
    const raw = await offload.resize(Buffer.alloc(2 * 2 * 3), { raw: { width: 2, height: 2, channels: 3 }, width: 1, resolveWithObject: true })
    assert.equal(raw.info.format, 'raw')
    assert.ok(offload.formats.jpeg.output.file && !offload.formats.tiff.output.file)
    offload.setConcurrency(offload.getConcurrency())

    const pool = new offload.Pool({ script: fixture('pool-worker.js'), size: 1 })
    try {
      assert.equal((await pool.run({ i: 21 })).doubled, 42)
    } finally {
      await pool.close()
    }
  } finally {
    for (const name of [...TABLES, ...IMAGE_TABLES]) binding[name] = originals[name]
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

// JS validates, Rust trusts: src/js/spawn.rs and spawn_sync.rs only debug_assert! that no NUL
// byte reaches them, so every public way to a launch must refuse one first, in lib/, with
// Node's ERR_INVALID_ARG_VALUE. The addon's spawn and spawnSync are wrapped to record any call
// that carries a NUL byte; none may.
test('a NUL byte is refused in lib/ on every public path to a launch, before the addon is called', async () => {
  const offload = require('../index.js')
  const cp = require('../lib/child_process.js')
  const { spawn, spawnSync, createPool } = binding
  const leaked = []
  const hasNul = (value) =>
    (typeof value === 'string' && value.includes('\0')) || (Array.isArray(value) && value.some(hasNul)) || (value !== null && typeof value === 'object' && !Array.isArray(value) && !ArrayBuffer.isView(value) && Object.values(value).some(hasNul))
  binding.spawn = function (...args) {
    if (hasNul(args.slice(2, 7))) leaked.push(['spawn', args[2], args[3]])
    return spawn.apply(this, args)
  }
  binding.spawnSync = function (options) {
    if (hasNul(options)) leaked.push(['spawnSync', options.file, options.args])
    return spawnSync.call(this, options)
  }
  binding.createPool = function (...args) {
    if (hasNul(args.slice(3))) leaked.push(['createPool', args[3]])
    return createPool.apply(this, args)
  }
  const nulUrl = new URL('file:///tmp/a%00b')
  const fixture = path.join(ROOT, '__test__', 'fixtures', 'echo-once.js')
  const paths = {
    'spawn: file': () => offload.spawn('tr\0ue'),
    'spawn: args': () => offload.spawn('true', ['a\0b']),
    'spawn: cwd': () => offload.spawn('true', [], { cwd: '/tmp\0' }),
    'spawn: cwd as a file: URL with %00 (regression: a file: URL with %00 passed the path check of lib/options.js)': () => offload.spawn('true', [], { cwd: nulUrl }),
    'spawn: env value': () => offload.spawn('true', [], { env: { A: 'a\0b' } }),
    'spawn: env key': () => offload.spawn('true', [], { env: { 'A\0B': 'x' } }),
    'spawn: argv0': () => offload.spawn('true', [], { argv0: 'a\0b' }),
    'spawn: stdin file': () => offload.spawn('true', [], { stdin: { file: '/tmp/a\0b' } }),
    'spawn: stdout file URL with %00 (regression: a file: URL with %00 passed the path check of lib/options.js)': () => offload.spawn('true', [], { stdout: { file: nulUrl } }),
    'spawn: stderr file': () => offload.spawn('true', [], { stderr: { file: '/tmp/a\0b' } }),
    'execFile: args': () => offload.execFile('true', ['a\0b']),
    'exec: command': () => offload.exec('true\0'),
    'exec: shell': () => offload.exec('true', { shell: '/bin/sh\0' }),
    '$: a value': () => offload.$`true ${'a\0b'}`,
    '$(options): a value': () => offload.$({ stdout: 'ignore' })`true ${['a', 'b\0']}`,
    'fork: modulePath': () => offload.fork('/tmp/a\0.js'),
    'fork: modulePath as a file: URL with %00': () => offload.fork(nulUrl),
    'fork: args': () => offload.fork(fixture, ['a\0b']),
    'fork: execPath': () => offload.fork(fixture, [], { execPath: 'node\0' }),
    'fork: execArgv (regression: fork() let a NUL byte in execArgv through to the addon)': () => offload.fork(fixture, [], { execArgv: ['--no\0'] }),
    'pipe: the next stage': () => offload.spawn('true', [], { stdout: 'pipe' }).pipe('cat', ['a\0b']),
    'pipeline: a stage': () => offload.pipeline(['true'], ['cat', 'a\0b']),
    'child_process.spawn: file': () => cp.spawn('tr\0ue'),
    'child_process.spawn: args': () => cp.spawn('true', ['a\0b']),
    'child_process.spawn: cwd': () => cp.spawn('true', [], { cwd: '/tmp\0' }),
    'child_process.spawn: env': () => cp.spawn('true', [], { env: { A: 'a\0b' } }),
    'child_process.spawn: argv0': () => cp.spawn('true', [], { argv0: 'a\0b' }),
    'child_process.spawn: shell': () => cp.spawn('true', [], { shell: '/bin/sh\0' }),
    'child_process.execFile: args': () => cp.execFile('true', ['a\0b'], () => {}),
    'child_process.exec: command': () => cp.exec('true\0', () => {}),
    'child_process.fork: args': () => cp.fork(fixture, ['a\0b']),
    'child_process.fork: execArgv': () => cp.fork(fixture, [], { execArgv: ['--no\0'] }),
    'child_process.fork: execPath': () => cp.fork(fixture, [], { execPath: 'node\0' }),
    'child_process.spawnSync: file': () => cp.spawnSync('tr\0ue'),
    'child_process.spawnSync: args': () => cp.spawnSync('true', ['a\0b']),
    'child_process.spawnSync: cwd': () => cp.spawnSync('true', [], { cwd: '/tmp\0' }),
    'child_process.spawnSync: env': () => cp.spawnSync('true', [], { env: { A: 'a\0b' } }),
    'child_process.spawnSync: argv0': () => cp.spawnSync('true', [], { argv0: 'a\0b' }),
    'child_process.execFileSync: args': () => cp.execFileSync('true', ['a\0b']),
    'child_process.execSync: command': () => cp.execSync('true\0'),
    // Node's launcher cuts these at the NUL; offload refuses them.
    'ChildProcess#spawn: file (regression: ChildProcess#spawn let a NUL byte in file through to the addon)': () =>
      new cp.ChildProcess().spawn({ file: 'tr\0ue', args: ['true'], stdio: 'ignore' }),
    'ChildProcess#spawn: args (regression: ChildProcess#spawn let a NUL byte in args through to the addon)': () =>
      new cp.ChildProcess().spawn({ file: 'true', args: ['true', 'a\0b'], stdio: 'ignore' }),
    'ChildProcess#spawn: envPairs': () => new cp.ChildProcess().spawn({ file: 'true', args: ['true'], envPairs: ['A=a\0b'], stdio: 'ignore' }),
    'ChildProcess#spawn: cwd': () => new cp.ChildProcess().spawn({ file: 'true', args: ['true'], cwd: '/tmp\0', stdio: 'ignore' }),
    'Pool: script': () => new offload.Pool({ script: '/tmp/a\0.js', minSize: 0 }),
    'Pool: args': () => new offload.Pool({ script: fixture, args: ['a\0b'], minSize: 0 }),
    'Pool: execPath': () => new offload.Pool({ script: fixture, execPath: 'node\0', minSize: 0 }),
    'Pool: execArgv': () => new offload.Pool({ script: fixture, execArgv: ['--no\0'], minSize: 0 }),
    'Pool: command': () => new offload.Pool({ command: ['cat', 'a\0b'], minSize: 0 }),
    'Pool: cwd': () => new offload.Pool({ command: ['cat'], cwd: '/tmp\0', minSize: 0 }),
    'Pool: env value (regression: a NUL byte in a Pool\'s env reached the spawner thread and panicked it)': () =>
      new offload.Pool({ command: ['cat'], env: { A: 'a\0b' }, minSize: 0 }),
    'Pool: env key': () => new offload.Pool({ command: ['cat'], env: { 'A\0B': 'x' }, minSize: 0 }),
  }
  const notRefused = []
  try {
    for (const [name, call] of Object.entries(paths)) {
      try {
        const started = call()
        notRefused.push(`${name}: returned ${started?.constructor?.name}`)
        started?.kill?.()
        started?.destroy?.()
      } catch (err) {
        if (err.code !== 'ERR_INVALID_ARG_VALUE' || !/null bytes/.test(err.message)) notRefused.push(`${name}: ${err.code} ${err.message}`)
      }
    }
  } finally {
    binding.spawn = spawn
    binding.spawnSync = spawnSync
    binding.createPool = createPool
  }
  assert.deepEqual(notRefused, [], 'paths that did not throw ERR_INVALID_ARG_VALUE for a NUL byte')
  assert.deepEqual(leaked, [], 'calls of the addon that carried a NUL byte')
})

// The kill's outcome crosses as a number: no error text for lib/ to parse. Each one is produced
// here by a real child; the refusal by a signal number the OS does not have (lib/ validates
// signals, so only the native call can send one).
test('the native kill reports sent (1), no child to signal (0), or the OS refusal as Node errno', async () => {
  const { constants } = require('node:os')
  const offload = require('../index.js')
  const child = offload.spawn('sleep', ['30'], { stdin: 'ignore', stdout: 'ignore', stderr: 'ignore', reject: false })
  assert.ok(child.pid > 0)
  assert.equal(child._native.kill(0), 1)
  assert.equal(child._native.kill(1000), -constants.errno.EINVAL)
  assert.equal(child.kill('SIGKILL'), true)
  assert.equal((await child).signal, 'SIGKILL')
  const failed = offload.spawn('/nonexistent/offload-contracts', [], { reject: false })
  await failed
  assert.equal(failed._native.kill(0), 0)
})

// lib/errors.js cannot load the addon (lib/binding.js uses it), so it writes the launch steps'
// names down; they must be names src/js/payload.rs sends.
test('the launch steps lib/errors.js words are the ones the addon names', () => {
  const source = fs.readFileSync(path.join(ROOT, 'lib', 'errors.js'), 'utf8')
  const table = /const LAUNCH_STEPS = \{([\s\S]*?)\n\}/.exec(source)[1]
  const used = [...table.matchAll(/^\s*(\w+):/gm), ...source.matchAll(/failure\.step\s*[!=]==\s*'(\w+)'/g)].map((m) => m[1])
  assert.ok(used.length >= 5, `found the steps lib/errors.js uses: ${used}`)
  const named = Object.values(binding.LaunchStep)
  assert.deepEqual(used.filter((step) => !named.includes(step)), [], `steps the addon does not name (it names ${named})`)
})


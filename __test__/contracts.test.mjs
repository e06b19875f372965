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

const TABLES = ['SpawnSlot', 'SpawnText', 'StdioKind', 'SpawnFlag', 'FdEntry', 'EventKind', 'SpawnDefault', 'ImageSlot', 'ImageOverlaySlot', 'ImageFlag']
/** The image tables that hold names, lists and booleans besides numbers. */
const IMAGE_TABLES = ['ImageName', 'ImageDefault', 'ImageRange']

const distinct = (values) => new Set(values).size === values.length

test('the addon exports every contract table, each a set of whole numbers', () => {
  for (const name of TABLES) {
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

test('spawn slots are distinct places inside the settings array, the six limits last', () => {
  for (const [table, lenName] of [[binding.SpawnSlot, 'LEN'], [binding.SpawnText, 'LEN'], [binding.ImageSlot, 'LEN'], [binding.ImageOverlaySlot, 'LEN']]) {
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

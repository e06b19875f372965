// One error shape for each kind of failure (issue 16): every abort, by any API,
// is an AbortError with code ERR_OFFLOAD_ABORTED and cause signal.reason; image
// file errors are exactly fs's; a failed child is only blamed on its memory limit
// when the evidence says so; every code is declared in lib/errors.js and listed
// in the README.
import { test, describe } from 'node:test'
import assert from 'node:assert/strict'
import childProcess from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'
import { fileURLToPath } from 'node:url'
import { createRequire } from 'node:module'

import { spawn, execFile, exec, $, fork, pipeline, Pool, SubprocessError, resize, resizeFile, metadata } from '../index.js'
import * as dropIn from '../lib/child_process.js'
import { pollUntil } from './lib/proc.mjs'

const require = createRequire(import.meta.url)
const { CODES } = require('../lib/errors.js')
const repoRoot = fileURLToPath(new URL('..', import.meta.url))
const fixture = (name) => path.join(repoRoot, '__test__', 'fixtures', name)
const PHOTO = path.resolve(repoRoot, '..', 'shared', 'fixtures', 'images', 'flowers.jpeg')
const NODE = process.execPath
const MIB = 1024 * 1024

function tmpdir(t) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'offload-errors-'))
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }))
  return dir
}

/** Asserts `err` is the one abort shape, caused by `reason`. */
function assertAbort(err, reason, what) {
  assert.ok(err instanceof Error, `${what}: an Error`)
  assert.equal(err.name, 'AbortError', `${what}: name`)
  assert.equal(err.code, 'ERR_OFFLOAD_ABORTED', `${what}: code`)
  assert.equal(err.cause, reason, `${what}: cause is signal.reason`)
}

/** A reason and a signal that fires with it once `child` has started (or at once). */
function abortWhenSpawned(child, controller, reason) {
  if (child.pid !== undefined) controller.abort(reason)
  else child.once('spawn', () => controller.abort(reason))
}

describe('aborts were AbortError for images, SubprocessError for subprocesses and a plain Error for the pool', () => {
  test('images: before and during the work', async () => {
    const reason = new Error('image not needed')
    const before = await resize(PHOTO, { width: 100, signal: AbortSignal.abort(reason) }).catch((e) => e)
    assertAbort(before, reason, 'resize, already aborted')
    const controller = new AbortController()
    const running = resize(PHOTO, { width: 100, signal: controller.signal })
    controller.abort(reason)
    assertAbort(await running.catch((e) => e), reason, 'resize, running')
    const toFile = resizeFile(PHOTO, path.join(os.tmpdir(), `offload-never-${process.pid}.jpg`), { width: 10, signal: AbortSignal.abort(reason) })
    assertAbort(await toFile.catch((e) => e), reason, 'resizeFile')
  })

  test('subprocesses: spawn, execFile, exec, $, fork and pipeline, before the start and while running; still SubprocessErrors', async () => {
    const reason = new Error('not any more')
    const starts = {
      spawn: (signal) => spawn('sleep', ['10'], { signal }),
      execFile: (signal) => execFile('sleep', ['10'], { signal }),
      exec: (signal) => exec('sleep 10', { signal }),
      $: (signal) => $({ signal })`sleep 10`,
      fork: (signal) => fork(fixture('cp-echo-ipc.js'), ['child'], { signal }),
      pipeline: (signal) => pipeline({ file: 'sleep', args: ['10'], options: { signal } }, ['cat']),
    }
    for (const [name, start] of Object.entries(starts)) {
      const before = await start(AbortSignal.abort(reason)).catch((e) => e)
      assertAbort(before, reason, `${name}, already aborted`)
      assert.ok(before instanceof SubprocessError, `${name}: a SubprocessError`)
      assert.equal(before.canceled, true)

      const controller = new AbortController()
      const running = start(controller.signal)
      if (typeof running.once === 'function') abortWhenSpawned(running, controller, reason)
      else setImmediate(() => controller.abort(reason)) // execFile and exec return a plain Promise
      const err = await running.catch((e) => e)
      assertAbort(err, reason, `${name}, running`)
      assert.ok(err instanceof SubprocessError, `${name}: a SubprocessError`)
      assert.equal(err.canceled, true)
      assert.equal(typeof err.durationMs, 'number', `${name}: the result fields are kept`)
      assert.match(err.message, /aborted/)
    }
  })

  test('Pool.run: already aborted, queued, and running on a serve() worker', async () => {
    const pool = new Pool({ script: fixture('pool-serve.js'), size: 1 })
    try {
      const reason = new Error('task not needed')
      assertAbort(await pool.run({}, { signal: AbortSignal.abort(reason) }).catch((e) => e), reason, 'run, already aborted')
      const controller = new AbortController()
      const running = pool.run({ ms: 30_000, key: 'r' }, { handler: 'wait', signal: controller.signal })
      const queued = pool.run({ ms: 30_000, key: 'q' }, { handler: 'wait', signal: controller.signal })
      await pollUntil(() => pool.stats().busy === 1 && pool.stats().queued === 1, { what: 'the first task to run, the second to wait' })
      controller.abort(reason)
      assertAbort(await running.catch((e) => e), reason, 'run, running')
      assertAbort(await queued.catch((e) => e), reason, 'run, queued')
    } finally {
      await pool.destroy()
    }
  })

  test("offload/child_process keeps Node's own AbortError (code ABORT_ERR), for execFile as for spawn", async () => {
    const shape = (err) => ({ name: err.name, code: err.code, message: err.message, cause: err.cause, constructor: err.constructor.name })
    const reason = new Error('stop')
    const node = await promisify(childProcess.execFile)('sleep', ['10'], { signal: AbortSignal.abort(reason) }).catch((e) => e)
    const ours = await promisify(dropIn.execFile)('sleep', ['10'], { signal: AbortSignal.abort(reason) }).catch((e) => e)
    assert.deepEqual(shape(ours), shape(node))
    assert.equal(ours.code, 'ABORT_ERR')
  })
})

describe("image file errors read 'ENOENT: No such file or directory (os error 2)' with no errno, syscall or path", () => {
  const fields = (err) => ({ message: err.message, code: err.code, errno: err.errno, syscall: err.syscall, path: err.path, keys: Object.keys(err).sort() })

  test('a missing input is what fs.promises.readFile gives', async () => {
    const fsError = fields(await fs.promises.readFile('/nope.jpg').catch((e) => e))
    assert.equal(fsError.message, "ENOENT: no such file or directory, open '/nope.jpg'")
    assert.deepEqual(fields(await resize('/nope.jpg', { width: 10 }).catch((e) => e)), fsError)
    assert.deepEqual(fields(await metadata('/nope.jpg').catch((e) => e)), fsError)
    assert.deepEqual(fields(await resizeFile('/nope.jpg', path.join(os.tmpdir(), 'never.png')).catch((e) => e)), fsError)
    const overlay = await resize(PHOTO, { width: 100, composite: [{ input: '/nope.jpg' }] }).catch((e) => e)
    assert.deepEqual(fields(overlay), fsError)
  })

  test('a directory as input is what fs.promises.readFile gives (EISDIR at read, no path)', async (t) => {
    const dir = tmpdir(t)
    const fsError = fields(await fs.promises.readFile(dir).catch((e) => e))
    assert.equal(fsError.code, 'EISDIR')
    assert.deepEqual(fields(await metadata(dir).catch((e) => e)), fsError)
    assert.deepEqual(fields(await resize(dir, { width: 10 }).catch((e) => e)), fsError)
  })

  test('an output path that cannot be written is what fs.promises.writeFile gives: EISDIR, ENOENT, EACCES', async (t) => {
    const dir = tmpdir(t)
    const asDirectory = path.join(dir, 'taken.jpg')
    fs.mkdirSync(asDirectory)
    // /sys refuses new files even to root, so EACCES is tested whoever runs this.
    const outputs = { EISDIR: asDirectory, ENOENT: path.join(dir, 'missing', 'out.jpg'), EACCES: '/sys/offload-test.jpg' }
    for (const [code, output] of Object.entries(outputs)) {
      const fsError = fields(await fs.promises.writeFile(output, 'x').catch((e) => e))
      assert.equal(fsError.code, code)
      assert.deepEqual(fields(await resizeFile(PHOTO, output, { width: 10 }).catch((e) => e)), fsError, code)
    }
    assert.deepEqual(fs.readdirSync(dir).sort(), ['taken.jpg'], 'no temporary file is left behind')
  })
})

describe('a failed subprocess blamed options.limits.memoryBytes whenever it exited 1', () => {
  test('a child with limits.memoryBytes that simply exits 1 gets no limit hint', async () => {
    const err = await execFile('sh', ['-c', 'echo nothing to do with memory >&2; exit 1'], { limits: { memoryBytes: 256 * MIB } }).catch((e) => e)
    assert.equal(err.code, 'ERR_OFFLOAD_EXIT_CODE')
    assert.equal(err.message, "Command failed with exit code 1: sh -c 'echo nothing to do with memory >&2; exit 1'\n\nnothing to do with memory")
    const killed = await execFile('sh', ['-c', 'kill -SEGV $$'], { limits: { memoryBytes: 256 * MIB } }).catch((e) => e)
    assert.equal(killed.code, 'ERR_OFFLOAD_SIGNAL')
    assert.doesNotMatch(killed.message, /memory/)
  })

  test('a child that runs into limits.memoryBytes is told so, with its peak', async () => {
    const err = await execFile(NODE, [fixture('proc-alloc.mjs'), '400'], { limits: { memoryBytes: 256 * MIB }, timeout: 30_000 }).catch((e) => e)
    assert.ok(err instanceof SubprocessError)
    assert.ok(['ERR_OFFLOAD_EXIT_CODE', 'ERR_OFFLOAD_SIGNAL'].includes(err.code), err.code)
    assert.match(err.message, /\(it was near its memory limit: peak \d+\.\d MiB of options\.limits\.memoryBytes = 268435456 \(256\.0 MiB\)\)/)
  })

  test('a child that runs into limits.cpuSeconds is told so by its code', async () => {
    const err = await execFile(NODE, [fixture('proc-busy.mjs')], { limits: { cpuSeconds: 1 }, timeout: 30_000 }).catch((e) => e)
    assert.equal(err.code, 'ERR_OFFLOAD_CPU_LIMIT')
    assert.match(err.message, /options\.limits\.cpuSeconds = 1/)
  })
})

describe('error classes and codes were spread over lib/pool.js, lib/image.js, lib/worker.js, lib/child_process.js', () => {
  const sources = (dir, ext) =>
    fs.readdirSync(path.join(repoRoot, dir), { recursive: true })
      .filter((f) => f.endsWith(ext) && !f.endsWith('tests.rs'))
      .map((f) => fs.readFileSync(path.join(repoRoot, dir, f), 'utf8'))
  const codesIn = (texts) => new Set(texts.flatMap((text) => text.match(/ERR_OFFLOAD_[A-Z_]+[A-Z]/g) ?? []))

  test('every code raised in lib/ and src/ is declared in lib/errors.js, and every declared one is raised', () => {
    // lib/errors.js raises codes too, after its declarations.
    const withoutDeclarations = (text) => text.replace(/const CODES = Object\.freeze\(\{[\s\S]*?\n\}\)/, '')
    const raised = codesIn([...sources('lib', '.js').map(withoutDeclarations), ...sources('src', '.rs')])
    const declared = new Set(Object.keys(CODES))
    assert.deepEqual([...raised].filter((c) => !declared.has(c)), [], 'raised but not declared')
    const unraised = [...declared].filter((c) => !raised.has(c))
    assert.deepEqual(unraised, [], 'declared but never raised')
  })

  test("the README's error table lists exactly the declared codes", () => {
    const readme = fs.readFileSync(path.join(repoRoot, 'README.md'), 'utf8')
    const section = readme.slice(readme.indexOf('\n## Errors\n'), readme.indexOf('\n## ', readme.indexOf('\n## Errors\n') + 1))
    const rows = section.split('\n').filter((line) => line.startsWith('| `'))
    const listed = rows.flatMap((row) => row.split(' | ')[0].match(/ERR_OFFLOAD_[A-Z_]+[A-Z]/g) ?? [])
    assert.deepEqual([...listed].sort(), Object.keys(CODES).sort())
  })

  test('misuse that threw code-less Errors has codes: pipe() from a child whose stdout is not a pipe, empty pipelines, script options on a command pool', async () => {
    const quiet = spawn('true', [], { stdout: 'ignore' })
    assert.throws(() => quiet.pipe('cat'), { code: 'ERR_OFFLOAD_STDOUT_UNAVAILABLE', message: /cannot pipe from true: its stdout is not a pipe/ })
    await assert.rejects(async () => {
      for await (const line of quiet.lines()) void line
    }, { code: 'ERR_OFFLOAD_STDOUT_UNAVAILABLE' })
    await quiet
    assert.throws(() => pipeline(), { code: 'ERR_INVALID_ARG_VALUE', name: 'TypeError' })
    assert.throws(() => pipeline(['true'], []), { code: 'ERR_INVALID_ARG_VALUE', message: /stages\[1\]' is empty/ })
    assert.throws(() => new Pool({ command: ['cat'], args: ['-n'] }), { code: 'ERR_INVALID_ARG_VALUE', message: /'args', which only a 'script' pool takes/ })
  })
})

// The README's migration guide, checked. Every row that says offload behaves like
// child_process, execa, piscina or sharp runs both on the same input and compares;
// every difference the guide calls out is pinned here too, so the guide cannot
// silently rot: change a behaviour and this file names the row to update.
import { test, describe, before, after } from 'node:test'
import assert from 'node:assert/strict'
import childProcess from 'node:child_process'
import { once } from 'node:events'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'
import { fileURLToPath } from 'node:url'

import { execa, execaNode, $ as execa$ } from 'execa'
import { Piscina } from 'piscina'
import sharp from 'sharp'
import * as offload from 'offload'
import * as dropIn from 'offload/child_process'
import { alive, pollUntil } from './lib/proc.mjs'

const fixture = (name) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url))
const image = (name) => fileURLToPath(new URL(`../../shared/fixtures/images/${name}`, import.meta.url))
const ECHO_ONCE = fixture('echo-once.js')
const FAILING = "echo out; echo err >&2; exit 3"
const TWO_MIB = String(2 * 1024 * 1024)

describe('from child_process', () => {
  test('execFile: the same output, with one final newline stripped (stripFinalNewline: false keeps it)', async () => {
    const node = await promisify(childProcess.execFile)('printf', ['a\\nb\\n'])
    const ours = await offload.execFile('printf', ['a\\nb\\n'])
    assert.equal(ours.stdout, node.stdout.slice(0, -1))
    assert.equal((await offload.execFile('printf', ['a\\nb\\n'], { stripFinalNewline: false })).stdout, node.stdout)
  })

  test('exec: the same /bin/sh', async () => {
    const command = 'echo $((6 * 7)) | tr 4 x'
    const node = await promisify(childProcess.exec)(command)
    assert.equal((await offload.exec(command)).stdout, node.stdout.trimEnd())
  })

  test('a failed command: error.code is ERR_OFFLOAD_EXIT_CODE, the exit code is error.exitCode', async () => {
    const node = await promisify(childProcess.execFile)('sh', ['-c', FAILING]).catch((e) => e)
    const ours = await offload.execFile('sh', ['-c', FAILING]).catch((e) => e)
    assert.equal(node.code, 3)
    assert.equal(ours.code, 'ERR_OFFLOAD_EXIT_CODE')
    assert.equal(ours.exitCode, 3)
    assert.equal(ours.stderr, node.stderr.trimEnd())
    assert.equal(ours.stdout, node.stdout.trimEnd())
    assert.ok(ours instanceof offload.SubprocessError)
  })

  test('a launch failure: the same ENOENT fields', async () => {
    const node = await promisify(childProcess.execFile)('no-such-command-offload').catch((e) => e)
    const ours = await offload.execFile('no-such-command-offload').catch((e) => e)
    for (const field of ['code', 'errno', 'syscall', 'path', 'spawnargs']) assert.deepEqual(ours[field], node[field], field)
  })

  test('timeout + killSignal: killed with the same signal, reported as ERR_OFFLOAD_TIMEOUT / timedOut', async () => {
    const options = { timeout: 100, killSignal: 'SIGINT' }
    const node = await promisify(childProcess.execFile)('sleep', ['30'], options).catch((e) => e)
    const ours = await offload.execFile('sleep', ['30'], options).catch((e) => e)
    assert.equal(node.killed, true)
    assert.equal(ours.signal, node.signal)
    assert.equal(ours.signal, 'SIGINT')
    assert.equal(ours.code, 'ERR_OFFLOAD_TIMEOUT')
    assert.equal(ours.timedOut, true)
  })

  test('AbortSignal: an AbortError with its cause, as Node, but code ERR_OFFLOAD_ABORTED and canceled', async () => {
    const nodeAbort = new AbortController()
    const node = promisify(childProcess.execFile)('sleep', ['30'], { signal: nodeAbort.signal }).catch((e) => e)
    nodeAbort.abort()
    const ourAbort = new AbortController()
    const ours = offload.execFile('sleep', ['30'], { signal: ourAbort.signal }).catch((e) => e)
    ourAbort.abort()
    const nodeErr = await node
    assert.equal(nodeErr.code, 'ABORT_ERR')
    const err = await ours
    assert.equal(err.name, nodeErr.name)
    assert.equal(err.cause, ourAbort.signal.reason)
    assert.equal(nodeErr.cause, nodeAbort.signal.reason)
    assert.equal(err.code, 'ERR_OFFLOAD_ABORTED')
    assert.equal(err.canceled, true)
  })

  test("killTree: a timeout reaches the shell's children too", async () => {
    const err = await offload.exec('sleep 30 & echo $!; wait', { timeout: 100, killTree: true }).catch((e) => e)
    assert.equal(err.code, 'ERR_OFFLOAD_TIMEOUT')
    assert.match(err.stdout, /^\d+$/, 'the shell said the pid of its background child')
    // Dead means gone or a zombie waiting for its new parent.
    await pollUntil(() => !alive(Number(err.stdout)), { what: 'the background sleep to be killed with its shell' })
  })

  test('maxBuffer: 1 MiB in Node, 100 MiB in offload; past it ERR_OFFLOAD_MAX_BUFFER, cut at maxBuffer', async () => {
    const node = await promisify(childProcess.execFile)('head', ['-c', TWO_MIB, '/dev/zero']).catch((e) => e)
    assert.equal(node.code, 'ERR_CHILD_PROCESS_STDIO_MAXBUFFER')
    assert.equal((await offload.execFile('head', ['-c', TWO_MIB, '/dev/zero'])).stdout.length, 2 * 1024 * 1024)
    const cut = await offload.execFile('head', ['-c', TWO_MIB, '/dev/zero'], { maxBuffer: 1024 * 1024 }).catch((e) => e)
    assert.equal(cut.code, 'ERR_OFFLOAD_MAX_BUFFER')
    assert.equal(cut.stdout.length, node.stdout.length)
  })

  test('env: Node replaces the environment, offload merges over it unless extendEnv: false', async () => {
    const args = ['-p', 'process.env.HOME + " " + process.env.MIGRATION']
    const env = { MIGRATION: 'yes' }
    const node = await promisify(childProcess.execFile)(process.execPath, args, { env })
    assert.equal(node.stdout, 'undefined yes\n')
    assert.equal((await offload.execFile(process.execPath, args, { env })).stdout, `${process.env.HOME} yes`)
    assert.equal((await offload.execFile(process.execPath, args, { env, extendEnv: false })).stdout, node.stdout.trimEnd())
    assert.equal((await promisify(dropIn.execFile)(process.execPath, args, { env })).stdout, node.stdout)
  })

  test('stdio: [in, out, err] becomes stdin, stdout, stderr options; stdio itself is refused', async () => {
    const script = 'cat; echo hidden >&2'
    const node = childProcess.spawn('sh', ['-c', script], { stdio: ['pipe', 'pipe', 'ignore'] })
    const ours = offload.spawn('sh', ['-c', script], { stdin: 'pipe', stdout: 'pipe', stderr: 'ignore' })
    assert.equal(node.stderr, null)
    assert.equal(ours.stderr, null)
    node.stdin.end('typed')
    ours.stdin.end('typed')
    let nodeOut = ''
    node.stdout.on('data', (chunk) => (nodeOut += chunk))
    await once(node, 'close')
    assert.equal((await ours).stdout, nodeOut)
    assert.throws(() => offload.spawn('true', [], { stdio: 'inherit' }), { code: 'ERR_INVALID_ARG_VALUE' })
  })

  test("spawn: 'exit' and 'close' carry the same (code, signal), for an exit and for kill()", async () => {
    async function events(spawn, file, args, kill) {
      const child = spawn(file, args)
      if (kill) child.once('spawn', () => child.kill())
      const exit = once(child, 'exit')
      const close = once(child, 'close')
      return { exit: await exit, close: await close }
    }
    for (const [file, args, kill] of [['sh', ['-c', 'exit 2'], false], ['sleep', ['30'], true]]) {
      const node = await events(childProcess.spawn, file, args, kill)
      const ours = await events(offload.spawn, file, args, kill)
      assert.deepEqual(ours, node)
    }
  })

  test('fork: the same unmodified child; send() returns a promise', async () => {
    const node = childProcess.fork(ECHO_ONCE)
    const nodeReply = once(node, 'message')
    const nodeClosed = once(node, 'close')
    node.send({ hello: 1 })
    const ours = offload.fork(ECHO_ONCE)
    const ourReply = once(ours, 'message')
    await ours.send({ hello: 1 })
    assert.deepEqual((await ourReply)[0], (await nodeReply)[0])
    await nodeClosed
    assert.equal((await ours).exitCode, 0)
  })

  test('offload/child_process: a typical snippet runs the same under both modules', async () => {
    async function snippet(cp) {
      const log = []
      const child = cp.spawn('sh', ['-c', FAILING])
      let out = ''
      let err = ''
      child.stdout.on('data', (data) => (out += data))
      child.stderr.on('data', (data) => (err += data))
      const [code, signal] = await once(child, 'close')
      log.push({ out, err, code, signal })
      log.push(
        await new Promise((resolve) => {
          cp.exec('printf "a\\nb\\n" | wc -l; exit 1', (error, stdout, stderr) => {
            resolve({ code: error.code, killed: error.killed, signal: error.signal, cmd: error.cmd, stdout: stdout.trim(), stderr })
          })
        }),
      )
      log.push(await promisify(cp.execFile)('echo', ['plain']))
      log.push(await promisify(cp.execFile)('sleep', ['30'], { timeout: 100 }).catch((e) => ({ code: e.code, killed: e.killed, signal: e.signal })))
      const missing = await promisify(cp.execFile)('no-such-command-offload').catch((e) => e)
      log.push({ code: missing.code, errno: missing.errno, syscall: missing.syscall, path: missing.path, spawnargs: missing.spawnargs })
      const forked = cp.fork(ECHO_ONCE)
      const reply = once(forked, 'message')
      const closed = once(forked, 'close')
      forked.send({ hello: 'child' })
      log.push(await reply, await closed)
      return log
    }
    assert.deepEqual(await snippet(dropIn), await snippet(childProcess))
  })

  test('the sync functions: offload/child_process has Node\'s, offload\'s own API has none (it exists not to block)', () => {
    for (const name of ['execSync', 'execFileSync', 'spawnSync']) {
      assert.equal(typeof dropIn[name], 'function', name)
      assert.equal(offload[name], undefined, name)
    }
    const script = 'echo "$1" >&2; echo out'
    assert.deepEqual(dropIn.execFileSync('sh', ['-c', script, 'sh', 'err'], { stdio: 'pipe' }), childProcess.execFileSync('sh', ['-c', script, 'sh', 'err'], { stdio: 'pipe' }))
  })
})

describe('from execa', () => {
  test('$: each value is one argument, an array one per element, as in execa', async () => {
    const name = "it's a file; rm -rf x.txt"
    const list = ['b c', 'd']
    const theirs = await execa$`printf %s| ${name} -x ${list} --out=${name}`
    const ours = await offload.$`printf %s| ${name} -x ${list} --out=${name}`
    assert.equal(ours.stdout, theirs.stdout)
    assert.equal(ours.stdout, `${name}|-x|b c|d|--out=${name}|`)
  })

  test('result fields: stdout, stderr, exitCode, failed, timedOut, canceled; the same first line of message', async () => {
    const theirs = await execa('sh', ['-c', FAILING], { reject: false })
    const ours = await offload.execFile('sh', ['-c', FAILING], { reject: false })
    for (const field of ['stdout', 'stderr', 'exitCode', 'failed', 'timedOut']) {
      assert.deepEqual(ours[field], theirs[field], field)
    }
    assert.equal(ours.message.split('\n')[0], theirs.shortMessage)
    assert.equal(ours.message, `${theirs.shortMessage}\n\nerr\nout`, 'stderr, then stdout, one newline apart')
    assert.equal(ours.canceled, theirs.isCanceled)
    assert.equal(ours.command, theirs.escapedCommand)
    assert.equal(typeof ours.durationMs, 'number')
    // Where they differ: offload has a code and uses null, execa undefined.
    assert.equal(theirs.code, undefined)
    assert.equal(ours.code, 'ERR_OFFLOAD_EXIT_CODE')
    assert.equal(theirs.signal, undefined)
    assert.equal(ours.signal, null)
    assert.ok(ours instanceof offload.SubprocessError)
  })

  test('timeout: timedOut, killed with SIGTERM', async () => {
    const theirs = await execa('sleep', ['30'], { timeout: 100 }).catch((e) => e)
    const ours = await offload.execFile('sleep', ['30'], { timeout: 100 }).catch((e) => e)
    assert.equal(ours.timedOut, theirs.timedOut)
    assert.equal(ours.signal, theirs.signal)
    assert.equal(ours.code, 'ERR_OFFLOAD_TIMEOUT')
  })

  test('cancelSignal becomes signal, isCanceled becomes canceled', async () => {
    const theirs = await execa('sleep', ['30'], { cancelSignal: AbortSignal.abort() }).catch((e) => e)
    const ours = await offload.execFile('sleep', ['30'], { signal: AbortSignal.abort() }).catch((e) => e)
    assert.equal(theirs.isCanceled, true)
    assert.equal(ours.canceled, true)
    assert.equal(ours.code, 'ERR_OFFLOAD_ABORTED')
  })

  test('kill(): isTerminated becomes signal !== null, with ERR_OFFLOAD_SIGNAL', async () => {
    const theirs = execa('sleep', ['30'])
    theirs.kill()
    const ours = offload.spawn('sleep', ['30'])
    ours.kill()
    const [a, b] = [await theirs.catch((e) => e), await ours.catch((e) => e)]
    assert.equal(a.isTerminated, true)
    assert.equal(b.signal, a.signal)
    assert.equal(b.code, 'ERR_OFFLOAD_SIGNAL')
  })

  test('a missing program: the same ENOENT code', async () => {
    const theirs = await execa('no-such-command-offload').catch((e) => e)
    const ours = await offload.execFile('no-such-command-offload').catch((e) => e)
    assert.equal(ours.code, theirs.code)
    assert.equal(ours.code, 'ENOENT')
  })

  test('input becomes stdin, lines: true becomes lines(), pipe() and encoding: buffer match', async () => {
    assert.equal((await offload.execFile('cat', { stdin: 'some input' })).stdout, (await execa('cat', { input: 'some input' })).stdout)
    const lines = []
    for await (const line of offload.spawn('printf', ['a\\nb\\r\\nc\\n']).lines()) lines.push(line)
    assert.deepEqual(lines, (await execa('printf', ['a\\nb\\r\\nc\\n'], { lines: true })).stdout)
    const piped = await offload.spawn('echo', ['hello']).pipe('tr', ['a-z', 'A-Z'])
    assert.equal(piped.stdout, (await execa('echo', ['hello']).pipe('tr', ['a-z', 'A-Z'])).stdout)
    assert.equal(piped.stages.length, 2)
    const bytes = await offload.execFile('printf', ['\\377\\n'], { encoding: 'buffer' })
    const theirBytes = await execa('printf', ['\\377\\n'], { encoding: 'buffer' })
    assert.ok(Buffer.isBuffer(bytes.stdout))
    // execa strips the final newline of Buffers too; offload only of strings.
    assert.deepEqual([...bytes.stdout], [...theirBytes.stdout, 10])
  })

  test('maxBuffer: both cut the output at maxBuffer and fail', async () => {
    const theirs = await execa('head', ['-c', '100000', '/dev/zero'], { maxBuffer: 100 }).catch((e) => e)
    const ours = await offload.execFile('head', ['-c', '100000', '/dev/zero'], { maxBuffer: 100 }).catch((e) => e)
    assert.equal(theirs.isMaxBuffer, true)
    assert.equal(ours.code, 'ERR_OFFLOAD_MAX_BUFFER')
    assert.equal(ours.stdout, theirs.stdout)
  })

  test('env is merged over process.env in both', async () => {
    const args = ['-p', 'process.env.HOME + " " + process.env.MIGRATION']
    const env = { MIGRATION: 'yes' }
    assert.equal((await offload.execFile(process.execPath, args, { env })).stdout, (await execa(process.execPath, args, { env })).stdout)
  })

  test("execaNode becomes fork() with piped output and Node's json serialization", async () => {
    const theirs = execaNode(ECHO_ONCE, [], { serialization: 'json' })
    await theirs.sendMessage({ hello: 1 })
    const theirReply = await theirs.getOneMessage()
    await theirs
    const ours = offload.fork(ECHO_ONCE, [], { stdout: 'pipe', stderr: 'pipe' })
    const ourReply = once(ours, 'message')
    await ours.send({ hello: 1 })
    assert.deepEqual((await ourReply)[0], theirReply)
    assert.equal((await ours).stdout, '')
  })

  test("$'s stdin is a pipe in offload (execa's $ inherits it): end it, or say stdin", async () => {
    const cat = offload.$`cat`
    cat.stdin.end('typed')
    assert.equal((await cat).stdout, 'typed')
    assert.equal((await offload.$({ stdin: 'ignore' })`cat`).stdout, '')
    assert.equal((await offload.$({ stdin: 'given' })`cat`).stdout, 'given')
  })

  test('execa-only options are refused, not ignored', () => {
    for (const option of [{ all: true }, { input: 'x' }, { cancelSignal: AbortSignal.abort() }, { lines: true }, { preferLocal: true }]) {
      assert.throws(() => offload.execFile('true', option), { code: 'ERR_INVALID_ARG_VALUE' }, Object.keys(option)[0])
    }
  })
})

describe('from piscina', () => {
  let piscina
  let pool
  before(() => {
    piscina = new Piscina({ filename: fixture('migration-piscina-worker.js'), minThreads: 1, maxThreads: 1 })
    pool = new offload.Pool({ script: fixture('migration-offload-worker.js'), minSize: 1, size: 1 })
  })
  after(() => Promise.all([piscina.destroy(), pool.close()]))

  test('the same task functions: default and named handlers, Buffers in and out', async () => {
    assert.equal(await pool.run({ a: 2, b: 3 }), await piscina.run({ a: 2, b: 3 }))
    const bytes = Buffer.from('migrate me')
    assert.equal(await pool.run(bytes, { handler: 'sha256' }), await piscina.run(bytes, { name: 'sha256' }))
    const ours = await pool.run(bytes, { handler: 'invert' })
    const theirs = await piscina.run(bytes, { name: 'invert' })
    assert.deepEqual([...ours], [...theirs])
    // piscina's structured clone gives a Uint8Array; offload gives Buffers back.
    assert.ok(Buffer.isBuffer(ours))
    assert.equal(Buffer.isBuffer(theirs), false)
  })

  test("a handler's error: the same class and message, and offload keeps its code", async () => {
    const task = { message: 'bad input', code: 'E_BAD' }
    const ours = await pool.run(task, { handler: 'fail' }).catch((e) => e)
    const theirs = await piscina.run(task, { name: 'fail' }).catch((e) => e)
    assert.equal(ours.constructor, theirs.constructor)
    assert.equal(ours.constructor, TypeError)
    assert.equal(ours.message, theirs.message)
    assert.equal(ours.code, 'E_BAD')
    assert.equal(theirs.code, undefined)
    assert.equal((await pool.run(1, { handler: 'nope' }).catch((e) => e)).code, 'ERR_OFFLOAD_NO_HANDLER')
  })

  test('values are JSON, not structured clones: Dates become strings, Maps {}, ArrayBuffers {}', async () => {
    const date = new Date(0)
    assert.deepEqual(await pool.run(date, { handler: 'describe' }), { type: 'String', json: JSON.stringify(date) })
    assert.equal((await piscina.run(date, { name: 'describe' })).type, 'Date')
    assert.deepEqual(await pool.run(new Map([[1, 2]]), { handler: 'describe' }), { type: 'Object', json: '{}' })
    assert.deepEqual(await pool.run(new ArrayBuffer(4), { handler: 'describe' }), { type: 'Object', json: '{}' })
    assert.equal((await pool.run(Buffer.from(new ArrayBuffer(4)), { handler: 'describe' })).type, 'Buffer')
    assert.throws(() => pool.run(undefined), { code: 'ERR_INVALID_ARG_VALUE' })
  })

  test('an aborted task: an AbortError as piscina, with code ERR_OFFLOAD_ABORTED and the reason as cause', async () => {
    const reason = new Error('no longer needed')
    const theirs = await piscina.run({ a: 1, b: 1 }, { signal: AbortSignal.abort(reason) }).catch((e) => e)
    const ours = await pool.run({ a: 1, b: 1 }, { signal: AbortSignal.abort(reason) }).catch((e) => e)
    assert.equal(theirs.name, 'AbortError')
    assert.equal(ours.name, 'AbortError')
    assert.equal(ours.code, 'ERR_OFFLOAD_ABORTED')
    assert.equal(ours.cause, reason)
  })

  test('stats(): completed counts successes only (piscina counts failures too)', async () => {
    const counted = new Piscina({ filename: fixture('migration-piscina-worker.js'), minThreads: 1, maxThreads: 1 })
    const ours = new offload.Pool({ script: fixture('migration-offload-worker.js'), size: 1 })
    try {
      for (const run of [(t, o) => counted.run(t, o && { name: o.handler }), (t, o) => ours.run(t, o)]) {
        await run({ a: 1, b: 1 })
        await run({ a: 1, b: 2 })
        await run({ message: 'no' }, { handler: 'fail' }).catch(() => {})
      }
      assert.equal(counted.completed, 3)
      const stats = ours.stats()
      assert.equal(stats.completed, 2)
      assert.equal(stats.failed, 1)
      assert.equal(typeof stats.runTime.p50, 'number')
      assert.equal(typeof counted.histogram.runTime.p50, 'number')
    } finally {
      await Promise.all([counted.destroy(), ours.close()])
    }
  })

  test('maxQueue: both refuse tasks past it once the workers run (ERR_OFFLOAD_QUEUE_FULL)', async () => {
    const theirs = new Piscina({ filename: fixture('migration-piscina-worker.js'), minThreads: 1, maxThreads: 1, maxQueue: 1 })
    const ours = new offload.Pool({ script: fixture('migration-offload-worker.js'), size: 1, maxQueue: 1 })
    const outcomes = (promises) => Promise.allSettled(promises).then((all) => all.map((o) => (o.status === 'fulfilled' ? o.value : 'refused')))
    try {
      // Cold: offload counts every task as waiting until a worker is up; piscina counts the starting worker.
      assert.deepEqual(await outcomes([1, 2, 3].map((a) => theirs.run({ a, b: 0 }))), [1, 2, 'refused'])
      const cold = [1, 2, 3].map((a) => ours.run({ a, b: 0 }))
      assert.deepEqual(await outcomes(cold), [1, 'refused', 'refused'])
      assert.equal((await cold[2].catch((e) => e)).code, 'ERR_OFFLOAD_QUEUE_FULL')
      // Warm: the same.
      const warm = await outcomes([1, 2, 3, 4].map((a) => ours.run({ a, b: 0 })))
      assert.deepEqual(warm, await outcomes([1, 2, 3, 4].map((a) => theirs.run({ a, b: 0 }))))
      assert.deepEqual(warm, [1, 2, 'refused', 'refused'])
    } finally {
      await Promise.all([theirs.destroy(), ours.close()])
    }
  })

  test('processes, not threads: a worker that crashes fails its task alone and is replaced', async () => {
    const err = await pool.run(null, { handler: 'crash' }).catch((e) => e)
    assert.equal(err.code, 'ERR_OFFLOAD_WORKER_CRASHED')
    assert.equal(err.signal, 'SIGSEGV')
    assert.equal(await pool.run({ a: 20, b: 22 }), 42)
  })

  test('close() and destroy(): later tasks are refused with ERR_OFFLOAD_POOL_CLOSED', async () => {
    const ours = new offload.Pool({ script: fixture('migration-offload-worker.js'), size: 1 })
    const pending = ours.run({ a: 1, b: 2 })
    const closed = ours.close()
    await assert.rejects(ours.run({ a: 1, b: 1 }), { code: 'ERR_OFFLOAD_POOL_CLOSED' })
    assert.equal(await pending, 3, 'close() finishes what was queued')
    await closed
  })
})

describe('from sharp', () => {
  const FLOWERS = image('flowers.jpeg')
  const size = async (buffer) => {
    const { width, height } = await sharp(buffer).metadata()
    return `${width}x${height}`
  }
  /** Mean absolute difference of two raw buffers of the same length, 0–255. */
  const difference = (a, b) => {
    assert.equal(a.length, b.length)
    let total = 0
    for (let i = 0; i < a.length; i++) total += Math.abs(a[i] - b[i])
    return total / a.length
  }

  test('resize(w, h, { fit, withoutEnlargement }) gives the same sizes', async () => {
    const cases = [
      { width: 300, height: 300 },
      { width: 300 },
      { height: 200 },
      { width: 300, height: 300, fit: 'contain' },
      { width: 300, height: 300, fit: 'inside' },
      { width: 300, height: 300, fit: 'outside' },
      { width: 300, height: 200, fit: 'fill' },
      { width: 4000, withoutEnlargement: true },
      { width: 4000, height: 100, fit: 'fill', withoutEnlargement: true },
    ]
    for (const options of cases) {
      const theirs = await sharp(FLOWERS).resize(options).toBuffer()
      assert.equal(await size(await offload.resize(FLOWERS, options)), await size(theirs), JSON.stringify(options))
    }
  })

  test('position, kernel, background and composite give the same pixels', async () => {
    const raw = async (options, chain) => [
      await chain(sharp(FLOWERS)).removeAlpha().raw().toBuffer(),
      await offload.resize(FLOWERS, { ...options, format: 'raw' }),
    ]
    const red = await sharp({ create: { width: 20, height: 20, channels: 4, background: '#ff0000' } }).png().toBuffer()
    const cases = [
      [{ width: 100, height: 100, position: 'left' }, (s) => s.resize(100, 100, { position: 'left' })],
      [{ width: 100, height: 100, kernel: 'nearest' }, (s) => s.resize(100, 100, { kernel: 'nearest' })],
      [{ width: 100, height: 100, fit: 'contain', background: '#ff0000' }, (s) => s.resize(100, 100, { fit: 'contain', background: '#ff0000' })],
      [
        { width: 200, height: 100, composite: [{ input: red, gravity: 'southeast' }, { input: red, top: 10, left: 30 }] },
        (s) => s.resize(200, 100).composite([{ input: red, gravity: 'southeast' }, { input: red, top: 10, left: 30 }]),
      ],
    ]
    for (const [options, chain] of cases) {
      const [theirs, ours] = await raw(options, chain)
      assert.ok(difference(theirs, ours) < 3, JSON.stringify(options))
    }
    const [left] = await raw({}, (s) => s.resize(100, 100, { position: 'left' }))
    const right = await offload.resize(FLOWERS, { width: 100, height: 100, position: 'right', format: 'raw' })
    assert.ok(difference(left, right) > 10, 'position matters for this image')
  })

  test('.jpeg({ quality, progressive, chromaSubsampling }) becomes quality and jpeg: { … }', async () => {
    const theirs = await sharp(FLOWERS).resize(200).jpeg({ quality: 50, progressive: true, chromaSubsampling: '4:4:4' }).toBuffer()
    const ours = await offload.resize(FLOWERS, { width: 200, format: 'jpeg', quality: 50, jpeg: { progressive: true, chromaSubsampling: '4:4:4' } })
    const [a, b] = [await sharp(theirs).metadata(), await sharp(ours).metadata()]
    assert.deepEqual([b.isProgressive, b.chromaSubsampling], [a.isProgressive, a.chromaSubsampling])
    assert.deepEqual([b.isProgressive, b.chromaSubsampling], [true, '4:4:4'])
    assert.ok(Math.abs(ours.length - theirs.length) < theirs.length * 0.2, `${ours.length} vs ${theirs.length} bytes`)
  })

  test('orientation: upright by default, as sharp with .rotate(); autoOrient: false is sharp without it', async () => {
    for (const n of [1, 6, 8]) {
      const file = image(`Landscape_${n}.jpg`)
      assert.equal(await size(await offload.resize(file, { width: 100 })), await size(await sharp(file).rotate().resize(100).toBuffer()))
      assert.equal(await size(await offload.resize(file, { width: 100 })), await size(await sharp(file).autoOrient().resize(100).toBuffer()))
      assert.equal(await size(await offload.resize(file, { width: 100, autoOrient: false })), await size(await sharp(file).resize(100).toBuffer()))
    }
  })

  test('.toFile() becomes resizeFile(), with the same info fields', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'offload-migration-'))
    try {
      const theirs = await sharp(FLOWERS).resize(64, 48).toFile(path.join(dir, 'theirs.webp'))
      const ours = await offload.resizeFile(FLOWERS, path.join(dir, 'ours.webp'), { width: 64, height: 48 })
      for (const field of ['format', 'width', 'height', 'channels']) assert.equal(ours[field], theirs[field], field)
      assert.equal(ours.size, fs.statSync(path.join(dir, 'ours.webp')).size)
      assert.deepEqual(fs.readdirSync(dir).sort(), ['ours.webp', 'theirs.webp'])
    } finally {
      fs.rmSync(dir, { recursive: true, force: true })
    }
  })

  test('.metadata() becomes metadata(), with the same names and values', async () => {
    const fields = ['format', 'width', 'height', 'channels', 'hasAlpha', 'space', 'depth', 'isProgressive', 'hasProfile', 'size']
    for (const name of ['flowers.jpeg', 'Landscape_6.jpg', 'with-alpha.png', 'Flag_of_the_Netherlands-16bit.png', 'animated-loop-3.gif']) {
      const input = fs.readFileSync(image(name)) // sharp gives size only for Buffers
      const [theirs, ours] = [await sharp(input).metadata(), await offload.metadata(input)]
      for (const field of fields) assert.equal(ours[field], theirs[field], `${name}: ${field}`)
      assert.equal(ours.orientation, theirs.orientation ?? 1, `${name}: orientation (sharp leaves it out when the file has none)`)
      assert.equal(ours.pages, theirs.pages ?? 1, `${name}: pages (sharp leaves it out for one page)`)
    }
    assert.equal((await offload.metadata(FLOWERS)).density, (await sharp(FLOWERS).metadata()).density)
    // A file that gives no density: sharp says 72, offload leaves density out.
    assert.equal((await sharp(image('with-alpha.png')).metadata()).density, 72)
    assert.equal('density' in (await offload.metadata(image('with-alpha.png'))), false)
  })

  test('.raw(), raw input and resolveWithObject', async () => {
    const theirs = await sharp(image('with-alpha.png')).resize(64).raw().toBuffer({ resolveWithObject: true })
    const ours = await offload.resize(image('with-alpha.png'), { width: 64, format: 'raw', resolveWithObject: true })
    for (const field of ['format', 'width', 'height', 'channels', 'size']) assert.equal(ours.info[field], theirs.info[field], field)
    const { width, height, channels } = theirs.info
    const raw = { width, height, channels }
    const png = await sharp(theirs.data, { raw }).resize(32).png().toBuffer()
    const ourPng = await offload.resize(theirs.data, { raw, width: 32, format: 'png' })
    assert.equal(await size(ourPng), await size(png))
    assert.equal((await offload.resize(theirs.data, { raw, width: 32 })).length, 32 * 24 * 4, 'raw in, raw out by default')
  })

  test('limitInputPixels and failOn: the same decisions, with codes', async () => {
    await assert.rejects(sharp(image('giant-image.jpg')).resize(10).toBuffer(), /pixel limit/)
    await assert.rejects(offload.resize(image('giant-image.jpg'), { width: 10 }), { code: 'ERR_OFFLOAD_IMAGE_TOO_LARGE' })
    await assert.rejects(sharp(FLOWERS, { limitInputPixels: 1000 }).toBuffer(), /pixel limit/)
    await assert.rejects(offload.resize(FLOWERS, { limitInputPixels: 1000 }), { code: 'ERR_OFFLOAD_IMAGE_TOO_LARGE' })
    const truncated = image('truncated.jpg')
    await assert.rejects(sharp(truncated).resize(50).toBuffer())
    await assert.rejects(offload.resize(truncated, { width: 50 }), { code: 'ERR_OFFLOAD_IMAGE_CORRUPT' })
    const theirs = await sharp(truncated, { failOn: 'none' }).resize(50).toBuffer()
    assert.equal(await size(await offload.resize(truncated, { width: 50, failOn: 'none' })), await size(theirs))
  })

  test('keepMetadata: EXIF is kept as with .keepMetadata(), the ICC profile is not', async () => {
    const file = image('Landscape_6.jpg')
    const theirs = await sharp(await sharp(file).autoOrient().resize(100).keepMetadata().toBuffer()).metadata()
    const ours = await sharp(await offload.resize(file, { width: 100, keepMetadata: true })).metadata()
    assert.equal(Boolean(ours.exif), Boolean(theirs.exif))
    assert.equal(ours.orientation, theirs.orientation)
    assert.equal(theirs.hasProfile, true)
    assert.equal(ours.hasProfile, false)
  })

  test('what sharp has and offload lacks: AVIF input in a build without libdav1d, 16-bit output', async () => {
    const avif = await sharp(image('320x240.jpg')).resize(32).avif().toBuffer()
    if (offload.formats.avif.input.buffer) {
      assert.deepEqual((await offload.resize(avif, { width: 16, format: 'raw', resolveWithObject: true })).info.width, 16)
    } else {
      await assert.rejects(offload.resize(avif, { width: 16 }), { code: 'ERR_OFFLOAD_IMAGE_UNSUPPORTED', message: /libdav1d/ })
    }
    const sixteen = image('Flag_of_the_Netherlands-16bit.png')
    assert.equal((await sharp(await sharp(sixteen).resize(90).toColourspace('rgb16').png().toBuffer()).metadata()).depth, 'ushort')
    assert.equal((await sharp(await offload.resize(sixteen, { width: 90 })).metadata()).depth, 'uchar')
    assert.throws(() => offload.resize(FLOWERS, { width: 10, position: 'attention' }), { code: 'ERR_INVALID_ARG_VALUE' })
  })
})

// offload/child_process as a drop-in for node:child_process: Node's documented
// examples, run against real processes, and side by side with Node itself where
// the two must agree.

import { after, test } from 'node:test'
import assert from 'node:assert/strict'
import * as nodeCp from 'node:child_process'
import { EventEmitter, once } from 'node:events'
import fs from 'node:fs'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { Readable } from 'node:stream'
import util from 'node:util'
import { fileURLToPath } from 'node:url'
import * as offloadCp from 'offload/child_process'
import { alive } from './lib/proc.mjs'
import { ChildProcess, exec, execFile, fork, spawn } from 'offload/child_process'

const fixtures = fileURLToPath(new URL('./fixtures/', import.meta.url))
const fixture = (name) => path.join(fixtures, name)
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'offload-cp-'))
const runNode = util.promisify(nodeCp.execFile)
after(() => fs.rmSync(tmp, { recursive: true, force: true }))

/** Runs `scenario(module)` with node:child_process and with offload/child_process. */
async function both(scenario) {
  return { node: await scenario(nodeCp), offload: await scenario(offloadCp) }
}

/**
 * The child's events in order, its output, and whether its output streams had
 * ended and closed when 'close' came (Node orders 'exit' freely against them).
 */
function record(child) {
  const events = []
  const output = { stdout: '', stderr: '' }
  for (const name of ['stdout', 'stderr']) {
    child[name]?.on('data', (chunk) => {
      output[name] += chunk
    })
  }
  child.on('spawn', () => events.push('spawn'))
  child.on('exit', (code, signal) => events.push(`exit ${code} ${signal}`))
  child.on('error', (err) => events.push(`error ${err.code}`))
  return new Promise((resolve) => {
    child.on('close', (code, signal) => {
      events.push(`close ${code} ${signal}`)
      const streams = [child.stdout, child.stderr].filter(Boolean)
      const streamsDone = streams.every((stream) => stream.readableEnded && stream.closed)
      resolve({ code, signal, events, streamsDone, ...output })
    })
  })
}

/** The fields of an exec/execFile error (or a spawn error) a caller may look at. */
function errorFields(err) {
  if (err === null) return null
  const fields = { name: err.name, message: err.message, cause: err.cause === undefined ? undefined : String(err.cause) }
  for (const key of ['code', 'killed', 'signal', 'cmd', 'errno', 'syscall', 'path', 'spawnargs']) {
    if (key in err) fields[key] = err[key]
  }
  return fields
}

function execResult(mod, method, ...args) {
  return new Promise((resolve) => {
    mod[method](...args, (err, stdout, stderr) => resolve({ err: errorFields(err), stdout, stderr }))
  })
}

function textOf(stream) {
  let text = ''
  stream.setEncoding('utf8')
  stream.on('data', (chunk) => {
    text += chunk
  })
  return {
    get text() {
      return text
    },
    /** Resolves once the text so far contains `wanted`. */
    until(wanted) {
      if (text.includes(wanted)) return Promise.resolve()
      return new Promise((resolve) => {
        const check = () => {
          if (!text.includes(wanted)) return
          stream.off('data', check)
          resolve()
        }
        stream.on('data', check)
      })
    },
  }
}

test("spawn('ls', ['-lh', '/usr']): the docs' example, with Buffers, 'exit' then 'close', like Node", async () => {
  const ls = spawn('ls', ['-lh', '/usr'])
  assert.ok(ls instanceof ChildProcess)
  assert.ok(ls instanceof EventEmitter)
  assert.equal(typeof ls.pid, 'number')
  assert.equal(ls.spawnfile, 'ls')
  assert.deepEqual(ls.spawnargs, ['ls', '-lh', '/usr'])
  assert.equal(ls.stdio[0], ls.stdin)
  assert.equal(ls.stdio[1], ls.stdout)
  assert.equal(ls.stdio[2], ls.stderr)

  const chunks = []
  ls.stdout.on('data', (data) => {
    chunks.push(data)
  })
  ls.stderr.on('data', (data) => {
    assert.fail(`stderr: ${data}`)
  })
  const recorded = record(ls)
  const [code, signal] = await once(ls, 'close')
  assert.equal(code, 0)
  assert.equal(signal, null)
  assert.ok(chunks.length > 0 && chunks.every((chunk) => Buffer.isBuffer(chunk)))
  assert.equal(Buffer.concat(chunks).toString(), nodeCp.execFileSync('ls', ['-lh', '/usr'], { encoding: 'utf8' }))
  const { events, streamsDone } = await recorded
  assert.deepEqual(events, ['spawn', 'exit 0 null', 'close 0 null'])
  assert.equal(streamsDone, true)
  assert.equal(ls.exitCode, 0)
  assert.equal(ls.signalCode, null)
  assert.equal(ls.killed, false)
  assert.equal(ls.kill(), false, 'nothing left to signal')
})

test('the same events, in the same order, as node:child_process', async () => {
  const { node, offload } = await both((mod) => record(mod.spawn('sh', ['-c', 'echo out; echo err >&2; exit 3'])))
  assert.deepEqual(offload, node)
  assert.deepEqual(offload.events, ['spawn', 'exit 3 null', 'close 3 null'])
  assert.equal(offload.streamsDone, true)
  assert.deepEqual([offload.stdout, offload.stderr], ['out\n', 'err\n'])
})

test('all output arrives before close, also when nobody reads it until exit', async () => {
  const big = spawn('head', ['-c', String(5 * 1024 * 1024), '/dev/zero'])
  let bytes = 0
  big.stdout.on('data', (chunk) => {
    bytes += chunk.length
  })
  assert.deepEqual(await once(big, 'close'), [0, null])
  assert.equal(bytes, 5 * 1024 * 1024)

  // As in Node, output nobody reads is let through after 'exit', so 'close' comes.
  const unread = spawn('sh', ['-c', 'echo nobody reads this; echo nor this >&2'])
  assert.deepEqual(await once(unread, 'close'), [0, null])
})

test("the docs' `ps ax | grep ps` example pipes one child into another", async () => {
  const ps = spawn('ps', ['ax'])
  const grep = spawn('grep', ['ps'])

  ps.stdout.on('data', (data) => {
    grep.stdin.write(data)
  })
  ps.stderr.on('data', (data) => {
    assert.fail(`ps stderr: ${data}`)
  })
  ps.on('close', (code) => {
    assert.equal(code, 0, `ps process exited with code ${code}`)
    grep.stdin.end()
  })

  let found = ''
  grep.stdout.on('data', (data) => {
    found += data.toString()
  })
  grep.stderr.on('data', (data) => {
    assert.fail(`grep stderr: ${data}`)
  })
  const [code] = await once(grep, 'close')
  assert.equal(code, 0)
  const lines = found.trim().split('\n')
  assert.ok(lines.every((line) => line.includes('ps')))
  assert.ok(lines.some((line) => line.includes('ps ax')), found)
})

test("exec('cat *.js missing_file | wc -l') gives stdout and stderr like Node", async () => {
  const { node, offload } = await both((mod) => execResult(mod, 'exec', 'cat *.js missing_file | wc -l', { cwd: fixtures }))
  assert.equal(offload.err, null)
  assert.match(offload.stdout, /^\d+\n$/)
  assert.match(offload.stderr, /missing_file/)
  assert.deepEqual(offload, node)

  const child = exec('echo docs', (error, stdout, stderr) => {
    assert.equal(error, null)
    assert.equal(stdout, 'docs\n')
    assert.equal(stderr, '')
  })
  assert.ok(child instanceof ChildProcess)
  assert.equal(child.spawnfile, '/bin/sh')
  assert.deepEqual(child.spawnargs, ['/bin/sh', '-c', 'echo docs'])
  await once(child, 'close')
})

test("execFile('node', ['--version'], cb) gives the version", async () => {
  const { err, stdout, stderr } = await execResult(offloadCp, 'execFile', 'node', ['--version'])
  assert.equal(err, null)
  assert.equal(stdout, `${process.version}\n`)
  assert.equal(stderr, '')

  // No shell: an argument is one argument, spaces and all.
  const printed = await execResult(offloadCp, 'execFile', 'printf', ['%s|', 'a b', '$HOME'])
  assert.equal(printed.stdout, 'a b|$HOME|')
})

test('util.promisify(exec) and util.promisify(execFile) behave like Node', async () => {
  const execAsync = util.promisify(exec)
  const pending = execAsync('echo out; echo err >&2')
  assert.ok(pending.child instanceof ChildProcess)
  assert.deepEqual(await pending, { stdout: 'out\n', stderr: 'err\n' })

  const failure = await execAsync('echo partial; echo broken >&2; exit 4').then(assert.fail, (err) => err)
  assert.equal(failure.code, 4)
  assert.equal(failure.stdout, 'partial\n')
  assert.equal(failure.stderr, 'broken\n')
  assert.equal(failure.message, 'Command failed: echo partial; echo broken >&2; exit 4\nbroken\n')

  const execFileAsync = util.promisify(execFile)
  assert.deepEqual(await execFileAsync('node', ['--version']), { stdout: `${process.version}\n`, stderr: '' })
  const bytes = await execFileAsync('printf', ['raw'], { encoding: 'buffer' })
  assert.ok(Buffer.isBuffer(bytes.stdout) && Buffer.isBuffer(bytes.stderr))
  assert.equal(bytes.stdout.toString(), 'raw')

  const { node, offload } = await both(async (mod) => {
    const err = await util.promisify(mod.execFile)('no_such_command_offload', ['x']).then(assert.fail, (e) => e)
    return { ...errorFields(err), stdout: err.stdout, stderr: err.stderr }
  })
  assert.deepEqual(offload, node)
})

test('exec and execFile errors have the same fields as Node', async () => {
  const cases = [
    ['exec', 'echo out; echo err >&2; exit 3'],
    ['execFile', 'no_such_command_offload', ['a', 'b']],
    ['execFile', 'sleep', ['10'], { timeout: 50 }],
    ['execFile', 'sleep', ['10'], { timeout: 50, killSignal: 'SIGKILL' }],
    ['execFile', process.execPath, ['-e', 'process.stdout.write("x".repeat(100))'], { maxBuffer: 10 }],
    ['execFile', process.execPath, ['-e', 'process.stderr.write("é".repeat(20))'], { maxBuffer: 5 }],
    ['exec', 'printf abc; exit 1', { encoding: 'buffer' }],
    ['exec', 'kill -9 $$'],
    ['exec', 'echo $0', { shell: '/bin/bash' }],
  ]
  for (const [method, ...args] of cases) {
    const { node, offload } = await both((mod) => execResult(mod, method, ...args))
    assert.deepEqual(offload, node, `${method} ${util.inspect(args)}`)
  }
})

test("spawn('bad_command') emits Node's ENOENT error, then 'close' with -2", async () => {
  const { node, offload } = await both(async (mod) => {
    const subprocess = mod.spawn('bad_command', ['--flag'])
    const errors = []
    subprocess.on('error', (err) => {
      errors.push(errorFields(err))
    })
    const { events } = await record(subprocess)
    return { errors, events, pid: subprocess.pid, exitCode: subprocess.exitCode, stdin: subprocess.stdin !== null }
  })
  assert.deepEqual(offload, node)
  assert.deepEqual(offload.errors, [
    {
      name: 'Error',
      message: 'spawn bad_command ENOENT',
      cause: undefined,
      code: 'ENOENT',
      errno: -2,
      syscall: 'spawn bad_command',
      path: 'bad_command',
      spawnargs: ['--flag'],
    },
  ])
  assert.equal(offload.exitCode, -2)
})

test('a working directory that does not exist is an ENOENT error event', async () => {
  const child = spawn('ls', { cwd: path.join(tmp, 'missing') })
  const [err] = await once(child, 'error')
  assert.equal(err.code, 'ENOENT')
  assert.equal(err.syscall, 'spawn ls')
  assert.equal(err.path, 'ls')
  assert.match(err.message, /options\.cwd/)
  const { err: execErr } = await execResult(offloadCp, 'exec', 'true', { cwd: path.join(tmp, 'missing') })
  assert.equal(execErr.code, 'ENOENT')
  assert.equal(execErr.cmd, 'true')
})

test('an AbortController stops a child with an AbortError, like Node', async () => {
  const { node, offload } = await both(async (mod) => {
    const controller = new AbortController()
    const { signal } = controller
    const grep = mod.spawn('grep', ['ssh'], { signal })
    const errors = []
    grep.on('error', (err) => {
      // This will be called with err being an AbortError if the controller aborts
      errors.push(errorFields(err))
    })
    const recorded = record(grep)
    controller.abort() // Stops the child process
    const { events } = await recorded
    return { errors, events, killed: grep.killed, signalCode: grep.signalCode }
  })
  assert.deepEqual(offload, node)
  assert.deepEqual(offload.errors, [
    { name: 'AbortError', message: 'The operation was aborted', cause: String(new DOMException('This operation was aborted', 'AbortError')), code: 'ABORT_ERR' },
  ])
  assert.deepEqual(offload.events, ['error ABORT_ERR', 'spawn', 'exit null SIGTERM', 'close null SIGTERM'])

  const reason = new Error('changed my mind')
  const already = spawn('sleep', ['10'], { signal: AbortSignal.abort(reason), killSignal: 'SIGKILL' })
  const [err] = await once(already, 'error')
  assert.equal(err.name, 'AbortError')
  assert.equal(err.cause, reason)
  assert.deepEqual(await once(already, 'close'), [null, 'SIGKILL'])
})

test('exec and fork with an aborted signal report an AbortError', async () => {
  const controller = new AbortController()
  const { signal } = controller
  const done = new Promise((resolve) => {
    exec('grep ssh', { signal }, (error, stdout) => resolve({ error, stdout }))
  })
  controller.abort()
  const { error, stdout } = await done
  assert.equal(error.name, 'AbortError')
  assert.equal(error.code, 'ABORT_ERR')
  assert.equal(error.cmd, 'grep ssh')
  assert.equal(stdout, '')

  const forkController = new AbortController()
  const child = fork(fixture('cp-echo-ipc.js'), ['child'], { signal: forkController.signal })
  const errored = once(child, 'error')
  forkController.abort()
  const [forkError] = await errored
  assert.equal(forkError.name, 'AbortError')
  assert.deepEqual(await once(child, 'close'), [null, 'SIGTERM'])
})

test("fork(): the docs' send() example exchanges messages both ways", async () => {
  const n = fork(fixture('cp-sub.js'), { silent: true })
  const closed = once(n, 'close')
  const out = textOf(n.stdout)
  const received = once(n, 'message')
  // Causes the child to print: CHILD got message: { hello: 'world' }
  assert.equal(n.send({ hello: 'world' }), true)
  assert.equal(n.connected, true)
  assert.deepEqual(await received, [{ foo: 'bar', baz: null }, undefined])
  await out.until("CHILD got message: { hello: 'world' }")

  const disconnected = once(n, 'disconnect')
  n.disconnect()
  assert.equal(n.connected, false)
  await disconnected
  // The child has nothing left to wait for once its channel is gone.
  assert.deepEqual(await closed, [0, null])
  assert.equal(n.channel, null)
  const [sendError] = await new Promise((resolve) => n.send('late', (...args) => resolve(args)))
  assert.equal(sendError.code, 'ERR_IPC_CHANNEL_CLOSED')
})

test('fork(): args, send callbacks, the exit code, and a closed channel', async () => {
  const child = fork(fixture('cp-echo-ipc.js'), ['a', 'b c'])
  assert.equal(child.spawnfile, process.execPath)
  assert.deepEqual(child.spawnargs.slice(-3), [fixture('cp-echo-ipc.js'), 'a', 'b c'])
  assert.deepEqual(child.stdio, [null, null, null, null])
  const sent = new Promise((resolve) => child.send('ping', resolve))
  assert.deepEqual(await once(child, 'message'), [{ echo: 'ping', argv: ['a', 'b c'] }, undefined])
  assert.equal(await sent, null)

  const events = record(child)
  const disconnected = once(child, 'disconnect')
  child.send('exit')
  await disconnected
  const { events: order } = await events
  assert.ok(order.includes('exit 7 null'))
  assert.equal(order.at(-1), 'close 7 null')

  const errors = []
  child.on('error', (err) => errors.push(err.code))
  let late
  const reported = new Promise((resolve) => {
    late = child.send('too late', resolve)
  })
  assert.equal(late, false)
  assert.equal((await reported).code, 'ERR_IPC_CHANNEL_CLOSED')
  await new Promise(setImmediate)
  assert.deepEqual(errors, [], 'a send() with a callback reports through the callback only')
  child.disconnect()
  assert.deepEqual(errors, ['ERR_IPC_DISCONNECTED'])
  child.send('no callback')
  await new Promise(setImmediate)
  assert.deepEqual(errors, ['ERR_IPC_DISCONNECTED', 'ERR_IPC_CHANNEL_CLOSED'])
})

test('fork(): messages sent before anyone listens are kept for the first listener (Node drops them once disconnected)', async () => {
  const child = fork(fixture('cp-send-and-exit.js'))
  const closed = once(child, 'close')
  // The channel only closes after both messages were read.
  await once(child, 'disconnect')
  const messages = []
  await new Promise((resolve) => {
    child.on('message', (message) => {
      messages.push(message)
      if (messages.length === 2) resolve()
    })
  })
  assert.deepEqual(messages, [{ n: 1 }, { n: 2 }])
  assert.deepEqual(await closed, [0, null])
})

test('a child without an IPC channel has no send() or disconnect(), like Node', async () => {
  const { node, offload } = await both(async (mod) => {
    const child = mod.spawn('true')
    const shape = { send: typeof child.send, disconnect: typeof child.disconnect, connected: child.connected, channel: child.channel }
    await once(child, 'close')
    return shape
  })
  assert.deepEqual(offload, node)
  const withIpc = spawn(process.execPath, [fixture('cp-echo-ipc.js')], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
  withIpc.send('over spawn')
  assert.deepEqual(await once(withIpc, 'message'), [{ echo: 'over spawn', argv: [] }, undefined])
  withIpc.send('exit')
  assert.deepEqual(await once(withIpc, 'close'), [7, null])
})

test('detached and unref(): the parent exits while the child lives on', async () => {
  const { stdout } = await runNode(process.execPath, [fixture('cp-detached-parent.js')], { cwd: fixtures })
  const pid = Number(stdout.trim())
  assert.ok(Number.isInteger(pid) && pid > 0, stdout)
  try {
    assert.equal(process.kill(pid, 0), true, 'the detached child outlived its parent')
  } finally {
    process.kill(pid, 'SIGKILL')
  }
})

test('fork() with unref() and channel.unref() lets the parent exit', async () => {
  const { stdout } = await runNode(process.execPath, [fixture('cp-unref-fork-parent.js')], { cwd: fixtures })
  assert.match(stdout, /^\d+\n$/)
})

test("stdio: 'inherit' shares this process's stdout and stderr", async () => {
  const { stdout, stderr } = await runNode(process.execPath, [fixture('cp-inherit-parent.js')], { cwd: fixtures })
  assert.equal(stdout, 'from-child\nparent saw close 0\n')
  assert.equal(stderr, 'err-from-child\n')
})

test("stdio: ['ignore', out, err] with fs.openSync descriptors writes to the file", async () => {
  for (let i = 0; i < 20; i++) {
    const log = path.join(tmp, `out-${i}.log`)
    const out = fs.openSync(log, 'a')
    const err = fs.openSync(log, 'a')
    const subprocess = spawn('sh', ['-c', `echo out ${i}; echo err ${i} >&2`], { stdio: ['ignore', out, err] })
    // Node allows closing them as soon as spawn() returns.
    fs.closeSync(out)
    fs.closeSync(err)
    assert.deepEqual(subprocess.stdio, [null, null, null])
    assert.deepEqual(await once(subprocess, 'close'), [0, null])
    assert.equal(fs.readFileSync(log, 'utf8'), `out ${i}\nerr ${i}\n`)
  }
})

test("the docs' subprocess.stdio example", async () => {
  const subprocess = spawn('ls', { stdio: [0, 'pipe', fs.openSync(path.join(tmp, 'err.out'), 'w')] })

  assert.equal(subprocess.stdio[0], null)
  assert.equal(subprocess.stdio[0], subprocess.stdin)

  assert.ok(subprocess.stdout)
  assert.equal(subprocess.stdio[1], subprocess.stdout)

  assert.equal(subprocess.stdio[2], null)
  assert.equal(subprocess.stdio[2], subprocess.stderr)
  subprocess.stdout.resume()
  assert.deepEqual(await once(subprocess, 'close'), [0, null])
})

test('a stream with a descriptor can be a stdio entry', async () => {
  const file = path.join(tmp, 'stream.out')
  const stream = fs.createWriteStream(file)
  await once(stream, 'open')
  const child = spawn('echo', ['via stream'], { stdio: ['ignore', stream, 'inherit'] })
  assert.deepEqual(await once(child, 'close'), [0, null])
  stream.end()
  await once(stream, 'close')
  assert.equal(fs.readFileSync(file, 'utf8'), 'via stream\n')
})

test("kill() sends the signal; 'exit' and 'close' report it", async () => {
  const grep = spawn('grep', ['ssh'])
  const exited = once(grep, 'exit')
  const closed = once(grep, 'close')
  // Send SIGHUP to process.
  assert.equal(grep.kill('SIGHUP'), true)
  assert.equal(grep.killed, true)
  assert.deepEqual(await exited, [null, 'SIGHUP'])
  assert.deepEqual(await closed, [null, 'SIGHUP'])
  assert.equal(grep.exitCode, null)
  assert.equal(grep.signalCode, 'SIGHUP')
  assert.equal(grep.kill(), false)
  assert.throws(() => grep.kill('SIGNOPE'), { code: 'ERR_UNKNOWN_SIGNAL' })

  const sleeper = spawn('sleep', ['10'])
  assert.equal(sleeper.kill(0), true, 'signal 0 only checks')
  assert.equal(sleeper.kill('sigint'), true, "Node accepts a signal name in any case")
  assert.deepEqual(await once(sleeper, 'close'), [null, 'SIGINT'])
})

test('timeout and killSignal stop a spawned child', async () => {
  const child = spawn('sleep', ['10'], { timeout: 50, killSignal: 'SIGKILL' })
  assert.deepEqual(await once(child, 'exit'), [null, 'SIGKILL'])
  assert.equal(child.killed, true)
})

test('stdin is a Writable; setEncoding gives strings; pipe() into stdin works', async () => {
  const cat = spawn('cat')
  cat.stdout.setEncoding('utf8')
  const chunks = []
  cat.stdout.on('data', (chunk) => chunks.push(chunk))
  cat.stdin.write('hello ')
  cat.stdin.end('world')
  assert.deepEqual(await once(cat, 'close'), [0, null])
  assert.ok(chunks.every((chunk) => typeof chunk === 'string'))
  assert.equal(chunks.join(''), 'hello world')

  const wc = spawn('wc', ['-c'])
  const out = textOf(wc.stdout)
  Readable.from([Buffer.alloc(100000), Buffer.alloc(23)]).pipe(wc.stdin)
  await once(wc, 'close')
  assert.equal(out.text.trim(), '100023')
})

test('destroying stdout early does not leave the child or its close pending', async () => {
  const head = spawn('head', ['-c', '10000000', '/dev/zero'])
  head.stdout.once('data', () => head.stdout.destroy())
  // The pipe is closed, so head fails writing: Node (a socket pair) reports
  // ECONNRESET and exit 1; offload (a pipe) ends it with SIGPIPE.
  const [code, signal] = await once(head, 'close')
  assert.ok(signal === 'SIGPIPE' || code === 1, `head ended with ${code} ${signal}`)

  const yes = spawn('yes')
  for await (const chunk of yes.stdout) {
    assert.ok(chunk.length > 0)
    break
  }
  yes.kill()
  // Leaving the loop destroyed stdout, closing the pipe: yes may die of
  // SIGPIPE before the SIGTERM arrives. Either way 'close' comes.
  const [yesCode, yesSignal] = await once(yes, 'close')
  assert.equal(yesCode, null)
  assert.ok(['SIGTERM', 'SIGPIPE'].includes(yesSignal), `yes ended with ${yesSignal}`)
})

test('shell, env, cwd and argv0 behave like Node', async () => {
  const scenario = async (mod) => {
    const shell = mod.spawn('echo', ['hello', '&&', 'echo', '$0'], { shell: true })
    const env = mod.spawn('env', { env: { ONLY_THIS: 'yes', UNDEFINED: undefined } })
    const named = mod.spawn('sh', ['-c', 'echo "$0"; pwd'], { cwd: tmp, argv0: 'custom-name' })
    const results = await Promise.all([record(shell), record(env), record(named)])
    return {
      outputs: results.map(({ stdout, code }) => [stdout, code]),
      shell: [shell.spawnfile, shell.spawnargs],
      named: [named.spawnfile, named.spawnargs],
    }
  }
  const { node, offload } = await both(scenario)
  assert.deepEqual(offload, node)
  assert.deepEqual(offload.outputs[0], ['hello\n/bin/sh\n', 0])
  assert.equal(offload.outputs[1][0], 'ONLY_THIS=yes\n')
  assert.deepEqual(offload.outputs[2], [`custom-name\n${fs.realpathSync(tmp)}\n`, 0])
})

test('invalid arguments throw the same errors as Node', () => {
  const calls = [
    (mod) => mod.spawn(123),
    (mod) => mod.spawn(''),
    (mod) => mod.spawn('ls', 'not-args'),
    (mod) => mod.spawn('ls', [], null),
    (mod) => mod.spawn('ls', [], { timeout: -1 }),
    (mod) => mod.spawn('ls', [], { stdio: 'bogus' }),
    (mod) => mod.spawn('ls', [], { stdio: ['pipe', 'pipe', 'pipe', 'ipc', 'ipc'] }),
    (mod) => mod.spawn('ls', [], { stdio: [Buffer.from('x')] }),
    (mod) => mod.spawn('ls', [], { killSignal: 'SIGNOPE' }),
    (mod) => mod.spawn('ls', [], { signal: 'nope' }),
    (mod) => mod.spawn('ls', [], { shell: 1 }),
    (mod) => mod.spawn('ls', [], { uid: 1.5 }),
    (mod) => mod.spawn('ls', [], { serialization: 'yaml' }),
    (mod) => mod.spawn('ls', ['a\0b']),
    (mod) => mod.exec(42),
    (mod) => mod.execFile('ls', [], { maxBuffer: -1 }),
    (mod) => mod.execFile('ls', [], {}, 'not a function'),
    (mod) => mod.fork(fixture('cp-echo-ipc.js'), { stdio: ['pipe', 'pipe', 'pipe'] }),
    (mod) => mod.fork(fixture('cp-echo-ipc.js'), 'not-args'),
  ]
  for (const call of calls) {
    const thrown = (mod) => {
      try {
        call(mod)
      } catch (err) {
        return { code: err.code, type: err.constructor.name }
      }
      assert.fail(`${call} did not throw`)
    }
    assert.deepEqual(thrown(offloadCp), thrown(nodeCp), String(call))
  }
})

test('what offload cannot do throws ERR_OFFLOAD_UNSUPPORTED_OPTION instead of being ignored', async () => {
  const unsupported = { code: 'ERR_OFFLOAD_UNSUPPORTED_OPTION', name: 'TypeError' }
  // An offload child's stdin is written by its Subprocess, not a descriptor to pass on.
  const source = spawn('cat')
  assert.throws(() => spawn('true', [], { stdio: ['ignore', source.stdin, 'ignore'] }), { ...unsupported, message: /stdio\[1\] = another child's stdin/ })
  source.stdin.end()
  await once(source, 'close')
  // An offload child's stdout goes to the next child as its pipe only before anything read it.
  const read = spawn('sh', ['-c', 'echo first; read wait'])
  const [first] = await once(read.stdout, 'data')
  assert.equal(String(first), 'first\n')
  assert.throws(() => spawn('cat', [], { stdio: [read.stdout, 'pipe', 'pipe'] }), { ...unsupported, message: /already read from/ })
  read.kill()
  await once(read, 'close')

  // Extra entries that only say "nothing there" are what the child gets anyway,
  // and the Windows-only options mean nothing here.
  const fine = spawn('true', [], {
    stdio: ['ignore', 'ignore', 'ignore', 'ignore', null, undefined],
    windowsHide: true,
    windowsVerbatimArguments: true,
  })
  assert.deepEqual(fine.stdio, [null, null, null, null, null, null])
  assert.deepEqual(await once(fine, 'close'), [0, null])

  const child = fork(fixture('cp-echo-ipc.js'))
  const server = net.createServer()
  try {
    assert.throws(() => child.send('with a handle', server), { ...unsupported, message: /sendHandle/ })
    child.send('still works')
    assert.deepEqual(await once(child, 'message'), [{ echo: 'still works', argv: [] }, undefined])
  } finally {
    child.disconnect()
  }
  assert.deepEqual(await once(child, 'close'), [0, null])
})

test('pipes and the IPC channel past stderr leave no descriptor open once the children closed', async () => {
  const openFds = () => fs.readdirSync('/proc/self/fd').length
  const run = async () => {
    const child = spawn(process.execPath, ['-e', 'require("fs").writeSync(4, "x"); process.disconnect()'], {
      stdio: ['pipe', 'pipe', 'pipe', 'ignore', 'pipe', 'ipc'],
    })
    child.stdio[4].resume()
    child.stdin.end()
    await once(child, 'close')
  }
  await run()
  const before = openFds()
  for (let i = 0; i < 20; i++) await run()
  assert.equal(openFds(), before)
})

test('nothing is left behind: a process that used every function exits by itself', { timeout: 30000 }, async () => {
  const { stdout } = await runNode(process.execPath, [fixture('cp-leak-parent.js')], { cwd: fixtures })
  assert.equal(stdout, 'cat,destroyed,enoent,exec,execFile-enoent,fork,timeout\n')
})

/** Holds the JS thread until the child has exited: Node keeps it a zombie until its loop reaps it, offload reaps it at once on its own thread. */
function holdUntilExited(pid) {
  const deadline = Date.now() + 10_000
  while (alive(pid)) {
    if (Date.now() > deadline) throw new Error(`child ${pid} still running after 10 s`)
  }
}

test('kill() returned false for a child that had exited and been reaped on offload\'s thread before the JS thread heard of it, so an abort in the same tick as the launch was lost: now it counts as sent, as a signal to a zombie does in Node', async () => {
  const results = await both(async (cp) => {
    const controller = new AbortController()
    const aborted = await new Promise((resolve) => {
      const child = cp.execFile('true', [], { signal: controller.signal }, (error) => resolve({ name: error?.name, code: error?.code, killed: child.killed }))
      holdUntilExited(child.pid)
      controller.abort()
    })
    const child = cp.spawn('true')
    holdUntilExited(child.pid)
    const sent = child.kill()
    const [code, signal] = await once(child, 'close')
    return { aborted, sent, killed: child.killed, code, signal }
  })
  assert.deepEqual(results.offload, results.node)
  assert.deepEqual(results.offload.aborted, { name: 'AbortError', code: 'ABORT_ERR', killed: true })
  assert.equal(results.offload.sent, true)
})

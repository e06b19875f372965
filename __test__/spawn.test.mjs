// The process engine's API: results, stdio, timeouts, abort, maxBuffer, launch
// errors, exec, the $ template, pipelines and fork. Real processes, no mocks.
import { test, describe } from 'node:test'
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { once } from 'node:events'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import childProcess from 'node:child_process'

import { spawn, execFile, exec, $, pipeline, fork, Subprocess, SubprocessError } from '../index.js'
import { sha256, bytes } from './fixtures/proc-data.mjs'
import { procStat, pollUntil } from './lib/proc.mjs'

const fixture = (name) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url))
const NODE = process.execPath
const MIB = 1024 * 1024

function tmpdir(t) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'offload-proc-'))
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }))
  return dir
}



function writtenBytes(pid) {
  try {
    return Number(/^wchar: (\d+)$/m.exec(fs.readFileSync(`/proc/${pid}/io`, 'utf8'))[1])
  } catch {
    return -1
  }
}

function blockedInWrite(pid) {
  try {
    // First field of /proc/<pid>/syscall: the syscall number it sleeps in (1 = write on x86_64, 64 on aarch64).
    const nr = Number(fs.readFileSync(`/proc/${pid}/syscall`, 'utf8').split(' ')[0])
    const write = process.arch === 'arm64' ? 64 : 1
    return procStat(pid)?.state === 'S' && nr === write
  } catch {
    return false
  }
}

/** A FIFO: a `cat` of it blocks until the test writes to it. */
async function gate(t, name = 'gate') {
  const fifo = path.join(tmpdir(t), name)
  await execFile('mkfifo', [fifo])
  return fifo
}

describe('result', () => {
  test('an awaited Subprocess resolves with every Result field', async () => {
    const child = spawn('sh', ['-c', 'echo "out put"; echo "err put" >&2'])
    const result = await child
    assert.deepEqual(Object.keys(await execFile('true')).sort(), Object.keys(result).sort())
    assert.equal(result.command, "sh -c 'echo \"out put\"; echo \"err put\" >&2'")
    assert.equal(typeof result.pid, 'number')
    assert.ok(result.pid > 0)
    assert.equal(result.pid, child.pid)
    assert.equal(result.exitCode, 0)
    assert.equal(result.signal, null)
    assert.equal(result.stdout, 'out put')
    assert.equal(result.stderr, 'err put')
    assert.equal(typeof result.durationMs, 'number')
    assert.ok(result.durationMs > 0 && result.durationMs < 10_000, `durationMs ${result.durationMs}`)
    assert.equal(result.timedOut, false)
    assert.equal(result.canceled, false)
    assert.equal(result.failed, false)
    for (const key of ['maxRssBytes', 'userCpuMs', 'systemCpuMs']) {
      assert.equal(typeof result.usage[key], 'number', key)
      assert.ok(result.usage[key] >= 0, key)
    }
    assert.ok(result.usage.maxRssBytes > 0)
    assert.equal(child.exitCode, 0)
    assert.equal(child.signalCode, null)
    assert.ok(child instanceof Subprocess)
  })

  test('durationMs measures the run', async () => {
    const result = await execFile('sleep', ['0.3'])
    assert.ok(result.durationMs >= 250 && result.durationMs < 5000, `durationMs ${result.durationMs}`)
  })

  test('usage.userCpuMs counts the CPU a busy child used', async () => {
    const result = await execFile(NODE, [fixture('proc-busy.mjs'), '400'])
    assert.match(result.stdout, /done 400/)
    assert.ok(result.usage.userCpuMs > 100, `userCpuMs ${result.usage.userCpuMs}`)
    assert.ok(result.usage.userCpuMs + result.usage.systemCpuMs >= 350, JSON.stringify(result.usage))
  })

  test('usage.maxRssBytes reaches what the child allocated', async () => {
    // maxRssBytes is at least our own RSS (README, Caveats: CLONE_VM), so allocate well past it.
    const mib = Math.ceil(process.memoryUsage().rss / MIB) + 128
    const result = await execFile(NODE, [fixture('proc-alloc.mjs'), String(mib)])
    assert.equal(result.stdout, `allocated ${mib}`)
    assert.ok(result.usage.maxRssBytes >= mib * MIB, `maxRssBytes ${result.usage.maxRssBytes} for ${mib} MiB`)
  })

  test('spawn, exit and close events; exitCode and signalCode', async () => {
    const child = spawn('sh', ['-c', 'exit 7'])
    const events = []
    child.on('spawn', () => events.push('spawn'))
    child.on('exit', (code, signal) => events.push(['exit', code, signal]))
    const closed = once(child, 'close')
    const [code, signal] = await closed
    assert.deepEqual([code, signal], [7, null])
    assert.deepEqual(events, ['spawn', ['exit', 7, null]])
    assert.equal(child.exitCode, 7)
    assert.equal(child.signalCode, null)
    const err = await child.catch((e) => e)
    assert.ok(err instanceof SubprocessError)
    assert.equal(err.code, 'ERR_OFFLOAD_EXIT_CODE')
    assert.equal(err.exitCode, 7)
  })

  test('a failing command rejects with its output, exit code and a message naming it', async () => {
    const err = await execFile('sh', ['-c', 'echo partial; echo broken >&2; exit 3']).catch((e) => e)
    assert.ok(err instanceof SubprocessError)
    assert.equal(err.code, 'ERR_OFFLOAD_EXIT_CODE')
    assert.equal(err.exitCode, 3)
    assert.equal(err.signal, null)
    assert.equal(err.stdout, 'partial')
    assert.equal(err.stderr, 'broken')
    assert.equal(err.failed, true)
    assert.match(err.message, /exit code 3/)
    assert.match(err.message, /echo partial/)
    assert.match(err.message, /broken/)
  })

  test('reject: false resolves with the failure instead of rejecting', async () => {
    const result = await execFile('sh', ['-c', 'echo out; echo err >&2; exit 4'], { reject: false })
    assert.equal(result.exitCode, 4)
    assert.equal(result.failed, true)
    assert.equal(result.code, 'ERR_OFFLOAD_EXIT_CODE')
    assert.equal(result.stdout, 'out')
    assert.equal(result.stderr, 'err')
    const timedOut = await execFile('sleep', ['100'], { timeout: 100, reject: false })
    assert.equal(timedOut.timedOut, true)
    assert.equal(timedOut.code, 'ERR_OFFLOAD_TIMEOUT')
    const missing = await execFile('no-such-program-offload-test', [], { reject: false })
    assert.equal(missing.code, 'ENOENT')
  })

  test('kill() signals the child: ERR_OFFLOAD_SIGNAL, killed', async () => {
    const child = spawn('sleep', ['100'])
    await once(child, 'spawn')
    assert.equal(child.kill(), true)
    const err = await child.catch((e) => e)
    assert.equal(err.code, 'ERR_OFFLOAD_SIGNAL')
    assert.equal(err.signal, 'SIGTERM')
    assert.equal(err.exitCode, null)
    assert.equal(child.killed, true)
    assert.equal(child.signalCode, 'SIGTERM')
    assert.equal(child.kill(), false, 'kill() after the end')

    const byNumber = spawn('sleep', ['100'])
    await once(byNumber, 'spawn')
    byNumber.kill(9)
    assert.equal((await byNumber.catch((e) => e)).signal, 'SIGKILL')
  })

  test('regression: kill() left a public _killed field on the Subprocess', async () => {
    const child = spawn('sleep', ['100'])
    await once(child, 'spawn')
    assert.equal(child.killed, false)
    child.kill(0) // a probe, not a kill
    assert.equal(child.killed, false)
    child.kill()
    assert.equal(child.killed, true)
    assert.ok(!Object.hasOwn(child, '_killed'), 'killed is kept in a private field')
    assert.deepEqual(Object.keys(child).filter((key) => !key.startsWith('_events') && key !== '_maxListeners'), [])
    await child.catch(() => {})
  })

  test('kill() of a child that ignores SIGTERM is followed by SIGKILL after forceKillAfter', async () => {
    const child = spawn(fixture('proc-ignore-term.sh'), [], { forceKillAfter: 300 })
    await once(child.stdout, 'data') // 'ready': SIGTERM is ignored from now on
    const killedAt = Date.now()
    assert.equal(child.kill(), true)
    const err = await child.catch((e) => e)
    assert.equal(err.code, 'ERR_OFFLOAD_SIGNAL')
    assert.equal(err.signal, 'SIGKILL')
    assert.ok(Date.now() - killedAt >= 250, `SIGKILL came ${Date.now() - killedAt} ms after kill()`)
  })

  test("encoding 'buffer' gives Buffers; stripFinalNewline only strips one newline", async () => {
    const raw = await execFile('printf', ['a\\0b\\n\\n'], { encoding: 'buffer' })
    assert.ok(Buffer.isBuffer(raw.stdout))
    assert.deepEqual(raw.stdout, Buffer.from('a\0b\n\n'))
    const text = await execFile('printf', ['x\\n\\n'])
    assert.equal(text.stdout, 'x\n')
    const kept = await execFile('printf', ['x\\n'], { stripFinalNewline: false })
    assert.equal(kept.stdout, 'x\n')
    const utf8 = await execFile('printf', ['h\\303\\251llo'])
    assert.equal(utf8.stdout, 'héllo')
  })
})

describe('the JS thread never waits', () => {
  test('spawn() returns at once even with hundreds queued', async () => {
    const started = process.hrtime.bigint()
    const children = Array.from({ length: 300 }, () => spawn('true'))
    const ms = Number(process.hrtime.bigint() - started) / 1e6
    await Promise.all(children)
    assert.ok(ms < 300, `300 spawn() calls blocked for ${ms} ms`)
  })

  test('regression: reading pid or calling kill() right after spawn() does not wait for the launches queued ahead', async () => {
    // Reading pid moves the launch to the front of the spawner's queue; before
    // that fix the JS thread stalled for the whole queue (~300 ms here).
    const queued = Array.from({ length: 300 }, () => spawn('true'))
    let started = process.hrtime.bigint()
    const pid = queued[299].pid
    const pidMs = Number(process.hrtime.bigint() - started) / 1e6
    await Promise.all(queued)
    assert.ok(pid === undefined || pid > 0)

    const again = Array.from({ length: 300 }, () => spawn('true'))
    started = process.hrtime.bigint()
    again[299].kill('SIGKILL')
    const killMs = Number(process.hrtime.bigint() - started) / 1e6
    await Promise.all(again.map((c) => c.catch((e) => e)))
    assert.ok(pidMs < 20 && killMs < 20, `the JS thread was blocked ${pidMs.toFixed(1)} ms by .pid and ${killMs.toFixed(1)} ms by kill()`)
  })
})

describe('stdio', () => {
  const SIZE = 50 * MIB

  test("50 MiB through stdout, collected with encoding 'buffer', byte-exact", async () => {
    const expected = sha256(SIZE, 7)
    const result = await execFile(NODE, [fixture('proc-gen.mjs'), String(SIZE), '7'], { encoding: 'buffer', timeout: 30_000 })
    assert.equal(result.stdout.length, SIZE)
    assert.equal(createHash('sha256').update(result.stdout).digest('hex'), expected)
  })

  test('50 MiB through stdout, streamed from the Readable, byte-exact', async () => {
    const expected = sha256(SIZE, 11)
    const child = spawn(NODE, [fixture('proc-gen.mjs'), String(SIZE), '11'], { timeout: 30_000 })
    const hash = createHash('sha256')
    let length = 0
    let chunks = 0
    for await (const chunk of child.stdout) {
      assert.ok(Buffer.isBuffer(chunk))
      hash.update(chunk)
      length += chunk.length
      chunks++
    }
    const result = await child
    assert.equal(result.exitCode, 0)
    assert.equal(length, SIZE)
    assert.equal(hash.digest('hex'), expected)
    assert.ok(chunks < SIZE / 4096, `${chunks} chunks: data should cross in large chunks`)
  })

  test('stdin streamed in: 800 chunks written with backpressure, hashed by the child', async () => {
    const child = spawn('sha256sum', [], { timeout: 30_000 })
    const hash = createHash('sha256')
    for (let i = 0; i < 800; i++) {
      const chunk = Buffer.alloc(64 * 1024, i % 251)
      chunk.writeUInt32LE(i, 0)
      hash.update(chunk)
      if (!child.stdin.write(chunk)) await once(child.stdin, 'drain')
    }
    child.stdin.end()
    const result = await child
    assert.equal(result.stdout, `${hash.digest('hex')}  -`)
  })

  test('stdin and stdout at once through cat: 32 MiB in, 32 MiB out, byte-exact', async () => {
    const input = bytes(32 * MIB, 3)
    const child = spawn('cat', [], { timeout: 30_000 })
    const reading = (async () => {
      const hash = createHash('sha256')
      let n = 0
      for await (const chunk of child.stdout) {
        hash.update(chunk)
        n += chunk.length
      }
      return [n, hash.digest('hex')]
    })()
    for (let offset = 0; offset < input.length; offset += 100_000) {
      if (!child.stdin.write(input.subarray(offset, offset + 100_000))) await once(child.stdin, 'drain')
    }
    child.stdin.end()
    const [n, digest] = await reading
    await child
    assert.equal(n, input.length)
    assert.equal(digest, createHash('sha256').update(input).digest('hex'))
  })

  test('stdin backpressure: writes to a child that is not reading stall, then all arrive', async (t) => {
    const fifo = await gate(t)
    // The child reads nothing until the test opens the gate, then hashes its stdin.
    const child = spawn('sh', ['-c', `read go < '${fifo}'; exec sha256sum`], { timeout: 30_000 })
    const hash = createHash('sha256')
    const chunk = (i) => Buffer.alloc(64 * 1024, i % 256)
    let accepted = 0
    let completed = 0
    let i = 0
    const write = () => {
      const data = chunk(i++)
      hash.update(data)
      accepted += data.length
      return child.stdin.write(data, () => (completed += data.length))
    }
    while (write());
    assert.ok(accepted <= 1024 * 1024, `stdin.write() accepted ${accepted} bytes before asking to wait`)
    // No event says "the writes are stuck": watch the completions settle.
    let last = -1
    let since = Date.now()
    await pollUntil(() => {
      if (completed !== last) {
        last = completed
        since = Date.now()
      }
      return completed > 0 && Date.now() - since >= 200
    }, { what: 'the stdin writes to stall' })
    assert.ok(completed <= 1024 * 1024, `${completed} bytes were taken while the child read nothing`)
    const drained = once(child.stdin, 'drain')
    await fs.promises.writeFile(fifo, 'go\n')
    await drained
    while (accepted < 32 * MIB) {
      if (!write()) await once(child.stdin, 'drain')
    }
    child.stdin.end()
    const result = await child
    assert.equal(result.stdout, `${hash.digest('hex')}  -`)
  })

  test('stdin from a 20 MiB Buffer, a string, a file, or ignored', async (t) => {
    const input = bytes(20 * MIB, 5)
    const fromBuffer = await execFile('sha256sum', [], { stdin: input })
    assert.equal(fromBuffer.stdout, `${createHash('sha256').update(input).digest('hex')}  -`)
    assert.equal((await execFile('cat', [], { stdin: 'a string\n' })).stdout, 'a string')
    const file = path.join(tmpdir(t), 'in.txt')
    fs.writeFileSync(file, 'from a file\n')
    assert.equal((await execFile('cat', [], { stdin: { file } })).stdout, 'from a file')
    // 'ignore' is /dev/null: cat sees end of input at once.
    assert.equal((await execFile('cat', [], { stdin: 'ignore', timeout: 5000 })).stdout, '')
  })

  test('stdout and stderr both large at once do not deadlock', async () => {
    const size = 24 * MIB
    const result = await execFile(NODE, [fixture('proc-gen.mjs'), String(size), '21', String(size)], {
      encoding: 'buffer',
      timeout: 30_000,
    })
    assert.equal(result.stdout.length, size)
    assert.equal(result.stderr.length, size)
    assert.equal(createHash('sha256').update(result.stdout).digest('hex'), sha256(size, 21))
    assert.equal(createHash('sha256').update(result.stderr).digest('hex'), sha256(size, 22))
  })

  test('both streams read as Readables at once, 16 MiB each', async () => {
    const size = 16 * MIB
    const child = spawn(NODE, [fixture('proc-gen.mjs'), String(size), '31', String(size)], { timeout: 30_000 })
    const digest = async (stream) => {
      const hash = createHash('sha256')
      for await (const chunk of stream) hash.update(chunk)
      return hash.digest('hex')
    }
    const [out, err] = await Promise.all([digest(child.stdout), digest(child.stderr)])
    await child
    assert.equal(out, sha256(size, 31))
    assert.equal(err, sha256(size, 32))
  })

  test('regression: lines() does not deadlock when the child also writes more than a pipe of stderr', async () => {
    // 3000 stdout lines interleaved with ~150 KB of stderr. Only stdout is read
    // by lines(); stderr used to be collected only at lines()' final `await`, so
    // the child blocked on a full stderr pipe. stderr is now collected from the
    // start. The timeout only keeps a regression from hanging the run.
    const child = spawn('sh', ['-c', 'i=0; while [ $i -lt 3000 ]; do i=$((i+1)); echo "line $i"; echo "warning $i: some padding to fill the pipe" >&2; done'], {
      timeout: 3000,
    })
    const lines = []
    let error = null
    try {
      for await (const line of child.lines()) lines.push(line)
    } catch (err) {
      error = err
    }
    assert.ok(error === null, `lines() failed with ${error?.code} after ${lines.length} of 3000 lines: the child was stuck writing stderr`)
    assert.equal(lines.length, 3000)
    assert.equal(lines[2999], 'line 3000')
  })

  test('lines() yields each line, without the newline, and the last unterminated one', async () => {
    const child = spawn('printf', ['one\\ntwo\\r\\n\\nthree'])
    const lines = []
    for await (const line of child.lines()) lines.push(line)
    assert.deepEqual(lines, ['one', 'two', '', 'three'])
  })

  test('lines() rejects at the end when the command failed', async () => {
    const child = spawn('sh', ['-c', 'echo a; exit 2'])
    const lines = []
    await assert.rejects(async () => {
      for await (const line of child.lines()) lines.push(line)
    }, { code: 'ERR_OFFLOAD_EXIT_CODE', exitCode: 2 })
    assert.deepEqual(lines, ['a'])
  })

  test('backpressure: a paused stdout stalls the child and keeps memory bounded', async () => {
    const total = 256 * MIB
    const rssBefore = process.memoryUsage().rss
    const child = spawn('head', ['-c', String(total), '/dev/zero'], { timeout: 30_000 })
    // Paused mode: wait until data is there, read nothing.
    await once(child.stdout, 'readable')
    // The child must end up asleep in write(2), its progress stalled.
    let last = -2
    let stableSince = 0
    await pollUntil(() => {
      const state = procStat(child.pid)
      assert.ok(state && state.state !== 'Z', 'the child finished while nobody read its stdout: no backpressure')
      const written = writtenBytes(child.pid)
      if (written !== last || !blockedInWrite(child.pid)) {
        last = written
        stableSince = Date.now()
        return false
      }
      return Date.now() - stableSince >= 200
    }, { what: 'the child to block on its full stdout pipe' })
    const written = writtenBytes(child.pid)
    assert.ok(written < 16 * MIB, `the child wrote ${written} bytes while nobody read`)
    const grown = process.memoryUsage().rss - rssBefore
    assert.ok(grown < 64 * MIB, `parent RSS grew by ${grown} bytes while the stream was paused`)
    assert.ok(child.stdout.readableLength <= 1 * MIB, `stream buffered ${child.stdout.readableLength}`)

    // Reading again lets it finish, with every byte.
    let n = 0
    child.stdout.on('data', (chunk) => {
      n += chunk.length
    })
    const result = await child
    assert.equal(result.exitCode, 0)
    assert.equal(n, total)
  })

  test('stdout to { file }, { file, append }; stderr ignored', async (t) => {
    const file = path.join(tmpdir(t), 'out.txt')
    fs.writeFileSync(file, 'previous\n')
    const replaced = await execFile('echo', ['first'], { stdout: { file } })
    assert.equal(replaced.stdout, undefined)
    assert.equal(fs.readFileSync(file, 'utf8'), 'first\n')
    await execFile('echo', ['second'], { stdout: { file, append: true } })
    assert.equal(fs.readFileSync(file, 'utf8'), 'first\nsecond\n')
    const ignored = await execFile('sh', ['-c', 'echo out; echo err >&2'], { stderr: 'ignore' })
    assert.equal(ignored.stdout, 'out')
    assert.equal(ignored.stderr, undefined)
    const child = spawn('echo', ['x'], { stdout: 'ignore' })
    assert.equal(child.stdout, null)
    await child
  })

  test("stdout and stderr 'inherit' write to the parent's own descriptors", async () => {
    const result = await execFile(NODE, [fixture('proc-inherit.cjs')], { timeout: 10_000 })
    assert.equal(result.stdout, 'to-stdout\ncollected:[null,null]')
    assert.equal(result.stderr, 'to-stderr')
  })

  test('env, extendEnv and cwd', async (t) => {
    const dir = fs.realpathSync(tmpdir(t))
    process.env.OFFLOAD_TEST_INHERITED = 'inherited'
    t.after(() => delete process.env.OFFLOAD_TEST_INHERITED)
    const extended = await execFile('sh', ['-c', 'echo "$OFFLOAD_TEST_INHERITED:$EXTRA:$(pwd)"'], { env: { EXTRA: 'extra' }, cwd: dir })
    assert.equal(extended.stdout, `inherited:extra:${dir}`)
    const bare = await execFile('/usr/bin/env', [], { env: { ONLY: 'this' }, extendEnv: false })
    assert.equal(bare.stdout, 'ONLY=this')
    const spaces = await execFile('sh', ['-c', 'printf %s "$V"'], { env: { V: ' a = b ; "c" ' } })
    assert.equal(spaces.stdout, ' a = b ; "c" ')
  })

  test('uid and gid switch the child to another user', async () => {
    const result = await execFile('sh', ['-c', 'id -u; id -g; id -G'], { uid: 65534, gid: 65534 })
    assert.deepEqual(result.stdout.split('\n'), ['65534', '65534', '65534'])
  })

  test('regression: writing to a child that has closed calls back instead of leaving the write pending', async () => {
    // The completion of a write made after the close used to be dropped, and
    // with nothing else pending Node exited before the callback.
    const child = spawn('true')
    await child
    for (let i = 0; i < 20; i++) {
      await new Promise((resolve, reject) => child.stdin.write('late', (err) => (err ? reject(err) : resolve())))
    }
  })
})

describe('streams thrown away, descriptors handed over', () => {
  test('regression: destroying stdout early closes the pipe instead of hanging the child', async () => {
    const child = spawn('head', ['-c', '3000000', '/dev/zero'])
    child.stdout.once('data', () => child.stdout.destroy())
    const result = await child.catch((e) => e)
    // head gets EPIPE/SIGPIPE on the closed pipe, as with Node's child.stdout.destroy().
    assert.ok(result.signal === 'SIGPIPE' || result.exitCode !== 0, `head finished normally: ${JSON.stringify(result.exitCode)}`)
    assert.equal(result.stdout, undefined)
  })

  test('regression: breaking out of lines() does not leave the child blocked', async () => {
    const child = spawn('seq', ['1', '1000000'])
    let seen = 0
    for await (const line of child.lines()) {
      seen++
      if (line === '10') break
    }
    assert.equal(seen, 10)
    const result = await child.catch((e) => e)
    assert.ok(result.signal === 'SIGPIPE' || result.exitCode !== 0)
  })

  test('regression: a stdio descriptor may be closed right after spawn()', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'offload-fd-'))
    try {
      for (let i = 0; i < 20; i++) {
        const file = path.join(dir, `out-${i}`)
        const fd = fs.openSync(file, 'w')
        const child = spawn('sh', ['-c', `echo run ${i}`], { stdout: fd })
        fs.closeSync(fd)
        await child
        assert.equal(fs.readFileSync(file, 'utf8'), `run ${i}\n`)
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true })
    }
  })

  test('a closed stdio descriptor is refused at the call', () => {
    const fd = fs.openSync(os.devNull, 'r')
    fs.closeSync(fd)
    assert.throws(() => spawn('true', [], { stdin: fd }), { name: 'TypeError', code: 'ERR_INVALID_ARG_VALUE', message: /descriptor/ })
  })
})

describe('timeout, abort, maxBuffer', () => {
  test('regression: timeout settles the call even when a grandchild keeps stdout open', async () => {
    // sh waits for its background sleep, which inherited stdout. Killing sh at
    // the timeout used to leave the call waiting for the pipe until sleep ended.
    const started = Date.now()
    const err = await execFile('sh', ['-c', 'echo started; sleep 4 & wait'], { timeout: 200 }).catch((e) => e)
    assert.equal(err.code, 'ERR_OFFLOAD_TIMEOUT')
    assert.equal(err.stdout, 'started')
    assert.ok(Date.now() - started < 2000, `settled after ${Date.now() - started} ms`)
  })

  test('timeout also bounds the wait for pipes after the child itself exited', async () => {
    // The child exits at once; a detached grandchild holds stdout open.
    const started = Date.now()
    const err = await execFile('sh', ['-c', '(sleep 4 &); echo bye'], { timeout: 300 }).catch((e) => e)
    assert.equal(err.code, 'ERR_OFFLOAD_TIMEOUT')
    assert.equal(err.exitCode, 0)
    assert.equal(err.stdout, 'bye')
    assert.ok(Date.now() - started < 2000, `settled after ${Date.now() - started} ms`)
  })

  test('aborting while only a grandchild holds the pipes settles at once', async () => {
    const controller = new AbortController()
    const child = spawn('sh', ['-c', '(sleep 4 &); echo bye'], { signal: controller.signal })
    await once(child, 'exit')
    const started = Date.now()
    controller.abort()
    const err = await child.catch((e) => e)
    assert.equal(err.code, 'ERR_OFFLOAD_ABORTED')
    assert.equal(err.stdout, 'bye')
    assert.ok(Date.now() - started < 1000, `settled after ${Date.now() - started} ms`)
  })

  test('timeout kills with killSignal (default SIGTERM)', async () => {
    const err = await execFile('sleep', ['100'], { timeout: 150 }).catch((e) => e)
    assert.equal(err.code, 'ERR_OFFLOAD_TIMEOUT')
    assert.equal(err.timedOut, true)
    assert.equal(err.signal, 'SIGTERM')
    assert.ok(err.durationMs >= 140 && err.durationMs < 5000, `durationMs ${err.durationMs}`)
    assert.match(err.message, /timed out after 150 milliseconds/)
    const int = await execFile('sleep', ['100'], { timeout: 100, killSignal: 'SIGINT' }).catch((e) => e)
    assert.equal(int.signal, 'SIGINT')
    assert.equal(int.code, 'ERR_OFFLOAD_TIMEOUT')
  })

  test('timeout with a child that ignores SIGTERM: forceKillAfter ends it with SIGKILL', async () => {
    const started = Date.now()
    const err = await execFile(fixture('proc-ignore-term.sh'), [], { timeout: 500, forceKillAfter: 300 }).catch((e) => e)
    assert.equal(err.stdout, 'ready', 'the child installed its SIGTERM handler')
    assert.equal(err.code, 'ERR_OFFLOAD_TIMEOUT')
    assert.equal(err.timedOut, true)
    assert.equal(err.signal, 'SIGKILL')
    assert.equal(err.exitCode, null)
    assert.ok(err.durationMs >= 750, `killed after ${err.durationMs} ms: SIGKILL came before forceKillAfter`)
    assert.ok(Date.now() - started < 10_000)
  })

  test('abort before start: never spawned, ERR_OFFLOAD_ABORTED', async (t) => {
    const marker = path.join(tmpdir(t), 'ran')
    const controller = new AbortController()
    controller.abort()
    const child = spawn('touch', [marker], { signal: controller.signal })
    let spawned = false
    child.on('spawn', () => {
      spawned = true
    })
    const err = await child.catch((e) => e)
    assert.ok(err instanceof SubprocessError)
    assert.equal(err.code, 'ERR_OFFLOAD_ABORTED')
    assert.equal(err.canceled, true)
    assert.equal(err.pid, undefined)
    assert.equal(spawned, false)
    assert.equal(child.pid, undefined)
    assert.equal(fs.existsSync(marker), false, 'the command ran')
  })

  test('abort after start: killed, canceled, ERR_OFFLOAD_ABORTED', async () => {
    const controller = new AbortController()
    const child = spawn('sleep', ['100'], { signal: controller.signal })
    await once(child, 'spawn')
    controller.abort()
    const err = await child.catch((e) => e)
    assert.equal(err.code, 'ERR_OFFLOAD_ABORTED')
    assert.equal(err.canceled, true)
    assert.equal(err.timedOut, false)
    assert.equal(err.signal, 'SIGTERM')
    assert.equal(err.pid, child.pid)
  })

  test('abort of a child that ignores SIGTERM escalates to SIGKILL after forceKillAfter', async () => {
    const controller = new AbortController()
    const child = spawn(fixture('proc-ignore-term.sh'), [], { signal: controller.signal, forceKillAfter: 200 })
    child.stdout.once('data', () => controller.abort())
    const err = await child.catch((e) => e)
    assert.equal(err.code, 'ERR_OFFLOAD_ABORTED')
    assert.equal(err.signal, 'SIGKILL')
  })

  test('maxBuffer: ERR_OFFLOAD_MAX_BUFFER with exactly maxBuffer bytes of output so far', async () => {
    const maxBuffer = 3 * MIB + 17
    const err = await execFile(NODE, [fixture('proc-gen.mjs'), String(10 * MIB), '41'], { maxBuffer, encoding: 'buffer' }).catch((e) => e)
    assert.equal(err.code, 'ERR_OFFLOAD_MAX_BUFFER')
    assert.equal(err.stdout.length, maxBuffer)
    assert.deepEqual(err.stdout, bytes(maxBuffer, 41), 'the kept output is the first maxBuffer bytes')
    assert.match(err.message, /maxBuffer/)

    const onStderr = await execFile('sh', ['-c', 'head -c 5000 /dev/zero >&2'], { maxBuffer: 1000 }).catch((e) => e)
    assert.equal(onStderr.code, 'ERR_OFFLOAD_MAX_BUFFER')
    assert.equal(onStderr.stderr.length, 1000)
    assert.match(onStderr.message, /stderr/)
  })

  test('maxBuffer: output of exactly maxBuffer bytes succeeds, one more fails', async () => {
    const exact = await execFile('head', ['-c', '1000', '/dev/zero'], { maxBuffer: 1000, encoding: 'buffer' })
    assert.equal(exact.stdout.length, 1000)
    const over = await execFile('head', ['-c', '1001', '/dev/zero'], { maxBuffer: 1000, encoding: 'buffer' }).catch((e) => e)
    assert.equal(over.code, 'ERR_OFFLOAD_MAX_BUFFER')
    assert.equal(over.stdout.length, 1000)
  })
})

describe('launch errors', () => {
  test('a missing program rejects like Node: ENOENT, errno, syscall, path, spawnargs', async () => {
    const nodeErr = await new Promise((resolve) => {
      childProcess.spawn('no-such-program-offload-test', ['a', 'b c']).on('error', resolve)
    })
    const child = spawn('no-such-program-offload-test', ['a', 'b c'])
    const err = await child.catch((e) => e)
    assert.ok(err instanceof Error)
    assert.equal(err.code, 'ENOENT')
    assert.equal(err.errno, os.constants.errno.ENOENT * -1)
    assert.equal(err.syscall, 'spawn no-such-program-offload-test')
    assert.equal(err.path, 'no-such-program-offload-test')
    assert.deepEqual(err.spawnargs, ['a', 'b c'])
    for (const key of ['code', 'errno', 'syscall', 'path', 'spawnargs']) assert.deepEqual(err[key], nodeErr[key], key)
    assert.equal(err.message, nodeErr.message)
    // With an 'error' listener, it is emitted too.
    const listened = spawn('no-such-program-offload-test')
    const emitted = once(listened, 'error')
    const [event] = await emitted
    assert.equal(event.code, 'ENOENT')
    await listened.catch(() => {})
  })

  test('a missing absolute path rejects with ENOENT too', async () => {
    const err = await execFile('/nonexistent/dir/prog').catch((e) => e)
    assert.equal(err.code, 'ENOENT')
    assert.equal(err.path, '/nonexistent/dir/prog')
  })

  test('a file without execute permission rejects with EACCES', async (t) => {
    const file = path.join(tmpdir(t), 'script.sh')
    fs.writeFileSync(file, '#!/bin/sh\necho ran\n', { mode: 0o644 })
    const err = await execFile(file, ['x']).catch((e) => e)
    assert.equal(err.code, 'EACCES')
    assert.equal(err.errno, -os.constants.errno.EACCES)
    assert.equal(err.syscall, `spawn ${file}`)
    assert.equal(err.path, file)
    assert.deepEqual(err.spawnargs, ['x'])
  })

  test('a missing cwd rejects with an error that names the cwd', async () => {
    const cwd = '/nonexistent/offload-cwd'
    const err = await execFile('true', [], { cwd }).catch((e) => e)
    assert.equal(err.code, 'ENOENT')
    assert.ok(err.message.includes(cwd), err.message)
    assert.match(err.message, /cwd/)
    assert.equal(err.cwd, cwd)
  })

  test('wrong argument types throw TypeError ERR_INVALID_ARG_TYPE at the call', () => {
    const cases = [
      () => spawn(42),
      () => spawn(undefined),
      () => spawn('echo', 'not-an-array'),
      () => spawn('echo', [1]),
      () => spawn('echo', [], { cwd: 42 }),
      () => spawn('echo', [], { env: 'A=1' }),
      () => spawn('echo', [], { detached: 'yes' }),
      () => spawn('echo', [], { signal: {} }),
      () => execFile('echo', [{}]),
      () => exec(42),
      () => $`echo ${{}}`,
      () => fork(42),
    ]
    for (const call of cases) {
      assert.throws(call, (err) => err instanceof TypeError && err.code === 'ERR_INVALID_ARG_TYPE', call.toString())
    }
  })

  test('NUL bytes in the file, args or env throw ERR_INVALID_ARG_VALUE at the call', () => {
    const cases = [
      () => spawn('ec\0ho'),
      () => spawn('echo', ['a', 'b\0c']),
      () => spawn('echo', [], { env: { A: 'x\0y' } }),
      () => spawn('echo', [], { env: { 'A\0B': 'x' } }),
      () => spawn('echo', [], { cwd: '/tmp\0' }),
      () => execFile('echo', ['\0']),
      () => exec('echo \0'),
    ]
    for (const call of cases) {
      assert.throws(call, (err) => err instanceof TypeError && err.code === 'ERR_INVALID_ARG_VALUE', call.toString())
    }
  })

  test('invalid option values throw at the call', () => {
    assert.throws(() => spawn('echo', [], { timeout: -1 }), { code: 'ERR_INVALID_ARG_VALUE' })
    assert.throws(() => spawn('echo', [], { stdout: 'bogus' }), { code: 'ERR_INVALID_ARG_VALUE' })
    assert.throws(() => spawn('echo', [], { limits: { memoryBytes: -5 } }), { code: 'ERR_INVALID_ARG_VALUE' })
    assert.throws(() => spawn('echo', [], { limits: { bogus: 1 } }), { code: 'ERR_INVALID_ARG_VALUE' })
    assert.throws(() => spawn('echo', [], { killSignal: 'SIGNOPE' }), { code: 'ERR_UNKNOWN_SIGNAL' })
    assert.throws(() => spawn('echo', [], { nosuchoption: 1 }), { code: 'ERR_INVALID_ARG_VALUE' })
  })

  // Regression: these were accepted and ignored, so `execFile('echo $HOME', [], { shell: true })`
  // failed with ENOENT and `spawn('echo', ['$HOME'], { shell: true })` printed "$HOME".
  test("another function's option throws and says which function takes it", () => {
    const shell = { code: 'ERR_INVALID_ARG_VALUE', message: /option 'shell', which only exec\(\) takes/ }
    assert.throws(() => spawn('echo', ['$HOME'], { shell: true }), shell)
    assert.throws(() => execFile('echo $HOME', [], { shell: true }), shell)
    assert.throws(() => $({ shell: '/bin/bash' }), shell)
    assert.throws(() => pipeline(['echo'], { file: 'cat', options: { shell: true } }), shell)
    assert.throws(() => fork(fixture('echo-once.js'), [], { shell: true }), shell)
    for (const key of ['execPath', 'execArgv', 'serialization']) {
      assert.throws(() => execFile('true', [], { [key]: undefined }), { code: 'ERR_INVALID_ARG_VALUE', message: new RegExp(`option '${key}', which only fork\\(\\) takes`) })
    }
  })
})

describe('exec, $, pipeline, fork', () => {
  test('exec runs the command through /bin/sh -c', async () => {
    const result = await exec('echo "$0"; printf %s "x y" | wc -c; echo $((6 * 7))')
    assert.equal(result.stdout, '/bin/sh\n3\n42')
    assert.equal(result.command, `/bin/sh -c 'echo "$0"; printf %s "x y" | wc -c; echo $((6 * 7))'`)
    const err = await exec('echo nope >&2; exit 9').catch((e) => e)
    assert.equal(err.code, 'ERR_OFFLOAD_EXIT_CODE')
    assert.equal(err.exitCode, 9)
    assert.equal(err.stderr, 'nope')
  })

  test('$: each interpolated value is exactly one argument, arrays one per element', async () => {
    const nasty = ['a b', "it's", 'say "hi"', 'x; rm -rf /', '$(whoami)', '`id`', '*', '', 'new\nline']
    const result = await $`${NODE} ${fixture('proc-argv.mjs')} ${nasty[0]} ${nasty[1]} ${nasty[2]} ${nasty[3]} ${nasty[4]} ${nasty[5]} ${nasty[6]} ${nasty[7]} ${nasty[8]} ${['p q', 'r;s']} --out=${'o u t'} plain  words`
    assert.deepEqual(JSON.parse(result.stdout), [...nasty, 'p q', 'r;s', '--out=o u t', 'plain', 'words'])
  })

  test('$: file names with spaces, quotes and ; reach the program intact', async (t) => {
    const dir = tmpdir(t)
    const names = ['with space.txt', "it's \"quoted\".txt", 'semi;colon.txt']
    for (const name of names) fs.writeFileSync(path.join(dir, name), `content of ${name}\n`)
    const files = names.map((n) => path.join(dir, n))
    const result = await $`cat ${files[0]} ${files[1]} ${files[2]}`
    assert.equal(result.stdout, names.map((n) => `content of ${n}`).join('\n'))
    const listed = await $`ls -1 ${files}`
    assert.deepEqual(listed.stdout.split('\n').sort(), [...files].sort())
  })

  test('$(options) binds options', async (t) => {
    const dir = fs.realpathSync(tmpdir(t))
    const result = await $({ cwd: dir, env: { GREETING: 'hi' } })`sh -c ${'echo "$GREETING from $(pwd)"'}`
    assert.equal(result.stdout, `hi from ${dir}`)
  })

  test('pipeline: ps aux | grep node', async () => {
    const result = await pipeline(['ps', 'aux'], ['grep', 'node'])
    assert.equal(result.exitCode, 0)
    const lines = result.stdout.split('\n')
    assert.ok(lines.length >= 1)
    assert.ok(lines.every((line) => line.includes('node')), result.stdout)
    assert.ok(lines.some((line) => line.includes(String(process.pid))), 'finds this test process')
    assert.equal(result.stages.length, 2)
    assert.equal(result.stages[0].command, 'ps aux')
    assert.equal(result.stages[0].exitCode, 0)
    assert.equal(result.stages[1].command, 'grep node')
  })

  test('pipeline: bytes pass stage to stage unchanged (8 MiB)', async () => {
    const size = 8 * MIB
    const result = await pipeline([NODE, fixture('proc-gen.mjs'), String(size), '51'], ['cat'], ['sha256sum'])
    assert.equal(result.stdout, `${sha256(size, 51)}  -`)
  })

  test('pipeline: a failing stage rejects and names the stage', async (t) => {
    // The first stage blocks opening a FIFO until every stage has started.
    const fifo = await gate(t)
    const last = pipeline(['cat', fifo], ['sh', '-c', 'cat >/dev/null; exit 5'], ['cat'])
    await once(last, 'spawn')
    await fs.promises.writeFile(fifo, 'x\n')
    const err = await last.catch((e) => e)
    assert.ok(err instanceof SubprocessError)
    assert.equal(err.stage, 1)
    assert.equal(err.exitCode, 5)
    assert.equal(err.code, 'ERR_OFFLOAD_EXIT_CODE')
    assert.match(err.message, /stage 2 of 3/)
    assert.ok(err.message.includes("sh -c 'cat >/dev/null; exit 5'"), err.message)
    assert.equal(err.stages.length, 3)
    assert.equal(err.stages[0].exitCode, 0)

    const fifo2 = await gate(t, 'gate2')
    const missing = pipeline(['cat', fifo2], ['no-such-program-offload-test'])
    const writing = fs.promises.writeFile(fifo2, 'x\n')
    const missingErr = await missing.catch((e) => e)
    await writing
    assert.equal(missingErr.code, 'ENOENT')
    assert.equal(missingErr.stage, 1)
    assert.match(missingErr.message, /stage 2 of 2/)
  })

  test('regression: pipe() from a child that already exited passes its collected output on', async () => {
    // When the source exits, its undecided stdout is collected; pipe() then
    // feeds those bytes to the next stage. (pipeline() used to hit the same
    // path when a fast first stage exited before the second was launched.)
    const source = spawn('echo', ['passed on'])
    await once(source, 'exit')
    const result = await source.pipe('cat').catch((e) => e)
    assert.ok(!(result instanceof Error), `pipe() failed: ${result.code} ${result.message?.split('\n')[0]}`)
    assert.equal(result.stdout, 'passed on')
  })

  test('regression: pipeline() with a fast-exiting first stage never loses its pipe, 400 runs 8 at a time', async () => {
    const failures = []
    let next = 0
    await Promise.all(Array.from({ length: 8 }, async () => {
      while (next < 400) {
        const i = next++
        const result = await pipeline(['echo', String(i)], ['cat']).catch((e) => e)
        if (result instanceof Error) failures.push(`${i}: ${result.code} ${result.message.split('\n')[0]}`)
        else assert.equal(result.stdout, String(i))
      }
    }))
    assert.equal(failures.length, 0, `${failures.length} of 400 pipelines failed, e.g. ${failures[0]}`)
  })

  test('pipeline: yes | head -1 is not a failure (SIGPIPE upstream)', async () => {
    const result = await pipeline(['yes'], ['head', '-1'])
    assert.equal(result.stdout, 'y')
    assert.equal(result.stages[0].signal, 'SIGPIPE')
  })

  test('subprocess.pipe() chains like a pipeline', async () => {
    const first = spawn('cat')
    const last = first.pipe('tr', ['a-z', 'A-Z']).pipe('rev')
    await once(last, 'spawn')
    first.stdin.end('hello\n')
    const result = await last
    assert.equal(result.stdout, 'OLLEH')
    assert.equal(first.stdout, null, 'the piped stdout is not readable from JS')
    assert.deepEqual(result.stages.map((s) => s.command), ['cat', 'tr a-z A-Z', 'rev'])
  })

  test('fork: an unmodified child talks with process.on("message") / process.send()', async () => {
    const child = fork(fixture('proc-ipc-echo.cjs'), ['arg1'], { stdout: 'pipe', stderr: 'pipe', timeout: 20_000 })
    const [ready] = await once(child, 'message')
    assert.deepEqual(ready, { ready: true, argv: ['arg1'] })
    assert.equal(child.connected, true)
    const message = { text: 'héllo\nworld', n: 42, nested: { list: [1, 'two', null], flag: true } }
    const reply = once(child, 'message')
    await child.send(message)
    const [answer] = await reply
    assert.deepEqual(answer, { echo: message, pid: child.pid, connected: true })

    // Many in flight, answered in order.
    const answers = []
    const all = new Promise((resolve) => {
      const onMessage = (m) => {
        answers.push(m.echo.i)
        if (answers.length === 200) {
          child.off('message', onMessage)
          resolve()
        }
      }
      child.on('message', onMessage)
    })
    for (let i = 0; i < 200; i++) child.send({ i })
    await all
    assert.deepEqual(answers, Array.from({ length: 200 }, (_, i) => i))

    const disconnected = once(child, 'disconnect')
    child.disconnect()
    await disconnected
    assert.equal(child.connected, false)
    const result = await child
    assert.equal(result.exitCode, 0)
    assert.equal(result.stderr, 'disconnected')
    await assert.rejects(child.send({ late: true }), { code: 'ERR_IPC_CHANNEL_CLOSED' })
  })

  test('fork: the child can exit with a code while connected', async () => {
    const child = fork(fixture('proc-ipc-echo.cjs'), { stdout: 'ignore', stderr: 'ignore', timeout: 20_000 })
    await once(child, 'message')
    child.send({ cmd: 'exit', code: 3 })
    const err = await child.catch((e) => e)
    assert.equal(err.code, 'ERR_OFFLOAD_EXIT_CODE')
    assert.equal(err.exitCode, 3)
  })

  test('fork of a missing or throwing module (issue 16): rejects at once, naming the file, with the end of the stderr it passed through', async (t) => {
    const dir = tmpdir(t)
    const throws = path.join(dir, 'throws.js')
    fs.writeFileSync(throws, "throw new Error('fork-throws-on-load: no config')\n")
    const missing = path.join(dir, 'missing.js')
    const fine = path.join(dir, 'fine.js')
    fs.writeFileSync(fine, "process.stderr.write('fork-fine: a warning\\n')\n")
    // In a child of ours, to see what reaches its stderr.
    const code = `
      const { fork } = require(${JSON.stringify(fileURLToPath(new URL('../index.js', import.meta.url)))})
      const out = []
      const run = async (file) => {
        const child = fork(file)
        const sent = await child.send({ hello: 1 }).then(() => 'sent', (e) => e.code)
        const err = await child.then(() => null, (e) => e)
        out.push({ streams: child.stderr, sent, name: err.name, code: err.code, exitCode: err.exitCode, message: err.message, stderr: err.stderr })
      }
      run(${JSON.stringify(missing)}).then(() => run(${JSON.stringify(throws)})).then(() => {
        return fork(${JSON.stringify(fine)}).then((r) => out.push({ exitCode: r.exitCode, stderr: r.stderr }))
      }).then(() => process.stdout.write(JSON.stringify(out)))`
    const child = childProcess.spawn(NODE, ['-e', code])
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d) => (stdout += d))
    child.stderr.on('data', (d) => (stderr += d))
    const [exitCode] = await once(child, 'close')
    assert.equal(exitCode, 0, stderr)
    const [gone, thrown, ok] = JSON.parse(stdout)
    for (const [err, file, line] of [[gone, missing, /Error: Cannot find module/], [thrown, throws, /Error: fork-throws-on-load: no config/]]) {
      assert.equal(err.streams, null, 'stderr is inherited: no stream')
      assert.ok(['sent', 'EPIPE', 'ERR_IPC_CHANNEL_CLOSED'].includes(err.sent), err.sent)
      assert.equal(err.name, 'SubprocessError')
      assert.equal(err.code, 'ERR_OFFLOAD_EXIT_CODE')
      assert.equal(err.exitCode, 1)
      assert.ok(err.message.startsWith(`Command failed with exit code 1: ${NODE} ${file}`), err.message)
      assert.match(err.message, line)
      assert.match(err.stderr, line)
      // And it was passed through to our stderr as it came, once.
      assert.equal(stderr.match(new RegExp(line.source, 'g')).length, 1)
    }
    // A child that succeeds: its stderr passed through, none in the result (as with 'inherit').
    assert.deepEqual(ok, { exitCode: 0 })
    assert.match(stderr, /fork-fine: a warning/)
  })

  test("bug: fork: when the child exits right after sending, 'disconnect' is lost and connected stays true", async () => {
    // The result settles (and the child is unregistered from the event channel)
    // as soon as the exit is reaped and stdout/stderr are drained; the IPC
    // reader's end-of-channel comes later and is dropped. Node's own fork()
    // counts the IPC channel among the things 'close' waits for.
    const rounds = []
    for (let round = 0; round < 8; round++) {
      const child = fork(fixture('proc-ipc-burst.cjs'), ['2000'], { stdout: 'ignore', stderr: 'ignore', timeout: 20_000 })
      let messages = 0
      let disconnected = false
      child.on('message', () => messages++)
      child.on('disconnect', () => {
        disconnected = true
      })
      const result = await child
      assert.equal(result.exitCode, 0)
      assert.equal(messages, 2000, 'every message arrives before the result')
      rounds.push({ disconnected, connected: child.connected })
    }
    const bad = rounds.filter((r) => !r.disconnected || r.connected)
    assert.equal(bad.length, 0, `${bad.length} of 8 children settled without 'disconnect' (connected still true)`)
  })
})

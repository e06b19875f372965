// spawnSync, execFileSync and execSync: each scenario runs on node:child_process and on
// offload/child_process in the same test, and the two must give the same result: the
// returned object (keys in Node's order), or the thrown error (class, message, code, errno,
// syscall, path, spawnargs, status, signal, output, stdout, stderr, and `error` on it).
// Plus: what reaches the parent's own stdout and stderr, and no leftover fd or zombie.

import { test } from 'node:test'
import assert from 'node:assert/strict'
import * as nodeCp from 'node:child_process'
import fs from 'node:fs'
import { pathToFileURL } from 'node:url'
import * as offloadCp from 'offload/child_process'

const MODULES = { node: 'node:child_process', offload: 'offload/child_process' }

/** A comparable picture of a returned or thrown value: pids become 'pid', stacks go. */
function picture(value, seen = new Set()) {
  if (value instanceof Error) {
    if (seen.has(value)) return '[the error itself]'
    seen.add(value)
    const out = { class: value.constructor.name, message: value.message, keys: Object.keys(value) }
    for (const key of Object.keys(value)) out[key] = key === 'pid' ? pid(value[key]) : picture(value[key], seen)
    return out
  }
  if (Buffer.isBuffer(value)) return { buffer: value.toString('latin1') }
  if (Array.isArray(value)) return value.map((v) => picture(v, seen))
  if (value !== null && typeof value === 'object') {
    const out = { keys: Object.keys(value) }
    for (const key of Object.keys(value)) out[key] = key === 'pid' ? pid(value[key]) : picture(value[key], seen)
    return out
  }
  return value
}

function pid(value) {
  return Number.isInteger(value) && value > 0 ? 'a pid' : value
}

function outcome(fn) {
  try {
    return { returned: picture(fn()) }
  } catch (err) {
    return { threw: picture(err) }
  }
}

/** Runs `scenario(module)` on both modules; asserts they agree and returns Node's outcome. */
function same(scenario) {
  const node = outcome(() => scenario(nodeCp))
  const offload = outcome(() => scenario(offloadCp))
  assert.deepEqual(offload, node)
  return node
}

test('success: stdout, stderr, status 0, Node\'s keys and order', () => {
  const r = same((cp) => cp.spawnSync('sh', ['-c', 'echo out; echo err >&2']))
  assert.deepEqual(r.returned.keys, ['status', 'signal', 'output', 'pid', 'stdout', 'stderr'])
  assert.deepEqual(r.returned.stdout, { buffer: 'out\n' })
  same((cp) => cp.execFileSync('echo', ['a', 'b']))
  same((cp) => cp.execSync('echo a b'))
  same((cp) => cp.spawnSync('echo', { encoding: 'utf8' }))
})

test('non-zero exit: spawnSync reports it, execFileSync and execSync throw "Command failed" with stderr', () => {
  same((cp) => cp.spawnSync('sh', ['-c', 'echo out; echo bad >&2; exit 3']))
  const thrown = same((cp) => cp.execFileSync('sh', ['-c', 'echo out; echo bad >&2; exit 3'], { stdio: 'pipe' }))
  assert.equal(thrown.threw.message, 'Command failed: sh -c echo out; echo bad >&2; exit 3\nbad\n')
  assert.equal(thrown.threw.status, 3)
  same((cp) => cp.execSync('echo out; exit 4', { stdio: 'pipe', encoding: 'utf8' }))
  same((cp) => cp.execFileSync('sh', ['-c', 'exit 1'], { argv0: 'renamed', stdio: 'pipe' }))
})

test('killed by a signal: status null, signal named', () => {
  const r = same((cp) => cp.spawnSync('sh', ['-c', 'kill -KILL $$']))
  assert.equal(r.returned.signal, 'SIGKILL')
  same((cp) => cp.execSync('kill -TERM $$', { stdio: 'pipe' }))
})

test('ENOENT: spawnSync\'s error, and the error execFileSync throws, with spawnSync\'s syscall, path and spawnargs', () => {
  const r = same((cp) => cp.spawnSync('offload-no-such-program', ['a', 'b']))
  assert.equal(r.returned.error.message, 'spawnSync offload-no-such-program ENOENT')
  assert.deepEqual(r.returned.error.spawnargs, ['a', 'b'])
  assert.equal(r.returned.pid, 0)
  const thrown = same((cp) => cp.execFileSync('offload-no-such-program', ['x'], { encoding: 'utf8' }))
  assert.equal(thrown.threw.error, '[the error itself]')
  same((cp) => cp.spawnSync('/etc/passwd'))
})

test('a missing cwd is spawnSync\'s ENOENT on the program; a file URL is a cwd', () => {
  same((cp) => cp.spawnSync('pwd', { cwd: '/offload-no-such-dir' }))
  const r = same((cp) => cp.spawnSync('pwd', { cwd: pathToFileURL('/tmp'), encoding: 'utf8' }))
  assert.equal(r.returned.stdout, '/tmp\n')
})

test('timeout: killSignal is sent, error ETIMEDOUT, output so far kept', () => {
  const r = same((cp) => cp.spawnSync('sh', ['-c', 'echo before; exec sleep 5'], { timeout: 200 }))
  assert.equal(r.returned.error.code, 'ETIMEDOUT')
  assert.equal(r.returned.signal, 'SIGTERM')
  same((cp) => cp.spawnSync('sleep', ['5'], { timeout: 100, killSignal: 'SIGKILL' }))
  same((cp) => cp.spawnSync('sleep', ['5'], { timeout: 100, killSignal: 2 }))
  same((cp) => cp.execSync('exec sleep 5', { timeout: 100 }))
})

test('timeout while a grandchild holds the pipe after the exit: ETIMEDOUT with the exit status', () => {
  const r = same((cp) => cp.spawnSync('sh', ['-c', 'sleep 5 & echo started'], { timeout: 300, encoding: 'utf8' }))
  assert.equal(r.returned.status, 0)
  assert.equal(r.returned.error.code, 'ETIMEDOUT')
})

test('maxBuffer: ENOBUFS, the child killed, the read that passed the limit kept; stdout and stderr count together', () => {
  const r = same((cp) => cp.spawnSync('sh', ['-c', 'printf 0123456789a; exec sleep 5'], { maxBuffer: 10 }))
  assert.equal(r.returned.error.code, 'ENOBUFS')
  assert.deepEqual(r.returned.stdout, { buffer: '0123456789a' })
  same((cp) => cp.spawnSync('sh', ['-c', 'printf 123456; printf 123456 >&2; exec sleep 5'], { maxBuffer: 10 }))
  same((cp) => cp.spawnSync('sh', ['-c', 'printf 0123456789'], { maxBuffer: 10 }))
  same((cp) => cp.execFileSync('sh', ['-c', 'printf 0123456789a; exec sleep 5'], { maxBuffer: 5 }))
  // 0 and undefined mean no limit; the default is 1 MiB.
  same((cp) => cp.spawnSync('head', ['-c', '70000', '/dev/zero'], { maxBuffer: 0 }).stdout.length)
  same((cp) => cp.spawnSync('head', ['-c', '70000', '/dev/zero'], { maxBuffer: undefined }).stdout.length)
  same((cp) => cp.spawnSync('sh', ['-c', 'head -c 2000000 /dev/zero; exec sleep 5']).error?.code)
})

test('input: string (with encoding), Buffer, TypedArray, DataView; ignored unless stdin is a pipe', () => {
  same((cp) => cp.spawnSync('cat', { input: 'héllo' }))
  same((cp) => cp.spawnSync('cat', { input: '4142', encoding: 'hex' }))
  same((cp) => cp.spawnSync('cat', { input: Buffer.from('abc') }))
  same((cp) => cp.spawnSync('cat', { input: new Uint16Array([0x4141, 0x4242]) }))
  same((cp) => cp.spawnSync('cat', { input: new DataView(new ArrayBuffer(3)) }))
  same((cp) => cp.spawnSync('wc', ['-c'], { input: 'x'.repeat(300_000), encoding: 'utf8' }))
  same((cp) => cp.spawnSync('cat', { input: 'x', stdio: 'ignore' }))
  same((cp) => cp.execSync('cat', { input: 'from input' }))
})

test('input the child never reads: spawnSync\'s error is EPIPE, with the exit status', () => {
  const r = same((cp) => cp.spawnSync('true', { input: 'x'.repeat(1 << 20) }))
  assert.equal(r.returned.error.code, 'EPIPE')
  assert.equal(r.returned.status, 0)
})

test('encoding: every output pipe is decoded; \'buffer\' is the default', () => {
  same((cp) => cp.spawnSync('echo', ['hi'], { encoding: 'utf8' }))
  same((cp) => cp.spawnSync('echo', ['hi'], { encoding: 'hex' }))
  same((cp) => cp.spawnSync('echo', ['hi'], { encoding: 'buffer' }))
  same((cp) => cp.spawnSync('sh', ['-c', 'echo x >&3'], { encoding: 'latin1', stdio: ['pipe', 'pipe', 'pipe', 'pipe'] }))
  same((cp) => cp.execFileSync('echo', ['hi'], { encoding: 'utf8' }))
  same((cp) => cp.spawnSync('echo', ['hi'], { encoding: 'bogus' }))
})

test('shell: true and a named shell, with Node\'s joined command', () => {
  same((cp) => cp.spawnSync('echo $0 "$1"', ['a b'], { shell: true, encoding: 'utf8' }))
  same((cp) => cp.spawnSync('echo $0', { shell: '/bin/bash', encoding: 'utf8' }))
  const r = same((cp) => cp.execSync('exit 7', { stdio: 'pipe' }))
  assert.equal(r.threw.message, 'Command failed: exit 7')
})

test('stdio: ignore, inherit, descriptors, and pipes beyond stderr', () => {
  same((cp) => cp.spawnSync('true', { stdio: 'ignore' }))
  same((cp) => cp.spawnSync('sh', ['-c', 'echo x'], { stdio: ['pipe', 'ignore', 'pipe'] }))
  same((cp) => cp.spawnSync('sh', ['-c', 'echo x'], { stdio: ['pipe'] }))
  same((cp) => cp.spawnSync('sh', ['-c', 'echo x >&4; echo y >&3'], { stdio: ['pipe', 'pipe', 'pipe', 'ignore', 'pipe'] }))
  same((cp) => cp.spawnSync('sh', ['-c', 'echo x >&3'], { stdio: ['pipe', 'pipe', 'pipe', 'ignore'] }))
  same((cp) => cp.spawnSync('true', { stdio: ['pipe', 'pipe', 'pipe', 'ipc'] }))
  same((cp) => cp.spawnSync('true', { stdio: ['pipe', 99, 'pipe'] }))
  const fd = fs.openSync('/dev/null', 'w')
  try {
    same((cp) => cp.spawnSync('sh', ['-c', 'echo to-fd; echo err >&2'], { stdio: ['pipe', fd, 'pipe'] }))
  } finally {
    fs.closeSync(fd)
  }
})

test('argv0, env, uid, gid and detached', () => {
  same((cp) => cp.spawnSync('sh', ['-c', 'echo $0'], { argv0: 'renamed', encoding: 'utf8' }))
  same((cp) => cp.spawnSync('sh', ['-c', 'echo "$FOO|$HOME"'], { env: { FOO: 'bar' }, encoding: 'utf8' }))
  same((cp) => cp.spawnSync('sh', ['-c', 'echo "$FOO"'], { env: Object.create({ FOO: 'inherited' }), encoding: 'utf8' }))
  same((cp) => cp.spawnSync('true', { detached: true, windowsHide: true }))
  if (process.getuid() === 0) same((cp) => cp.spawnSync('id', ['-u', '-g'], { uid: 65534, gid: 65534, encoding: 'utf8' }))
})

test('bad arguments: Node\'s codes and messages', () => {
  same((cp) => cp.spawnSync(5))
  same((cp) => cp.spawnSync(''))
  same((cp) => cp.spawnSync('true', 'x'))
  same((cp) => cp.spawnSync('true', { timeout: -1 }))
  same((cp) => cp.spawnSync('true', { maxBuffer: 'x' }))
  same((cp) => cp.spawnSync('true', { killSignal: 'SIGFOO' }))
  same((cp) => cp.spawnSync('true', { stdio: 'bogus' }))
  same((cp) => cp.spawnSync('cat', { input: 'x', encoding: 'bogus' }))
  same((cp) => cp.execSync(5))
  same((cp) => cp.execFileSync('true', ['a\u0000']))
  same((cp) => cp.spawnSync('cat', { input: 5 }))
  same((cp) => cp.spawnSync('true', { cwd: 5 }))
  same((cp) => cp.spawnSync('true', { uid: -1 }))
})

/** Runs a small script in a fresh Node with `module` as the child_process module; returns what it printed. */
function inFreshNode(module, script) {
  return nodeCp.spawnSync(process.execPath, ['-e', `const cp = require(${JSON.stringify(module)}); ${script}`], {
    encoding: 'utf8',
    cwd: new URL('..', import.meta.url),
  })
}

test('stdio inherit: the child writes straight to the parent\'s stdout and stderr', () => {
  const script = "const r = cp.spawnSync('sh', ['-c', 'echo to-out; echo to-err >&2'], { stdio: 'inherit' }); console.log(JSON.stringify(r.output))"
  const node = inFreshNode(MODULES.node, script)
  const offload = inFreshNode(MODULES.offload, script)
  assert.equal(node.stdout, 'to-out\n[null,null,null]\n')
  assert.deepEqual([offload.stdout, offload.stderr], [node.stdout, node.stderr])
})

test('execSync and execFileSync pass the child\'s stderr on to the parent\'s unless stdio is given', () => {
  for (const script of [
    "const out = cp.execSync('echo to-out; echo to-err >&2'); process.stdout.write('returned ' + out)",
    "try { cp.execFileSync('sh', ['-c', 'echo failing >&2; exit 2']) } catch (e) { console.log('threw', e.status) }",
    "cp.execSync('echo quiet >&2', { stdio: 'pipe' }); console.log('done')",
  ]) {
    const node = inFreshNode(MODULES.node, script)
    const offload = inFreshNode(MODULES.offload, script)
    assert.deepEqual([offload.stdout, offload.stderr, offload.status], [node.stdout, node.stderr, node.status], script)
  }
})

test('1 000 spawnSync calls leave no descriptor and no zombie behind', () => {
  const fds = () => fs.readdirSync('/proc/self/fd').length
  offloadCp.spawnSync('true')
  const before = fds()
  const pids = []
  for (let i = 0; i < 1000; i++) {
    const r = offloadCp.spawnSync('sh', ['-c', 'echo out; echo err >&2'], { input: 'in' })
    assert.equal(r.status, 0)
    pids.push(r.pid)
  }
  assert.equal(fds(), before)
  // A zombie keeps its /proc entry until it is reaped.
  const left = pids.filter((p) => fs.existsSync(`/proc/${p}/stat`) && fs.readFileSync(`/proc/${p}/stat`, 'utf8').includes(') Z'))
  assert.deepEqual(left, [])
})

test('a Buffer or string as a stdio entry throws ERR_OFFLOAD_UNSUPPORTED_OPTION (Node 20 drops it and shifts the rest)', () => {
  for (const entry of [Buffer.from('x'), 'text', new Uint8Array(1)]) {
    assert.throws(() => offloadCp.spawnSync('cat', { stdio: [entry, 'pipe', 'pipe'] }), {
      code: 'ERR_OFFLOAD_UNSUPPORTED_OPTION',
      message: /options\.stdio\[0\] as a Buffer, TypedArray, DataView or string: pass the bytes as options\.input/,
    })
  }
})

test('the docs\' execFileSync example: err.code when the launch failed, err.stdout and err.stderr when the child failed', () => {
  const docsExample = (cp, file, args) => {
    try {
      return { stdout: cp.execFileSync(file, args, { stdio: 'pipe', encoding: 'utf8' }) }
    } catch (err) {
      if (err.code) return { spawnFailed: err.code }
      const { stdout, stderr } = err
      return { stdout, stderr }
    }
  }
  for (const [file, args] of [
    ['my-script.sh', ['my-arg']],
    ['sh', ['-c', 'echo partial; echo "bad arg $0" >&2; exit 1', 'my-arg']],
    ['sh', ['-c', 'echo "ran with $0"', 'my-arg']],
  ]) {
    const r = same((cp) => docsExample(cp, file, args))
    assert.ok(r.returned.spawnFailed || r.returned.stdout, JSON.stringify(r))
  }
})

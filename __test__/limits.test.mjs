// Every entry of options.limits is enforced on a real child: the child hits the
// limit and fails the documented way, while a control run under a looser limit
// (or none) succeeds.
import { test, describe } from 'node:test'
import assert from 'node:assert/strict'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

import { execFile, SubprocessError } from '../index.js'

const fixture = (name) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url))
const NODE = process.execPath
const MIB = 1024 * 1024
const NOBODY = 65534

function tmpdir(t) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'offload-limits-'))
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }))
  return dir
}

/** The child's own view of its limits: { 'Max cpu time': [soft, hard], … }. */
async function childLimits(limits, extra = {}) {
  const result = await execFile('cat', ['/proc/self/limits'], { limits, ...extra })
  const table = {}
  for (const line of result.stdout.split('\n').slice(1)) {
    const m = /^(Max [a-z ]+?)\s{2,}(\S+)\s+(\S+)/.exec(line)
    if (m) table[m[1]] = [m[2], m[3]]
  }
  return table
}

describe('limits are set in the child', () => {
  test('each limit shows up in /proc/self/limits, soft and hard', async () => {
    const table = await childLimits({
      memoryBytes: 512 * MIB,
      cpuSeconds: 7,
      openFiles: 123,
      fileSizeBytes: 1_000_000,
      processes: 77,
    })
    assert.deepEqual(table['Max data size'], [String(512 * MIB), String(512 * MIB)])
    // The hard CPU limit is one second later, so the child first gets a catchable SIGXCPU.
    assert.deepEqual(table['Max cpu time'], ['7', '8'])
    assert.deepEqual(table['Max open files'], ['123', '123'])
    assert.deepEqual(table['Max file size'], ['1000000', '1000000'])
    assert.deepEqual(table['Max processes'], ['77', '77'])
  })

  test('without limits the child inherits ours', async () => {
    const ours = fs.readFileSync('/proc/self/limits', 'utf8')
    const oursData = /^Max data size\s+(\S+)\s+(\S+)/m.exec(ours).slice(1)
    const table = await childLimits(undefined)
    assert.deepEqual(table['Max data size'], oursData)
  })
})

describe('limits are enforced', () => {
  test('memoryBytes: a child that allocates past it fails; under a looser limit it succeeds', async () => {
    const err = await execFile(NODE, [fixture('proc-alloc.mjs'), '400'], { limits: { memoryBytes: 256 * MIB }, timeout: 30_000 }).catch((e) => e)
    assert.ok(err instanceof SubprocessError, `expected a failure, got ${JSON.stringify(err?.stdout)}`)
    assert.notEqual(err.stdout, 'allocated 400')
    assert.ok(err.exitCode !== 0 || err.signal !== null)
    assert.equal(err.timedOut, false)
    assert.match(err.message, /memoryBytes/)
    assert.match(err.stderr, /allocation failed|out of memory|heap/i)

    const ok = await execFile(NODE, [fixture('proc-alloc.mjs'), '400'], { limits: { memoryBytes: 2048 * MIB }, timeout: 30_000 })
    assert.equal(ok.stdout, 'allocated 400')
  })

  test('memoryBytes: a C program (dd) cannot get a buffer past the limit either', async () => {
    // dd allocates its bs-sized buffer up front.
    const args = ['if=/dev/zero', 'of=/dev/null', 'bs=300M', 'count=1']
    const err = await execFile('dd', args, { limits: { memoryBytes: 64 * MIB } }).catch((e) => e)
    assert.ok(err instanceof SubprocessError, 'dd got a 300 MiB buffer under a 64 MiB limit')
    assert.equal(err.code, 'ERR_OFFLOAD_EXIT_CODE')
    assert.match(err.stderr, /memory exhausted/i)
    await execFile('dd', args, { limits: { memoryBytes: 1024 * MIB } })
  })

  test('cpuSeconds: a busy loop is stopped at 1 s of CPU with SIGXCPU, ERR_OFFLOAD_CPU_LIMIT', async () => {
    const err = await execFile(NODE, [fixture('proc-busy.mjs')], { limits: { cpuSeconds: 1 }, timeout: 30_000 }).catch((e) => e)
    assert.ok(err instanceof SubprocessError)
    assert.equal(err.code, 'ERR_OFFLOAD_CPU_LIMIT')
    assert.equal(err.signal, 'SIGXCPU')
    assert.equal(err.timedOut, false)
    assert.equal(err.stdout, 'ready')
    const cpuMs = err.usage.userCpuMs + err.usage.systemCpuMs
    assert.ok(cpuMs >= 800 && cpuMs < 2000, `used ${cpuMs} ms of CPU`)
    assert.match(err.message, /cpuSeconds = 1/)
  })

  test('cpuSeconds: a child that catches SIGXCPU is killed at the hard limit, one second later', async () => {
    const err = await execFile(NODE, [fixture('proc-busy.mjs'), '--catch-xcpu'], { limits: { cpuSeconds: 1 }, timeout: 30_000 }).catch((e) => e)
    assert.equal(err.code, 'ERR_OFFLOAD_CPU_LIMIT')
    assert.equal(err.signal, 'SIGKILL')
    assert.match(err.stderr, /caught SIGXCPU/)
    const cpuMs = err.usage.userCpuMs + err.usage.systemCpuMs
    // The hard limit is 2 s of CPU; rusage splits the scheduler's runtime by sampled ticks, so on a
    // loaded machine it can read a few hundred ms low (seen: 1,639 ms). Past 1.4 s still shows the
    // child outlived the soft limit it caught.
    assert.ok(cpuMs >= 1400, `used ${cpuMs} ms of CPU`)
  })

  test('cpuSeconds counts CPU time, not wall time: an idle child outlives it', async () => {
    const result = await execFile('sleep', ['1.2'], { limits: { cpuSeconds: 1 } })
    assert.equal(result.exitCode, 0)
    assert.ok(result.durationMs >= 1100)
  })

  test('openFiles: the child cannot open a descriptor at or above the limit', async () => {
    const script = `
      const fs = require('fs'); let n = 0, highest = -1, code = null
      try { for (;;) { const fd = fs.openSync('/dev/null', 'r'); n++; highest = Math.max(highest, fd) } } catch (e) { code = e.code }
      process.stdout.write(JSON.stringify({ n, highest, code }))`
    const limited = JSON.parse((await execFile(NODE, ['-e', script], { limits: { openFiles: 64 } })).stdout)
    assert.equal(limited.code, 'EMFILE')
    assert.ok(limited.highest === 63, `highest fd ${limited.highest}`)
    const looser = JSON.parse((await execFile(NODE, ['-e', script], { limits: { openFiles: 200 } })).stdout)
    assert.equal(looser.code, 'EMFILE')
    assert.equal(looser.highest, 199)
    assert.equal(looser.n - limited.n, 136)

    const sh = await execFile('sh', ['-c', 'exec 3</dev/null 4</dev/null 5</dev/null; echo opened'], { limits: { openFiles: 5 } }).catch((e) => e)
    assert.equal(sh.code, 'ERR_OFFLOAD_EXIT_CODE')
    assert.match(sh.stderr, /Too many open files/)
  })

  test(`processes: a child running as uid ${NOBODY} cannot fork past the limit`, async () => {
    const command = ['-c', 'sleep 0 & wait; echo forked']
    const err = await execFile('sh', command, { uid: NOBODY, gid: NOBODY, limits: { processes: 1 } }).catch((e) => e)
    assert.ok(err instanceof SubprocessError, 'the child forked past RLIMIT_NPROC')
    assert.notEqual(err.stdout, 'forked')
    assert.match(err.stderr, /fork/i)

    const ok = await execFile('sh', command, { uid: NOBODY, gid: NOBODY, limits: { processes: 50 } })
    assert.equal(ok.stdout, 'forked')
  })

  test('fileSizeBytes: a writer is killed with SIGXFSZ at the limit, ERR_OFFLOAD_FILE_SIZE_LIMIT', async (t) => {
    const dir = tmpdir(t)
    const file = path.join(dir, 'big.bin')
    const err = await execFile('head', ['-c', '100000', '/dev/zero'], { stdout: { file }, limits: { fileSizeBytes: 4096 } }).catch((e) => e)
    assert.ok(err instanceof SubprocessError)
    assert.equal(err.code, 'ERR_OFFLOAD_FILE_SIZE_LIMIT')
    assert.equal(err.signal, 'SIGXFSZ')
    assert.match(err.message, /fileSizeBytes = 4096/)
    assert.equal(fs.statSync(file).size, 4096)

    // The program opening the file itself is bound too.
    const own = path.join(dir, 'dd.bin')
    const dd = await execFile('dd', ['if=/dev/zero', `of=${own}`, 'bs=1000', 'count=100'], { limits: { fileSizeBytes: 4096 } }).catch((e) => e)
    assert.equal(dd.code, 'ERR_OFFLOAD_FILE_SIZE_LIMIT')
    assert.equal(fs.statSync(own).size, 4096)

    // Under the limit, nothing happens.
    const small = path.join(dir, 'small.bin')
    await execFile('head', ['-c', '4096', '/dev/zero'], { stdout: { file: small }, limits: { fileSizeBytes: 4096 } })
    assert.equal(fs.statSync(small).size, 4096)
  })

  test('nice: the child runs at the requested nice value', async () => {
    assert.equal((await execFile('nice', [], { limits: { nice: 7 } })).stdout, '7')
    // From /proc/self/stat (field 19) too, and a negative value, allowed for root.
    const stat = await execFile('cat', ['/proc/self/stat'], { limits: { nice: -5 } })
    const fields = stat.stdout.slice(stat.stdout.lastIndexOf(')') + 2).split(' ')
    assert.equal(fields[16], '-5')
    // Without the option the child has ours, which the others did not change.
    const ours = os.getPriority()
    assert.equal((await execFile('nice')).stdout, String(ours))
    await execFile('true', [], { limits: { nice: 10 } })
    assert.equal(os.getPriority(), ours)
  })

  test('limits combine with uid/gid, and a refused limit is a clear launch error', async () => {
    const result = await execFile('sh', ['-c', 'id -u; nice; ulimit -n'], { uid: NOBODY, gid: NOBODY, limits: { nice: 3, openFiles: 50 } })
    assert.deepEqual(result.stdout.split('\n'), [String(NOBODY), '3', '50'])
    // Raising the hard limit above our own hard limit is refused for non-root… but we are
    // root, so ask for something no one may have: more open files than the kernel allows.
    const max = Number(fs.readFileSync('/proc/sys/fs/nr_open', 'utf8'))
    const err = await execFile('true', [], { limits: { openFiles: max + 1 } }).catch((e) => e)
    assert.equal(err.code, 'EPERM')
    assert.match(err.message, /limit/)
  })
})

// Issue 16, point 2: a pool whose worker cannot start restarted it ~12 times a second forever,
// its tasks never settled, no 'error' fired and stats() said idle: 1. Real workers that fail
// in each way, with the starts counted by the workers themselves (one line per process).
import { test, describe } from 'node:test'
import assert from 'node:assert/strict'
import childProcess from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { once } from 'node:events'
import { setTimeout as sleep } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'

import { Pool } from '../index.js'
import { alive } from './lib/proc.mjs'

const INDEX = fileURLToPath(new URL('../index.js', import.meta.url))

/** A folder with the worker files and the file each start appends its pid to. */
function workspace() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'offload-startfail-'))
  const starts = path.join(dir, 'starts')
  // Preloaded into Node workers: runs before their module, even one that is missing or does not parse.
  const counter = path.join(dir, 'count-start.cjs')
  fs.writeFileSync(counter, `require('node:fs').appendFileSync(${JSON.stringify(starts)}, process.pid + '\\n')\n`)
  const file = (name, text) => {
    fs.writeFileSync(path.join(dir, name), text)
    return path.join(dir, name)
  }
  const pids = () => (fs.existsSync(starts) ? fs.readFileSync(starts, 'utf8').trim().split('\n').filter(Boolean).map(Number) : [])
  return { dir, starts, counter, file, pids }
}

const CASES = [
  {
    name: 'a script path that does not exist',
    options: (w) => ({ script: path.join(w.dir, 'missing.js'), execArgv: ['--require', w.counter] }),
    names: /missing\.js/,
    stderr: /Cannot find module/,
  },
  {
    name: 'a module that throws on load',
    options: (w) => ({ script: w.file('throws.js', "throw new Error('throws-on-load: no config')\n"), execArgv: ['--require', w.counter] }),
    names: /throws\.js/,
    stderr: /Error: throws-on-load: no config/,
  },
  {
    name: 'a module with a syntax error',
    options: (w) => ({ script: w.file('syntax.js', 'const answer = ;\n'), execArgv: ['--require', w.counter] }),
    names: /syntax\.js/,
    stderr: /SyntaxError: Unexpected token/,
  },
  {
    name: 'a module that exits before it is ready',
    options: (w) => ({ script: w.file('exits.js', 'process.exit(3)\n'), execArgv: ['--require', w.counter] }),
    names: /exits\.js.*exited with code 3/,
    exitCode: 3,
  },
  {
    name: 'a Python worker that exits 1 at import',
    command: true,
    options: (w) => ({
      command: ['python3', w.file('worker.py', `import os\nopen(${JSON.stringify(w.starts)}, 'a').write(f"{os.getpid()}\\n")\nimport offload_test_missing_module\n`)],
    }),
    names: /python3 .*worker\.py.*exited with code 1/,
    stderr: /No module named 'offload_test_missing_module'/,
    // A command worker cannot say it is ready: the task sent to the first one dies with it.
    firstCode: 'ERR_OFFLOAD_WORKER_CRASHED',
  },
]

// The Node cases run side by side, the Python one after them (less load: a command worker
// that takes over 1 s to fail is given a task first, which then fails as WORKER_CRASHED).
for (const cases of [CASES.filter((c) => !c.command), CASES.filter((c) => c.command)]) {
  describe('a worker that cannot start: rejects instead of restarting forever (issue 16)', { concurrency: true }, () => {
    for (const c of cases) {
      test(`${c.name}: run() rejects with ERR_OFFLOAD_WORKER_START_FAILED within 5 s, at most 10 starts in 10 s, one 'error'`, { timeout: 30000 }, async () => {
        const w = workspace()
        const pool = new Pool({ size: 1, stderr: 'pipe', ...c.options(w) })
        const errors = []
        pool.on('error', (e) => errors.push(e))
        const t0 = performance.now()

        const first = await pool.run({ i: 0 }).catch((e) => e)
        assert.equal(first.code, c.firstCode ?? 'ERR_OFFLOAD_WORKER_START_FAILED')
        const rejections = [first]
        while (rejections.at(-1).code !== 'ERR_OFFLOAD_WORKER_START_FAILED' && performance.now() - t0 < 5000) {
          // A command worker that took a task dies with it (WORKER_CRASHED); so may one slower
          // to fail than the 1 s it is given once starts fail (a loaded machine).
          rejections.push(await pool.run({ i: 1 }).catch((e) => e))
        }
        const refused = rejections.at(-1)
        assert.equal(refused.code, 'ERR_OFFLOAD_WORKER_START_FAILED')
        assert.ok(performance.now() - t0 < 5000, 'the first START_FAILED came within 5 s')
        for (const err of rejections) {
          if (c.stderr) assert.match(err.message, c.stderr)
          if (c.exitCode) assert.equal(err.exitCode, c.exitCode)
        }
        assert.match(refused.message, c.names)
        assert.match(refused.message, /failed starts in a row/)

        // Broken, and stats() says so: no idle worker that is not there.
        const s = pool.stats()
        assert.deepEqual([s.broken, s.size, s.idle, s.busy, s.starting], [true, 0, 0, 0, 0])
        assert.ok(s.startFailures >= 3)
        assert.ok(s.nextStartAt > Date.now() && s.nextStartAt <= Date.now() + 1000, `nextStartAt ${s.nextStartAt}`)
        assert.equal(errors.length, 1)
        assert.equal(errors[0].code, 'ERR_OFFLOAD_WORKER_START_FAILED')
        assert.match(errors[0].message, c.names)

        // A caller that keeps trying for 10 s (as a server does) is refused every time, and
        // the pool retries with a growing wait: 3 starts, then one after 1 s, 2 s, 4 s.
        const codes = new Set()
        while (performance.now() - t0 < 10000) {
          const err = await pool.run({ i: 2 }).catch((e) => e)
          codes.add(err.code)
          await sleep(50)
        }
        const starts = w.pids().length
        assert.ok(starts >= 4 && starts <= 10, `${starts} starts in 10 s`)
        assert.ok(codes.has('ERR_OFFLOAD_WORKER_START_FAILED'))
        assert.equal(errors.length, 1, 'one error event for the whole episode')

        await pool.destroy()
        assert.deepEqual(w.pids().filter(alive), [])
        fs.rmSync(w.dir, { recursive: true })
      })
    }
  })
}

describe('start failures', () => {
  test('a pool whose workers fail to start says so on its own, before any run()', async () => {
    const w = workspace()
    const pool = new Pool({ size: 2, script: w.file('throws.js', "throw new Error('throws-on-load: at boot')\n"), stderr: 'pipe' })
    // An idle pool does not keep Node alive; a server has its own handles.
    const server = setInterval(() => {}, 1000)
    const [err] = await once(pool, 'error')
    clearInterval(server)
    assert.equal(err.code, 'ERR_OFFLOAD_WORKER_START_FAILED')
    assert.match(err.message, /throws\.js exited with code 1 \d+ ms after it started, before it was ready \(\d failed starts in a row/)
    assert.match(err.stderr, /Error: throws-on-load: at boot/)
    assert.equal(err.exitCode, 1)
    await assert.rejects(pool.run(1), { code: 'ERR_OFFLOAD_WORKER_START_FAILED', message: /throws-on-load: at boot/ })
    await pool.destroy()
    fs.rmSync(w.dir, { recursive: true })
  })

  test('recovery: once the worker can start, the next run() after the wait succeeds and the episode ends', async () => {
    const w = workspace()
    const marker = path.join(w.dir, 'ready-now')
    const script = w.file(
      'until-marker.js',
      `if (!require('node:fs').existsSync(${JSON.stringify(marker)})) throw new Error('until-marker: not yet')
process.on('message', (task) => process.send({ echo: task }))
`,
    )
    const pool = new Pool({ size: 1, script, execArgv: ['--require', w.counter], stderr: 'pipe', maxStartFailures: 2, startBackoff: { initial: 300, max: 600 } })
    const errors = []
    pool.on('error', (e) => errors.push(e))
    await assert.rejects(pool.run(1), { code: 'ERR_OFFLOAD_WORKER_START_FAILED', message: /until-marker: not yet/ })
    assert.equal(w.pids().length, 2)
    fs.writeFileSync(marker, '')
    // Until the wait is over the pool still refuses, with the last failure.
    const { nextStartAt } = pool.stats()
    assert.ok(nextStartAt > Date.now())
    // The pool's own timer ends the wait; a task is submitted once the pool says it has (the
    // stats, not our clock: under load either timer can fire late).
    while (pool.stats().nextStartAt !== null) await sleep(10)
    // The wait is over: a task submitted now waits for the worker the pool starts.
    assert.deepEqual(await pool.run(7), { echo: 7 })
    assert.deepEqual([pool.stats().broken, pool.stats().nextStartAt], [false, null])
    assert.equal(errors.length, 1)
    await pool.destroy()
    fs.rmSync(w.dir, { recursive: true })
  })

  test('a worker that crashes on every task right after its start: WORKER_CRASHED for its tasks, then the same backoff', { timeout: 30000 }, async () => {
    const w = workspace()
    const script = w.file('crashes.js', "process.on('message', () => process.exit(7))\n")
    const pool = new Pool({ size: 1, script, execArgv: ['--require', w.counter], stderr: 'pipe' })
    const errors = []
    pool.on('error', (e) => errors.push(e))
    const t0 = performance.now()
    const codes = []
    while (performance.now() - t0 < 10000) {
      const err = await pool.run({ i: codes.length }).catch((e) => e)
      codes.push(err.code)
      if (codes.length > 3) await sleep(50)
    }
    // Each task that reached a worker reports its crash; while the pool waits, it refuses.
    assert.deepEqual(codes.slice(0, 3), Array(3).fill('ERR_OFFLOAD_WORKER_CRASHED'))
    assert.equal(codes[3], 'ERR_OFFLOAD_WORKER_START_FAILED')
    const starts = w.pids().length
    assert.ok(starts >= 4 && starts <= 10, `${starts} starts in 10 s`)
    const crashed = codes.filter((c) => c === 'ERR_OFFLOAD_WORKER_CRASHED').length
    assert.ok(crashed >= starts - 1 && crashed <= starts, `${crashed} crashed tasks for ${starts} starts`)
    assert.equal(errors.length, 1)
    assert.match(errors[0].message, /crashes\.js exited with code 7 \d+ ms after it started \(3 failed starts in a row/)
    await pool.destroy()
    assert.deepEqual(w.pids().filter(alive), [])
    fs.rmSync(w.dir, { recursive: true })
  })

  test("with stderr: 'inherit' (the default) the workers' stderr still reaches ours, once per start, and the error quotes it", async () => {
    const w = workspace()
    const script = w.file('throws.js', "throw new Error('throws-on-load: inherited')\n")
    const code = `
      const { Pool } = require(${JSON.stringify(INDEX)})
      const pool = new Pool({ size: 1, script: ${JSON.stringify(script)}, execArgv: ['--require', ${JSON.stringify(w.counter)}] })
      pool.on('error', () => {}) // else a warning quotes the stderr once more
      pool.run(1).catch((err) => {
        process.stdout.write(JSON.stringify({ code: err.code, message: err.message }))
        return pool.destroy()
      })`
    const child = childProcess.spawn(process.execPath, ['-e', code])
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d) => (stdout += d))
    child.stderr.on('data', (d) => (stderr += d))
    await once(child, 'close')
    const err = JSON.parse(stdout)
    assert.equal(err.code, 'ERR_OFFLOAD_WORKER_START_FAILED')
    assert.match(err.message, /Error: throws-on-load: inherited/)
    const printed = stderr.match(/Error: throws-on-load: inherited/g) ?? []
    assert.equal(printed.length, w.pids().length)
    assert.equal(printed.length, 3)
    fs.rmSync(w.dir, { recursive: true })
  })

  test('maxStartFailures and startBackoff are checked at the call', () => {
    const script = 'x.js'
    assert.throws(() => new Pool({ script, maxStartFailures: 0 }), { name: 'RangeError', code: 'ERR_INVALID_ARG_VALUE' })
    assert.throws(() => new Pool({ script, maxStartFailures: 1.5 }), { code: 'ERR_INVALID_ARG_VALUE' })
    assert.throws(() => new Pool({ script, startBackoff: 1000 }), { code: 'ERR_INVALID_ARG_TYPE' })
    assert.throws(() => new Pool({ script, startBackoff: { initial: 1000, maxx: 2 } }), { message: /unknown option 'maxx'/ })
    assert.throws(() => new Pool({ script, startBackoff: { initial: 2000, max: 1000 } }), { name: 'RangeError', message: /must not be less than initial/ })
    assert.throws(() => new Pool({ script, startBackoff: { initial: -1 } }), { name: 'RangeError', code: 'ERR_INVALID_ARG_VALUE' })
  })
})

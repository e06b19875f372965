#!/usr/bin/env node
// The pool's own call costs, this checkout against another (built) one, interleaved:
//
//   node bench/pool-calls.mjs --baseline=DIR [--rounds=N]
//
// Each round runs one fresh Node process per checkout, in alternating order, and each
// measures:
//   - create: the `new Pool()` call (validation, packing, the native createPool), with
//     minSize 0 so that no worker starts, then destroy(); median µs over 500 pools, for a
//     command pool and a script pool with most options given;
//   - run(): 40 000 echo tasks submitted at once on two workers, tasks/s from the first
//     run() to the last answer, for a plain worker, a serve() worker, and a serve() worker
//     with a per-task `timeout` (each such task crosses in its own native call); and
//     this process's CPU time per task (JS and offload's threads, not the workers'), which
//     a loaded machine disturbs less than the rate.
// Medians over rounds are printed side by side.

import { spawnSync } from 'node:child_process'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { createRequire } from 'node:module'
import { median, fmt, table } from './lib/stats.mjs'

const SELF = fileURLToPath(import.meta.url)
const HERE = path.dirname(SELF)
const TASKS = 40_000
const POOLS = 500

async function child(root) {
  const { Pool } = createRequire(path.join(root, 'index.js'))('./index.js')
  const out = {}
  const creations = {
    'create command (µs)': { command: ['cat'], size: 2, minSize: 0 },
    'create script (µs)': {
      script: path.join(HERE, 'workers', 'echo.cjs'),
      size: 4,
      minSize: 0,
      concurrency: 1,
      taskTimeout: 30_000,
      maxQueue: 10_000,
      retries: 1,
      maxTasksPerWorker: 1000,
      stderr: 'pipe',
      limits: { openFiles: 1024 },
      startBackoff: { initial: 500 },
    },
  }
  for (const [name, options] of Object.entries(creations)) {
    const times = []
    const pools = []
    for (let i = 0; i < POOLS; i++) {
      const t0 = process.hrtime.bigint()
      const pool = new Pool(options)
      times.push(Number(process.hrtime.bigint() - t0) / 1000)
      pools.push(pool)
    }
    await Promise.all(pools.map((p) => p.destroy()))
    out[name] = median(times)
  }
  const env = { ...process.env, OFFLOAD_ROOT: root }
  const runs = {
    'run() plain (tasks/s)': [{ script: path.join(HERE, 'workers', 'echo.cjs'), size: 2 }, undefined],
    'run() serve (tasks/s)': [{ script: path.join(HERE, 'workers', 'serve-from-root.cjs'), size: 2, env }, undefined],
    'run() serve + timeout (tasks/s)': [{ script: path.join(HERE, 'workers', 'serve-from-root.cjs'), size: 2, env }, { timeout: 60_000 }],
  }
  for (const [name, [options, runOptions]] of Object.entries(runs)) {
    const pool = new Pool(options)
    await Promise.all(Array.from({ length: 2000 }, (_, i) => pool.run({ i }, runOptions))) // warm-up
    const t0 = performance.now()
    const cpu0 = process.cpuUsage()
    const answers = await Promise.all(Array.from({ length: TASKS }, (_, i) => pool.run({ i, s: 'hello' }, runOptions)))
    const cpu = process.cpuUsage(cpu0)
    out[name] = TASKS / ((performance.now() - t0) / 1000)
    out[name.replace('(tasks/s)', 'CPU (µs/task)')] = (cpu.user + cpu.system) / TASKS
    answers.forEach((a, i) => {
      if (a.i !== i) throw new Error(`answer ${i} is ${JSON.stringify(a)}`)
    })
    await pool.close()
  }
  process.stdout.write(JSON.stringify(out))
}

function main() {
  const args = Object.fromEntries(process.argv.slice(2).map((a) => a.replace(/^--/, '').split('=')))
  if (args.child) return child(args.child)
  if (!args.baseline) throw new Error('usage: node bench/pool-calls.mjs --baseline=DIR [--rounds=N]')
  const roots = { after: path.join(HERE, '..'), before: path.resolve(args.baseline) }
  const rounds = Number(args.rounds ?? 5)
  const results = { before: [], after: [] }
  for (let r = 0; r < rounds; r++) {
    const order = r % 2 === 0 ? ['before', 'after'] : ['after', 'before']
    for (const which of order) {
      const run = spawnSync(process.execPath, [SELF, `--child=${roots[which]}`], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] })
      if (run.status !== 0) throw new Error(`${which} failed (${run.status})`)
      results[which].push(JSON.parse(run.stdout))
    }
    process.stderr.write(`round ${r + 1}/${rounds}\n`)
  }
  const keys = Object.keys(results.after[0])
  const rows = keys.map((k) => [k, fmt(median(results.before.map((x) => x[k]))), fmt(median(results.after.map((x) => x[k])))])
  console.log(table(['median of ' + rounds + ' rounds', 'before', 'after'], rows))
}

main()

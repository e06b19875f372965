#!/usr/bin/env node
// spawnSync benchmark: how long the JS thread is blocked per spawnSync('true'), Node's
// child_process against offload/child_process, at a small and a large RSS.
//
//   node bench/spawn-sync.mjs                 60 MiB and 1536 MiB of resident Buffers
//   node bench/spawn-sync.mjs --sizes=0,4096  other sizes (MiB added to the heap)
//
// Each size runs in a fresh Node process that fills Buffers to the size (every page
// resident, as a real heap is), then runs rounds of 20 calls per module, the order
// alternating each round, and prints the median time per call. Node's spawnSync forks
// the process, so its cost grows with the page tables; offload's launch is a
// CLONE_VM|CLONE_VFORK clone whose cost does not.
import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'

const ROUNDS = 10
const PER_ROUND = 20

if (process.argv[2] === '--worker') {
  const { createRequire } = await import('node:module')
  const require = createRequire(import.meta.url)
  const contenders = { node: require('node:child_process'), offload: require('../lib/child_process.js') }
  const keep = []
  for (let i = 0; i < Number(process.argv[3]); i++) keep.push(Buffer.alloc(1 << 20, 1))
  const times = { node: [], offload: [] }
  for (let round = 0; round < ROUNDS; round++) {
    const order = round % 2 ? ['offload', 'node'] : ['node', 'offload']
    for (const name of order) {
      const started = process.hrtime.bigint()
      for (let i = 0; i < PER_ROUND; i++) {
        if (contenders[name].spawnSync('true').status !== 0) throw new Error(`${name}: spawnSync('true') failed`)
      }
      times[name].push(Number(process.hrtime.bigint() - started) / 1e6 / PER_ROUND)
    }
  }
  const median = (values) => values.sort((a, b) => a - b)[values.length >> 1]
  const rss = Math.round(process.memoryUsage().rss / 1048576)
  console.log(`| ${rss} MiB | ${median(times.node).toFixed(2)} ms | ${median(times.offload).toFixed(2)} ms |`)
  keep.length = 0
} else {
  const sizes = (process.argv.find((a) => a.startsWith('--sizes='))?.slice(8) ?? '60,1536').split(',').map(Number)
  console.log(`spawnSync('true'), JS thread blocked per call (median of ${ROUNDS} rounds × ${PER_ROUND})\n`)
  console.log('| RSS | node:child_process | offload/child_process |')
  console.log('| --- | --- | --- |')
  for (const size of sizes) {
    const run = spawnSync(process.execPath, ['--max-old-space-size=8192', fileURLToPath(import.meta.url), '--worker', String(size)], {
      stdio: ['ignore', 'inherit', 'inherit'],
    })
    if (run.status !== 0) process.exit(run.status ?? 1)
  }
}

#!/usr/bin/env node
// The cost of one resize() call, apart from the image work: how long the call itself holds
// the JS thread (checking the options, packing them, the native call, the job's submission)
// and a whole round trip on a tiny image (8×8 PNG → 4×4 PNG), where the thread hop and the
// settling dominate. Compares this checkout with other ones (their lib/ and addon), each
// contender in its own fresh process, contenders alternating round after round; medians.
//
//   node bench/image-call.mjs [OTHER_CHECKOUT ...] [--rounds=N]
//
// The input comes from ../shared/fixtures/images/ beside the repository, as bench/image.mjs's.
// e.g. `git worktree add /tmp/before main && (cd /tmp/before && npm run build)`, then
// `node bench/image-call.mjs /tmp/before`.

import { spawnSync } from 'node:child_process'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { createRequire } from 'node:module'
import { performance } from 'node:perf_hooks'

import { median } from './lib/stats.mjs'

const SELF = fileURLToPath(import.meta.url)
const ROOT = path.join(path.dirname(SELF), '..')
const CALLS = 2000
const BATCHES = 10
const TRIPS = 2000

// The options a thumbnail route passes, and a fuller set (every kind of value crosses).
const SIMPLE = { width: 4, height: 4 }
const FULL = { width: 4, height: 4, fit: 'contain', position: 'north', kernel: 'cubic', background: '#ff000080', format: 'png', quality: 70, png: { compressionLevel: 3 } }

async function measure(root) {
  const { resize } = createRequire(path.join(root, 'index.js'))(path.join(root, 'index.js'))
  const tiny = await resize(path.resolve(ROOT, '..', 'shared', 'fixtures', 'images', '320x240.jpg'), { width: 8, height: 8, format: 'png' })
  const result = {}
  for (const [name, options] of [['simple', SIMPLE], ['full', FULL]]) {
    const perCall = []
    for (let b = 0; b < BATCHES; b++) {
      const pending = new Array(CALLS)
      const start = performance.now()
      for (let i = 0; i < CALLS; i++) pending[i] = resize(tiny, options)
      perCall.push(((performance.now() - start) * 1e3) / CALLS)
      await Promise.all(pending)
    }
    result[`${name} call µs`] = median(perCall.slice(2))
  }
  const trips = []
  for (let i = 0; i < TRIPS; i++) {
    const start = performance.now()
    await resize(tiny, SIMPLE)
    trips.push((performance.now() - start) * 1e3)
  }
  result['round trip µs'] = median(trips.slice(100))
  return result
}

if (process.argv[2] === '--child') {
  process.stdout.write(JSON.stringify(await measure(process.argv[3])))
} else {
  const roots = [ROOT, ...process.argv.slice(2).filter((a) => !a.startsWith('--')).map((p) => path.resolve(p))]
  const rounds = Number(process.argv.find((a) => a.startsWith('--rounds='))?.split('=')[1] ?? 7)
  const samples = new Map(roots.map((r) => [r, []]))
  for (let round = 0; round < rounds; round++) {
    for (let i = 0; i < roots.length; i++) {
      const root = roots[(i + round) % roots.length]
      const child = spawnSync(process.execPath, [SELF, '--child', root], { encoding: 'utf8' })
      if (child.status !== 0) throw new Error(`${root}: ${child.stderr}`)
      samples.get(root).push(JSON.parse(child.stdout))
    }
  }
  const keys = Object.keys(samples.get(ROOT)[0])
  console.log(['checkout', ...keys].join(' | '))
  for (const [root, runs] of samples) {
    console.log([root, ...keys.map((k) => median(runs.map((r) => r[k])).toFixed(2))].join(' | '))
  }
}

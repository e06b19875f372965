// Memory over long loops: each scenario runs in a Node process of its own
// (fixtures/memory-growth.mjs), with --expose-gc and glibc's malloc at its defaults
// (every MALLOC_* variable and GLIBC_TUNABLES removed), as a user's server runs.
//
// V8 flags: V8 grows its young generation as a process keeps allocating, up to
// 2 × 16 MiB, whoever allocates (a spawn loop with stdout ignored takes heapTotal
// from 8 to 38 MiB over ~15 000 spawns). The children start with it at that size
// (--min-semi-space-size=16, the ceiling it grows to by default), the state a
// long-running server reaches, so that what the test sees grow is native memory.
import { test, describe } from 'node:test'
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { fileURLToPath } from 'node:url'

const FIXTURE = fileURLToPath(new URL('./fixtures/memory-growth.mjs', import.meta.url))
const MIB = 1024 * 1024
const LIMIT = 10 * MIB

function untunedEnv() {
  const env = { ...process.env }
  for (const key of Object.keys(env)) {
    if (key.startsWith('MALLOC_') || key === 'GLIBC_TUNABLES') delete env[key]
  }
  return env
}

async function growth(scenario, iterations, warmUp) {
  const flags = ['--expose-gc', '--min-semi-space-size=16', '--max-semi-space-size=16']
  const { stdout } = await promisify(execFile)(process.execPath, [...flags, FIXTURE, scenario, String(iterations), String(warmUp)], {
    env: untunedEnv(),
    timeout: 120_000,
  })
  return JSON.parse(stdout)
}

const mib = (bytes) => `${(bytes / MIB).toFixed(1)} MiB`

// Warm-ups: long enough for glibc's arenas to reach the size the loop settles at
// (the image threads' arenas take ~1 000 resizes).
const SCENARIOS = [
  { scenario: 'execFile', iterations: 5000, warmUp: 2000, what: 'sequential buffered execFile calls' },
  { scenario: 'lines', iterations: 2000, warmUp: 1000, what: 'spawn(...).lines() iterations' },
  { scenario: 'fork', iterations: 2000, warmUp: 200, what: 'fork() round trips (20 per forked child)' },
  { scenario: 'pipeline', iterations: 1000, warmUp: 500, what: 'two-stage pipelines' },
  { scenario: 'poolRequest', iterations: 20000, warmUp: 2000, what: 'pool tasks that each send a request back' },
  // Every task makes a V8 Serializer and Deserializer whose native memory (~10 KB, unseen by V8)
  // lives until the next scavenge: with a 16 MiB young generation, RSS settles ~35 MiB up after
  // ~20 000 tasks and stays there, hence the long warm-up. (It once grew ~3 KB a task for ever:
  // each small answer was handed to JavaScript inside the 256 KiB block it was read into.)
  { scenario: 'poolAdvanced', iterations: 20000, warmUp: 20000, what: "pool tasks of serialization 'advanced' (a Buffer and a Map each way)" },
  { scenario: 'spawnSync', iterations: 3000, warmUp: 1000, what: 'offload/child_process spawnSync calls' },
  { scenario: 'resize', iterations: 1000, warmUp: 1000, what: 'image resizes' },
]

describe('RSS grew ~20 KB with every buffered spawn and was never given back', () => {
  for (const { scenario, iterations, warmUp, what } of SCENARIOS) {
    test(`${iterations} ${what} grow RSS by at most 10 MiB and leave no process or descriptor`, async () => {
      const { before, after } = await growth(scenario, iterations, warmUp)
      const grew = after.rss - before.rss
      assert.ok(
        grew <= LIMIT,
        `RSS grew by ${mib(grew)} (${mib(before.rss)} → ${mib(after.rss)}; anonymous ${mib(before.rssAnon)} → ${mib(after.rssAnon)}, V8 heapTotal ${mib(before.heapTotal)} → ${mib(after.heapTotal)})`,
      )
      assert.equal(after.children, 0, 'child processes (or unreaped zombies) left after the loop')
      assert.ok(after.fds <= before.fds, `open descriptors grew from ${before.fds} to ${after.fds}`)
    })
  }
})

// The Node process is never fork()ed: every child is created with
// clone(CLONE_VM | CLONE_VFORK), whatever the options. Checked with strace on
// real launches, against Node's own child_process as the control (which forks).
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

const fixture = join(import.meta.dirname, 'fixtures', 'launch-every-way.js')
const hasStrace = !spawnSync('strace', ['-V']).error

/** Every process-creating call (not a thread) in the trace, with its flags. */
function processCreations(mode) {
  const dir = mkdtempSync(join(tmpdir(), 'offload-strace-'))
  try {
    const out = join(dir, 'trace')
    const run = spawnSync('strace', ['-f', '-qq', '-e', 'trace=clone,clone3,fork,vfork', '-o', out, process.execPath, fixture, ...(mode ? [mode] : [])], {
      encoding: 'utf8',
      timeout: 60_000,
    })
    assert.equal(run.status, 0, run.stderr)
    return readFileSync(out, 'utf8')
      .split('\n')
      .filter((line) => /\b(clone3?|fork|vfork)\(/.test(line) && !line.includes('CLONE_THREAD') && !/= -\d/.test(line))
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

test('offload launches every child with CLONE_VM|CLONE_VFORK, never fork()', { skip: !hasStrace && 'strace is not installed' }, () => {
  const creations = processCreations()
  // true ×4 and one node child; their own children would be extra lines.
  assert.ok(creations.length >= 5, `expected at least 5 launches, saw:\n${creations.join('\n')}`)
  for (const line of creations) {
    assert.match(line, /CLONE_VM/, `a launch without CLONE_VM (a fork): ${line}`)
    assert.match(line, /CLONE_VFORK/, `a launch without CLONE_VFORK: ${line}`)
  }
})

test('control: Node\'s own child_process does fork, so the check above can fail', { skip: !hasStrace && 'strace is not installed' }, () => {
  const creations = processCreations('node')
  assert.ok(creations.some((line) => !line.includes('CLONE_VM')), `expected a fork-style clone, saw:\n${creations.join('\n')}`)
})

test('spawnSync, execFileSync and execSync launch with CLONE_VM|CLONE_VFORK too, never fork()', { skip: !hasStrace && 'strace is not installed' }, () => {
  const creations = processCreations('sync')
  assert.equal(creations.length, 3, `expected the 3 launches, saw:\n${creations.join('\n')}`)
  for (const line of creations) {
    assert.match(line, /CLONE_VM/, `a launch without CLONE_VM (a fork): ${line}`)
    assert.match(line, /CLONE_VFORK/, `a launch without CLONE_VFORK: ${line}`)
  }
})

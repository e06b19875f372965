// Node's documentation examples of spawn, exec, execFile, fork, execSync, execFileSync and
// spawnSync (examples/node-docs/), each run as written against node:child_process and again with
// its import switched to offload/child_process (examples/node-docs/use-offload.mjs): the two runs
// must print the same, exit the same, and print what the docs say they print.

import { test } from 'node:test'
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import * as dropIn from 'offload/child_process'

const examples = fileURLToPath(new URL('../examples/node-docs/', import.meta.url))
const useOffload = path.join(examples, 'use-offload.mjs')
const SYNC = ['exec-sync.mjs', 'exec-file-sync.mjs', 'spawn-sync.mjs']
const dropInHasSync = ['execSync', 'execFileSync', 'spawnSync'].every((name) => typeof dropIn[name] === 'function')

/** Runs one example in its directory; resolves with what it printed and how it ended. */
function run(file, nodeArgs = []) {
  return new Promise((resolve) => {
    execFile(process.execPath, [...nodeArgs, file], { cwd: examples, timeout: 30_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? error.code : 0, signal: error?.signal ?? null, stdout, stderr })
    })
  })
}

// Output that differs from run to run whichever module runs it.
const NORMALIZE = {
  // `ps ax` lines start with a pid, a tty, a state and a cpu time.
  'spawn-ps-grep.mjs': (text) => text.replace(/^\s*\d+\s+\S+\s+\S+\s+\S+\s+/gm, ''),
  // Parent and child print to one stdout, each when the other's message arrives.
  'fork-messages.mjs': (text) => text.split('\n').sort().join('\n'),
  // Node does not order 'exit' against the output ("stdio streams might still be open"); 'close' is last.
  'spawn-close-exit.mjs': (text) => text.replace('child process exited with code 0\n', ''),
}

/** What each example must print under Node, so a broken example cannot pass by failing the same way twice. */
const EXPECT = {
  'spawn-ls.mjs': (r) => assert.match(r.stdout, /^stdout: total [\s\S]*child process exited with code 0\n$/),
  'spawn-ps-grep.mjs': (r) => assert.match(r.stdout, /^\s*\d+ .* ps ax\n\n$/),
  'spawn-failed.mjs': (r) => assert.equal(r.stderr, 'Failed to start subprocess.\n'),
  'spawn-abort.mjs': (r) => assert.equal(r.stdout, 'AbortError ABORT_ERR The operation was aborted\n'),
  'spawn-detached.mjs': (r) => assert.equal(r.stdout, 'pid is a number: true\nstarted\ndone\noops\n'),
  'spawn-stdio.mjs': (r) => assert.match(r.stdout, /^exit 2\nstdout: \/usr:\nbin\n[\s\S]*\nerr\.out: ls: cannot access '\/no-such-dir'/),
  'spawn-close-exit.mjs': (r) => assert.match(r.stdout, /^[\s\S]*child process exited with code 0\n[\s\S]*child process close all stdio with code 0\n$/),
  'spawn-kill.mjs': (r) => assert.equal(r.stdout, 'child process terminated due to receipt of signal SIGHUP\n'),
  'spawn-pid.mjs': (r) => assert.equal(r.stdout, 'Spawned child pid: a number\n'),
  'spawn-shell-env.mjs': (r) => assert.equal(r.stdout, 'The $HOME variable is /home/example\nargv0 is custom-name, HOME is unset\n'),
  'exec-cat.mjs': (r) => {
    assert.match(r.stdout, /^stdout: \d+\n\n$/)
    assert.equal(r.stderr, 'stderr: cat: missing_file: No such file or directory\n\n')
  },
  'exec-promisified.mjs': (r) => assert.match(r.stdout, /^stdout: README\.md\n[\s\S]*\n3 "out\\n" "err\\n"\n$/),
  'exec-abort.mjs': (r) => assert.equal(r.stderr, 'AbortError ABORT_ERR The operation was aborted\n'),
  'exec-file.mjs': (r) => assert.equal(r.stdout, `${process.version}\n\n`),
  'exec-file-promisified.mjs': (r) => assert.equal(r.stdout, `${process.version}\n\n`),
  'exec-file-abort.mjs': (r) => assert.equal(r.stderr, 'AbortError ABORT_ERR The operation was aborted\n'),
  'fork-messages.mjs': (r) => {
    assert.match(r.stdout, /PARENT got message: \{ foo: 'bar', baz: null \}/)
    assert.match(r.stdout, /CHILD got message: \{ hello: 'world' \}/)
  },
  'fork-abort.mjs': (r) => assert.equal(r.stdout, 'AbortError ABORT_ERR\nexit null SIGTERM\n'),
  'exec-file-sync.mjs': (r) => {
    assert.equal(r.stdout, 'my-arg is my-arg\n\n')
    assert.equal(r.stderr, "ENOENT\n{ stdout: 'some output\\n', stderr: 'trouble\\n', status: 2 }\n")
  },
  'exec-sync.mjs': (r) => assert.equal(r.stdout, 'HELLO FROM THE SHELL\n\ngiven as input\n4 null partial\n Command failed: echo partial; exit 4\n'),
  'spawn-sync.mjs': (r) => {
    const [ls, slow, missing] = r.stdout.trim().split('\n').map((line) => JSON.parse(line))
    assert.deepEqual({ ...ls, stdout: ls.stdout.slice(0, 6) }, { status: 0, signal: null, stdout: 'total ', stderr: '', pid: 'number' })
    assert.deepEqual(slow, { status: null, signal: 'SIGKILL', error: 'ETIMEDOUT' })
    assert.deepEqual(missing, { status: null, error: 'ENOENT', message: 'spawnSync bad_command ENOENT' })
  },
}

const files = fs.readdirSync(examples).filter((name) => name.endsWith('.mjs') && !name.startsWith('use-offload'))

test('every example has its expected output', () => {
  assert.deepEqual(files.filter((name) => !EXPECT[name]), [])
  assert.deepEqual(Object.keys(EXPECT).filter((name) => !files.includes(name)), [])
})

for (const name of files) {
  const file = path.join(examples, name)
  test(`the docs' ${name} prints the same under node:child_process and offload/child_process`, async (t) => {
    const node = await run(file)
    EXPECT[name](node)
    if (SYNC.includes(name) && !dropInHasSync) {
      t.diagnostic('offload/child_process does not export the sync functions in this build: only Node ran this example')
      return
    }
    const offload = await run(file, ['--import', useOffload])
    const normalize = NORMALIZE[name] ?? ((text) => text)
    assert.deepEqual(
      { ...offload, stdout: normalize(offload.stdout), stderr: normalize(offload.stderr) },
      { ...node, stdout: normalize(node.stdout), stderr: normalize(node.stderr) },
    )
  })
}

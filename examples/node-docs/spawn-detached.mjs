// options.detached: a long-running process whose output goes to a file, detached and unref()ed
// so the parent can exit independently of it.
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { spawn } from 'node:child_process'

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'node-docs-detached-'))
const log = path.join(dir, 'out.log')
const out = fs.openSync(log, 'a')
const err = fs.openSync(log, 'a')

const subprocess = spawn('sh', ['-c', 'echo started; sleep 0.2; echo done; echo oops >&2'], {
  detached: true,
  stdio: ['ignore', out, err],
})

subprocess.unref()
// Added: the parent is gone before the child ends; a second process reads the log afterwards.
console.log(`pid is a number: ${typeof subprocess.pid === 'number'}`)
// It waits at most 5 s for the first child to finish.
spawn('sh', ['-c', `for i in $(seq 100); do grep -q oops '${log}' && break; sleep 0.05; done; cat '${log}'; rm -r '${dir}'`], {
  detached: true,
  stdio: ['ignore', 'inherit', 'inherit'],
}).unref()

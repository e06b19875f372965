// options.stdio and subprocess.stdio: the child shares this process's stdin, pipes stdout, and
// writes stderr to a file; `subprocess.stdio[i]` is the stream or null.
import assert from 'node:assert'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import child_process from 'node:child_process'

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'node-docs-stdio-'))
const subprocess = child_process.spawn('ls', ['/usr', '/no-such-dir'], {
  stdio: [
    0, // Use parent's stdin for child.
    'pipe', // Pipe child's stdout to parent.
    fs.openSync(path.join(dir, 'err.out'), 'w'), // Direct child's stderr to a file.
  ],
})

assert.strictEqual(subprocess.stdio[0], null)
assert.strictEqual(subprocess.stdio[0], subprocess.stdin)

assert(subprocess.stdout)
assert.strictEqual(subprocess.stdio[1], subprocess.stdout)

assert.strictEqual(subprocess.stdio[2], null)
assert.strictEqual(subprocess.stdio[2], subprocess.stderr)

// Added: show what went where.
let stdout = ''
subprocess.stdout.on('data', (chunk) => (stdout += chunk))
subprocess.on('close', (code) => {
  console.log(`exit ${code}`)
  console.log(`stdout: ${stdout}`)
  console.log(`err.out: ${fs.readFileSync(path.join(dir, 'err.out'), 'utf8')}`)
  fs.rmSync(dir, { recursive: true })
})

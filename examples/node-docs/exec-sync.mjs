// child_process.execSync(): a shell command's stdout as the return value; a failure throws an
// error with status, stdout and stderr; input is written to the child's stdin.
import { execSync } from 'node:child_process'

console.log(execSync('echo hello from the shell | tr a-z A-Z').toString())
console.log(execSync('cat', { input: 'given as input', encoding: 'utf8' }))

try {
  execSync('echo partial; exit 4', { stdio: 'pipe' })
} catch (err) {
  console.log(err.status, err.signal, err.stdout.toString(), err.message)
}

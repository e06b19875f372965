// child_process.execFileSync(): capture stdout and stderr, and tell a failed spawn (err.code)
// from a child that exited non-zero (err.status, with its output).
import { execFileSync } from 'node:child_process'

for (const [file, args] of [
  ['sh', ['-c', 'echo my-arg is $0', 'my-arg']],
  ['my-script.sh', ['my-arg']],
  ['sh', ['-c', 'echo some output; echo trouble >&2; exit 2']],
]) {
  try {
    const stdout = execFileSync(file, args, {
      // Capture stdout and stderr from child process. Overrides the
      // default behavior of streaming child stderr to the parent stderr
      stdio: 'pipe',

      // Use utf8 encoding for stdio pipes
      encoding: 'utf8',
    })

    console.log(stdout)
  } catch (err) {
    if (err.code) {
      // Spawning child process failed
      console.error(err.code)
    } else {
      // Child was spawned but exited with non-zero exit code
      // Error contains any stdout and stderr from the child
      const { stdout, stderr } = err

      console.error({ stdout, stderr, status: err.status })
    }
  }
}

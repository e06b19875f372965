// child_process.spawn() with an AbortSignal: aborting stops the child with an AbortError.
import { spawn } from 'node:child_process'

const controller = new AbortController()
const { signal } = controller
const grep = spawn('grep', ['ssh'], { signal })
grep.on('error', (err) => {
  // This will be called with err being an AbortError if the controller aborts
  console.log(err.name, err.code, err.message)
})
controller.abort() // Stops the child process

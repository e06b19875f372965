// child_process.fork() with an AbortSignal: this file forks itself, then aborts the child.
import { fork } from 'node:child_process'
import { fileURLToPath } from 'node:url'

if (process.argv[2] === 'child') {
  setTimeout(() => {
    console.log(`Hello from ${process.argv[2]}!`)
  }, 1_000)
} else {
  const controller = new AbortController()
  const { signal } = controller
  const child = fork(fileURLToPath(import.meta.url), ['child'], { signal })
  child.on('error', (err) => {
    // This will be called with err being an AbortError if the controller aborts
    console.log(err.name, err.code)
  })
  child.on('exit', (code, signal) => console.log('exit', code, signal))
  controller.abort() // Stops the child process
}

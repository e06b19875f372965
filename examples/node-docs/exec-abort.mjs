// child_process.exec() with an AbortSignal.
import { exec } from 'node:child_process'

const controller = new AbortController()
const { signal } = controller
const child = exec('grep ssh', { signal }, (error) => {
  console.error(error.name, error.code, error.message) // an AbortError
})
controller.abort()

// child_process.execFile() with an AbortSignal.
import { execFile } from 'node:child_process'

const controller = new AbortController()
const { signal } = controller
const child = execFile('node', ['--version'], { signal }, (error) => {
  console.error(error.name, error.code, error.message)
})
controller.abort()

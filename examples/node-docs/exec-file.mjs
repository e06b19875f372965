// child_process.execFile(): run `node --version` without a shell.
import { execFile } from 'node:child_process'

const child = execFile('node', ['--version'], (error, stdout, stderr) => {
  if (error) {
    throw error
  }
  console.log(stdout)
})

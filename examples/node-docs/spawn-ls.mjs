// "Asynchronous process creation": run `ls -lh /usr`, capturing stdout, stderr and the exit code.
import { spawn } from 'node:child_process'

const ls = spawn('ls', ['-lh', '/usr'])

ls.stdout.on('data', (data) => {
  console.log(`stdout: ${data}`)
})

ls.stderr.on('data', (data) => {
  console.error(`stderr: ${data}`)
})

ls.on('close', (code) => {
  console.log(`child process exited with code ${code}`)
})

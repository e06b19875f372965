// Event 'close' and event 'exit': 'close' comes once the stdio streams have closed too.
import { spawn } from 'node:child_process'

const ls = spawn('ls', ['-lh', '/usr'])

ls.stdout.on('data', (data) => {
  console.log(`stdout: ${data}`)
})

ls.on('close', (code) => {
  console.log(`child process close all stdio with code ${code}`)
})

ls.on('exit', (code) => {
  console.log(`child process exited with code ${code}`)
})

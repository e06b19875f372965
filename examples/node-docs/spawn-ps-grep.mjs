// child_process.spawn(): a very elaborate way to run `ps ax | grep ssh`.
// Changed: grep looks for '[p]s ax' (ps's own line, which ps always lists) instead of 'ssh',
// which where no ssh runs matches only grep's own line: ps sees that line only if grep was
// already running, and Node's spawn() returns after the exec while offload's returns before it.
import { spawn } from 'node:child_process'

const ps = spawn('ps', ['ax'])
const grep = spawn('grep', ['[p]s ax'])

ps.stdout.on('data', (data) => {
  grep.stdin.write(data)
})

ps.stderr.on('data', (data) => {
  console.error(`ps stderr: ${data}`)
})

ps.on('close', (code) => {
  if (code !== 0) {
    console.log(`ps process exited with code ${code}`)
  }
  grep.stdin.end()
})

grep.stdout.on('data', (data) => {
  console.log(data.toString())
})

grep.stderr.on('data', (data) => {
  console.error(`grep stderr: ${data}`)
})

grep.on('close', (code) => {
  if (code !== 0) {
    console.log(`grep process exited with code ${code}`)
  }
})

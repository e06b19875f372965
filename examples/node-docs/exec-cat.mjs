// child_process.exec(): a shell command with a pipe; stderr and stdout come to the callback.
import { exec } from 'node:child_process'

exec('cat *.js missing_file | wc -l', (error, stdout, stderr) => {
  if (error) {
    console.error(`exec error: ${error}`)
    return
  }
  console.log(`stdout: ${stdout}`)
  console.error(`stderr: ${stderr}`)
})

// subprocess.kill(): send SIGHUP; 'close' reports the signal.
import { spawn } from 'node:child_process'

const grep = spawn('grep', ['ssh'])

grep.on('close', (code, signal) => {
  console.log(`child process terminated due to receipt of signal ${signal}`)
})

// Send SIGHUP to process.
grep.kill('SIGHUP')

// child_process.spawn(): checking for a failed spawn.
import { spawn } from 'node:child_process'

const subprocess = spawn('bad_command')

subprocess.on('error', (err) => {
  console.error('Failed to start subprocess.')
})

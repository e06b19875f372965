// subprocess.pid: the child's process identifier (printed as "a number" here, to compare runs).
import { spawn } from 'node:child_process'

const grep = spawn('grep', ['ssh'])

console.log(`Spawned child pid: ${Number.isInteger(grep.pid) ? 'a number' : grep.pid}`)
grep.stdin.end()

// child_process.spawnSync(): everything about the finished child in one object; a timeout kills
// it with killSignal, and a failed spawn is in `error`.
import { spawnSync } from 'node:child_process'

const ls = spawnSync('ls', ['-lh', '/usr'], { encoding: 'utf8' })
console.log(JSON.stringify({ status: ls.status, signal: ls.signal, stdout: ls.stdout, stderr: ls.stderr, pid: typeof ls.pid }))

const slow = spawnSync('sleep', ['5'], { timeout: 100, killSignal: 'SIGKILL' })
console.log(JSON.stringify({ status: slow.status, signal: slow.signal, error: slow.error?.code }))

const missing = spawnSync('bad_command')
console.log(JSON.stringify({ status: missing.status, error: missing.error?.code, message: missing.error?.message }))

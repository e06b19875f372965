#!/usr/bin/env node
// Graceful shutdown for containers: SIGTERM to the app reaches every child.
//
// The version people copy:
//
//   const sidecar = spawn('tail', ['-f', '/dev/null'])
//   const worker = fork('./worker.js')
//   process.on('SIGTERM', () => {
//     sidecar.kill()
//     worker.kill()
//     process.exit(0)
//   })
//
// What goes wrong: process.exit() does not wait, so work in flight is cut off and
// a child that ignores or traps SIGTERM lives on (until `docker stop` SIGKILLs the
// whole container 10 s later and reports exit code 137); a child started through
// `sh -c` passes the signal to no one (give such a child `killTree: true`: offload
// then signals its whole process group); and when the app itself dies (a crash,
// the OOM killer, kill -9) node's children are orphaned and keep running.
//
// What offload does instead: every child dies with the app even on kill -9
// (`cleanup`, the kernel's parent-death signal). On SIGTERM this app stops taking
// work, sends SIGTERM to each child, and awaits it; a child still alive after the
// grace period gets SIGKILL (`forceKillAfter`); the pool finishes its tasks in
// flight, then stops its workers (`pool.close`). Then nothing is left and Node
// exits by itself with code 0.
//
// In the image, start node directly (CMD ["node", "index.js"]): `npm start` or a
// shell in between may not pass SIGTERM on. Keep GRACE_MS below the orchestrator's
// own (docker stop: 10 s, Kubernetes: 30 s).
//
//   node examples/scenarios/graceful-shutdown      then: kill <pid it prints>, or Ctrl-C
'use strict'
const path = require('node:path')
const { Pool, spawn } = require('offload')

const GRACE_MS = 2000
const POOL_SIZE = 2
const ms = (since) => `${(Number(process.hrtime.bigint() - since) / 1e6).toFixed(0)} ms`

const children = [
  // Stands in for a sidecar that stops at once on SIGTERM (a log shipper, a proxy).
  { name: 'tail -f /dev/null', child: spawn('tail', ['-f', '/dev/null'], childOptions()) },
  // Stands in for a tool that ignores SIGTERM: the shell's ignored signal survives its exec.
  { name: 'sleep that ignores SIGTERM', child: spawn('sh', ['-c', 'trap "" TERM; exec sleep infinity'], childOptions()) },
]

function childOptions() {
  // reject: false: a child ended by our SIGTERM is the plan, not an error.
  return { stdin: 'ignore', stdout: 'inherit', stderr: 'inherit', forceKillAfter: GRACE_MS, reject: false }
}

const pool = new Pool({ script: path.join(__dirname, 'password-worker.js'), size: POOL_SIZE })
let stopping = false
let hashed = 0
let inFlight = 0

/** The app's steady work: one password hash after another, until shutdown. */
async function hashPasswords() {
  while (!stopping) {
    inFlight++
    await pool.run({ password: `correct horse battery staple ${hashed}` })
    inFlight--
    hashed++
  }
}

async function shutdown(signal) {
  if (stopping) return
  stopping = true
  const started = process.hrtime.bigint()
  console.log(`${signal}: stopping; ${inFlight} task(s) in flight, ${children.length} children and the pool to stop (grace ${GRACE_MS} ms)`)
  const stopChild = async ({ name, child }) => {
    child.kill('SIGTERM')
    const { signal: endedBy, exitCode } = await child
    console.log(`  ${name} (pid ${child.pid}): ended by ${endedBy ?? `exit code ${exitCode}`} after ${ms(started)}`)
  }
  const stopPool = async () => {
    const before = hashed
    await pool.close({ timeout: GRACE_MS })
    console.log(`  pool: ${hashed - before} task(s) in flight finished, workers stopped after ${ms(started)}`)
  }
  await Promise.all([...children.map(stopChild), stopPool()])
  console.log(`all children gone after ${ms(started)}; ${hashed} passwords hashed in all; exiting with code 0`)
}

process.on('SIGTERM', shutdown)
process.on('SIGINT', shutdown)

async function main() {
  const pids = children.map(({ name, child }) => `${name} (pid ${child.pid})`)
  console.log(`app pid ${process.pid} running with ${pids.join(', ')} and ${POOL_SIZE} pool workers; stop it with: kill ${process.pid}`)
  // One lane of work per worker keeps the pool busy.
  await Promise.all(Array.from({ length: POOL_SIZE }, hashPasswords))
}

main().catch((err) => {
  console.error(err)
  process.exitCode = 1
})

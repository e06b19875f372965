// A real redis-server for the tests: on a free loopback port, in its own
// temporary directory, with no persistence; stopped (and its directory
// removed) by stop().
import childProcess from 'node:child_process'
import fs from 'node:fs'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { once } from 'node:events'

import { freePort } from './port.mjs'

/** Where redis-server is, or null: the tests that need it skip and say why. */
export function redisServerPath() {
  for (const dir of (process.env.PATH ?? '').split(':').concat(['/usr/bin', '/usr/sbin'])) {
    const file = path.join(dir, 'redis-server')
    try {
      fs.accessSync(file, fs.constants.X_OK)
      return file
    } catch {}
  }
  return null
}

/** Sends PING, resolves true on +PONG, false on anything else (refused, loading, …). */
function ping(port) {
  return new Promise((resolve) => {
    const socket = net.createConnection({ host: '127.0.0.1', port })
    let answer = ''
    const done = (ok) => {
      socket.destroy()
      resolve(ok)
    }
    socket.on('connect', () => socket.write('PING\r\n'))
    socket.on('data', (d) => {
      answer += d
      if (answer.includes('\r\n')) done(answer.startsWith('+PONG'))
    })
    socket.on('error', () => done(false))
  })
}

/**
 * Starts redis-server; resolves with `{ port, url, connection, pid, stop() }`
 * once it answers PING. `options` are extra `--name value` settings.
 */
export async function startRedis(options = {}) {
  const file = redisServerPath()
  if (file === null) throw new Error('redis-server is not installed (Debian: apt-get install redis-server; .ci/run installs it)')
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'offload-redis-'))
  for (let attempt = 0; ; attempt++) {
    const port = await freePort()
    const args = ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no', '--logfile', '']
    for (const [name, value] of Object.entries({ 'maxmemory-policy': 'noeviction', ...options })) args.push(`--${name}`, String(value))
    const child = childProcess.spawn(file, args, { stdio: ['ignore', 'pipe', 'pipe'] })
    let log = ''
    child.stdout.on('data', (d) => { log += d })
    child.stderr.on('data', (d) => { log += d })
    let exited = false
    child.once('exit', () => { exited = true })
    // Poll the port: redis answers PING once it accepts commands. The loop ends
    // when it does or when the server exits (a port taken meanwhile: try another).
    while (!exited && !(await ping(port))) await new Promise((resolve) => setTimeout(resolve, 20))
    if (exited) {
      if (attempt < 3 && /Address already in use/.test(log)) continue
      fs.rmSync(dir, { recursive: true, force: true })
      throw new Error(`redis-server did not start:\n${log}`)
    }
    const stop = async () => {
      if (!exited) {
        const gone = once(child, 'exit')
        child.kill('SIGKILL')
        await gone
      }
      fs.rmSync(dir, { recursive: true, force: true })
    }
    return { port, url: `redis://127.0.0.1:${port}`, connection: { host: '127.0.0.1', port }, pid: child.pid, stop, log: () => log }
  }
}

// A real PostgreSQL server for the tests: a fresh cluster (initdb) in its own
// temporary directory, listening on a free loopback port, its unix socket in
// that directory too; stopped by stop(), which checks that nothing of it is
// left (processes, shared memory, files) and throws if something is.
//
// PostgreSQL refuses to run as root. As root, initdb and the server run as the
// unprivileged `postgres` user (Debian's postgresql package creates it):
// spawned with Node's `uid`/`gid` options, which set the ids (and drop the
// supplementary groups) in the child before it execs the binary, so the pid
// held here is the server's own, with no runuser in between to outlive it.
import childProcess from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { once } from 'node:events'
import { createRequire } from 'node:module'

import { freePort } from './port.mjs'
import { alive, childrenOf } from './proc.mjs'

const POSTGRES_BINARIES = ['initdb', 'postgres']
const require = createRequire(import.meta.url)

/**
 * The directory that holds initdb and postgres, or null (the tests that need
 * it skip and say why). Debian keeps them out of PATH, in
 * /usr/lib/postgresql/<major>/bin: the newest major there.
 */
export function postgresBinDir() {
  const candidates = (process.env.PATH ?? '').split(':').filter(Boolean)
  try {
    const majors = fs.readdirSync('/usr/lib/postgresql').filter((v) => /^\d+$/.test(v)).sort((a, b) => b - a)
    candidates.push(...majors.map((major) => `/usr/lib/postgresql/${major}/bin`))
  } catch {}
  return candidates.find((dir) => POSTGRES_BINARIES.every((file) => isExecutable(path.join(dir, file)))) ?? null
}

function isExecutable(file) {
  try {
    fs.accessSync(file, fs.constants.X_OK)
    return true
  } catch {
    return false
  }
}

/** `{ uid, gid }` of the `postgres` user when this process is root, else {} (run as ourselves). */
function unprivilegedIds() {
  if (process.getuid() !== 0) return {}
  const id = (flag) => {
    try {
      return Number(childProcess.execFileSync('id', [flag, 'postgres'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }))
    } catch {
      throw new Error("PostgreSQL does not run as root and there is no 'postgres' user to run it as (Debian's postgresql package creates one)")
    }
  }
  return { uid: id('-u'), gid: id('-g') }
}

/** Runs `file` to its end; rejects with its output if it fails. */
function run(file, args, options) {
  return new Promise((resolve, reject) => {
    childProcess.execFile(file, args, options, (err, stdout, stderr) => {
      if (err) reject(new Error(`${path.basename(file)} failed (${err.code ?? err.signal}):\n${stdout}${stderr}`))
      else resolve()
    })
  })
}

/** The /dev/shm segments a process has mapped (PostgreSQL's dynamic shared memory). */
function mappedShmFiles(pid) {
  try {
    const maps = fs.readFileSync(`/proc/${pid}/maps`, 'utf8')
    return [...new Set(maps.match(/\/dev\/shm\/PostgreSQL\.\d+/g) ?? [])]
  } catch {
    return []
  }
}

/** The System V shared memory segments a process created (PostgreSQL's main one). */
function sysvShmCreatedBy(pid) {
  const [header, ...rows] = fs.readFileSync('/proc/sysvipc/shm', 'utf8').trim().split('\n')
  const columns = header.trim().split(/\s+/)
  const shmid = columns.indexOf('shmid')
  const cpid = columns.indexOf('cpid')
  return rows.map((row) => row.trim().split(/\s+/)).filter((fields) => Number(fields[cpid]) === pid).map((fields) => Number(fields[shmid]))
}

/**
 * Makes a cluster and starts its server; resolves with `{ port, connection,
 * url, pid, clients(), stop(), log() }` once it accepts connections. `connection` is what
 * BullMQ's PostgreSQL backend takes (`migrate: true`: it creates its schema).
 * `settings` are extra `-c name=value` server settings.
 */
export async function startPostgres(settings = {}) {
  const bin = postgresBinDir()
  if (bin === null) throw new Error('PostgreSQL is not installed (Debian: apt-get install postgresql; .ci/run installs it)')
  const ids = unprivilegedIds()
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'offload-postgres-'))
  const removeDir = () => fs.rmSync(dir, { recursive: true, force: true })
  const data = path.join(dir, 'data')
  // The cluster's user must own its directory; cwd too must be readable by it.
  const asServer = { ...ids, cwd: dir, env: { ...process.env, LC_ALL: 'C' } }
  try {
    if (ids.uid !== undefined) fs.chownSync(dir, ids.uid, ids.gid)
    await run(path.join(bin, 'initdb'), ['-D', data, '--auth=trust', '--username=postgres', '--encoding=UTF8', '--locale=C', '--no-sync', '--no-instructions'], asServer)
  } catch (err) {
    removeDir()
    throw err
  }
  for (let attempt = 0; ; attempt++) {
    const port = await freePort()
    // A throwaway cluster: durability is not what is tested, speed is welcome.
    const serverSettings = { listen_addresses: '127.0.0.1', unix_socket_directories: dir, fsync: 'off', synchronous_commit: 'off', full_page_writes: 'off', ...settings }
    const args = ['-D', data, '-p', String(port)]
    for (const [name, value] of Object.entries(serverSettings)) args.push('-c', `${name}=${value}`)
    const child = childProcess.spawn(path.join(bin, 'postgres'), args, { ...asServer, stdio: ['ignore', 'pipe', 'pipe'] })
    let log = ''
    let exited = false
    child.once('exit', () => { exited = true })
    // The server logs to stderr; it is ready when it says so, or gone when it exits.
    const ready = await new Promise((resolve) => {
      const onData = (d) => {
        log += d
        if (/database system is ready to accept connections/.test(log)) resolve(true)
      }
      child.stdout.on('data', onData)
      child.stderr.on('data', onData)
      child.once('exit', () => resolve(false))
    })
    if (!ready) {
      if (attempt < 3 && /Address already in use/.test(log)) continue
      removeDir()
      throw new Error(`postgres did not start:\n${log}`)
    }
    const stop = async () => {
      // What belongs to the server, taken before it goes: its processes and shared memory.
      const processes = childrenOf(child.pid)
      const shmFiles = mappedShmFiles(child.pid)
      const sysvShm = sysvShmCreatedBy(child.pid)
      if (!exited) {
        const gone = once(child, 'exit')
        // Fast shutdown: clients disconnected, every server process ended, shared memory removed.
        child.kill('SIGINT')
        // A server that does not shut down within 30 s is killed; the checks below then say what it left.
        const deadline = setTimeout(() => child.kill('SIGKILL'), 30_000)
        await gone
        clearTimeout(deadline)
      }
      removeDir()
      const left = [
        ...processes.filter(alive).map((pid) => `process ${pid}`),
        ...shmFiles.filter((file) => fs.existsSync(file)),
        ...sysvShmCreatedBy(child.pid).filter((id) => sysvShm.includes(id)).map((id) => `System V shared memory segment ${id}`),
      ]
      if (child.exitCode !== 0) left.unshift(`(the server exited with ${child.exitCode ?? child.signalCode})`)
      if (left.length > 0) throw new Error(`postgres left behind: ${left.join(', ')}\n${log}`)
      return { processes: processes.length, shmFiles: shmFiles.length, sysvShm: sysvShm.length }
    }
    const connection = { host: '127.0.0.1', port, user: 'postgres', database: 'postgres' }
    /** The other clients connected now: `[{ pid, application_name }]`. */
    const clients = async () => {
      const client = new (require('pg').Client)(connection)
      await client.connect()
      try {
        const { rows } = await client.query("SELECT pid, application_name FROM pg_stat_activity WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()")
        return rows
      } finally {
        await client.end()
      }
    }
    return {
      port,
      pid: child.pid,
      connection: { ...connection, migrate: true },
      url: `postgres://postgres@127.0.0.1:${port}/postgres`,
      clients,
      stop,
      log: () => log,
    }
  }
}

// Type-checks (tsc -p __test__) the Node-style usage offload/child_process must accept.

import { promisify } from 'node:util'
import type { Readable, Writable } from 'node:stream'
import * as fs from 'node:fs'
import {
  ChildProcess,
  exec,
  execFile,
  fork,
  spawn,
  type ChildProcessByStdio,
  type ChildProcessWithoutNullStreams,
  type ExecException,
  type ExecFileException,
  type Serializable,
} from 'offload/child_process'

const ls: ChildProcessWithoutNullStreams = spawn('ls', ['-lh', '/usr'])
ls.stdout.on('data', (data: Buffer) => console.log(`stdout: ${data}`))
ls.stderr.on('data', (data: Buffer) => console.error(`stderr: ${data}`))
ls.on('close', (code: number | null, signal: NodeJS.Signals | null) => console.log(code, signal))
ls.on('exit', (code, signal) => console.log(code ?? signal))
ls.on('spawn', () => console.log(ls.pid))
ls.on('error', (err: Error) => console.error(err.message))
const stdin: Writable = ls.stdin
stdin.end()

const ignored: ChildProcessByStdio<null, null, null> = spawn('prg', [], {
  detached: true,
  stdio: ['ignore', 'ignore', 'ignore'],
})
ignored.unref()
const out = fs.openSync('./out.log', 'a')
const logged: ChildProcess = spawn('prg', [], { detached: true, stdio: ['ignore', out, out] })
logged.ref()
const piped: ChildProcessByStdio<Writable, Readable, null> = spawn('prg', [], { stdio: ['pipe', 'pipe', process.stderr] })
piped.stdout.setEncoding('utf8')

const controller = new AbortController()
const grep = spawn('grep', ['ssh'], { signal: controller.signal, timeout: 1000, killSignal: 'SIGKILL', shell: true, argv0: 'g' })
grep.kill('SIGHUP')
const wasKilled: boolean = grep.killed
const exitCode: number | null = grep.exitCode
const signalCode: NodeJS.Signals | null = grep.signalCode
const spawnargs: string[] = grep.spawnargs
console.log(wasKilled, exitCode, signalCode, spawnargs, grep.spawnfile, grep.stdio[3])

exec('cat *.js missing_file | wc -l', (error: ExecException | null, stdout: string, stderr: string) => {
  if (error) console.error(error.code, error.killed, error.signal, error.cmd)
  console.log(stdout.trim(), stderr)
})
exec('ls', { encoding: 'buffer' }, (_error, stdout: Buffer) => stdout.length)
exec('ls', { cwd: new URL('file:///tmp/'), env: { PATH: '/bin' }, maxBuffer: 1024, timeout: 10, windowsHide: true })

execFile('node', ['--version'], (error: ExecFileException | null, stdout: string) => {
  if (error) throw error
  console.log(stdout)
})
execFile('node', ['--version'], { encoding: 'buffer' }, (_error, stdout: Buffer) => stdout.byteLength)

async function promises(): Promise<void> {
  const execAsync = promisify(exec)
  const { stdout, stderr } = await execAsync('ls')
  const text: string = stdout + stderr
  const execFileAsync = promisify(execFile)
  const version = await execFileAsync('node', ['--version'])
  const bytes = await execFileAsync('node', ['--version'], { encoding: 'buffer' })
  const raw: Buffer = bytes.stdout
  const pending = execAsync('sleep 1')
  const child: ChildProcess = pending.child
  console.log(text, version.stdout.trim(), raw, child.pid)
}
void promises()

const n = fork(`${__dirname}/sub.js`, ['child'], { silent: true, execArgv: [], serialization: 'json' })
n.on('message', (m: Serializable) => console.log('PARENT got message:', m))
const queued: boolean = n.send({ hello: 'world' })
n.send({ hello: 'again' }, (err: Error | null) => console.log(err))
n.send('text', undefined, { keepOpen: false }, (err) => console.log(err))
n.on('disconnect', () => console.log(n.connected))
n.channel?.unref()
n.disconnect()
console.log(queued)

fork(new URL('file:///tmp/sub.js'), { signal: controller.signal })

{
  using disposable = spawn('sleep', ['1'])
  console.log(disposable.pid)
}

fork('sub.js', { serialization: 'advanced' }).send({ bytes: Buffer.from('x'), when: new Date() })
// @ts-expect-error Node's serializations are 'json' and 'advanced'
fork('sub.js', { serialization: 'v8' })

// Node's ChildProcess, built and started by hand, and its 'internalMessage' event.
const manual = new ChildProcess()
const launched: number = manual.spawn({ file: '/bin/sh', args: ['sh', '-c', 'echo $A'], envPairs: ['A=1'], stdio: 'pipe' })
manual.on('internalMessage', (message: object) => console.log(launched, message))
fork(new URL('file:///srv/worker.js'), { cwd: new URL('file:///srv/') })

// Type-checked by `npm test` (tsc -p __test__): every public function used as
// the README shows it. A wrong type in index.d.ts fails the test run.
import { $, exec, execFile, fork, pipeline, Pool, spawn, Subprocess, SubprocessError, type PoolStats, type PoolEventErrorCode, type Result } from 'offload'
import { resize, resizeFile, metadata, setConcurrency, getConcurrency, type ImageMetadata, type ResizeFileInfo } from 'offload'

async function usage(): Promise<void> {
  const child: Subprocess = spawn('ls', ['-la'], { cwd: '/tmp', timeout: 1000, limits: { memoryBytes: 1 << 28, nice: 5 } })
  const pid: number | undefined = child.pid
  child.stdout?.on('data', (chunk: Buffer) => chunk.length)
  child.stdin?.end('input')
  child.on('exit', (code, signal) => [code, signal])
  const result: Result = await child
  const text: string | undefined = result.stdout
  const peak: number = result.usage.maxRssBytes

  const bytes = await execFile('cat', ['/etc/hostname'], { encoding: 'buffer' })
  const buffer: Buffer | undefined = bytes.stdout

  const shell = await exec('echo $HOME', { shell: '/bin/bash', env: { HOME: '/root' } })
  const exitCode: number | null = shell.exitCode

  const input = 'my photo.jpg'
  const sizes = ['800x600', '400x300']
  const converted = await $`convert ${input} -resize ${sizes} out.jpg`
  const withOptions = await $({ cwd: '/tmp', stdout: 'inherit' })`ls -la`

  for await (const line of spawn('ps', ['aux']).lines()) line.toUpperCase()

  const piped = await pipeline(['ps', 'aux'], ['grep', 'node'])
  const stages: number = piped.stages.length
  const chained = await spawn('printf', ['a\\nb']).pipe('sort', ['-r'])

  const worker = fork('./worker.js', ['--flag'], { execArgv: [] })
  const cloned = fork('./worker.js', { serialization: 'advanced' })
  await cloned.send(new Map([['image', Buffer.alloc(4)]]))
  // @ts-expect-error Node's serializations are 'json' and 'advanced'
  fork('./worker.js', { serialization: 'v8' })
  worker.on('message', (message: unknown) => message)
  await worker.send({ hello: 'world' })
  worker.disconnect()

  const controller = new AbortController()
  try {
    await execFile('sleep', ['10'], { signal: controller.signal, killSignal: 'SIGINT', forceKillAfter: false })
  } catch (error) {
    if (error instanceof SubprocessError) {
      const code: string = error.code
      const canceled: boolean = error.canceled
      void [code, canceled]
    }
  }
  const lenient = await execFile('false', [], { reject: false })
  const failed: boolean = lenient.failed
  child.kill('SIGKILL')
  child.kill(9)
  child.unref().ref()
  void [pid, text, peak, buffer, exitCode, converted, withOptions, stages, chained, failed]

  const pool = new Pool({ script: './worker.js', size: 2, minSize: 1, idleTimeout: 30_000, taskTimeout: 1000, maxQueue: 100, stderr: 'pipe' })
  const doubled = await pool.run<{ doubled: number }>({ i: 1 }, { signal: controller.signal, timeout: 500 })
  const python = new Pool({ command: ['python3', 'worker.py'], limits: { memoryBytes: 1 << 28 }, maxTasksPerWorker: 100, maxRssBytes: 1 << 29, retries: 1 })
  pool.on('workerExit', (pid, code, signal) => [pid, code, signal])
  const stats: PoolStats = pool.stats()
  const p99: number = stats.runTime.p99
  const retryAt: number | null = stats.broken ? stats.nextStartAt : null
  const starting: number = stats.starting + stats.startFailures
  const patient = new Pool({ script: 'worker.js', maxStartFailures: 5, startBackoff: { initial: 500, max: 10_000 } })
  const structured = new Pool({ script: 'worker.js', serialization: 'advanced' })
  const thumbnail: Buffer = await structured.run<Buffer>({ image: Buffer.alloc(4), sizes: new Set([64, 128]) })
  // @ts-expect-error a command pool speaks JSON lines: no serialization
  void new Pool({ command: ['python3', 'worker.py'], serialization: 'advanced' })
  // @ts-expect-error startBackoff is an object of milliseconds
  void new Pool({ script: 'worker.js', startBackoff: 1000 })
  await pool.close({ timeout: 2000 })
  await python.destroy()
  await patient.destroy()
  void thumbnail
  await structured.close()
  void [doubled.doubled, p99, retryAt, starting]

  const thumb: Buffer = await resize('photo.jpg', { width: 720, height: 588, fit: 'inside', withoutEnlargement: true, quality: 80 })
  const png: Buffer = await resize(thumb, { width: 200, format: 'png', png: { compressionLevel: 6 }, background: '#ffffff', kernel: 'lanczos2' })
  const marked = await resize(new Uint8Array(png), {
    width: 400,
    position: 'northwest',
    jpeg: { progressive: true, chromaSubsampling: '4:4:4' },
    composite: [{ input: 'logo.png', gravity: 'southeast', opacity: 0.5 }, { input: png, top: 10, left: 10 }],
    limitInputPixels: false,
    signal: controller.signal,
  })
  const info: ResizeFileInfo = await resizeFile('photo.jpg', 'thumb.webp', { width: 320, webp: { lossless: false, effort: 4 }, autoOrient: true, keepMetadata: false })
  const meta: ImageMetadata = await metadata(marked)
  setConcurrency(getConcurrency() + 1)
  void [info.size, meta.orientation, meta.density]
}

void usage

// Pool with serve() workers.
import { serve } from 'offload/worker'
serve({
  double: (task: { n: number }) => task.n * 2,
  async slow(task: { ms: number }, { signal }) {
    signal.throwIfAborted()
    return task.ms
  },
})
const servePool = new Pool({ script: 'worker.js', concurrency: 4 })
const doubled: Promise<number> = servePool.run<number>({ n: 1 }, { handler: 'double', timeout: 100 })
servePool.on('error', (e) => e.code satisfies PoolEventErrorCode)
void doubled

// The type of collected output follows the options (issue 16: `stdout` was
// `string | undefined` under --strict). Each wrong use below must stay a type
// error: a `@ts-expect-error` that no longer meets an error fails `tsc` too.
import type { SpawnOptions, StdoutOf } from 'offload'
async function outputTypes(): Promise<void> {
  const head: string = (await execFile('git', ['rev-parse', 'HEAD'])).stdout.trim()
  const noArgs: string = (await execFile('pwd')).stderr
  const bytes: Buffer = (await execFile('cat', ['/etc/hostname'], { encoding: 'buffer' })).stdout
  // @ts-expect-error a Buffer has no trim()
  ;(await execFile('cat', ['/etc/hostname'], { encoding: 'buffer' })).stdout.trim()
  const latin1: string = (await execFile('cat', ['x'], { encoding: 'latin1' })).stdout

  const inherited = await execFile('ls', [], { stdout: 'inherit' })
  const nothing: undefined = inherited.stdout
  const stillPiped: string = inherited.stderr
  // @ts-expect-error stdout: 'inherit' collects nothing
  inherited.stdout.trim()
  const quiet = await execFile('ls', { stderr: 'ignore', stdout: 1 })
  // @ts-expect-error stderr: 'ignore' collects nothing
  quiet.stderr.trim()
  // @ts-expect-error nor does a descriptor number
  quiet.stdout.trim()
  const toFile = await execFile('ls', { stdout: { file: 'out.txt' } })
  // @ts-expect-error nor does a file
  toFile.stdout.trim()
  // @ts-expect-error offload has no `stdio` shorthand: stdin, stdout and stderr are separate options
  await execFile('ls', [], { stdio: 'inherit' })

  const shell: string = (await exec('git rev-parse HEAD')).stdout.trim()
  const shellBytes: Buffer = (await exec('cat x', { encoding: 'buffer' })).stdout
  const tagged: string = (await $`git rev-parse HEAD`).stdout.trim()
  const taggedBytes: Buffer = (await $({ encoding: 'buffer' })`cat x`).stdout
  // @ts-expect-error $(options) follows its options too
  ;(await $({ stdout: 'ignore' })`ls`).stdout.trim()
  const spawned: string = (await spawn('ls', ['-la'])).stdout
  const spawnedBytes: Buffer = (await spawn('ls', { encoding: 'buffer' })).stderr

  // fork() inherits stdio unless told to pipe it.
  // @ts-expect-error fork() output is not collected by default
  ;(await fork('./worker.js')).stdout.trim()
  const forked: string = (await fork('./worker.js', [], { stdout: 'pipe' })).stdout
  const forkedErr: undefined = (await fork('./worker.js', { stdout: 'pipe' })).stderr

  const piped: string = (await pipeline(['ps', 'aux'], ['grep', 'node'])).stdout.trim()
  const pipedBytes: Buffer = (await pipeline(['ps', 'aux'], { file: 'gzip', options: { encoding: 'buffer' } })).stdout
  const chained: string = (await spawn('printf', ['b\\na']).pipe('sort')).stdout.trim()
  const chainedBytes: Buffer = (await spawn('printf', ['a']).pipe('gzip', [], { encoding: 'buffer' })).stdout

  // A failure carries the same output types.
  await spawn('false').catch((error) => {
    const text: string = error.stdout
    const name: 'SubprocessError' | 'AbortError' = error.name
    void [text, name, error.cause]
  })
  await spawn('false', { encoding: 'buffer' }).catch((error) => {
    const raw: Buffer = error.stderr
    // @ts-expect-error a Buffer, not a string
    const text: string = error.stderr
    void [raw, text]
  })

  // Options whose type is only SpawnOptions may collect anything, or nothing.
  const wide: SpawnOptions = {}
  const anything: string | Buffer | undefined = (await execFile('ls', wide)).stdout
  // @ts-expect-error it may be undefined or a Buffer
  ;(await execFile('ls', wide)).stdout.trim()
  const named: StdoutOf<{ stdout: 'pipe'; encoding: 'buffer' }> = Buffer.alloc(0)

  void [head, noArgs, bytes, latin1, nothing, stillPiped, shell, shellBytes, tagged, taggedBytes, spawned, spawnedBytes]
  void [forked, forkedErr, piped, pipedBytes, chained, chainedBytes, anything, named]
}
void outputTypes

// A pool runs exactly one of a script and a command.
// @ts-expect-error neither script nor command
new Pool({})
// @ts-expect-error both script and command
new Pool({ script: 'worker.js', command: ['python3', 'worker.py'] })
// @ts-expect-error a command's arguments go in `command`
new Pool({ command: ['python3'], args: ['worker.py'] })
new Pool({ command: ['python3', 'worker.py'], size: 2 })
new Pool({ script: 'worker.js', args: ['--flag'], execArgv: ['--max-old-space-size=256'] })

// formats, shaped as sharp.format.
import { formats, type FormatInfo } from 'offload'
const avifFormat: FormatInfo = formats.avif
const readsAvif: boolean = avifFormat.input.buffer
const jpegSuffixes: readonly string[] | undefined = formats.jpeg.input.fileSuffix
// @ts-expect-error an entry's input is { file, buffer, stream }, no longer a boolean
const oldShape: boolean = formats.avif.input
// @ts-expect-error no such format
void formats.heif
void [readsAvif, jpegSuffixes, oldShape, formats.tiff.output.stream satisfies false]

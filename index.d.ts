// Types for `require('offload')`.

import type { EventEmitter } from 'node:events'
import type { Readable, Writable } from 'node:stream'

/** A signal by name (`'SIGTERM'`) or number. */
export type Signal = NodeJS.Signals | number

/** Resource limits, in force from the child's first instruction. */
export interface Limits {
  /** Heap and private writable memory (`RLIMIT_DATA`), in bytes. An allocation past it fails. */
  memoryBytes?: number
  /** CPU time (`RLIMIT_CPU`), in seconds: `SIGXCPU` then, `SIGKILL` one second later. */
  cpuSeconds?: number
  /** Open file descriptors (`RLIMIT_NOFILE`). */
  openFiles?: number
  /** Processes of the child's user (`RLIMIT_NPROC`); not enforced for root. */
  processes?: number
  /** Largest file the child may write (`RLIMIT_FSIZE`), in bytes. */
  fileSizeBytes?: number
  /** Scheduling priority, -20 (highest) to 19 (lowest). */
  nice?: number
}

/** Where stdin comes from. A string other than the three keywords, or a Buffer, is written to stdin, which is then closed. */
export type StdinOption = 'pipe' | 'inherit' | 'ignore' | string | Uint8Array | number | { file: string | URL }

/** Where stdout or stderr goes. */
export type OutputOption = 'pipe' | 'inherit' | 'ignore' | number | { file: string | URL; append?: boolean }

export interface SpawnOptions {
  /** Working directory of the child. Default: this process's. */
  cwd?: string | URL
  /** Environment variables; merged over `process.env` unless `extendEnv: false`. */
  env?: Record<string, string | undefined>
  /** Merge `env` over `process.env`. Default `true`. */
  extendEnv?: boolean
  /** `argv[0]` of the child. Default: `file`. */
  argv0?: string
  /** Default `'pipe'`. */
  stdin?: StdinOption
  /** Default `'pipe'`. */
  stdout?: OutputOption
  /** Default `'pipe'`. */
  stderr?: OutputOption
  /** How collected output is decoded: `'utf8'` (default), another Buffer encoding, or `'buffer'`. */
  encoding?: BufferEncoding | 'buffer'
  /** Bytes collected per stream before the child is killed (`ERR_OFFLOAD_MAX_BUFFER`). Default 100 MiB. */
  maxBuffer?: number
  /** Milliseconds before the child is killed (`ERR_OFFLOAD_TIMEOUT`). Default: none. */
  timeout?: number
  /** Aborting kills the child: it rejects with an AbortError (`ERR_OFFLOAD_ABORTED`, `cause: signal.reason`). */
  signal?: AbortSignal
  /** Signal used for `timeout`, `signal` and `maxBuffer`. Default `'SIGTERM'`. */
  killSignal?: Signal
  /** Milliseconds after a kill before `SIGKILL` follows, or `false`. Default 5000. */
  forceKillAfter?: number | false
  /** Start the child in its own process group and signal the whole group. Default `false`. */
  killTree?: boolean
  /** Start the child in a new session; it outlives this process. Default `false`. */
  detached?: boolean
  /** Run as this user id. */
  uid?: number
  /** Run as this group id. */
  gid?: number
  limits?: Limits
  /** Kill the child when this process dies, even by SIGKILL. Default `true` (not for `detached`). */
  cleanup?: boolean
  /** Reject on failure; with `false` the promise resolves with `failed: true`. Default `true`. */
  reject?: boolean
  /** Remove one trailing newline from collected output. Default `true`. */
  stripFinalNewline?: boolean
}

export interface ExecOptions extends SpawnOptions {
  /** The shell that runs the command with `-c`. Default `'/bin/sh'`. */
  shell?: string | true
}

export interface ForkOptions extends SpawnOptions {
  /** Node binary. Default `process.execPath`. */
  execPath?: string
  /** Node flags. Default `process.execArgv`. */
  execArgv?: string[]
  /**
   * How IPC messages are written, as Node's `fork()` option: `'json'` (default) or
   * `'advanced'` (V8's structured clone: Buffers, typed arrays, `Map`, `Set`, `Date`,
   * `BigInt`, errors and `undefined` cross as themselves).
   */
  serialization?: Serialization
}

/** Node's IPC serialization: `'json'` (JSON lines) or `'advanced'` (V8's structured clone, length-framed). */
export type Serialization = 'json' | 'advanced'


export interface Usage {
  /** Peak resident memory, in bytes (see the README: includes Node's size at launch). */
  maxRssBytes: number
  userCpuMs: number
  systemCpuMs: number
}

/**
 * What every finished command reports, succeeded or failed. `Stdout`/`Stderr`
 * follow the options (see {@link StdoutOf}): `string` for a piped stream (the
 * default), `Buffer` with `encoding: 'buffer'`, `undefined` for one that is not
 * a pipe (`'inherit'`, `'ignore'`, a descriptor, a file).
 */
export interface Outcome<Stdout = string, Stderr = Stdout> {
  /** The command as a shell would need it. */
  command: string
  pid: number | undefined
  exitCode: number | null
  signal: NodeJS.Signals | null
  /**
   * Collected stdout. Also `undefined` at run time if you read `subprocess.stdout`
   * as a stream (or with `lines()`): that output is yours, the result does not repeat it.
   */
  stdout: Stdout
  /** Collected stderr; `undefined` in the same cases as `stdout`. */
  stderr: Stderr
  durationMs: number
  timedOut: boolean
  canceled: boolean
  usage: Usage
}

export interface Result<Stdout = string, Stderr = Stdout> extends Outcome<Stdout, Stderr> {
  /** `true` only on a `reject: false` failure. */
  failed: boolean
  /** On a `reject: false` failure, the error code. */
  code?: string
}

/** What any stage of a pipeline collected: the last one's output per its options, the others' stdout goes to the next stage. */
export type StageResult = Result<string | Buffer | undefined>

export interface PipelineResult<Stdout = string, Stderr = Stdout> extends Result<Stdout, Stderr> {
  /** Every stage, first to last. */
  stages: StageResult[]
}

/** Failure codes of offload itself; launch failures use the OS error name (`'ENOENT'`, `'EACCES'`, …). */
export type SubprocessErrorCode =
  | 'ERR_OFFLOAD_EXIT_CODE'
  | 'ERR_OFFLOAD_SIGNAL'
  | 'ERR_OFFLOAD_TIMEOUT'
  | 'ERR_OFFLOAD_ABORTED'
  | 'ERR_OFFLOAD_MAX_BUFFER'
  | 'ERR_OFFLOAD_CPU_LIMIT'
  | 'ERR_OFFLOAD_FILE_SIZE_LIMIT'
  | 'ERR_OFFLOAD_SPAWN_FAILED'

/**
 * A command that failed. Aborted (`code: 'ERR_OFFLOAD_ABORTED'`), it is named
 * `'AbortError'` and its `cause` is `signal.reason`; otherwise it is named
 * `'SubprocessError'`. Narrowed with `instanceof`, its output fields are `any`:
 * annotate them as your options make them.
 */
export declare class SubprocessError<Stdout = string, Stderr = Stdout> extends Error {
  name: 'SubprocessError' | 'AbortError'
  code: SubprocessErrorCode | string
  failed: true
  /** Aborts: the signal's `reason`. */
  cause?: unknown
  /** Launch failures, like Node: */
  errno?: number
  syscall?: string
  path?: string
  spawnargs?: string[]
  cwd?: string
  /** Pipelines: the index of the failing stage and every stage. */
  stage?: number
  stages?: StageResult[]
}
/** Every field of a result. */
export interface SubprocessError<Stdout = string, Stderr = Stdout> extends Outcome<Stdout, Stderr> {}

export declare class Subprocess<Stdout = string, Stderr = Stdout> extends EventEmitter implements PromiseLike<Result<Stdout, Stderr>> {
  /** Known once launched; reading it earlier waits for the launch (microseconds). */
  readonly pid: number | undefined
  readonly command: string
  readonly spawnfile: string
  readonly spawnargs: string[]
  readonly exitCode: number | null
  readonly signalCode: NodeJS.Signals | null
  readonly killed: boolean
  /** `fork()` children: whether the IPC channel is open. */
  readonly connected: boolean
  readonly stdin: Writable | null
  readonly stdout: Readable | null
  readonly stderr: Readable | null
  /**
   * Sends a signal (default `'SIGTERM'`); `true` if it was delivered. When the OS refuses
   * (a `killTree` group with a process of another user), throws Node's `kill EPERM` error.
   */
  kill(signal?: Signal): boolean
  unref(): this
  ref(): this
  /** The lines of stdout; throws at the end if the command failed. */
  lines(): AsyncIterableIterator<string>
  /** Feeds this child's stdout to a new child's stdin through a kernel pipe. */
  pipe<O extends SpawnOptions = {}>(file: string, args?: readonly string[], options?: O): Pipeline<StdoutOf<O>, StderrOf<O>>
  pipe<O extends SpawnOptions = {}>(file: string, options?: O): Pipeline<StdoutOf<O>, StderrOf<O>>
  /** `fork()` children: sends one message; resolves once written. */
  send(message: unknown): Promise<void>
  disconnect(): void
  then<A = Result<Stdout, Stderr>, B = never>(
    onfulfilled?: ((value: Result<Stdout, Stderr>) => A | PromiseLike<A>) | null,
    onrejected?: ((reason: SubprocessError<Stdout, Stderr>) => B | PromiseLike<B>) | null,
  ): Promise<A | B>
  catch<B = never>(onrejected?: ((reason: SubprocessError<Stdout, Stderr>) => B | PromiseLike<B>) | null): Promise<Result<Stdout, Stderr> | B>
  finally(onfinally?: (() => void) | null): Promise<Result<Stdout, Stderr>>

  on(event: 'spawn', listener: () => void): this
  on(event: 'exit' | 'close', listener: (code: number | null, signal: NodeJS.Signals | null) => void): this
  on(event: 'message', listener: (message: any) => void): this
  on(event: 'disconnect', listener: () => void): this
  on(event: 'error', listener: (error: SubprocessError<Stdout, Stderr>) => void): this
  on(event: string | symbol, listener: (...args: any[]) => void): this
}

/** The last stage of a pipeline: awaiting it waits for every stage. */
export type Pipeline<Stdout = string, Stderr = Stdout> = Subprocess<Stdout, Stderr> & PromiseLike<PipelineResult<Stdout, Stderr>>

// How the options decide the type of `result.stdout` and `result.stderr`, as execa's types do.

/** The value of option `K` in `O`, or `undefined` when `O` does not have it. */
type OptionValue<O, K extends PropertyKey> = K extends keyof O ? O[K] : undefined

/** Collected output as `encoding` decodes it: a Buffer for `'buffer'`, else a string. */
type Decoded<O> = OptionValue<O, 'encoding'> extends infer E ? (E extends 'buffer' ? Buffer : string) : never

/** Output a stream option collects (`'pipe'`, or the default), else `undefined`; a union gives a union. */
type Collected<Option, Output> = Option extends 'pipe' | 'overlapped' | undefined ? Output : undefined

/** `result.stdout` for options `O`; `Default` is the `stdout` a function uses when none is given. */
export type StdoutOf<O, Default = 'pipe'> = Collected<OptionValue<O, 'stdout'> extends undefined ? Default : OptionValue<O, 'stdout'>, Decoded<O>>
/** `result.stderr` for options `O`. */
export type StderrOf<O, Default = 'pipe'> = Collected<OptionValue<O, 'stderr'> extends undefined ? Default : OptionValue<O, 'stderr'>, Decoded<O>>

/** Starts `file` with `args` (no shell); returns at once. */
export declare function spawn<O extends SpawnOptions = {}>(file: string, args?: readonly string[], options?: O): Subprocess<StdoutOf<O>, StderrOf<O>>
export declare function spawn<O extends SpawnOptions = {}>(file: string, options?: O): Subprocess<StdoutOf<O>, StderrOf<O>>

/** Runs `file` with `args` (no shell), output buffered. */
export declare function execFile<O extends SpawnOptions = {}>(file: string, args?: readonly string[], options?: O): Promise<Result<StdoutOf<O>, StderrOf<O>>>
export declare function execFile<O extends SpawnOptions = {}>(file: string, options?: O): Promise<Result<StdoutOf<O>, StderrOf<O>>>

/** Runs `command` through `/bin/sh -c`, like Node's `exec`. */
export declare function exec<O extends ExecOptions = {}>(command: string, options?: O): Promise<Result<StdoutOf<O>, StderrOf<O>>>

type TemplateValue = string | number | bigint | ReadonlyArray<string | number | bigint>

/** `` $`convert ${input} -resize 800x600 ${output}` ``: each value is exactly one argument. No shell. */
export declare function $(strings: TemplateStringsArray, ...values: TemplateValue[]): Subprocess<string>
export declare function $<O extends SpawnOptions>(options: O): (strings: TemplateStringsArray, ...values: TemplateValue[]) => Subprocess<StdoutOf<O>, StderrOf<O>>

/**
 * Starts a Node module with an IPC channel (`send()` / `'message'`). Stdio is inherited by default;
 * stderr is passed through by offload, and a failed child's error carries its last 8 KiB as `stderr`.
 */
export declare function fork<O extends ForkOptions = {}>(modulePath: string | URL, args?: readonly string[], options?: O): Subprocess<StdoutOf<O, 'inherit'>, StderrOf<O, 'inherit'>>
export declare function fork<O extends ForkOptions = {}>(modulePath: string | URL, options?: O): Subprocess<StdoutOf<O, 'inherit'>, StderrOf<O, 'inherit'>>

export type PipelineStage = readonly [string, ...string[]] | { file: string; args?: readonly string[]; options?: SpawnOptions }

/** The options of the last of `Stages`. */
type LastStageOptions<Stages> = Stages extends readonly [...unknown[], infer Last] ? (Last extends { options: infer O } ? O : {}) : SpawnOptions

/** `pipeline(['ps', 'aux'], ['grep', 'node'])`: each stdout feeds the next stdin through a kernel pipe. The result's output is the last stage's. */
export declare function pipeline<Stages extends readonly PipelineStage[]>(
  ...stages: Stages
): Pipeline<StdoutOf<LastStageOptions<Stages>>, StderrOf<LastStageOptions<Stages>>>

/**
 * Workers that run a Node module: a plain one (`process.on('message', t =>
 * process.send(work(t)))`) answers one task at a time over Node's IPC channel;
 * one that calls `serve()` from `offload/worker` gets async and named handlers,
 * `concurrency`, errors, AbortSignals and raw Buffers.
 */
export interface ScriptPoolOptions extends PoolSettings {
  /** The Node module each worker runs. */
  script: string
  /** Arguments of the `script`. */
  args?: string[]
  /** Node binary for `script`. Default `process.execPath`. */
  execPath?: string
  /** Node flags for `script`. Default `process.execArgv`. */
  execArgv?: string[]
  command?: never
  /**
   * Node's IPC serialization of the workers' channel. `'advanced'`: tasks and answers are V8's
   * structured clones (Buffers, typed arrays, `Map`, `Set`, `Date`, `BigInt`, errors cross as
   * themselves); every worker then takes its tasks as messages, one at a time (one that calls
   * `serve()` answers them with its default handler), so `concurrency` must be 1. Default `'json'`.
   */
  serialization?: Serialization
}

/** Workers that run any executable that reads one JSON task per line on stdin and writes one JSON result per line on stdout. */
export interface CommandPoolOptions extends PoolSettings {
  /** `[file, ...args]` of each worker. */
  command: string[]
  script?: never
  args?: never
  execPath?: never
  execArgv?: never
  serialization?: never
}

/** Exactly one of `script` and `command`, with the settings every pool takes. */
export type PoolOptions = ScriptPoolOptions | CommandPoolOptions

/** Resource limits and other worker settings, as for `spawn`. */
export interface PoolSettings {
  /** Most workers. Default: the CPUs this process may use (affinity and cgroup quota). */
  size?: number
  /** Workers kept when idle; the pool grows from here to `size` with demand. Default: `size`. */
  minSize?: number
  /** Milliseconds after which an idle worker beyond `minSize` stops. Default: never. */
  idleTimeout?: number
  /** Tasks waiting (not running) past which `run` rejects with `ERR_OFFLOAD_QUEUE_FULL`. Default: no limit. */
  maxQueue?: number
  /** Milliseconds a task may run; past it the worker is killed and replaced and the task rejects with `ERR_OFFLOAD_TIMEOUT`. Default (and `0`): none. */
  taskTimeout?: number
  /**
   * Tasks a worker runs at once. Default 1. Only workers that call `serve()`
   * take more than one; a plain worker answers in order, one task at a time.
   */
  concurrency?: number
  /** Replace a worker after this many tasks. Default: never. */
  maxTasksPerWorker?: number
  /** Replace a worker whose resident memory passed this many bytes, checked between tasks. Default: never. */
  maxRssBytes?: number
  /** Times a task whose worker crashed runs again on a fresh worker before it rejects. Default 0. */
  retries?: number
  /** Environment variables, merged over `process.env`. */
  env?: Record<string, string | undefined>
  cwd?: string
  /**
   * `'inherit'` (default): passed through to this process's stderr, and the last 8 KiB kept for
   * error reports; `'pipe'`: not passed through, the last 64 KiB kept.
   */
  stderr?: 'inherit' | 'pipe'
  limits?: Limits
  /**
   * Failed starts in a row (a worker that exits before it is ready, or within 1 s of its start)
   * after which the pool waits `startBackoff` before starting another, and rejects queued and new
   * tasks with `ERR_OFFLOAD_WORKER_START_FAILED` while no worker is ready. Default 3.
   */
  maxStartFailures?: number
  /** Milliseconds the pool waits after `maxStartFailures`: `initial`, doubling after each further failed start up to `max`. Default `{ initial: 1000, max: 30000 }`. */
  startBackoff?: { initial?: number; max?: number }
}

export interface RunOptions {
  /**
   * Aborting rejects the task at once with an AbortError (`ERR_OFFLOAD_ABORTED`,
   * `cause: signal.reason`). A queued task
   * is removed; a running one fires its `serve()` handler's AbortSignal (the
   * worker is replaced if it does not answer within 1 s), or, on a plain
   * worker, has its worker killed and replaced.
   */
  signal?: AbortSignal
  /** Milliseconds, instead of the pool's `taskTimeout` (longer or shorter); `0`: no timeout for this task, as Node's `timeout: 0`. */
  timeout?: number
  /** A named handler of a `serve({ name: fn })` worker. Default: its `default` handler (or its only one). */
  handler?: string
  /**
   * Answers the running task's `context.request(message)` calls (`serve()`
   * workers): its return value (or promise) is the answer, what it throws
   * rejects the request. Messages and answers are JSON.
   */
  onRequest?: (message: any) => unknown
  /**
   * JSON about the task that is not part of it (an id, a name): a `serve()`
   * handler gets it as `context.meta`. At most 64 KiB with the handler name.
   */
  meta?: unknown
}

export interface LatencyPercentiles {
  p50: number
  p90: number
  p99: number
  max: number
}

export interface PoolStats {
  /** Live workers, `starting` ones included. */
  size: number
  busy: number
  /** Ready workers with nothing to do. */
  idle: number
  /** Workers launched that are not ready yet. */
  starting: number
  queued: number
  completed: number
  failed: number
  crashed: number
  restarted: number
  /** Milliseconds from a worker taking a task to its result, over recent tasks. */
  runTime: LatencyPercentiles
  /** Milliseconds from `run` to a worker taking the task, over recent tasks. */
  waitTime: LatencyPercentiles
  /** Failed starts in a row; 0 once a worker started and lived 1 s. */
  startFailures: number
  /** Workers fail to start and none is ready: `run` rejects at once with `ERR_OFFLOAD_WORKER_START_FAILED`. */
  broken: boolean
  /** When (ms since the epoch, as `Date.now()`) the pool starts a worker again, while it waits after failed starts; else `null`. */
  nextStartAt: number | null
}

/** Pool failure codes. */
export type PoolErrorCode =
  | 'ERR_OFFLOAD_WORKER_CRASHED'
  | 'ERR_OFFLOAD_WORKER_START_FAILED'
  | 'ERR_OFFLOAD_TIMEOUT'
  | 'ERR_OFFLOAD_ABORTED'
  | 'ERR_OFFLOAD_QUEUE_FULL'
  | 'ERR_OFFLOAD_POOL_CLOSED'
  | 'ERR_OFFLOAD_BAD_RESULT'
  | 'ERR_OFFLOAD_NO_HANDLER'

/** Codes of the pool's `'error'` event: problems that no task's result reports. */
export type PoolEventErrorCode = 'ERR_OFFLOAD_WORKER_START_FAILED' | 'ERR_OFFLOAD_WORKER_PROTOCOL' | 'ERR_OFFLOAD_WORKER_UNRESPONSIVE'

/** Long-lived worker processes with a queue; every task settles exactly once. */
export declare class Pool extends EventEmitter {
  constructor(options: PoolOptions)
  /**
   * Runs one JSON-serialisable task on a worker and resolves with its answer.
   * Buffers and Uint8Arrays in the task (and the answer) cross as raw bytes to
   * and from a `serve()` worker. An error a `serve()` handler throws rejects
   * with an Error of the same class, message, `code` and own properties.
   */
  run<Result = any>(task: unknown, options?: RunOptions): Promise<Result>
  /** Tasks the pool runs at once when it has all its workers: `size` × `concurrency`. */
  readonly capacity: number
  stats(): PoolStats
  /** Takes no new tasks, finishes queued and running ones, then stops the workers (SIGKILL after `timeout` ms, default 5000). */
  close(options?: { timeout?: number }): Promise<void>
  /** Rejects everything pending with `ERR_OFFLOAD_POOL_CLOSED` and kills the workers now. */
  destroy(): Promise<void>
  on(event: 'workerExit', listener: (pid: number, code: number | null, signal: NodeJS.Signals | null) => void): this
  /** Without a listener these become process warnings, never an uncaught 'error'. */
  on(event: 'error', listener: (error: Error & { code: PoolEventErrorCode }) => void): this
  on(event: string | symbol, listener: (...args: any[]) => void): this
}

// Images

/** Input of an image call: the encoded bytes, or a file path (read on an image thread). */
export type ImageInput = Buffer | Uint8Array | string | URL

/**
 * Output formats. `'raw'`: uncompressed 8-bit interleaved pixels with no header, RGB, or RGBA
 * when the image has alpha (grey is widened, as sharp does; see `info.channels`).
 */
export type ImageFormat = 'jpeg' | 'png' | 'webp' | 'avif' | 'gif' | 'raw'

/** Gravity: where the kept window (cover) or the image on its canvas (contain) sits. */
export type Gravity =
  | 'centre' | 'center' | 'north' | 'northeast' | 'east' | 'southeast' | 'south' | 'southwest' | 'west' | 'northwest'
  | 'top' | 'right top' | 'right' | 'right bottom' | 'bottom' | 'left bottom' | 'left' | 'left top'

/** A colour: `'#rrggbb'`, `'#rgb'`, `'#rrggbbaa'`, `'white'`, `'black'`, `'transparent'`, or channels 0–255 with `alpha` 0–1. */
export type Colour = string | { r?: number; g?: number; b?: number; alpha?: number }

/** A watermark or overlay drawn over the resized image. */
export interface CompositeOverlay {
  /** The overlay image (any readable format); it must not be larger than the resized image. */
  input: ImageInput
  /** Where it goes when `top`/`left` are absent. Default `'centre'`. */
  gravity?: Gravity
  /** Pixels from the top edge (with `left`); wins over `gravity`. */
  top?: number
  /** Pixels from the left edge (with `top`). */
  left?: number
  /** 0–1, multiplied into the overlay's alpha. Default 1. */
  opacity?: number
}

/** Options of `resize` and `resizeFile`; names and meanings follow sharp's. */
export interface ResizeOptions {
  /** Target width in pixels (1–65535). Default: from `height` and the aspect ratio, or the input's. */
  width?: number | null
  /** Target height in pixels (1–65535). Default: from `width` and the aspect ratio, or the input's. */
  height?: number | null
  /** How the image fits `width`×`height`. Default `'cover'` (crop to fill). */
  fit?: 'cover' | 'contain' | 'fill' | 'inside' | 'outside'
  /** Gravity of the `cover` crop or the `contain` placement. Default `'centre'`. */
  position?: Gravity
  /** Resampling kernel for reductions (enlargements use bilinear for `'linear'`, bicubic otherwise, as sharp). Default `'lanczos3'`. */
  kernel?: 'nearest' | 'linear' | 'cubic' | 'mitchell' | 'lanczos2' | 'lanczos3'
  /** Never enlarge: an image smaller than the target keeps its size. Default `false`. */
  withoutEnlargement?: boolean
  /** Canvas colour for `contain`, and what alpha is flattened onto for JPEG output. Default black, opaque. */
  background?: Colour
  /** Output format. Default: the input's (PNG for TIFF/BMP input); for `resizeFile`, the output file's extension. */
  format?: ImageFormat | 'jpg'
  /** Lossy quality, 1–100 (JPEG, lossy WebP, AVIF). Default 80. */
  quality?: number
  jpeg?: {
    /** Progressive scans. Default `false`. */
    progressive?: boolean
    /** Default `'4:2:0'`. */
    chromaSubsampling?: '4:2:0' | '4:4:4'
  }
  png?: {
    /** zlib level, 0 (none, fastest) to 9 (smallest). Default 6. */
    compressionLevel?: number
  }
  webp?: {
    /** Lossless WebP. Default `false`. */
    lossless?: boolean
    /** libwebp's method, 0 (fastest) to 6 (smallest). Default 4. */
    effort?: number
  }
  avif?: {
    /** Encoder effort, 0 (fastest) to 9 (smallest, slowest); sharp's scale. Default 4. */
    effort?: number
  }
  /** Turn the image upright from its EXIF orientation (applied after the resize, on the small image). Default `true`. */
  autoOrient?: boolean
  /** Keep the EXIF block (orientation reset to 1) in JPEG, PNG and WebP output. The ICC profile is applied, never written (output is sRGB). Default `false`. */
  keepMetadata?: boolean
  /** Overlays drawn in order over the resized image. Default none. */
  composite?: CompositeOverlay[]
  /** Refuse inputs with more pixels than this (`ERR_OFFLOAD_IMAGE_TOO_LARGE`), judged from the header; `false` lifts the limit. Default 268402689 (0x3FFF²), as sharp. */
  limitInputPixels?: number | boolean
  /** Keep every frame of an animated GIF or WebP, for GIF or WebP output (other formats get the first frame). Default `false`: the first frame. */
  animated?: boolean
  /** `'none'` gives back what a truncated JPEG holds instead of `ERR_OFFLOAD_IMAGE_CORRUPT`. Default `'warning'`. */
  failOn?: 'none' | 'truncated' | 'error' | 'warning'
  /** Aborting rejects with an AbortError (`ERR_OFFLOAD_ABORTED`, `cause: signal.reason`); the work stops at the next stage. */
  signal?: AbortSignal
  /**
   * The input is raw pixels (8 bits per sample, interleaved, no header) of this geometry, as
   * sharp's `raw` input option; the Buffer must hold exactly `width × height × channels`
   * bytes. The output defaults to raw too; give `format` to encode.
   * @example resize(pixels, { raw: { width: 640, height: 480, channels: 3 }, format: 'png' })
   */
  raw?: { width: number; height: number; channels: 1 | 2 | 3 | 4 }
  /** `resize` resolves with `{ data, info }` instead of the Buffer alone. Default `false`. */
  resolveWithObject?: boolean
}

/** What `resize` produced (with `resolveWithObject`) or `resizeFile` wrote. */
export interface ResizeFileInfo {
  format: ImageFormat
  width: number
  height: number
  /** Channels of the pixels that were encoded (for `'raw'`: bytes per pixel). */
  channels: number
  /** Bytes of the output. */
  size: number
}

/** What `resize` resolves with when `resolveWithObject` is true. */
export interface ResizeResult {
  data: Buffer
  info: ResizeFileInfo
}

/** Header facts, read without decoding pixels. */
export interface ImageMetadata {
  format: 'jpeg' | 'png' | 'webp' | 'gif' | 'tiff' | 'bmp'
  /** As stored, before orientation. */
  width: number
  height: number
  /** EXIF orientation 1–8 (1 when absent). */
  orientation: number
  channels: number
  hasAlpha: boolean
  /** `'srgb'`, `'b-w'`, `'cmyk'`, `'rgb16'` or `'grey16'`. */
  space: string
  /** Whole pixels per inch, when the file says (JFIF, PNG pHYs, or EXIF XResolution). */
  density?: number
  /** Frames (animated GIF/WebP, APNG); 1 otherwise. */
  pages: number
  /** `'uchar'` (8 bits per sample) or `'ushort'` (16). */
  depth: 'uchar' | 'ushort'
  isProgressive: boolean
  hasProfile: boolean
  /** Bytes of the input. */
  size: number
}

/** Image failure codes. A file that cannot be read or written rejects with the error `fs` gives (`ENOENT`, `EACCES`, `EISDIR`, … with `errno`, `syscall`, `path`). */
export type ImageErrorCode =
  | 'ERR_OFFLOAD_IMAGE_CORRUPT'
  | 'ERR_OFFLOAD_IMAGE_UNSUPPORTED'
  | 'ERR_OFFLOAD_IMAGE_TOO_LARGE'
  | 'ERR_OFFLOAD_ABORTED'

/** Resizes an image and resolves with the encoded result. Bad options throw at the call (`ERR_INVALID_ARG_VALUE`). */
export declare function resize(input: ImageInput, options: ResizeOptions & { resolveWithObject: true }): Promise<ResizeResult>
export declare function resize(input: ImageInput, options?: ResizeOptions): Promise<Buffer>
/** Resizes an image into `outputPath` (written to a temporary name, then renamed). */
export declare function resizeFile(input: ImageInput, outputPath: string | URL, options?: ResizeOptions): Promise<ResizeFileInfo>
/** Reads an image's header. */
export declare function metadata(input: ImageInput): Promise<ImageMetadata>
/** Sets the number of image threads (1–1024). */
export declare function setConcurrency(threads: number): void
/** The number of image threads: by default the CPUs this process may use (affinity and cgroup quota). */
export declare function getConcurrency(): number

/** How this build reads (`input`) or writes (`output`) a format, as sharp's `sharp.format` entries. */
export interface FormatDirection {
  /** From or to a file path. */
  readonly file: boolean
  /** From or to a Buffer. */
  readonly buffer: boolean
  /** offload takes and gives no streams: always `false`. */
  readonly stream: false
}
/** One entry of `formats`, shaped as an entry of sharp's `sharp.format`. */
export interface FormatInfo {
  readonly id: 'jpeg' | 'png' | 'webp' | 'gif' | 'avif' | 'tiff' | 'bmp' | 'raw'
  /** `fileSuffix`: the extensions of this format (absent when this build cannot read it, and for raw pixels). */
  readonly input: FormatDirection & { readonly fileSuffix?: readonly string[] }
  /** `alias`: other names `format` takes for it (`'jpg'`). */
  readonly output: FormatDirection & { readonly alias?: readonly string[] }
}
/**
 * What this build reads and writes, per format id, shaped as sharp's `sharp.format`.
 * `formats.avif.input.buffer` is false when offload was built without libdav1d
 * (AVIF input then fails with `ERR_OFFLOAD_IMAGE_UNSUPPORTED`).
 * @example if (!formats.avif.input.buffer) console.warn('no AVIF input: install libdav1d-dev and rebuild offload (npm run build)')
 */
export declare const formats: Readonly<Record<FormatInfo['id'], FormatInfo>>

/**
 * `offload/child_process`: Node's `spawn`, `exec`, `execFile` and `fork`, with
 * Node's signatures, events, properties and errors, launched by offload (no
 * `fork()` of the Node process, so the event loop does not stall at spawn).
 * Code written for `node:child_process` runs by changing only its `require`.
 *
 * Where it differs from `node:child_process`:
 * - Children that are not `detached` are killed (SIGKILL) when this process
 *   dies, even by SIGKILL: offload's `cleanup`. Node leaves them running.
 * - Every launch failure is an `'error'` event. (Node throws synchronously for a
 *   few, such as `EPERM` when switching to `uid`/`gid`.) The error has Node's
 *   fields (`errno`, `code`, `syscall`, `path`, `spawnargs`); its message says
 *   more when the cause is `cwd`, stdio or credentials.
 * - What offload cannot do throws a `TypeError` with
 *   `code: 'ERR_OFFLOAD_UNSUPPORTED_OPTION'` at the call: a `sendHandle` in
 *   `send()`, `'ipc'` anywhere but `stdio[3]`,
 *   and `stdio` entries past index 2 other than `'ignore'`, `null`, `undefined`
 *   or that `'ipc'`.
 * - `'close'` also comes after `subprocess.disconnect()` (Node 20 never emits it
 *   then), and messages that arrived before any `'message'` listener are kept
 *   for the first one even after the channel closed (Node drops them then).
 * - Output pipes are pipes, not socket pairs: a child that writes to an output
 *   you destroyed gets `EPIPE`/`SIGPIPE` (Node's children see `ECONNRESET`).
 * - `send()` always returns `true` once the message is queued: there is no
 *   backlog signal.
 * - `subprocess.channel` has `ref()` and `unref()` only.
 * - `spawn()` returns as soon as the launch is under way; Node's returns after the
 *   child's `exec`, so a process listing taken right after may not show it yet.
 *   `ChildProcess#spawn()` returns `0` (Node returns its launch's errno, and a
 *   failed launch is an `'error'` event in both).
 * - `kill()` on a `ChildProcess` that was never spawned returns `false` (Node's
 *   signals pid 0, its own process group).
 * - `windowsHide` and `windowsVerbatimArguments` are accepted and ignored (they
 *   mean nothing on Linux), and options Node ignores for a function (such as
 *   `encoding` for `spawn`, or `stdio` and `argv0` for `exec`) are ignored too.
 * - The synchronous functions (`spawnSync`, `execSync`, `execFileSync`) are not
 *   provided: they would block the event loop.
 */

/// <reference types="node" />

import { Abortable, EventEmitter } from 'node:events'
import { ObjectEncodingOptions } from 'node:fs'
import { Readable, Stream, Writable } from 'node:stream'
import { URL } from 'node:url'

/** What `send()` accepts: anything `JSON.stringify` can write (`'json'`), or V8 can clone (`'advanced'`). */
export type Serializable = string | object | number | boolean
/** Handles cannot be passed to the child; only `undefined` or `null` is accepted. */
export type SendHandle = undefined | null

export interface MessageOptions {
  keepOpen?: boolean | undefined
}

/**
 * What `ChildProcess#spawn()` takes, as Node's: what `spawn()` has worked out from
 * its arguments.
 */
export interface ChildProcessSpawnOptions {
  /** The program: a path, or a name looked up in the child's `PATH`. */
  file: string
  /** The whole argv, argv[0] first (`[file, ...args]` unless there is an `argv0`). */
  args?: readonly string[] | undefined
  /** The child's whole environment as `KEY=value` strings; without it, the child gets this process's. */
  envPairs?: string[] | undefined
  cwd?: string | undefined
  stdio?: StdioOptions | undefined
  detached?: boolean | undefined
  uid?: number | undefined
  gid?: number | undefined
  serialization?: SerializationType | undefined
}

/** `subprocess.channel` of a child with an IPC channel. */
export interface ChildProcessChannel {
  /** Makes the channel keep this process alive again (the default). */
  ref(): void
  /** Lets this process exit while the channel is open. */
  unref(): void
}

/**
 * A child process, as Node's `ChildProcess`. Create one with {@link spawn},
 * {@link exec}, {@link execFile} or {@link fork}.
 */
export declare class ChildProcess extends EventEmitter {
  /** The child's stdin, when `stdio[0]` is `'pipe'`. */
  stdin: Writable | null
  /** The child's stdout, when `stdio[1]` is `'pipe'`; Buffers unless `setEncoding()`. */
  stdout: Readable | null
  /** The child's stderr, when `stdio[2]` is `'pipe'`; Buffers unless `setEncoding()`. */
  stderr: Readable | null
  /** Set for children with an IPC channel; `null` once it has closed. */
  readonly channel?: ChildProcessChannel | null | undefined
  readonly stdio: [
    Writable | null,
    Readable | null,
    Readable | null,
    Readable | Writable | null | undefined,
    Readable | Writable | null | undefined,
  ]
  /** `true` once `kill()` delivered a signal. */
  readonly killed: boolean
  /** `undefined` if the child could not be started. */
  readonly pid?: number | undefined
  readonly connected: boolean
  readonly exitCode: number | null
  readonly signalCode: NodeJS.Signals | null
  readonly spawnargs: string[]
  readonly spawnfile: string
  /**
   * Starts the child, as Node's does: `spawn()` creates a `ChildProcess` and calls
   * this, so a wrapper of `ChildProcess.prototype.spawn` sees every launch. Returns 0.
   */
  spawn(options: ChildProcessSpawnOptions): number
  /** Sends `signal` (default `'SIGTERM'`); `true` if it was delivered. */
  kill(signal?: NodeJS.Signals | number): boolean
  [Symbol.dispose](): void
  /** Sends a message over the IPC channel (children from `fork()` or `stdio[3] = 'ipc'`). */
  send(message: Serializable, callback?: (error: Error | null) => void): boolean
  send(message: Serializable, sendHandle?: SendHandle, callback?: (error: Error | null) => void): boolean
  send(
    message: Serializable,
    sendHandle?: SendHandle,
    options?: MessageOptions,
    callback?: (error: Error | null) => void,
  ): boolean
  /** Closes the IPC channel; the child gets `'disconnect'`. */
  disconnect(): void
  unref(): void
  ref(): void

  addListener(event: string, listener: (...args: any[]) => void): this
  addListener(event: 'close', listener: (code: number | null, signal: NodeJS.Signals | null) => void): this
  addListener(event: 'disconnect', listener: () => void): this
  addListener(event: 'error', listener: (err: Error) => void): this
  addListener(event: 'exit', listener: (code: number | null, signal: NodeJS.Signals | null) => void): this
  addListener(event: 'message', listener: (message: Serializable, sendHandle: SendHandle) => void): this
  addListener(event: 'spawn', listener: () => void): this
  /** Messages whose `cmd` starts with `'NODE_'` (Node's own), which never reach `'message'`. */
  addListener(event: 'internalMessage', listener: (message: object, sendHandle: undefined) => void): this
  emit(event: string | symbol, ...args: any[]): boolean
  emit(event: 'close', code: number | null, signal: NodeJS.Signals | null): boolean
  emit(event: 'disconnect'): boolean
  emit(event: 'error', err: Error): boolean
  emit(event: 'exit', code: number | null, signal: NodeJS.Signals | null): boolean
  emit(event: 'message', message: Serializable, sendHandle: SendHandle): boolean
  emit(event: 'spawn'): boolean
  on(event: string, listener: (...args: any[]) => void): this
  on(event: 'close', listener: (code: number | null, signal: NodeJS.Signals | null) => void): this
  on(event: 'disconnect', listener: () => void): this
  on(event: 'error', listener: (err: Error) => void): this
  on(event: 'exit', listener: (code: number | null, signal: NodeJS.Signals | null) => void): this
  on(event: 'message', listener: (message: Serializable, sendHandle: SendHandle) => void): this
  on(event: 'spawn', listener: () => void): this
  /** Messages whose `cmd` starts with `'NODE_'` (Node's own), which never reach `'message'`. */
  on(event: 'internalMessage', listener: (message: object, sendHandle: undefined) => void): this
  once(event: string, listener: (...args: any[]) => void): this
  once(event: 'close', listener: (code: number | null, signal: NodeJS.Signals | null) => void): this
  once(event: 'disconnect', listener: () => void): this
  once(event: 'error', listener: (err: Error) => void): this
  once(event: 'exit', listener: (code: number | null, signal: NodeJS.Signals | null) => void): this
  once(event: 'message', listener: (message: Serializable, sendHandle: SendHandle) => void): this
  once(event: 'spawn', listener: () => void): this
  /** Messages whose `cmd` starts with `'NODE_'` (Node's own), which never reach `'message'`. */
  once(event: 'internalMessage', listener: (message: object, sendHandle: undefined) => void): this
  prependListener(event: string, listener: (...args: any[]) => void): this
  prependListener(event: 'close', listener: (code: number | null, signal: NodeJS.Signals | null) => void): this
  prependListener(event: 'disconnect', listener: () => void): this
  prependListener(event: 'error', listener: (err: Error) => void): this
  prependListener(event: 'exit', listener: (code: number | null, signal: NodeJS.Signals | null) => void): this
  prependListener(event: 'message', listener: (message: Serializable, sendHandle: SendHandle) => void): this
  prependListener(event: 'spawn', listener: () => void): this
  prependOnceListener(event: string, listener: (...args: any[]) => void): this
  prependOnceListener(event: 'close', listener: (code: number | null, signal: NodeJS.Signals | null) => void): this
  prependOnceListener(event: 'disconnect', listener: () => void): this
  prependOnceListener(event: 'error', listener: (err: Error) => void): this
  prependOnceListener(event: 'exit', listener: (code: number | null, signal: NodeJS.Signals | null) => void): this
  prependOnceListener(event: 'message', listener: (message: Serializable, sendHandle: SendHandle) => void): this
  prependOnceListener(event: 'spawn', listener: () => void): this
}

/** What `spawn()` returns when no `stdio` is given. */
export interface ChildProcessWithoutNullStreams extends ChildProcess {
  stdin: Writable
  stdout: Readable
  stderr: Readable
  readonly stdio: [Writable, Readable, Readable, Readable | Writable | null | undefined, Readable | Writable | null | undefined]
}

/** What `spawn()` returns for a `stdio` tuple of three. */
export interface ChildProcessByStdio<I extends null | Writable, O extends null | Readable, E extends null | Readable>
  extends ChildProcess {
  stdin: I
  stdout: O
  stderr: E
  readonly stdio: [I, O, E, Readable | Writable | null | undefined, Readable | Writable | null | undefined]
}

export type IOType = 'overlapped' | 'pipe' | 'ignore' | 'inherit'
/** Entries past index 2 may only be `'ignore'`, `null`, `undefined`, or `'ipc'` at index 3. */
export type StdioOptions = IOType | Array<IOType | 'ipc' | Stream | number | null | undefined>
/** Node's IPC serialization: JSON lines, or V8's structured clone (`'advanced'`). */
export type SerializationType = 'json' | 'advanced'

export interface MessagingOptions extends Abortable {
  serialization?: SerializationType | undefined
  killSignal?: NodeJS.Signals | number | undefined
  timeout?: number | undefined
}

export interface ProcessEnvOptions {
  uid?: number | undefined
  gid?: number | undefined
  cwd?: string | URL | undefined
  /** Replaces this process's environment, as in Node. */
  env?: NodeJS.ProcessEnv | undefined
}

export interface CommonOptions extends ProcessEnvOptions {
  /** Accepted and ignored: Windows only. */
  windowsHide?: boolean | undefined
  timeout?: number | undefined
}

export interface CommonSpawnOptions extends CommonOptions, MessagingOptions, Abortable {
  argv0?: string | undefined
  stdio?: StdioOptions | undefined
  shell?: boolean | string | undefined
  /** Accepted and ignored: Windows only. */
  windowsVerbatimArguments?: boolean | undefined
}

export interface SpawnOptions extends CommonSpawnOptions {
  detached?: boolean | undefined
}

export interface SpawnOptionsWithoutStdio extends SpawnOptions {
  stdio?: StdioPipeNamed | StdioPipe[] | undefined
}

export type StdioNull = 'inherit' | 'ignore' | Stream
export type StdioPipeNamed = 'pipe' | 'overlapped'
export type StdioPipe = undefined | null | StdioPipeNamed

export interface SpawnOptionsWithStdioTuple<
  Stdin extends StdioNull | StdioPipe,
  Stdout extends StdioNull | StdioPipe,
  Stderr extends StdioNull | StdioPipe,
> extends SpawnOptions {
  stdio: [Stdin, Stdout, Stderr]
}

/** Starts `command` with `args`; the returned child emits `'spawn'`, `'exit'`, `'close'`, `'error'`. */
export function spawn(command: string, options?: SpawnOptionsWithoutStdio): ChildProcessWithoutNullStreams
export function spawn(
  command: string,
  options: SpawnOptionsWithStdioTuple<StdioPipe, StdioPipe, StdioPipe>,
): ChildProcessByStdio<Writable, Readable, Readable>
export function spawn(
  command: string,
  options: SpawnOptionsWithStdioTuple<StdioPipe, StdioPipe, StdioNull>,
): ChildProcessByStdio<Writable, Readable, null>
export function spawn(
  command: string,
  options: SpawnOptionsWithStdioTuple<StdioPipe, StdioNull, StdioPipe>,
): ChildProcessByStdio<Writable, null, Readable>
export function spawn(
  command: string,
  options: SpawnOptionsWithStdioTuple<StdioNull, StdioPipe, StdioPipe>,
): ChildProcessByStdio<null, Readable, Readable>
export function spawn(
  command: string,
  options: SpawnOptionsWithStdioTuple<StdioPipe, StdioNull, StdioNull>,
): ChildProcessByStdio<Writable, null, null>
export function spawn(
  command: string,
  options: SpawnOptionsWithStdioTuple<StdioNull, StdioPipe, StdioNull>,
): ChildProcessByStdio<null, Readable, null>
export function spawn(
  command: string,
  options: SpawnOptionsWithStdioTuple<StdioNull, StdioNull, StdioPipe>,
): ChildProcessByStdio<null, null, Readable>
export function spawn(
  command: string,
  options: SpawnOptionsWithStdioTuple<StdioNull, StdioNull, StdioNull>,
): ChildProcessByStdio<null, null, null>
export function spawn(command: string, options: SpawnOptions): ChildProcess
export function spawn(
  command: string,
  args?: readonly string[],
  options?: SpawnOptionsWithoutStdio,
): ChildProcessWithoutNullStreams
export function spawn(
  command: string,
  args: readonly string[],
  options: SpawnOptionsWithStdioTuple<StdioPipe, StdioPipe, StdioPipe>,
): ChildProcessByStdio<Writable, Readable, Readable>
export function spawn(
  command: string,
  args: readonly string[],
  options: SpawnOptionsWithStdioTuple<StdioPipe, StdioPipe, StdioNull>,
): ChildProcessByStdio<Writable, Readable, null>
export function spawn(
  command: string,
  args: readonly string[],
  options: SpawnOptionsWithStdioTuple<StdioPipe, StdioNull, StdioPipe>,
): ChildProcessByStdio<Writable, null, Readable>
export function spawn(
  command: string,
  args: readonly string[],
  options: SpawnOptionsWithStdioTuple<StdioNull, StdioPipe, StdioPipe>,
): ChildProcessByStdio<null, Readable, Readable>
export function spawn(
  command: string,
  args: readonly string[],
  options: SpawnOptionsWithStdioTuple<StdioPipe, StdioNull, StdioNull>,
): ChildProcessByStdio<Writable, null, null>
export function spawn(
  command: string,
  args: readonly string[],
  options: SpawnOptionsWithStdioTuple<StdioNull, StdioPipe, StdioNull>,
): ChildProcessByStdio<null, Readable, null>
export function spawn(
  command: string,
  args: readonly string[],
  options: SpawnOptionsWithStdioTuple<StdioNull, StdioNull, StdioPipe>,
): ChildProcessByStdio<null, null, Readable>
export function spawn(
  command: string,
  args: readonly string[],
  options: SpawnOptionsWithStdioTuple<StdioNull, StdioNull, StdioNull>,
): ChildProcessByStdio<null, null, null>
export function spawn(command: string, args: readonly string[], options: SpawnOptions): ChildProcess

export interface ExecOptions extends CommonOptions {
  shell?: string | undefined
  signal?: AbortSignal | undefined
  /** Bytes (or characters, with an encoding) per stream; default 1024 * 1024. */
  maxBuffer?: number | undefined
  killSignal?: NodeJS.Signals | number | undefined
}

export interface ExecOptionsWithStringEncoding extends ExecOptions {
  encoding: BufferEncoding
}

export interface ExecOptionsWithBufferEncoding extends ExecOptions {
  encoding: BufferEncoding | null
}

/**
 * The error passed to exec/execFile callbacks: `code` is the exit code, or the
 * errno string (`'ENOENT'`) when the command could not start.
 */
export interface ExecException extends Error {
  cmd?: string | undefined
  killed?: boolean | undefined
  code?: number | undefined
  signal?: NodeJS.Signals | undefined
  stdout?: string
  stderr?: string
}

/** Runs `command` in `/bin/sh` (or `options.shell`) and buffers its output. */
export function exec(
  command: string,
  callback?: (error: ExecException | null, stdout: string, stderr: string) => void,
): ChildProcess
export function exec(
  command: string,
  options: { encoding: 'buffer' | null } & ExecOptions,
  callback?: (error: ExecException | null, stdout: Buffer, stderr: Buffer) => void,
): ChildProcess
export function exec(
  command: string,
  options: { encoding: BufferEncoding } & ExecOptions,
  callback?: (error: ExecException | null, stdout: string, stderr: string) => void,
): ChildProcess
export function exec(
  command: string,
  options: { encoding: BufferEncoding } & ExecOptions,
  callback?: (error: ExecException | null, stdout: string | Buffer, stderr: string | Buffer) => void,
): ChildProcess
export function exec(
  command: string,
  options: ExecOptions,
  callback?: (error: ExecException | null, stdout: string, stderr: string) => void,
): ChildProcess
export function exec(
  command: string,
  options: (ObjectEncodingOptions & ExecOptions) | undefined | null,
  callback?: (error: ExecException | null, stdout: string | Buffer, stderr: string | Buffer) => void,
): ChildProcess

/** What `util.promisify(exec)` and `util.promisify(execFile)` return. */
export interface PromiseWithChild<T> extends Promise<T> {
  child: ChildProcess
}

export namespace exec {
  function __promisify__(command: string): PromiseWithChild<{ stdout: string; stderr: string }>
  function __promisify__(
    command: string,
    options: { encoding: 'buffer' | null } & ExecOptions,
  ): PromiseWithChild<{ stdout: Buffer; stderr: Buffer }>
  function __promisify__(
    command: string,
    options: { encoding: BufferEncoding } & ExecOptions,
  ): PromiseWithChild<{ stdout: string; stderr: string }>
  function __promisify__(command: string, options: ExecOptions): PromiseWithChild<{ stdout: string; stderr: string }>
  function __promisify__(
    command: string,
    options?: (ObjectEncodingOptions & ExecOptions) | null,
  ): PromiseWithChild<{ stdout: string | Buffer; stderr: string | Buffer }>
}

export interface ExecFileOptions extends CommonOptions, Abortable {
  maxBuffer?: number | undefined
  killSignal?: NodeJS.Signals | number | undefined
  /** Accepted and ignored: Windows only. */
  windowsVerbatimArguments?: boolean | undefined
  shell?: boolean | string | undefined
  signal?: AbortSignal | undefined
}

export interface ExecFileOptionsWithStringEncoding extends ExecFileOptions {
  encoding: BufferEncoding
}

export interface ExecFileOptionsWithBufferEncoding extends ExecFileOptions {
  encoding: 'buffer' | null
}

export interface ExecFileOptionsWithOtherEncoding extends ExecFileOptions {
  encoding: BufferEncoding
}

export type ExecFileException = Omit<ExecException, 'code'> &
  Omit<NodeJS.ErrnoException, 'code'> & { code?: string | number | undefined | null }

/** Runs `file` with `args` (no shell unless `options.shell`) and buffers its output. */
export function execFile(file: string): ChildProcess
export function execFile(file: string, options: (ObjectEncodingOptions & ExecFileOptions) | undefined | null): ChildProcess
export function execFile(file: string, args?: readonly string[] | null): ChildProcess
export function execFile(
  file: string,
  args: readonly string[] | undefined | null,
  options: (ObjectEncodingOptions & ExecFileOptions) | undefined | null,
): ChildProcess
export function execFile(
  file: string,
  callback: (error: ExecFileException | null, stdout: string, stderr: string) => void,
): ChildProcess
export function execFile(
  file: string,
  args: readonly string[] | undefined | null,
  callback: (error: ExecFileException | null, stdout: string, stderr: string) => void,
): ChildProcess
export function execFile(
  file: string,
  options: ExecFileOptionsWithBufferEncoding,
  callback: (error: ExecFileException | null, stdout: Buffer, stderr: Buffer) => void,
): ChildProcess
export function execFile(
  file: string,
  args: readonly string[] | undefined | null,
  options: ExecFileOptionsWithBufferEncoding,
  callback: (error: ExecFileException | null, stdout: Buffer, stderr: Buffer) => void,
): ChildProcess
export function execFile(
  file: string,
  options: ExecFileOptionsWithStringEncoding,
  callback: (error: ExecFileException | null, stdout: string, stderr: string) => void,
): ChildProcess
export function execFile(
  file: string,
  args: readonly string[] | undefined | null,
  options: ExecFileOptionsWithStringEncoding,
  callback: (error: ExecFileException | null, stdout: string, stderr: string) => void,
): ChildProcess
export function execFile(
  file: string,
  options: ExecFileOptionsWithOtherEncoding,
  callback: (error: ExecFileException | null, stdout: string | Buffer, stderr: string | Buffer) => void,
): ChildProcess
export function execFile(
  file: string,
  args: readonly string[] | undefined | null,
  options: ExecFileOptionsWithOtherEncoding,
  callback: (error: ExecFileException | null, stdout: string | Buffer, stderr: string | Buffer) => void,
): ChildProcess
export function execFile(
  file: string,
  options: ExecFileOptions,
  callback: (error: ExecFileException | null, stdout: string, stderr: string) => void,
): ChildProcess
export function execFile(
  file: string,
  args: readonly string[] | undefined | null,
  options: ExecFileOptions,
  callback: (error: ExecFileException | null, stdout: string, stderr: string) => void,
): ChildProcess
export function execFile(
  file: string,
  options: (ObjectEncodingOptions & ExecFileOptions) | undefined | null,
  callback: ((error: ExecFileException | null, stdout: string | Buffer, stderr: string | Buffer) => void) | undefined | null,
): ChildProcess
export function execFile(
  file: string,
  args: readonly string[] | undefined | null,
  options: (ObjectEncodingOptions & ExecFileOptions) | undefined | null,
  callback: ((error: ExecFileException | null, stdout: string | Buffer, stderr: string | Buffer) => void) | undefined | null,
): ChildProcess

export namespace execFile {
  function __promisify__(file: string): PromiseWithChild<{ stdout: string; stderr: string }>
  function __promisify__(
    file: string,
    args: readonly string[] | undefined | null,
  ): PromiseWithChild<{ stdout: string; stderr: string }>
  function __promisify__(
    file: string,
    options: ExecFileOptionsWithBufferEncoding,
  ): PromiseWithChild<{ stdout: Buffer; stderr: Buffer }>
  function __promisify__(
    file: string,
    args: readonly string[] | undefined | null,
    options: ExecFileOptionsWithBufferEncoding,
  ): PromiseWithChild<{ stdout: Buffer; stderr: Buffer }>
  function __promisify__(
    file: string,
    options: ExecFileOptionsWithStringEncoding,
  ): PromiseWithChild<{ stdout: string; stderr: string }>
  function __promisify__(
    file: string,
    args: readonly string[] | undefined | null,
    options: ExecFileOptionsWithStringEncoding,
  ): PromiseWithChild<{ stdout: string; stderr: string }>
  function __promisify__(
    file: string,
    options: ExecFileOptionsWithOtherEncoding,
  ): PromiseWithChild<{ stdout: string | Buffer; stderr: string | Buffer }>
  function __promisify__(
    file: string,
    args: readonly string[] | undefined | null,
    options: ExecFileOptionsWithOtherEncoding,
  ): PromiseWithChild<{ stdout: string | Buffer; stderr: string | Buffer }>
  function __promisify__(file: string, options: ExecFileOptions): PromiseWithChild<{ stdout: string; stderr: string }>
  function __promisify__(
    file: string,
    args: readonly string[] | undefined | null,
    options: ExecFileOptions,
  ): PromiseWithChild<{ stdout: string; stderr: string }>
  function __promisify__(
    file: string,
    options: (ObjectEncodingOptions & ExecFileOptions) | undefined | null,
  ): PromiseWithChild<{ stdout: string | Buffer; stderr: string | Buffer }>
  function __promisify__(
    file: string,
    args: readonly string[] | undefined | null,
    options: (ObjectEncodingOptions & ExecFileOptions) | undefined | null,
  ): PromiseWithChild<{ stdout: string | Buffer; stderr: string | Buffer }>
}

export interface ForkOptions extends ProcessEnvOptions, MessagingOptions, Abortable {
  execPath?: string | undefined
  execArgv?: string[] | undefined
  /** Pipe the child's stdin, stdout and stderr instead of inheriting them. */
  silent?: boolean | undefined
  /** Must include `'ipc'`, at index 3. */
  stdio?: StdioOptions | undefined
  detached?: boolean | undefined
  /** Accepted and ignored: Windows only. */
  windowsVerbatimArguments?: boolean | undefined
}

/** Starts a Node.js module with an IPC channel: `process.send()` / `process.on('message')` in the child. */
export function fork(modulePath: string | URL, options?: ForkOptions): ChildProcess
export function fork(modulePath: string | URL, args?: readonly string[], options?: ForkOptions): ChildProcess

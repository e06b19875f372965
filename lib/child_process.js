'use strict'
// `require('offload/child_process')`: Node's spawn, exec, execFile and fork on
// top of Subprocess, so code written for node:child_process runs unchanged. It
// checks options in Node 20's order and gives Node's events and error shapes
// (the tests compare both modules on the same scenarios); where offload cannot
// do what Node does, the call throws ERR_OFFLOAD_UNSUPPORTED_OPTION instead of
// ignoring it.
// The deliberate differences are listed in child_process.d.ts.

const { EventEmitter } = require('node:events')
const { Buffer } = require('node:buffer')
const { constants } = require('node:os')
const { fileURLToPath } = require('node:url')
const { inspect, promisify, getSystemErrorName } = require('node:util')
const { Subprocess } = require('./subprocess')
const { normalize, inheritedExecArgv } = require('./options')
const { invalidArgType, invalidArgValue, codedError, outOfRange, unsupportedOption, NodeAbortError, nativeCallError } = require('./errors')

const MAX_BUFFER = 1024 * 1024
/** The child's descriptor for the IPC channel: the native launcher always uses 3. */
const IPC_FD = 3

// Validators, worded and ordered like Node's internal/validators.

function validateString(value, name) {
  if (typeof value !== 'string') throw invalidArgType(name, 'of type string', value)
}

function validateNoNull(value, name) {
  if (typeof value === 'string' && value.includes('\u0000')) {
    throw invalidArgValue(name, value, 'must be a string without null bytes')
  }
}

function validateObject(value, name) {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw invalidArgType(name, 'of type object', value)
}

function validateArray(value, name) {
  if (!Array.isArray(value)) throw invalidArgType(name, 'an instance of Array', value)
}

function validateBoolean(value, name) {
  if (typeof value !== 'boolean') throw invalidArgType(name, 'of type boolean', value)
}

function validateFunction(value, name) {
  if (typeof value !== 'function') throw invalidArgType(name, 'of type function', value)
}

function validateAbortSignal(signal, name) {
  if (signal !== undefined && (signal === null || typeof signal !== 'object' || !('aborted' in signal))) {
    throw invalidArgType(name, 'an instance of AbortSignal', signal)
  }
}

function validateTimeout(timeout) {
  if (timeout != null && !(Number.isInteger(timeout) && timeout >= 0)) throw outOfRange('timeout', 'an unsigned integer', timeout)
}

function validateMaxBuffer(maxBuffer) {
  if (maxBuffer != null && !(typeof maxBuffer === 'number' && maxBuffer >= 0)) {
    throw outOfRange('options.maxBuffer', 'a positive number', maxBuffer)
  }
}

function validatedPath(value, name) {
  if (value instanceof URL) value = fileURLToPath(value)
  else if (Buffer.isBuffer(value)) value = value.toString()
  else if (typeof value !== 'string') throw invalidArgType(name, 'of type string or an instance of Buffer or URL', value)
  validateNoNull(value, name)
  return value
}

/** Like Node's convertToValidSignal: a known number, or a name in any case. */
function convertToValidSignal(signal) {
  if (typeof signal === 'number' && Object.values(constants.signals).includes(signal)) return signal
  if (typeof signal === 'string') {
    const number = constants.signals[signal.toUpperCase()]
    if (number !== undefined) return number
  }
  throw codedError(TypeError, 'ERR_UNKNOWN_SIGNAL', `Unknown signal: ${signal}`)
}

function sanitizeKillSignal(killSignal) {
  if (typeof killSignal === 'string' || typeof killSignal === 'number') return convertToValidSignal(killSignal)
  if (killSignal != null) throw invalidArgType('options.killSignal', 'of type string or number', killSignal)
  return undefined
}

function stdioStringToArray(stdio, channel) {
  const options = []
  switch (stdio) {
    case 'ignore':
    case 'overlapped':
    case 'pipe':
      options.push(stdio, stdio, stdio)
      break
    case 'inherit':
      options.push(0, 1, 2)
      break
    default:
      throw invalidArgValue('stdio', stdio, 'is invalid')
  }
  if (channel) options.push(channel)
  return options
}

/** The descriptor behind a net.Socket or similar handle-backed stream, as Node's 'wrap' stdio. */
function handleFd(value) {
  const handle = value?._handle ?? value?.handle
  return handle && Number.isInteger(handle.fd) && handle.fd >= 0 ? handle : null
}

/**
 * Node's getValidStdio, then what offload can do with it: each entry becomes
 * `{ type: 'pipe' | 'ignore' | 'inherit' | 'fd' | 'ipc', fd }`.
 */
function validStdio(stdio) {
  if (typeof stdio === 'string') stdio = stdioStringToArray(stdio)
  else if (!Array.isArray(stdio)) throw invalidArgValue('stdio', stdio, 'is invalid')
  stdio = [...stdio]
  while (stdio.length < 3) stdio.push(undefined)
  let ipcIndex = -1
  const entries = stdio.map((value, i) => {
    if (value == null) value = i < 3 ? 'pipe' : 'ignore'
    if (value === 'ignore') return { type: 'ignore' }
    if (value === 'pipe' || value === 'overlapped' || (typeof value === 'number' && value < 0)) return { type: 'pipe' }
    if (value === 'ipc') {
      if (ipcIndex !== -1) throw codedError(Error, 'ERR_IPC_ONE_PIPE', 'Child process can have only one IPC pipe')
      ipcIndex = i
      return { type: 'ipc' }
    }
    if (value === 'inherit') return { type: 'inherit', fd: i }
    if (typeof value === 'number' || typeof value.fd === 'number') return { type: 'fd', fd: typeof value === 'number' ? value : value.fd }
    const handle = handleFd(value)
    if (handle !== null) {
      // As Node does: the child reads this stream now, so the parent must stop.
      if (typeof handle.readStop === 'function') {
        handle.reading = false
        handle.readStop()
      }
      if (typeof value.pause === 'function') value.pause()
      return { type: 'fd', fd: handle.fd }
    }
    if (ArrayBuffer.isView(value) || typeof value === 'string') {
      throw codedError(
        TypeError,
        'ERR_INVALID_SYNC_FORK_INPUT',
        `Asynchronous forks do not support Buffer, TypedArray, DataView or string input: ${inspect(value)}`,
      )
    }
    throw invalidArgValue('stdio', value, 'is invalid')
  })
  entries.forEach((entry, i) => {
    if (entry.type === 'ipc' && i !== IPC_FD) {
      throw unsupportedOption(`options.stdio[${i}] = 'ipc'`, `the IPC channel can only be the child's fd ${IPC_FD} (as fork() puts it)`)
    }
    if (i >= 3 && entry.type !== 'ignore' && entry.type !== 'ipc') {
      throw unsupportedOption(`options.stdio[${i}]`, "descriptors beyond stdin, stdout and stderr can only be 'ignore', null, undefined, or 'ipc' at index 3")
    }
  })
  return { entries, ipcIndex }
}

function offloadStdio(entry) {
  if (entry.type === 'fd') return entry.fd
  return entry.type
}

/** Node's normalizeSpawnArguments: validation, `shell`, `env`, in Node's order. */
function normalizeSpawnArguments(file, args, options) {
  validateString(file, 'file')
  validateNoNull(file, 'file')
  if (file.length === 0) throw invalidArgValue('file', file, 'cannot be empty')
  if (Array.isArray(args)) {
    args = [...args]
  } else if (args == null) {
    args = []
  } else if (typeof args !== 'object') {
    throw invalidArgType('args', 'of type object', args)
  } else {
    options = args
    args = []
  }
  args.forEach((arg, i) => validateNoNull(arg, `args[${i}]`))
  if (options === undefined) options = {}
  else validateObject(options, 'options')
  options = { ...options }

  const cwd = options.cwd != null ? validatedPath(options.cwd, 'options.cwd') : undefined
  if (options.detached != null) validateBoolean(options.detached, 'options.detached')
  if (options.uid != null && !isInt32(options.uid)) throw invalidArgType('options.uid', 'int32', options.uid)
  if (options.gid != null && !isInt32(options.gid)) throw invalidArgType('options.gid', 'int32', options.gid)
  if (options.shell != null && typeof options.shell !== 'boolean' && typeof options.shell !== 'string') {
    throw invalidArgType('options.shell', 'of type boolean or string', options.shell)
  }
  if (options.argv0 != null) {
    validateString(options.argv0, 'options.argv0')
    validateNoNull(options.argv0, 'options.argv0')
  }
  // Accepted for portability; they mean nothing on Linux.
  if (options.windowsHide != null) validateBoolean(options.windowsHide, 'options.windowsHide')
  if (options.windowsVerbatimArguments != null) validateBoolean(options.windowsVerbatimArguments, 'options.windowsVerbatimArguments')

  if (options.shell) {
    validateNoNull(options.shell, 'options.shell')
    const command = [file, ...args].join(' ')
    file = typeof options.shell === 'string' ? options.shell : '/bin/sh'
    args = ['-c', command]
  }
  // Node converts each argument with ToString.
  args = args.map((arg) => `${arg}`)
  return { file, args, cwd, options }
}

function isInt32(value) {
  return value === (value | 0)
}

/** The environment Node would give: `options.env` replaces ours, inherited keys included. */
function childEnv(optionsEnv, ipc) {
  if (optionsEnv == null && !ipc) return undefined
  const source = optionsEnv || process.env
  const env = {}
  for (const key in source) {
    if (source[key] !== undefined) env[key] = source[key]
  }
  // Node always passes this on, so coverage tools see their children.
  if (process.env.NODE_V8_COVERAGE && optionsEnv && !Object.hasOwn(optionsEnv, 'NODE_V8_COVERAGE')) {
    env.NODE_V8_COVERAGE = process.env.NODE_V8_COVERAGE
  }
  if (ipc) {
    env.NODE_CHANNEL_FD = String(IPC_FD)
    env.NODE_CHANNEL_SERIALIZATION_MODE = 'json'
  }
  return env
}

/** As Node: after 'exit', output nobody reads is let through so 'close' can come. */
function flushStdio(child) {
  for (const stream of child.stdio ?? []) {
    if (stream && stream.readable) stream.resume()
  }
}

const kSpawn = Symbol('offload.spawn')

/**
 * A child process, with the properties, methods and events of Node's
 * ChildProcess. Create it with spawn(), exec(), execFile() or fork().
 */
class ChildProcess extends EventEmitter {
  #sub = null
  #closesNeeded = 1
  #closesGot = 0
  #closed = false
  #exited = false
  #processRef = true
  #channelRef = true
  #ipcOpen = false
  #openPipes = 0
  #pendingMessages = []

  constructor() {
    super()
    this.connected = false
    this.signalCode = null
    this.exitCode = null
    this.killed = false
    this.spawnfile = null
    this.spawnargs = []
  }

  /** The child's pid; `undefined` if it could not be started. */
  get pid() {
    return this.#sub?.pid
  }

  /** @internal */
  [kSpawn]({ file, args, cwd, options }) {
    const { entries, ipcIndex } = validStdio(options.stdio || 'pipe')
    const serialization = options.serialization
    if (serialization !== undefined && serialization !== 'json' && serialization !== 'advanced') {
      throw invalidArgValue('options.serialization', serialization, "must be one of: undefined, 'json', 'advanced'")
    }
    if (serialization === 'advanced') {
      throw unsupportedOption("options.serialization = 'advanced'", "only Node's 'json' IPC serialization is implemented")
    }
    const ipc = ipcIndex !== -1
    const env = childEnv(options.env, ipc)
    const normalized = normalize({
      cwd,
      env,
      extendEnv: env === undefined,
      argv0: options.argv0 ?? undefined,
      stdin: offloadStdio(entries[0]),
      stdout: offloadStdio(entries[1]),
      stderr: offloadStdio(entries[2]),
      detached: Boolean(options.detached),
      uid: options.uid ?? undefined,
      gid: options.gid ?? undefined,
      forceKillAfter: false,
      stripFinalNewline: false,
      maxBuffer: Infinity,
      reject: false,
    })
    this.spawnfile = file
    this.spawnargs = [options.argv0 ?? file, ...args]
    const sub = new Subprocess(file, args, normalized, { ipc, nodeCompat: true })
    this.#sub = sub

    const streams = entries.map((entry, i) => {
      if (entry.type !== 'pipe') return null
      if (i === 0) return sub.stdin
      const stream = i === 1 ? sub.stdout : sub.stderr
      this.#closesNeeded++
      this.#openPipes++
      stream.once('close', () => {
        this.#openPipes--
        this.#updateRef()
        this.#maybeClose()
      })
      return stream
    })
    this.stdin = streams[0]
    this.stdout = streams[1]
    this.stderr = streams[2]
    this.stdio = streams

    if (ipc) {
      this.#closesNeeded++
      this.#ipcOpen = true
      this.connected = true
      this.channel = {
        ref: () => {
          this.#channelRef = true
          this.#updateRef()
        },
        unref: () => {
          this.#channelRef = false
          this.#updateRef()
        },
      }
      // Like Node, only children with a channel have these.
      this.send = (message, sendHandle, options, callback) => this.#send(message, sendHandle, options, callback)
      this.disconnect = () => this.#disconnect()
      this.on('newListener', (event) => {
        if (event === 'message') process.nextTick(() => this.#flushMessages())
      })
      sub.on('message', (message) => this.#onMessage(message))
      sub.on('disconnect', () => this.#onDisconnect())
    }
    sub.on('spawn', () => this.emit('spawn'))
    sub.on('exit', (code, signal) => this.#onExit(code, signal))
    // A later tick, as in Node, and outside the Subprocess's own bookkeeping.
    sub.on('error', (err) => process.nextTick(() => this.#onSpawnError(err)))
  }

  /** Sends a signal (default `'SIGTERM'`); `true` if it was delivered. */
  kill(sig) {
    const signal = sig === 0 ? 0 : convertToValidSignal(sig === undefined ? 'SIGTERM' : sig)
    if (this.#sub === null || this.#exited) return false
    let sent
    try {
      sent = this.#sub.kill(signal)
    } catch (err) {
      this.emit('error', nativeCallError(err, 'kill'))
      return false
    }
    if (sent) this.killed = true
    return sent
  }

  [Symbol.dispose]() {
    if (!this.killed) this.kill()
  }

  /** Lets Node exit while this child runs (its pipes and IPC channel still hold it, as in Node). */
  unref() {
    this.#processRef = false
    this.#updateRef()
  }

  ref() {
    this.#processRef = true
    this.#updateRef()
  }

  #updateRef() {
    if (this.#sub === null) return
    const held = (this.#processRef && !this.#exited) || this.#openPipes > 0 || (this.#ipcOpen && this.#channelRef)
    if (held) this.#sub.ref()
    else this.#sub.unref()
  }

  #maybeClose() {
    if (this.#closed || ++this.#closesGot < this.#closesNeeded) return
    this.#closed = true
    this.emit('close', this.exitCode, this.signalCode)
  }

  #onExit(code, signal) {
    this.#exited = true
    if (signal) this.signalCode = signal
    else this.exitCode = code
    if (this.stdin) this.stdin.destroy()
    this.#updateRef()
    this.emit('exit', this.exitCode, this.signalCode)
    process.nextTick(flushStdio, this)
    this.#maybeClose()
  }

  #onSpawnError(failure) {
    // Node's shape only; the Subprocess adds offload's result fields to its own.
    const err = new Error(failure.message)
    err.errno = failure.errno
    err.code = failure.code
    err.syscall = failure.syscall
    err.path = this.spawnfile
    err.spawnargs = this.spawnargs.slice(1)
    if (failure.cwd !== undefined) err.cwd = failure.cwd
    this.#exited = true
    this.exitCode = failure.errno
    this.connected = false
    this.#ipcOpen = false
    if (this.stdin) this.stdin.destroy()
    this.#updateRef()
    this.emit('error', err)
    process.nextTick(flushStdio, this)
    // Node counts no stdio of a child that never started.
    this.#closesGot = this.#closesNeeded - 1
    this.#maybeClose()
  }

  #onMessage(message) {
    // Messages that arrive before anyone listens wait for the first listener, in order.
    this.#pendingMessages.push(message)
    this.#flushMessages()
  }

  #flushMessages() {
    while (this.#pendingMessages.length > 0 && this.listenerCount('message') > 0) {
      this.emit('message', this.#pendingMessages.shift(), undefined)
    }
  }

  #onDisconnect() {
    this.connected = false
    this.#ipcOpen = false
    this.channel = null
    this.#updateRef()
    this.emit('disconnect')
    this.#maybeClose()
  }

  #send(message, sendHandle, options, callback) {
    if (typeof sendHandle === 'function') {
      callback = sendHandle
      sendHandle = undefined
      options = undefined
    } else if (typeof options === 'function') {
      callback = options
      options = undefined
    } else if (options !== undefined) {
      validateObject(options, 'options')
    }
    if (sendHandle != null) {
      throw unsupportedOption('send() with a sendHandle', 'sockets and servers cannot be passed to the child; send plain messages')
    }
    if (!this.connected) {
      const err = codedError(Error, 'ERR_IPC_CHANNEL_CLOSED', 'Channel closed')
      if (typeof callback === 'function') process.nextTick(callback, err)
      else process.nextTick(() => this.emit('error', err))
      return false
    }
    if (message === undefined) throw codedError(TypeError, 'ERR_MISSING_ARGS', 'The "message" argument must be specified')
    if (!['string', 'object', 'number', 'boolean'].includes(typeof message)) {
      throw invalidArgType('message', 'of type string, object, number, or boolean', message)
    }
    this.#sub._sendRaw(message, (err) => {
      if (typeof callback === 'function') callback(err ?? null)
      else if (err) this.emit('error', err)
    })
    return true
  }

  #disconnect() {
    if (!this.connected) {
      this.emit('error', codedError(Error, 'ERR_IPC_DISCONNECTED', 'IPC channel is already disconnected'))
      return
    }
    this.connected = false
    if (this.#sub.connected) this.#sub.disconnect()
  }
}

function abortChildProcess(child, killSignal, reason) {
  try {
    if (child.kill(killSignal)) child.emit('error', new NodeAbortError(undefined, { cause: reason }))
  } catch (err) {
    child.emit('error', err)
  }
}

/** Starts `file` with `args`, like Node's child_process.spawn. */
function spawn(file, args, options) {
  const spec = normalizeSpawnArguments(file, args, options)
  const { timeout, signal } = spec.options
  validateTimeout(timeout)
  validateAbortSignal(signal, 'options.signal')
  const killSignal = sanitizeKillSignal(spec.options.killSignal)
  const child = new ChildProcess()
  child[kSpawn](spec)

  if (timeout > 0) {
    let timer = setTimeout(() => {
      timer = null
      try {
        child.kill(killSignal)
      } catch (err) {
        child.emit('error', err)
      }
    }, timeout)
    const clear = () => {
      if (timer !== null) clearTimeout(timer)
      timer = null
    }
    // 'close' too: Node's timer outlives a child that never started.
    child.once('exit', clear)
    child.once('close', clear)
  }
  if (signal) {
    const onAbort = () => abortChildProcess(child, killSignal, signal.reason)
    if (signal.aborted) {
      process.nextTick(onAbort)
    } else {
      signal.addEventListener('abort', onAbort, { once: true })
      const remove = () => signal.removeEventListener('abort', onAbort)
      child.once('exit', remove)
      child.once('close', remove)
    }
  }
  return child
}

function normalizeExecFileArgs(file, args, options, callback) {
  if (Array.isArray(args)) {
    args = [...args]
  } else if (args != null && typeof args === 'object') {
    callback = options
    options = args
    args = null
  } else if (typeof args === 'function') {
    callback = args
    options = null
    args = null
  }
  if (args == null) args = []
  if (typeof options === 'function') callback = options
  else if (options != null) validateObject(options, 'options')
  if (options == null) options = {}
  if (callback != null) validateFunction(callback, 'callback')
  if (options.argv0 != null) {
    validateString(options.argv0, 'options.argv0')
    validateNoNull(options.argv0, 'options.argv0')
  }
  return { file, args, options, callback }
}

/**
 * Runs `file` with `args`, buffering its output for `callback(error, stdout,
 * stderr)`, like Node's child_process.execFile.
 */
function execFile(file, args, options, callback) {
  ;({ file, args, options, callback } = normalizeExecFileArgs(file, args, options, callback))
  options = {
    encoding: 'utf8',
    timeout: 0,
    maxBuffer: MAX_BUFFER,
    killSignal: 'SIGTERM',
    cwd: null,
    env: null,
    shell: false,
    ...options,
  }
  validateTimeout(options.timeout)
  validateMaxBuffer(options.maxBuffer)
  options.killSignal = sanitizeKillSignal(options.killSignal)

  // Node hands exactly these on to spawn (not argv0, stdio or detached).
  const child = spawn(file, args, {
    cwd: options.cwd,
    env: options.env,
    gid: options.gid,
    shell: options.shell,
    signal: options.signal,
    uid: options.uid,
    windowsHide: !!options.windowsHide,
    windowsVerbatimArguments: !!options.windowsVerbatimArguments,
  })

  const encoding = options.encoding !== 'buffer' && Buffer.isEncoding(options.encoding) ? options.encoding : null
  const stdoutChunks = []
  const stderrChunks = []
  let stdoutLen = 0
  let stderrLen = 0
  let killed = false
  let exited = false
  let timeoutId = null
  let ex = null
  let cmd = file

  function exithandler(code, signal) {
    if (exited) return
    exited = true
    if (timeoutId) {
      clearTimeout(timeoutId)
      timeoutId = null
    }
    if (!callback) return
    const stdout = encoding || child.stdout?.readableEncoding ? stdoutChunks.join('') : Buffer.concat(stdoutChunks)
    const stderr = encoding || child.stderr?.readableEncoding ? stderrChunks.join('') : Buffer.concat(stderrChunks)
    if (!ex && code === 0 && signal === null) {
      callback(null, stdout, stderr)
      return
    }
    if (args?.length) cmd += ` ${args.join(' ')}`
    if (!ex) {
      ex = new Error(`Command failed: ${cmd}\n${stderr}`)
      ex.code = code < 0 ? getSystemErrorName(code) : code
      ex.killed = child.killed || killed
      ex.signal = signal
    }
    ex.cmd = cmd
    callback(ex, stdout, stderr)
  }

  function errorhandler(e) {
    ex = e
    if (child.stdout) child.stdout.destroy()
    if (child.stderr) child.stderr.destroy()
    exithandler()
  }

  function kill() {
    if (child.stdout) child.stdout.destroy()
    if (child.stderr) child.stderr.destroy()
    killed = true
    try {
      child.kill(options.killSignal)
    } catch (e) {
      ex = e
      exithandler()
    }
  }

  if (options.timeout > 0) {
    timeoutId = setTimeout(() => {
      kill()
      timeoutId = null
    }, options.timeout)
  }

  function collect(stream, chunks, name, length) {
    if (encoding) stream.setEncoding(encoding)
    stream.on('data', (chunk) => {
      if (options.maxBuffer === Infinity) {
        chunks.push(chunk)
        return
      }
      const streamEncoding = stream.readableEncoding
      const size = streamEncoding ? Buffer.byteLength(chunk, streamEncoding) : chunk.length
      const total = length(size)
      if (total > options.maxBuffer) {
        // As Node: cut in characters for strings, in bytes for Buffers.
        chunks.push(chunk.slice(0, options.maxBuffer - (total - size)))
        ex = codedError(RangeError, 'ERR_CHILD_PROCESS_STDIO_MAXBUFFER', `${name} maxBuffer length exceeded`)
        kill()
      } else {
        chunks.push(chunk)
      }
    })
  }
  if (child.stdout) collect(child.stdout, stdoutChunks, 'stdout', (n) => (stdoutLen += n))
  if (child.stderr) collect(child.stderr, stderrChunks, 'stderr', (n) => (stderrLen += n))

  child.addListener('close', exithandler)
  child.addListener('error', errorhandler)
  return child
}

/** Runs `command` in a shell, like Node's child_process.exec. */
function exec(command, options, callback) {
  validateString(command, 'command')
  validateNoNull(command, 'command')
  if (typeof options === 'function') {
    callback = options
    options = undefined
  }
  options = { ...options }
  options.shell = typeof options.shell === 'string' ? options.shell : true
  return module.exports.execFile(command, options, callback)
}

/** What util.promisify(exec) and util.promisify(execFile) return, as in Node. */
function customPromiseExecFunction(orig) {
  return (...args) => {
    let resolve
    let reject
    const promise = new Promise((res, rej) => {
      resolve = res
      reject = rej
    })
    promise.child = orig(...args, (err, stdout, stderr) => {
      if (err !== null) {
        err.stdout = stdout
        err.stderr = stderr
        reject(err)
      } else {
        resolve({ stdout, stderr })
      }
    })
    return promise
  }
}

Object.defineProperty(exec, promisify.custom, { enumerable: false, value: customPromiseExecFunction(exec) })
Object.defineProperty(execFile, promisify.custom, { enumerable: false, value: customPromiseExecFunction(execFile) })

/**
 * Starts a Node.js module with an IPC channel, like Node's child_process.fork:
 * the child's process.send() / process.on('message') reach this process.
 */
function fork(modulePath, args = [], options) {
  modulePath = validatedPath(modulePath, 'modulePath')
  if (args == null) {
    args = []
  } else if (typeof args === 'object' && !Array.isArray(args)) {
    options = args
    args = []
  } else {
    validateArray(args, 'args')
  }
  if (options != null) validateObject(options, 'options')
  options = { ...options, shell: false }
  options.execPath = options.execPath || process.execPath
  validateNoNull(options.execPath, 'options.execPath')
  const execArgv = options.execArgv || inheritedExecArgv()
  execArgv.forEach((arg, i) => validateNoNull(arg, `options.execArgv[${i}]`))
  args = [...execArgv, modulePath, ...args]
  if (typeof options.stdio === 'string') {
    options.stdio = stdioStringToArray(options.stdio, 'ipc')
  } else if (!Array.isArray(options.stdio)) {
    options.stdio = stdioStringToArray(options.silent ? 'pipe' : 'inherit', 'ipc')
  } else if (!options.stdio.includes('ipc')) {
    throw codedError(Error, 'ERR_CHILD_PROCESS_IPC_REQUIRED', "Forked processes must have an IPC channel, missing value 'ipc' in options.stdio")
  }
  return spawn(options.execPath, args, options)
}

module.exports = { ChildProcess, spawn, exec, execFile, fork }

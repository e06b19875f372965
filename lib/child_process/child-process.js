'use strict'
// Node's ChildProcess on top of offload's Subprocess: the same properties, methods and events,
// in Node's order ('spawn', 'exit', then 'close' once every stdio stream and the IPC channel
// have closed), with Node's error shapes.

const dgram = require('node:dgram')
const { EventEmitter } = require('node:events')
const net = require('node:net')
const { Subprocess } = require('../subprocess')
const { normalize } = require('../options')
const { invalidArgType, codedError, missingArgs, unsupportedOption } = require('../errors')
const { validateObject, validateString, validateNoNull, validateArray, checkSerialization } = require('../validate')
const { kChildStream, validStdio, offloadStdio, extraDescriptors } = require('./stdio')
const { convertToValidSignal, envFromPairs, isInt32 } = require('./arguments')

/** As Node: after 'exit', output nobody reads is let through so 'close' can come. */
function flushStdio(child) {
  for (const stream of child.stdio ?? []) {
    if (stream && stream.readable && !stream[kUsedAsStdio]) stream.resume()
  }
}

/** What Node's send() can pass to a child: sockets and servers (net, dgram); anything else is its ERR_INVALID_HANDLE_TYPE. */
function isSendableHandle(handle) {
  return handle instanceof net.Socket || handle instanceof net.Server || handle instanceof dgram.Socket
}

/**
 * As Node does with a stream given as another child's stdio: this process stops reading it,
 * and never resumes it (its 'close' then never comes, as in Node). A Node child's own stream
 * is also marked not readable: Node's flushStdio would otherwise resume it when that child
 * exits and take the bytes meant for ours (the mark Node itself uses there is private).
 */
function stopReading(stream, ownedByNode) {
  const handle = [stream._handle, stream.handle].find((h) => h && typeof h.readStop === 'function')
  if (handle) {
    handle.reading = false
    handle.readStop()
  }
  if (typeof stream.pause === 'function') stream.pause()
  if (stream._readableState) {
    stream._readableState.flowing = false
    stream._readableState.reading = false
  }
  stream[kUsedAsStdio] = true
  if (ownedByNode && stream._readableState) stream.readable = false
}

/**
 * The kernel pipe of an offload child's stdout for the next child (`null`), or a promise of
 * the bytes it left when it finished first. Once this process has read from it, the engine
 * reads that pipe itself and cannot give it away (Node would pass the rest on).
 */
function handOverStdout(sub) {
  try {
    return sub._handOverStdout()
  } catch (err) {
    if (err.code !== 'ERR_OFFLOAD_STDOUT_UNAVAILABLE') throw err
    throw unsupportedOption(
      "options.stdio[0] = another child's stdout that this process has already read from",
      'its pipe can go to the next child only before anything reads it; pass it at once, or pipe the data with stdout.pipe(child.stdin)',
    )
  }
}

/** What spawn() and execFile() ask of the engine (see spawnLimited), set before spawn(). */
const kLimits = Symbol('offload.limits')
const kUsedAsStdio = Symbol('offload.usedAsStdio')
const kHandedOver = Symbol('offload.handedOver')

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
  #limitsHook = null
  #spawned = false
  #afterSpawn = null

  constructor() {
    super()
    this.connected = false
    this.signalCode = null
    this.exitCode = null
    this.killed = false
    this.spawnfile = null
  }

  /** The child's pid; `undefined` if it could not be started. */
  get pid() {
    return this.#sub?.pid
  }

  /**
   * Starts the child, as Node's ChildProcess#spawn, which spawn() calls: `options` is Node's
   * shape, `{ file, args, envPairs, cwd, stdio, detached, uid, gid, serialization }`, with
   * `args` the whole argv (argv[0] first) and `envPairs` the whole environment (`KEY=value`;
   * without it the child gets ours).
   */
  spawn(options) {
    validateObject(options, 'options')
    const { entries, ipcIndex } = validStdio(options.stdio || 'pipe')
    const serialization = checkSerialization(options.serialization)
    const ipc = ipcIndex !== -1
    if (ipc) {
      if (options.envPairs === undefined) options.envPairs = []
      else validateArray(options.envPairs, 'options.envPairs')
      options.envPairs.push(`NODE_CHANNEL_FD=${ipcIndex}`, `NODE_CHANNEL_SERIALIZATION_MODE=${serialization}`)
    }
    validateString(options.file, 'options.file')
    if (options.args !== undefined) validateArray(options.args, 'options.args')
    const file = options.file
    const argv = options.args ?? []
    // Node's launcher cuts a C string at a NUL byte (the child runs with a shorter argument);
    // offload refuses it, as spawn() does before it gets here.
    validateNoNull(file, 'options.file')
    argv.forEach((arg, i) => validateNoNull(`${arg}`, `options.args[${i}]`))
    const env = options.envPairs === undefined ? undefined : envFromPairs(options.envPairs)
    // Only spawn() and execFile() set these: Node's own ChildProcess#spawn has no timeout.
    const limits = this[kLimits] ?? {}
    const limited = limits.maxBuffer !== undefined
    const normalized = normalize({
      // Node's launcher takes a string only: it runs a child given a Buffer cwd in ours.
      cwd: typeof options.cwd === 'string' ? options.cwd : undefined,
      env,
      extendEnv: env === undefined,
      argv0: argv.length > 0 ? `${argv[0]}` : undefined,
      stdin: offloadStdio(entries[0]),
      stdout: offloadStdio(entries[1]),
      stderr: offloadStdio(entries[2]),
      detached: Boolean(options.detached),
      // As libuv: the id is a uid_t, so -1 is 4294967295 (which the OS refuses).
      uid: isInt32(options.uid) ? options.uid >>> 0 : undefined,
      gid: isInt32(options.gid) ? options.gid >>> 0 : undefined,
      timeout: limits.timeout || undefined,
      killSignal: limits.killSignal,
      forceKillAfter: false,
      stripFinalNewline: false,
      maxBuffer: limited ? limits.maxBuffer : Infinity,
      reject: false,
    })
    normalized.native.limitStreamedOutput = limited
    // Another offload child's stdout: its kernel pipe, or the bytes it already left behind.
    let stdinFrom
    let leftOver = null
    if (entries[0].type === 'child') {
      leftOver = handOverStdout(entries[0].source.sub)
      if (leftOver === null) {
        normalized.native.stdin = { kind: 'child' }
        stdinFrom = entries[0].source.sub._native
      }
    }
    this.spawnfile = file
    this.spawnargs = options.args === undefined ? [] : argv
    const sub = new Subprocess(file, argv.slice(1).map((arg) => `${arg}`), normalized, {
      ipc: ipc && serialization,
      nodeCompat: true,
      stdinFrom,
      extraFds: extraDescriptors(entries, ipcIndex),
      onTimedOut: () => this.#onEngineKill(),
      onOverflow: (n, kept) => this.#onEngineKill(n, kept),
    })
    this.#sub = sub
    if (leftOver !== null) leftOver.then((data) => sub.stdin.end(data ?? Buffer.alloc(0)))
    this.#limitsHook = limits.onKill ?? null

    const pipes = entries.length > 3 ? sub._extraPipes() : []
    const streams = entries.map((entry, i) => {
      if (entry.type !== 'pipe') return null
      if (i === 0) {
        const stdin = sub.stdin
        // Node's stdin is a socket that is not readable.
        stdin.readable = false
        return stdin
      }
      // Beyond stderr: a socket pair, readable and writable, as Node's.
      const stream = i < 3 ? (i === 1 ? sub.stdout : sub.stderr) : new net.Socket({ fd: pipes[i], readable: true, writable: true })
      stream[kChildStream] = { child: this, sub, n: i }
      this.#closesNeeded++
      this.#openPipes++
      stream.once('close', () => {
        if (!stream[kUsedAsStdio]) this.#openPipes--
        this.#updateRef()
        this.#maybeClose()
      })
      return stream
    })
    if (streams[0]) streams[0][kChildStream] = { child: this, sub, n: 0 }
    this.stdin = streams[0]
    this.stdout = streams[1]
    this.stderr = streams[2]
    this.stdio = streams
    for (const entry of entries) {
      if (entry.type === 'wrap') stopReading(entry.stream, true)
      if (entry.type === 'child') entry.source.child[kHandedOver]()
    }

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
      sub.on('internalMessage', (message) => this.emit('internalMessage', message, undefined))
      sub.on('disconnect', () => this.#onDisconnect())
    }
    sub.on('spawn', () => {
      this.#spawned = true
      this.emit('spawn')
      this.#afterSpawn?.()
    })
    sub.on('exit', (code, signal) => this.#onExit(code, signal))
    // Already a later tick than spawn(), as in Node; at once, so that 'error' comes before
    // the ends of the output streams (which the Subprocess ended), as in Node.
    sub.on('error', (err) => this.#onSpawnError(err))
    // Node returns its launch's errno; offload reports a failed launch as the 'error' event only.
    return 0
  }

  /**
   * @internal This child's stdout went to another child as its stdin: stop reading it and
   * let it no longer hold this process open (its 'close' never comes, as in Node).
   */
  [kHandedOver]() {
    stopReading(this.stdout, false)
    this.#openPipes--
    this.#updateRef()
  }

  /** The engine killed the child for the timeout, or for `maxBuffer` on stream `n`. */
  #onEngineKill(n, kept) {
    // As Node's kill() from its timer would: the signal went out.
    this.killed = true
    this.#limitsHook?.(n, kept)
  }

  /** Sends a signal (default `'SIGTERM'`); `true` if it was delivered. */
  kill(sig) {
    const signal = sig === 0 ? 0 : convertToValidSignal(sig === undefined ? 'SIGTERM' : sig)
    if (this.#sub === null || this.#exited) return false
    let sent
    try {
      sent = this.#sub.kill(signal)
    } catch (err) {
      // The OS refused (`kill EPERM`): Node emits it too.
      this.emit('error', err)
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
    // The channel of a child that never ran is closed already.
    if (this.#ipcOpen) this.#closesGot++
    this.#ipcOpen = false
    if (this.stdin) this.stdin.destroy()
    this.#updateRef()
    this.emit('error', err)
    // As Node: the output streams end ('close' waits for them), unread ones are let through.
    process.nextTick(flushStdio, this)
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
    // Node knows of the launch at once and says 'spawn' on the next tick, so a disconnect()
    // right after spawn() comes after it; ours is known later, and the order is kept.
    if (!this.#spawned && !this.#exited) {
      this.#afterSpawn = () => this.#onDisconnect()
      return
    }
    this.#afterSpawn = null
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
    if (!this.connected) {
      const err = codedError(Error, 'ERR_IPC_CHANNEL_CLOSED', 'Channel closed')
      if (typeof callback === 'function') process.nextTick(callback, err)
      else process.nextTick(() => this.emit('error', err))
      return false
    }
    if (message === undefined) throw missingArgs('message')
    if (!['string', 'object', 'number', 'boolean'].includes(typeof message)) {
      throw invalidArgType('message', ['string', 'object', 'number', 'boolean'], message)
    }
    if (sendHandle) {
      if (!isSendableHandle(sendHandle)) throw codedError(TypeError, 'ERR_INVALID_HANDLE_TYPE', 'This handle type cannot be sent')
      throw unsupportedOption('send() with a sendHandle', 'sockets and servers cannot be passed to the child; send plain messages')
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
    this.channel = null
    if (this.#sub.connected) this.#sub.disconnect()
  }
}

module.exports = { ChildProcess, kLimits }

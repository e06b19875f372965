'use strict'
// Subprocess: the JS face of one native child. An EventEmitter ('spawn',
// 'exit', 'close', 'message', 'disconnect') with lazily created Node streams,
// and a thenable that settles once with a Result or a SubprocessError.

const { EventEmitter } = require('node:events')
const { Readable, Writable } = require('node:stream')
const { StringDecoder } = require('node:string_decoder')
const { constants } = require('node:os')
const channel = require('./channel')
const { pack } = require('./native-layout')
const { SubprocessError, spawnError, errnoException, codedError, offloadError } = require('./errors')
const { signalNumber, signalName } = require('./signals')
const { serializeFrame, deserializeFrame } = require('./ipc-serialization')
const { pipedStage, combine } = require('./pipeline-stages')
const { EventKind, OutputStream } = require('./binding')

// Event types sent by src/js/payload.rs.
const { SPAWNED, SPAWN_FAILED, OUTPUT, OUTPUT_END, MESSAGE, DISCONNECT, WRITE_DONE, EXIT, CLOSED, OUTPUT_OVERFLOW, TIMED_OUT } =
  EventKind

// The outputs as the native child names them: their descriptors, so also indexes of #streams.
const { STDOUT, STDERR } = OutputStream
const STREAM_NAMES = [undefined, 'stdout', 'stderr']
const MESSAGE_TAIL = 4096
const EMPTY = Buffer.alloc(0)
// What fork() keeps of a stderr it passes through, for its error.
const RELAY_TAIL = 8 * 1024

function quote(arg) {
  return /^[\w./:=@%+,-]+$/.test(arg) ? arg : `'${arg.replaceAll("'", "'\\''")}'`
}

/** `file args…` as a shell would need it, for messages and `result.command`. */
function commandLine(file, args) {
  return [file, ...args].map(quote).join(' ')
}

function tail(text) {
  if (typeof text !== 'string') text = text ? text.toString('utf8') : ''
  text = text.trim()
  return text.length > MESSAGE_TAIL ? `…${text.slice(-MESSAGE_TAIL)}` : text
}

/** Node's test for the messages its own machinery sends ('NODE_HANDLE', 'NODE_CLUSTER', …). */
function isInternalMessage(message) {
  return message !== null && typeof message === 'object' && typeof message.cmd === 'string' && message.cmd.length > 5 && message.cmd.startsWith('NODE_')
}

/** What a write to a child that is gone fails with, as Node's `write EPIPE`. */
function brokenPipe() {
  return errnoException(-constants.errno.EPIPE, 'write')
}

/** Peak resident memory within this fraction of `limits.memoryBytes` counts as reaching it. */
const NEAR_MEMORY_LIMIT = 0.75

/**
 * ' (it was near its memory limit: …)' when the evidence says a failed child
 * ran into `limits.memoryBytes`, else ''. Such a child sees an allocation fail
 * (ENOMEM) and may report it any way it likes (exit 1, abort, a crash): that is
 * not observable, its peak memory is. Linux charges a child the parent's peak
 * RSS at the launch (CLONE_VM), so the child's peak only counts when it is above
 * this process's own peak, which is at least what it was at the launch. (The CPU
 * limit needs no hint: the kernel's SIGXCPU says so, see ERR_OFFLOAD_CPU_LIMIT.)
 */
function memoryHint(limits, usage) {
  if (limits.memoryBytes === undefined || usage.maxRssBytes < limits.memoryBytes * NEAR_MEMORY_LIMIT) return ''
  if (usage.maxRssBytes <= process.resourceUsage().maxRSS * 1024) return ''
  const mib = (bytes) => `${(bytes / 2 ** 20).toFixed(1)} MiB`
  return ` (it was near its memory limit: peak ${mib(usage.maxRssBytes)} of options.limits.memoryBytes = ${limits.memoryBytes} (${mib(limits.memoryBytes)}))`
}

class Subprocess extends EventEmitter {
  #native = null
  #id = 0
  #file
  #args
  #command
  #settings
  #cwd
  #piped
  #pid = undefined
  #exit = null
  #outcome = null // { result } or { error } once settled
  #promise = null
  #streams = [null, null, null] // stdin, stdout, stderr
  #reading = [false, false, false]
  #ended = [false, false, false]
  #handed = false
  #writes = new Map()
  #nextWrite = 1
  #held = false
  #ipc
  #connected
  #abortListener = null
  #upstream = [] // the stages before this one in a pipeline
  #killed = false
  #waiters = []
  #nodeCompat
  // offload/child_process's: told when the engine kills for `timeout` or `maxBuffer`.
  #onTimedOut
  #onOverflow
  #overflowReported = false
  // fork()'s default stderr: read here, written on to ours, its end kept.
  #relayTail = null

  /**
   * @internal Use `spawn()`, `fork()` or `pipeline()`.
   */
  constructor(file, args, normalized, internal = {}) {
    super()
    const { native, settings } = normalized
    this.#file = file
    this.#args = args
    this.#command = commandLine(file, args)
    this.#settings = settings
    this.#cwd = native.cwd
    this.#piped = [native.stdin.kind === 'pipe', native.stdout.kind === 'pipe', native.stderr.kind === 'pipe']
    // false, or the channel's serialization: 'json' | 'advanced'.
    this.#ipc = internal.ipc ?? false
    this.#connected = this.#ipc !== false
    this.#nodeCompat = Boolean(internal.nodeCompat)
    this.#onTimedOut = internal.onTimedOut
    this.#onOverflow = internal.onOverflow
    if (internal.upstream) this.#upstream = internal.upstream
    if (internal.relayStderr) {
      // The caller sees an inherited stderr (no stream, nothing in the result).
      this.#piped[STDERR] = false
      this.#reading[STDERR] = true
      this.#relayTail = Buffer.alloc(0)
    }

    if (settings.signal?.aborted) {
      // Never started: settle as aborted on the next tick, like a started one would.
      this.#connected = false
      process.nextTick(() => this.#settle(null, this.#failure({ aborted: true })))
      return
    }
    this.#id = channel.register(this)
    this.#held = true
    channel.hold()
    try {
      if (this.#ipc) native.ipc = this.#ipc
      const [numbers, strings, stdinData] = pack(native)
      this.#native = channel.native.spawn(
        channel.getChannel(),
        this.#id,
        file,
        args,
        native.env,
        numbers,
        strings,
        stdinData,
        internal.stdinFrom,
        internal.extraFds,
      )
    } catch (err) {
      this.#release()
      // The native side refuses what JS cannot check: a closed stdio descriptor,
      // a pipeline source that can no longer be piped.
      if (err.code === 'InvalidArg') {
        throw codedError(TypeError, 'ERR_INVALID_ARG_VALUE', err.message)
      }
      throw err
    }
    if (this.#relayTail !== null) {
      this.#native.stream(STDERR)
      this.#native.read(STDERR)
    }
    if (settings.signal) {
      this.#abortListener = () => this.#native.cancel()
      settings.signal.addEventListener('abort', this.#abortListener, { once: true })
    }
  }

  /** @internal The native handle, for pipelines. */
  get _native() {
    return this.#native
  }

  /**
   * @internal Our ends of the pipes asked for with `extraFds` (one per child
   * descriptor from 3, -1 where none): the caller owns them now.
   */
  _extraPipes() {
    return this.#native?.extraPipes ?? []
  }

  /**
   * @internal Gives stdout to the next stage of a pipeline. Returns `null` when
   * the next stage can read the kernel pipe directly, or a promise of the bytes
   * when they were already collected (the source finished or was awaited first).
   */
  _handOverStdout() {
    const unavailable = (why) => offloadError('ERR_OFFLOAD_STDOUT_UNAVAILABLE', `cannot pipe from ${this.#command}: its stdout ${why}`)
    if (!this.#piped[STDOUT]) throw unavailable('is not a pipe (options.stdout)')
    if (this.#handed) throw unavailable('is already piped to another command')
    // offload/child_process makes every stream at the launch; one not read from yet can go.
    if ((this.#streams[STDOUT] && !this.#nodeCompat) || this.#reading[STDOUT]) {
      throw unavailable('is being read as a stream; call pipe() before reading it')
    }
    this.#handed = true
    if (this.#native !== null && this.#native.reserveStdout()) return null
    return this._settled().then((o) => (o.result ?? o.error)?._raw1 ?? null)
  }

  get pid() {
    if (this.#pid === undefined && this.#native !== null && this.#outcome === null) {
      this.#pid = this.#native.pid ?? undefined
    }
    return this.#pid
  }

  get command() {
    return this.#command
  }

  get spawnfile() {
    return this.#file
  }

  get spawnargs() {
    return [this.#file, ...this.#args]
  }

  get exitCode() {
    return this.#exit ? this.#exit.code ?? null : null
  }

  get signalCode() {
    return this.#exit ? signalName(this.#exit.signal) : null
  }

  get killed() {
    return this.#killed
  }

  get connected() {
    return this.#connected
  }

  /** A Writable for the child's stdin, or `null` unless `stdin: 'pipe'`. */
  get stdin() {
    if (!this.#piped[0]) return null
    if (this.#streams[0] === null) this.#streams[0] = this.#createStdin()
    return this.#streams[0]
  }

  /** A Readable of the child's stdout, or `null` unless `stdout: 'pipe'`. */
  get stdout() {
    return this.#output(STDOUT)
  }

  /** A Readable of the child's stderr, or `null` unless `stderr: 'pipe'`. */
  get stderr() {
    return this.#output(STDERR)
  }

  /** Sends a signal (default `'SIGTERM'`); `true` if it was delivered. */
  kill(signal = 'SIGTERM') {
    const number = signalNumber(signal)
    if (this.#native === null || this.#exit !== null || this.#outcome !== null) return false
    // 1 sent, 0 nobody to signal, or the OS's refusal as Node's errno.
    const status = this.#native.kill(number)
    if (status < 0) throw errnoException(status, 'kill')
    const sent = status > 0
    if (sent && number !== 0) this.#killed = true
    return sent
  }

  /** Lets Node exit while this child runs. */
  unref() {
    this.#release(false)
    return this
  }

  /** Undoes `unref()`. */
  ref() {
    if (!this.#held && this.#id !== 0 && this.#outcome === null) {
      this.#held = true
      channel.hold()
    }
    return this
  }

  /** Async iterator over the lines of stdout; rejects at the end if the command failed. */
  async *lines() {
    const stdout = this.stdout
    if (stdout === null) throw offloadError('ERR_OFFLOAD_STDOUT_UNAVAILABLE', `cannot read lines of ${this.#command}: its stdout is not a pipe`)
    const decoder = new StringDecoder('utf8')
    let carry = ''
    for await (const chunk of stdout) {
      const text = carry + decoder.write(chunk)
      const parts = text.split('\n')
      carry = parts.pop()
      for (const line of parts) yield line.endsWith('\r') ? line.slice(0, -1) : line
    }
    carry += decoder.end()
    if (carry.length > 0) yield carry
    await this
  }

  /** Pipes this child's stdout into a new child's stdin through a kernel pipe. */
  pipe(file, args, options) {
    const stage = pipedStage(file, args, options)
    const collected = this._handOverStdout()
    const upstream = [...this.#upstream, this]
    if (collected === null) {
      stage.normalized.native.stdin = { kind: 'child' }
      return new Subprocess(file, stage.args, stage.normalized, { stdinFrom: this.#native, upstream })
    }
    // This child's output was already collected: pass those bytes on.
    const next = new Subprocess(file, stage.args, stage.normalized, { upstream })
    collected.then((data) => next.stdin.end(data ?? EMPTY))
    return next
  }

  /** Sends an IPC message (`fork()` children); resolves once it is written. */
  send(message) {
    return new Promise((resolve, reject) => this._sendRaw(message, (err) => (err ? reject(err) : resolve())))
  }

  /** @internal `send` with a Node-style callback. */
  _sendRaw(message, callback) {
    if (!this.#ipc) {
      return process.nextTick(callback, codedError(Error, 'ERR_IPC_CHANNEL_CLOSED', `cannot send to ${this.#command}: it has no IPC channel (use fork())`))
    }
    if (message === undefined) throw codedError(TypeError, 'ERR_MISSING_ARGS', 'The "message" argument must be specified')
    const frame = this.#ipc === 'advanced' ? serializeFrame(message) : `${JSON.stringify(message)}\n`
    const id = this.#nextWrite++
    if (!this.#connected || this.#native === null || !this.#native.send(id, frame)) {
      return process.nextTick(callback, codedError(Error, 'ERR_IPC_CHANNEL_CLOSED', 'Channel closed'))
    }
    this.#writes.set(id, callback)
    return true
  }

  /** Closes the IPC channel; the child gets 'disconnect'. */
  disconnect() {
    if (!this.#connected) throw codedError(Error, 'ERR_IPC_DISCONNECTED', 'IPC channel is already disconnected')
    this.#connected = false
    this.#native.disconnect()
    process.nextTick(() => this.emit('disconnect'))
  }

  then(onFulfilled, onRejected) {
    return this.#resultPromise().then(onFulfilled, onRejected)
  }

  catch(onRejected) {
    return this.#resultPromise().catch(onRejected)
  }

  finally(onFinally) {
    return this.#resultPromise().finally(onFinally)
  }

  /** @internal Resolves with `{ result }` or `{ error }`; never rejects. */
  _settled() {
    this.#collectUnread()
    if (this.#outcome !== null) return Promise.resolve(this.#outcome)
    return new Promise((resolve) => this.#waiters.push(resolve))
  }

  #resultPromise() {
    if (this.#promise === null) {
      const reject = this.#settings.reject
      const stages = [...this.#upstream, this]
      this.#promise = Promise.all(stages.map((s) => s._settled())).then((outcomes) => {
        const own = outcomes[outcomes.length - 1]
        if (stages.length === 1) {
          if (own.error && reject) throw own.error
          return own.result ?? own.error
        }
        return combine(stages, outcomes, reject)
      })
    }
    return this.#promise
  }

  /** Unread stdout is collected for the result (stderr is collected from the start). */
  #collectUnread() {
    if (this.#native === null || this.#outcome !== null) return
    if (this.#piped[STDOUT] && !this.#reading[STDOUT] && !this.#handed) this.#native.collect(STDOUT)
  }

  #output(n) {
    if (!this.#piped[n] || (n === STDOUT && this.#handed)) return null
    if (this.#streams[n] !== null) return this.#streams[n]
    const stream = new Readable({
      highWaterMark: 256 * 1024,
      read: () => {
        if (this.#native === null) return
        if (!this.#reading[n]) {
          this.#reading[n] = true
          this.#native.stream(n)
        }
        this.#native.read(n)
      },
      destroy: (err, callback) => {
        // Thrown away before its end: close the pipe so the child is not left
        // blocked on it (it gets EPIPE, as with Node's child.stdout.destroy()).
        if (!this.#ended[n] && this.#native !== null) {
          this.#reading[n] = true
          this.#ended[n] = true
          this.#native.discard(n)
        }
        callback(err)
      },
    })
    this.#streams[n] = stream
    if (this.#outcome !== null) {
      // Already finished: replay what was collected.
      this.#endStream(n, this.#outcome.result?.[`_raw${n}`] ?? this.#outcome.error?.[`_raw${n}`])
    } else if (this.#native === null) {
      this.#endStream(n)
    }
    return stream
  }

  #createStdin() {
    const onDone = (callback) => (err) => {
      // A child may stop reading its input; that is its right, not our failure.
      if (err && err.code === 'EPIPE' && !this.#nodeCompat) return callback()
      callback(err)
    }
    return new Writable({
      highWaterMark: 256 * 1024,
      write: (chunk, encoding, callback) => {
        const id = this.#nextWrite++
        // Once the child has closed, its events (and so this write's completion)
        // no longer reach us: the pipe has no reader, so this is EPIPE.
        if (this.#native === null || this.#outcome !== null || !this.#native.write(id, chunk)) {
          return onDone(callback)(brokenPipe())
        }
        this.#writes.set(id, onDone(callback))
      },
      final: (callback) => {
        if (this.#native !== null) this.#native.end()
        callback()
      },
      destroy: (err, callback) => {
        if (this.#native !== null) this.#native.end()
        callback(err)
      },
    })
  }

  /** @internal Called by the event channel. */
  _onNativeEvent(type, a, b) {
    switch (type) {
      case SPAWNED:
        this.#pid = a
        this.emit('spawn')
        break
      case SPAWN_FAILED: {
        const err = spawnError(a, this.#file, this.#args, this.#cwd)
        this.#connected = false
        this.#endStream(STDOUT)
        this.#endStream(STDERR)
        this.#settle(null, this.#failure({ spawnError: err }))
        break
      }
      case OUTPUT:
        if (a === STDERR && this.#relayTail !== null) this.#relay(b)
        else this.#streams[a]?.push(b)
        break
      case OUTPUT_END:
        this.#endStream(a)
        break
      case MESSAGE: {
        let message
        try {
          message = typeof a === 'string' ? JSON.parse(a) : deserializeFrame(a)
        } catch {
          break // Node's own channel drops what it cannot parse too.
        }
        // As Node: its own messages (`cmd: 'NODE_…'`) are not the application's.
        this.emit(isInternalMessage(message) ? 'internalMessage' : 'message', message)
        break
      }
      case DISCONNECT:
        if (this.#connected) {
          this.#connected = false
          this.emit('disconnect')
        }
        break
      case WRITE_DONE: {
        const callback = this.#writes.get(a)
        this.#writes.delete(a)
        if (callback) callback(b ? errnoException(b.errno, 'write') : null)
        break
      }
      case EXIT:
        this.#exit = a
        this.emit('exit', a.code ?? null, signalName(a.signal))
        break
      case CLOSED:
        this.#settle(a, null)
        break
      case OUTPUT_OVERFLOW:
        this.#overflowReported = true
        this.#onOverflow?.(a, b)
        break
      case TIMED_OUT:
        this.#onTimedOut?.()
        break
    }
  }

  /** Passes a chunk of a relayed stderr on to ours, keeps its end, and reads on once it is out. */
  #relay(chunk) {
    const end = chunk.length > RELAY_TAIL ? chunk.subarray(chunk.length - RELAY_TAIL) : chunk
    const kept = Buffer.concat([this.#relayTail, end])
    this.#relayTail = kept.length > RELAY_TAIL ? kept.subarray(kept.length - RELAY_TAIL) : kept
    process.stderr.write(chunk, () => {
      if (this.#native !== null && this.#outcome === null) this.#native.read(STDERR)
    })
  }

  /** Ends an output stream once, after `data` (what was collected before it was read). */
  #endStream(n, data = null) {
    const stream = this.#streams[n]
    if (stream === null || this.#ended[n]) return
    this.#ended[n] = true
    if (data && data.length > 0) stream.push(data)
    stream.push(null)
  }

  #release(forget = true) {
    if (this.#held) {
      this.#held = false
      channel.release()
    }
    if (forget && this.#id !== 0) {
      channel.unregister(this.#id)
      this.#id = 0
    }
  }

  #decode(buffer) {
    if (buffer === null || buffer === undefined) return undefined
    let text = this.#settings.encoding === 'buffer' ? buffer : buffer.toString(this.#settings.encoding)
    if (this.#settings.stripFinalNewline && typeof text === 'string') {
      if (text.endsWith('\r\n')) text = text.slice(0, -2)
      else if (text.endsWith('\n')) text = text.slice(0, -1)
    }
    return text
  }

  /**
   * What the result says stream `n` printed. Output the caller read as a stream
   * is theirs; the result does not repeat it. A piped stream of a child that
   * never ran (aborted first, or its launch failed) printed nothing: '' (or an
   * empty Buffer), as the types promise for piped output.
   */
  #collected(n, closed) {
    if (this.#reading[n]) return undefined
    if (closed !== null) return this.#decode(closed[STREAM_NAMES[n]])
    return this.#piped[n] && !(n === STDOUT && this.#handed) ? this.#decode(EMPTY) : undefined
  }

  /** The result fields, from the exit status and what was collected. */
  #fields(closed) {
    const exit = this.#exit ?? {}
    return {
      command: this.#command,
      pid: this.#pid,
      exitCode: exit.code ?? null,
      signal: signalName(exit.signal),
      stdout: this.#collected(STDOUT, closed),
      stderr: this.#collected(STDERR, closed),
      durationMs: exit.durationMs ?? 0,
      timedOut: closed?.timedOut ?? false,
      canceled: closed?.canceled ?? false,
      usage: {
        maxRssBytes: exit.maxRssBytes ?? 0,
        userCpuMs: exit.userCpuMs ?? 0,
        systemCpuMs: exit.systemCpuMs ?? 0,
      },
    }
  }

  /** A SubprocessError for this child, or `null` if it succeeded. */
  #failure({ closed = null, spawnError: launchError = null, aborted = false } = {}) {
    const fields = this.#fields(closed)
    const limits = this.#settings.limits ?? {}
    const cpuMs = fields.usage.userCpuMs + fields.usage.systemCpuMs
    let code
    let what
    let options
    if (launchError) {
      const err = launchError
      Object.assign(err, fields, { failed: true, code: err.code, pid: undefined })
      return err
    } else if (aborted || fields.canceled) {
      code = 'ERR_OFFLOAD_ABORTED'
      what = aborted ? 'was aborted before it started' : 'was aborted (options.signal)'
      fields.canceled = true
      const reason = this.#settings.signal?.reason
      if (reason !== undefined) options = { cause: reason }
    } else if (fields.timedOut) {
      code = 'ERR_OFFLOAD_TIMEOUT'
      what = `timed out after ${this.#settings.timeout} milliseconds`
    } else if (closed?.maxBufferExceeded) {
      code = 'ERR_OFFLOAD_MAX_BUFFER'
      what = `wrote more than maxBuffer to ${STREAM_NAMES[closed.maxBufferExceeded]} and was killed (the output is cut at maxBuffer)`
    } else if (limits.cpuSeconds !== undefined && (fields.signal === 'SIGXCPU' || (fields.signal === 'SIGKILL' && cpuMs >= limits.cpuSeconds * 1000))) {
      code = 'ERR_OFFLOAD_CPU_LIMIT'
      what = `used its CPU time limit (options.limits.cpuSeconds = ${limits.cpuSeconds}) and was killed with ${fields.signal}`
    } else if (limits.fileSizeBytes !== undefined && fields.signal === 'SIGXFSZ') {
      code = 'ERR_OFFLOAD_FILE_SIZE_LIMIT'
      what = `wrote past its file size limit (options.limits.fileSizeBytes = ${limits.fileSizeBytes}) and was killed with SIGXFSZ`
    } else if (fields.signal !== null) {
      code = 'ERR_OFFLOAD_SIGNAL'
      what = `was killed with ${fields.signal}${memoryHint(limits, fields.usage)}`
    } else if (fields.exitCode !== 0) {
      code = 'ERR_OFFLOAD_EXIT_CODE'
      what = `failed with exit code ${fields.exitCode}${memoryHint(limits, fields.usage)}`
    } else {
      return null
    }
    // A relayed stderr was shown as it came; its end also belongs in the error.
    if (this.#relayTail?.length > 0) fields.stderr = this.#relayTail.toString('utf8')
    const details = [tail(fields.stderr), tail(fields.stdout)].filter(Boolean).join('\n')
    const message = `Command ${what}: ${this.#command}${details ? `\n\n${details}` : ''}`
    return new SubprocessError(message, { ...fields, failed: true, code }, options)
  }

  #settle(closed, presetError) {
    if (this.#outcome !== null) return
    if (this.#abortListener) this.#settings.signal.removeEventListener('abort', this.#abortListener)
    this.#release()
    for (const [id, callback] of this.#writes) {
      this.#writes.delete(id)
      callback(brokenPipe())
    }
    const error = presetError ?? this.#failure({ closed })
    const holder = error ?? { ...this.#fields(closed), failed: false }
    // Raw buffers, kept (non-enumerable) to replay to a stream opened after the end.
    if (closed) {
      Object.defineProperty(holder, '_raw1', { value: closed.stdout ?? null })
      Object.defineProperty(holder, '_raw2', { value: closed.stderr ?? null })
    }
    const overflowed = closed?.maxBufferExceeded
    if (overflowed && this.#onOverflow && !this.#overflowReported) {
      // It passed maxBuffer while still collected (before anyone read it): the caller gets
      // it, then hears of the overflow as when it streams past it.
      const data = closed[STREAM_NAMES[overflowed]]
      if (data?.length > 0 && !this.#ended[overflowed]) this.#streams[overflowed]?.push(data)
      // Nothing more comes on it, and it does not end: past maxBuffer the caller destroys it.
      this.#ended[overflowed] = true
      this.#onOverflow(overflowed, data?.length ?? 0)
    }
    // A stream opened but not read before the child finished gets what was collected.
    this.#endStream(STDOUT, closed?.stdout)
    this.#endStream(STDERR, closed?.stderr)
    this.#outcome = error ? { error } : { result: holder }
    if (error && error.syscall && this.listenerCount('error') > 0) this.emit('error', error)
    for (const resolve of this.#waiters.splice(0)) resolve(this.#outcome)
    if (closed) this.emit('close', this.exitCode, this.signalCode)
  }
}

module.exports = { Subprocess }

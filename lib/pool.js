'use strict'
// Pool: long-lived worker processes run from Rust. JS serializes each task and
// parses its result; the queue, dispatch, timeouts and crash recovery are in
// src/pool/. Tasks of one tick cross into Rust in one call (`submit`), and
// answers come back in batches (POOL_BATCH), parsed with one JSON.parse.

const { EventEmitter } = require('node:events')
const fs = require('node:fs')
const os = require('node:os')
const channel = require('./channel')
const { invalidArgType, invalidArgValue, offloadError, abortError, rebuildError } = require('./errors')
const { normalize, inheritedExecArgv, envEntries } = require('./options')
const { checkString, checkNonNegative, checkSerialization, checkKnownKeys } = require('./validate')
const { signalName } = require('./signals')
const { packLimits } = require('./native-layout')
const { encodeValue, decodeValue } = require('./codec')
const { serializeValue, deserializeFrame } = require('./ipc-serialization')
const { RequestServer, ENV: REQUESTS_ENV } = require('./task-requests')
const { EventKind, PoolSlot: AT, PoolSerialization, PoolDefault, NOT_SET, MAX_TASK_ID } = require('./binding')

// Event types sent by src/js/payload.rs.
const { TASK_OK, TASK_FAILED, WORKER_EXIT, POOL_CLOSED, POOL_ERROR, POOL_BATCH, POOL_START_FAILED } = EventKind

const KNOWN = new Set([
  'script', 'command', 'args', 'execArgv', 'execPath', 'size', 'minSize', 'idleTimeout', 'maxQueue', 'taskTimeout', 'concurrency',
  'maxTasksPerWorker', 'maxRssBytes', 'retries', 'env', 'cwd', 'stderr', 'limits', 'maxStartFailures', 'startBackoff',
  'serialization',
])
const BACKOFF_OPTIONS = new Set(['initial', 'max'])
const RUN_OPTIONS = new Set(['signal', 'timeout', 'handler', 'onRequest', 'meta'])
const STDERR_TAIL = 64 * 1024
const READY_PRELOAD = require('node:path').join(__dirname, 'worker-ready.js')
const POOL_NUMBERS = new Float64Array(AT.LEN)

/** The CPUs this process may use: its affinity, capped by a cgroup v2 CPU quota. */
function availableCpus() {
  let cpus = os.availableParallelism()
  try {
    const [quota, period] = fs.readFileSync('/sys/fs/cgroup/cpu.max', 'utf8').trim().split(/\s+/)
    if (quota !== 'max') cpus = Math.min(cpus, Math.max(1, Math.ceil(Number(quota) / Number(period))))
  } catch {
    // No cgroup v2 CPU controller here: the affinity is the answer.
  }
  return cpus
}

/**
 * A handler name that also carries `meta`: the task frame's name field holds
 * `handler NUL json` (lib/worker.js splits it), so the task itself, and the
 * pool engine, stay as they are.
 */
function withMeta(handler, meta) {
  let json
  try {
    json = JSON.stringify(meta)
  } catch (err) {
    throw invalidArgValue('options.meta', meta, `must be JSON-serialisable (${err.message})`)
  }
  if (json === undefined) throw invalidArgValue('options.meta', meta, 'must be a JSON-serialisable value')
  const name = `${handler ?? ''}\0${json}`
  if (Buffer.byteLength(name) > 0xffff) throw invalidArgValue('options.meta', meta, 'must be at most 65535 bytes as JSON, with the handler name')
  return name
}

/** The environment a worker inherits when the pool is given none, as `NAME=value`. */
function currentEnvEntries() {
  return Object.entries(process.env).map(([k, v]) => `${k}=${v}`)
}

/** A whole number of at least `min`, or a RangeError naming the option. */
function atLeast(value, name, min) {
  checkNonNegative(value, name, { integer: true })
  if (value < min) throw invalidArgValue(name, value, `must be at least ${min}`, RangeError)
  return value
}

/**
 * Checks the pool's options and packs them as `native.createPool` takes them
 * (as spawn's are: numbers in a Float64Array at the addon's PoolSlot places,
 * NOT_SET where not given, strings beside it). Returns those arguments and
 * what the Pool itself needs to know.
 */
function nativeOptions(options) {
  if (options === null || typeof options !== 'object') throw invalidArgType('options', 'of type object', options)
  checkKnownKeys(options, 'options', KNOWN)
  const o = options
  // Copied by the call: one array serves every pool, as spawn's does.
  const numbers = POOL_NUMBERS.fill(NOT_SET)
  const native = { numbers, program: null, execPath: undefined, execArgv: undefined, env: undefined, cwd: undefined }
  if ((o.script === undefined) === (o.command === undefined)) {
    throw invalidArgValue('options', options, "needs exactly one of 'script' (a Node module) and 'command' ([file, ...args])")
  }
  let serialization = 'json'
  if (o.script !== undefined) {
    const args = (o.args ?? []).map((a, i) => checkString(a, `options.args[${i}]`))
    native.program = [checkString(o.script, 'options.script'), ...args]
    native.execPath = checkString(o.execPath ?? process.execPath, 'options.execPath')
    const execArgv = (o.execArgv ?? inheritedExecArgv()).map((a, i) => checkString(a, `options.execArgv[${i}]`))
    native.execArgv = ['--require', READY_PRELOAD, ...execArgv]
    numbers[AT.WAIT_FOR_READY] = 1
    serialization = checkSerialization(o.serialization)
    numbers[AT.SERIALIZATION] = PoolSerialization[serialization.toUpperCase()]
  } else {
    const scriptOnly = ['args', 'execPath', 'execArgv', 'serialization'].find((key) => o[key] !== undefined)
    if (scriptOnly) throw invalidArgValue('options', options, `has '${scriptOnly}', which only a 'script' pool takes (a command's arguments go in 'command')`)
    if (!Array.isArray(o.command) || o.command.length === 0) throw invalidArgType('options.command', 'a non-empty array [file, ...args]', o.command)
    native.program = o.command.map((a, i) => checkString(a, `options.command[${i}]`))
  }
  const size = atLeast(o.size ?? availableCpus(), 'options.size', 1)
  numbers[AT.SIZE] = size
  if (o.minSize !== undefined) {
    numbers[AT.MIN_SIZE] = checkNonNegative(o.minSize, 'options.minSize', { integer: true })
    if (o.minSize > size) throw invalidArgValue('options.minSize', o.minSize, `must not exceed size (${size})`, RangeError)
  }
  if (o.idleTimeout !== undefined) numbers[AT.IDLE_TIMEOUT] = checkNonNegative(o.idleTimeout, 'options.idleTimeout', { integer: true })
  if (o.maxQueue !== undefined) numbers[AT.MAX_QUEUE] = checkNonNegative(o.maxQueue, 'options.maxQueue', { integer: true })
  if (o.taskTimeout !== undefined) numbers[AT.TASK_TIMEOUT] = checkNonNegative(o.taskTimeout, 'options.taskTimeout', { integer: true })
  const concurrency = o.concurrency === undefined ? 1 : atLeast(o.concurrency, 'options.concurrency', 1)
  if (serialization === 'advanced' && concurrency > 1) {
    throw invalidArgValue('options.concurrency', o.concurrency, "must be 1 with serialization 'advanced': its workers take their tasks as Node messages, one at a time", RangeError)
  }
  numbers[AT.CONCURRENCY] = concurrency
  if (o.maxTasksPerWorker !== undefined) numbers[AT.MAX_TASKS_PER_WORKER] = atLeast(o.maxTasksPerWorker, 'options.maxTasksPerWorker', 1)
  if (o.maxRssBytes !== undefined) numbers[AT.MAX_RSS_BYTES] = checkNonNegative(o.maxRssBytes, 'options.maxRssBytes', { integer: true })
  if (o.retries !== undefined) numbers[AT.RETRIES] = checkNonNegative(o.retries, 'options.retries', { integer: true })
  if (o.env !== undefined) native.env = envEntries(o.env, true)
  if (o.cwd !== undefined) native.cwd = checkString(o.cwd, 'options.cwd')
  if (o.stderr !== undefined && o.stderr !== 'inherit' && o.stderr !== 'pipe') {
    throw invalidArgValue('options.stderr', o.stderr, "must be 'inherit' or 'pipe'")
  }
  if (o.stderr === 'pipe') numbers[AT.STDERR_TAIL] = STDERR_TAIL
  // The same limits, checks and packed form as spawn().
  packLimits(o.limits === undefined ? undefined : normalize({ limits: o.limits }).native.limits, numbers, AT.LIMITS)
  if (o.maxStartFailures !== undefined) numbers[AT.MAX_START_FAILURES] = atLeast(o.maxStartFailures, 'options.maxStartFailures', 1)
  if (o.startBackoff !== undefined) startBackoff(o.startBackoff, numbers)
  return { native, size, concurrency, serialization }
}

/** `startBackoff: { initial = 1000, max = 30000 }` (ms, the addon's PoolDefault): the wait after failed starts, doubling up to `max`. */
function startBackoff(backoff, numbers) {
  if (backoff === null || typeof backoff !== 'object') throw invalidArgType('options.startBackoff', 'of type object', backoff)
  checkKnownKeys(backoff, 'options.startBackoff', BACKOFF_OPTIONS)
  const initial = checkNonNegative(backoff.initial ?? PoolDefault.START_BACKOFF_INITIAL_MS, 'options.startBackoff.initial', { integer: true })
  const max = checkNonNegative(backoff.max ?? Math.max(PoolDefault.START_BACKOFF_MAX_MS, initial), 'options.startBackoff.max', { integer: true })
  if (max < initial) throw invalidArgValue('options.startBackoff.max', max, `must not be less than initial (${initial})`, RangeError)
  numbers[AT.START_BACKOFF_INITIAL] = initial
  numbers[AT.START_BACKOFF_MAX] = max
}

/** A task's failure (or a start failure) from src/js/payload.rs: its message ends with the worker's stderr. */
function failureError(b) {
  const fields = {}
  if (b.exitCode != null) fields.exitCode = b.exitCode
  if (b.signal != null) fields.signal = signalName(b.signal)
  if (b.stderrTail) fields.stderr = b.stderrTail.toString('utf8')
  const tail = fields.stderr?.trim() ? `\n\n${fields.stderr.trim()}` : ''
  return offloadError(b.code, `${b.message}${tail}`, fields)
}

/**
 * A pool of worker processes. `run(task)` resolves with the worker's answer;
 * every task settles exactly once.
 */
class Pool extends EventEmitter {
  #native
  #id
  #pending = new Map()
  #nextTask = 1
  #closed = false
  // The workers are gone (POOL_CLOSED came): nothing more will settle or end.
  #gone = false
  #requests = null
  #capacity
  // Tasks and answers are V8's structured clones (serialization 'advanced').
  #advanced
  #ended
  #resolveEnded
  #held = false
  #releaseQueued = false
  // Tasks with no options, sent in one native call at the end of the tick.
  // Their ids are consecutive from #batchFirst (after MAX_TASK_ID comes 1):
  // ids are only taken in run(), and a task that does not join the batch
  // flushes it before another can.
  #batchFirst = 0
  #batchTexts = []
  #flushBatch = () => this.#flush()

  constructor(options) {
    super()
    const { native, size, concurrency, serialization } = nativeOptions(options)
    this.#capacity = size * concurrency
    this.#advanced = serialization === 'advanced'
    if (native.execPath !== undefined) {
      this.#requests = new RequestServer((id) => this.#pending.get(id)?.onRequest ?? null)
      // A pool made inside another pool's worker must not pass on the outer pool's address.
      const inherited = (native.env ?? currentEnvEntries()).filter((e) => !e.startsWith(`${REQUESTS_ENV}=`))
      native.env = [...inherited, this.#requests.envEntry]
    }
    this.#ended = new Promise((resolve) => {
      this.#resolveEnded = resolve
    })
    this.#id = channel.register(this)
    const { numbers, program, execPath, execArgv, env, cwd } = native
    this.#native = channel.native.createPool(channel.getChannel(), this.#id, numbers, program, execPath, execArgv, env, cwd)
  }

  /**
   * Runs one task on a worker. The task is any JSON-serialisable value;
   * Buffers and Uint8Arrays in it reach a `serve()` worker as raw bytes.
   * Options: `signal` (AbortSignal), `timeout` (ms, overrides `taskTimeout`),
   * `handler` (a named handler of a `serve()` worker), `onRequest` (answers
   * the task's `context.request(message)` calls: its return value or throw),
   * `meta` (JSON about the task, not part of it: the handler's `context.meta`).
   */
  run(task, options) {
    let signal, timeout, handler, onRequest, meta
    if (options !== undefined) {
      if (options === null || typeof options !== 'object') throw invalidArgType('options', 'of type object', options)
      checkKnownKeys(options, 'options', RUN_OPTIONS)
      ;({ signal, timeout, handler, onRequest, meta } = options)
      if (signal !== undefined && !(signal instanceof AbortSignal)) throw invalidArgType('options.signal', 'an instance of AbortSignal', signal)
      if (timeout !== undefined) checkNonNegative(timeout, 'options.timeout', { integer: true })
      if (handler !== undefined) {
        checkString(handler, 'options.handler')
        if (handler === '' || Buffer.byteLength(handler) > 0xffff) throw invalidArgValue('options.handler', handler, 'must be a handler name of 1 to 65535 bytes')
      }
      if (meta !== undefined) handler = withMeta(handler, meta)
      if (onRequest !== undefined) {
        if (typeof onRequest !== 'function') throw invalidArgType('options.onRequest', 'a function', onRequest)
        if (this.#requests === null) throw invalidArgValue('options.onRequest', onRequest, "needs a pool of Node workers ('script'): a 'command' worker cannot send requests")
      }
    }
    let json, buffers
    if (this.#advanced) {
      // The one buffer is the task as V8 serializes it (see src/pool/worker.rs).
      try {
        buffers = [serializeValue(task)]
      } catch (err) {
        throw invalidArgValue('task', task, `must be a value V8 can serialize (${err.message})`)
      }
      json = ''
    } else {
      try {
        ;({ json, buffers } = encodeValue(task))
      } catch (err) {
        throw invalidArgValue('task', task, `must be JSON-serialisable (${err.message})`)
      }
      if (json === undefined) throw invalidArgValue('task', task, 'must be a JSON-serialisable value')
    }
    if (this.#closed) return Promise.reject(offloadError('ERR_OFFLOAD_POOL_CLOSED', 'the pool is closed: it takes no new tasks'))
    if (signal?.aborted) return Promise.reject(abortError(signal, 'the task was aborted before it ran'))
    const id = this.#nextTask
    this.#nextTask = id === MAX_TASK_ID ? 1 : id + 1
    return new Promise((resolve, reject) => {
      const entry = { resolve, reject, signal, onAbort: null, onRequest }
      if (onRequest !== undefined) this.#requests.listen()
      if (signal) {
        entry.onAbort = () => {
          this.#flush() // the task must reach the pool before its cancel does
          this.#native.cancel(id)
        }
        signal.addEventListener('abort', entry.onAbort, { once: true })
      }
      this.#pending.set(id, entry)
      if (this.#pending.size === 1) this.#hold()
      if (buffers === null && timeout === undefined && handler === undefined) {
        if (this.#batchTexts.length === 0) {
          this.#batchFirst = id
          queueMicrotask(this.#flushBatch)
        }
        this.#batchTexts.push(json)
        return
      }
      this.#flush() // keep the order of run() calls
      this.#native.run(id, json, timeout, handler, buffers ?? undefined)
    })
  }

  #flush() {
    if (this.#batchTexts.length === 0) return
    const texts = this.#batchTexts
    this.#batchTexts = []
    this.#native.submit(this.#batchFirst, texts.join('\n'))
  }

  /** Tasks the pool runs at once when it has all its workers: `size` × `concurrency`. */
  get capacity() {
    return this.#capacity
  }

  /** `size`, `busy`, `idle`, `starting`, `queued`, counters, run/wait time percentiles (ms), and `startFailures`, `broken`, `nextStartAt` after failed starts. */
  stats() {
    const stats = this.#native.stats()
    stats.nextStartAt ??= null
    return stats
  }

  /** Takes no new tasks, finishes queued and running ones, then stops the workers (SIGKILL after `timeout` ms). */
  close({ timeout = 5000 } = {}) {
    checkNonNegative(timeout, 'options.timeout', { integer: true })
    // Again, after the end: holding the event loop now would hold it forever.
    if (this.#gone) return this.#ended
    this.#flush()
    this.#closed = true
    this.#hold() // until the workers are gone
    this.#native.close(timeout)
    return this.#ended
  }

  /** Rejects everything pending with ERR_OFFLOAD_POOL_CLOSED and kills the workers at once. */
  destroy() {
    if (this.#gone) return this.#ended
    this.#flush()
    this.#closed = true
    this.#hold()
    this.#native.destroy()
    return this.#ended
  }

  #hold() {
    if (!this.#held) {
      this.#held = true
      channel.hold()
    }
  }

  #release() {
    if (this.#held) {
      this.#held = false
      channel.release()
    }
  }

  #settle(id, value, error) {
    const entry = this.#pending.get(id)
    if (entry === undefined) return
    this.#pending.delete(id)
    if (entry.onAbort) entry.signal.removeEventListener('abort', entry.onAbort)
    if (error) entry.reject(error)
    else entry.resolve(value)
    // Idle: let go of the event loop, but only once the code awaiting this
    // answer has run, so that the next task of an `await` loop keeps the hold
    // instead of dropping and taking it again (two native calls per task).
    if (this.#pending.size === 0 && !this.#releaseQueued) {
      this.#releaseQueued = true
      queueMicrotask(this.#releaseIfIdle)
    }
  }

  #releaseIfIdle = () => {
    this.#releaseQueued = false
    if (this.#pending.size === 0 && !this.#closed) this.#release()
  }

  #answer(id, text, buffers) {
    let value
    try {
      value = decodeValue(text, buffers)
    } catch {
      const bad = offloadError('ERR_OFFLOAD_BAD_RESULT', `the worker answered with text that is not JSON: ${text.slice(0, 200)}`)
      return this.#settle(id, null, bad)
    }
    this.#settle(id, value, null)
  }

  #answerSerialized(id, bytes) {
    let value
    try {
      value = deserializeFrame(bytes)
    } catch (err) {
      const bad = offloadError('ERR_OFFLOAD_BAD_RESULT', `the worker answered with bytes V8 cannot deserialize (${err.message})`)
      return this.#settle(id, null, bad)
    }
    this.#settle(id, value, null)
  }

  #batch(ids, rest) {
    if (ids.length > 0) {
      let values = null
      try {
        values = JSON.parse(rest[0])
      } catch {
        // One answer is not JSON: take them one by one (none holds a raw newline).
      }
      if (Array.isArray(values) && values.length === ids.length) {
        for (let i = 0; i < ids.length; i++) this.#settle(ids[i], values[i], null)
      } else {
        const texts = rest[0].slice(1, -1).split('\n,')
        for (let i = 0; i < ids.length; i++) this.#answer(ids[i], texts[i] ?? '', null)
      }
    }
    for (let k = 1; k < rest.length; k += 3) this._onNativeEvent(rest[k], rest[k + 1], rest[k + 2])
  }

  // Problems no task reports. Without an 'error' listener they are
  // warnings, not a crash of the whole process.
  #problem(err) {
    if (this.listenerCount('error') > 0) this.emit('error', err)
    else process.emitWarning(err.message, { code: err.code })
  }

  /** @internal Called by the event channel. */
  _onNativeEvent(type, a, b) {
    switch (type) {
      case POOL_BATCH:
        return this.#batch(a, b)
      case TASK_OK: {
        if (typeof b === 'string') return this.#answer(a, b, null)
        if (Buffer.isBuffer(b)) return this.#answerSerialized(a, b)
        // [json, bytes, start, len, …]: views of one allocation.
        const buffers = []
        for (let k = 2; k < b.length; k += 2) buffers.push(b[1].subarray(b[k], b[k] + b[k + 1]))
        return this.#answer(a, b[0], buffers)
      }
      case TASK_FAILED:
        if (b.errorJson != null) return this.#settle(a, null, rebuildError(b.errorJson))
        if (b.code === 'ERR_OFFLOAD_ABORTED') return this.#settle(a, null, abortError(this.#pending.get(a)?.signal, b.message))
        return this.#settle(a, null, failureError(b))
      case POOL_START_FAILED:
        return this.#problem(failureError(b))
      case WORKER_EXIT:
        this.emit('workerExit', a, b.code ?? null, signalName(b.signal))
        return
      case POOL_ERROR:
        return this.#problem(offloadError(a, b))
      case POOL_CLOSED:
        this.#closed = true
        this.#gone = true
        this.#requests?.close()
        channel.unregister(this.#id)
        this.#release()
        this.#resolveEnded()
        return
    }
  }
}

module.exports = { Pool }

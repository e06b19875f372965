'use strict'
// require('offload/worker'): the worker side of a Pool. `serve(handler)` or
// `serve({ name: handler, ... })` answers the pool's tasks over a binary
// channel (fd 4, see lib/task-frame.js) with what plain process.on('message') cannot:
// async handlers, several tasks at once (the pool's `concurrency`), named
// handlers, errors with message/stack/code, an AbortSignal per task, and
// Buffers as raw bytes.

const fs = require('node:fs')
const net = require('node:net')
const { encodeValue, decodeValue } = require('./codec')
const { TaskFrame, encodeFrame, TaskFrameReader } = require('./task-frame')
const { invalidArgType, invalidArgValue, offloadError, abortError, describeError } = require('./errors')
const { RequestClient } = require('./task-requests')

const { TASK, CANCEL, HELLO, RESULT, ERROR } = TaskFrame

const SERVING = Symbol.for('offload.worker.serving')
const READY_SENT = Symbol.for('offload.worker.readySent')
/** Answers up to this size are written without net.Socket (see `write` in serveChannel). */
const DIRECT_WRITE = 64 * 1024
/** This worker's connection for `context.request()`, made on the first request. */
let requestClient = null

/**
 * What a handler gets besides its task. The AbortSignal is made when first
 * asked for: most handlers never look, and an AbortController per task is a
 * good part of a short task's cost.
 */
class TaskContext {
  #controller = null
  #reason = undefined
  #id

  constructor(id, meta) {
    this.#id = id
    /** What the parent gave as `run(task, { meta })`, or undefined. */
    this.meta = meta
  }

  /**
   * Sends `message` (JSON) to the code that ran this task; resolves with what
   * its `pool.run(task, { onRequest })` returned, or rejects with what it threw.
   */
  request(message) {
    if (this.#id === undefined) {
      return Promise.reject(offloadError('ERR_OFFLOAD_NO_REQUEST_CHANNEL', 'request() needs a worker started by an offload Pool (this one was started by child_process.fork())'))
    }
    requestClient ??= new RequestClient()
    return requestClient.request(this.#id, message)
  }

  get signal() {
    if (this.#controller === null) {
      this.#controller = new AbortController()
      if (this.#reason !== undefined) this.#controller.abort(this.#reason)
    }
    return this.#controller.signal
  }

  abort(reason) {
    if (this.#controller !== null) this.#controller.abort(reason)
    else this.#reason = reason
  }
}

function handlerTable(handlers) {
  if (typeof handlers === 'function') return new Map([['', handlers]])
  if (handlers === null || typeof handlers !== 'object') {
    throw invalidArgType('handlers', 'a function or an object of functions', handlers)
  }
  const table = new Map()
  for (const [name, fn] of Object.entries(handlers)) {
    if (typeof fn !== 'function') throw invalidArgType(`handlers.${name}`, 'a function', fn)
    if (Buffer.byteLength(name) > 0xffff) throw invalidArgValue('handlers', name, 'has a handler name longer than 65535 bytes')
    table.set(name, fn)
  }
  if (table.size === 0) throw invalidArgValue('handlers', handlers, 'must name at least one handler')
  // run(task) without a handler name: the 'default' handler, or the only one.
  if (table.has('default')) table.set('', table.get('default'))
  else if (table.size === 1) table.set('', [...table.values()][0])
  return table
}

function noHandler(name, table) {
  const known = [...table.keys()].filter((k) => k !== '')
  return name === ''
    ? offloadError('ERR_OFFLOAD_NO_HANDLER', `this worker has no default handler: pass run(task, { handler }) with one of ${known.join(', ')}, or give serve() a 'default' handler`)
    : offloadError('ERR_OFFLOAD_NO_HANDLER', `this worker has no handler named '${name}' (it has: ${known.join(', ')})`)
}

/**
 * Answers the pool's tasks with `handlers`: a function `(task, { signal }) =>
 * value | Promise<value>`, or an object of such functions chosen by
 * `pool.run(task, { handler: name })`, or a Promise of either for a worker that
 * must load something first (an ESM import, a model): the pool counts the
 * worker as started, and sends it tasks, once the promise resolves; if it
 * rejects, the worker prints why and exits 1, a worker that failed to start.
 * Call it once, when the worker's module loads.
 */
function serve(handlers) {
  const later = handlers !== null && typeof handlers === 'object' && typeof handlers.then === 'function'
  const table = later ? null : handlerTable(handlers)
  if (globalThis[SERVING]) throw offloadError('ERR_OFFLOAD_ALREADY_SERVING', 'serve() was already called in this worker')
  const fd = Number(process.env.OFFLOAD_CHANNEL_FD)
  if (Number.isInteger(fd) && fd > 2) {
    globalThis[SERVING] = true
    const concurrency = Math.max(1, Number(process.env.OFFLOAD_CONCURRENCY) || 1)
    if (later) {
      // Bad handlers from the promise are a failed start too.
      Promise.resolve(handlers)
        .then(handlerTable)
        .then((loaded) => serveChannel(fd, loaded, concurrency), startFailed)
      return
    }
    const channel = serveChannel(fd, table, concurrency)
    // serve() came after the worker said it was ready for plain messages:
    // whatever was already sent that way is answered that way.
    if (globalThis[READY_SENT]) serveMessages(table)
    return channel
  }
  if (typeof process.send === 'function') {
    // Started by child_process.fork(), not by a Pool: plain messages.
    globalThis[SERVING] = true
    serveMessages(later ? Promise.resolve(handlers).then(handlerTable, startFailed) : table)
    return
  }
  throw offloadError('ERR_OFFLOAD_NOT_A_WORKER', 'serve() runs in a worker started by an offload Pool (or by child_process.fork()); this process has no task channel')
}

/** serve(promise) whose promise rejected: this worker cannot take tasks. */
function startFailed(err) {
  process.stderr.write(`offload worker: the handlers given to serve() did not load: ${err?.stack ?? err}\n`)
  process.exit(1)
}

/** Plain `process.on('message')` tasks, answered in kind by the default handler. */
function serveMessages(tableOrPromise) {
  const loaded = Promise.resolve(tableOrPromise)
  process.on('message', (task) => {
    loaded
      .then((table) => {
        const handler = table.get('')
        if (handler === undefined) throw noHandler('', table)
        return handler(task, new TaskContext())
      })
      .then((value) => process.send(value === undefined ? null : value))
  })
}

function serveChannel(fd, table, concurrency) {
  const waiting = [] // tasks received, not started, in order
  const running = new Map() // id → TaskContext
  let out = []
  let inData = false
  let flushQueued = false
  let ended = false

  // Small answers leave with one write(2) from here while nothing waits in the
  // socket, as Node's own IPC channel writes: net.Socket's stream machinery
  // costs more than the write itself. The rest, or a would-block, goes to it.
  const write = (data) => {
    if (socket.writableLength === 0) {
      let n = 0
      try {
        n = fs.writeSync(fd, data)
      } catch (err) {
        // The parent is gone (it kills this process too): nothing to answer.
        if (err.code !== 'EAGAIN') return
      }
      if (n === data.length) return
      data = data.subarray(n)
    }
    socket.write(data)
  }
  const flush = () => {
    flushQueued = false
    if (out.length === 0) return
    const chunks = out
    out = []
    if (chunks.length === 1 && chunks[0].length <= DIRECT_WRITE) return write(chunks[0])
    let bytes = 0
    for (const c of chunks) bytes += c.length
    if (bytes <= DIRECT_WRITE) return write(Buffer.concat(chunks, bytes))
    socket.cork()
    for (const c of chunks) socket.write(c)
    socket.uncork()
  }
  const queueFlush = () => {
    if (inData || flushQueued) return
    flushQueued = true
    setImmediate(flush)
  }
  const send = (chunks) => {
    for (const c of chunks) out.push(c)
    queueFlush()
  }

  const finish = (id, value) => {
    if (!running.delete(id)) return
    let encoded
    try {
      encoded = encodeValue(value)
    } catch (err) {
      return fail(id, err, true)
    }
    send(encodeFrame(RESULT, id, '', encoded.json ?? '', encoded.buffers))
    pump()
  }
  const fail = (id, err, alreadyRemoved = false) => {
    if (!alreadyRemoved && !running.delete(id)) return
    send(encodeFrame(ERROR, id, '', describeError(err), null))
    pump()
  }
  const start = (task) => {
    // `run(task, { meta })` rides in the frame's name field: `handler NUL json`.
    let name = task.name
    let meta
    const nul = name.indexOf('\0')
    if (nul >= 0) {
      meta = JSON.parse(name.slice(nul + 1))
      name = name.slice(0, nul)
    }
    const context = new TaskContext(task.id, meta)
    running.set(task.id, context)
    let result
    try {
      const handler = table.get(name)
      if (handler === undefined) throw noHandler(name, table)
      result = handler(decodeValue(task.json, task.buffers), context)
    } catch (err) {
      return fail(task.id, err)
    }
    if (result !== null && typeof result === 'object' && typeof result.then === 'function') {
      result.then((v) => finish(task.id, v), (e) => fail(task.id, e))
    } else {
      finish(task.id, result)
    }
  }
  const pump = () => {
    while (running.size < concurrency && waiting.length > 0) start(waiting.shift())
    if (ended && running.size === 0) {
      flush()
      socket.end()
    }
  }
  const cancel = (id) => {
    const context = running.get(id)
    if (context) return context.abort(abortError(undefined, 'the task was cancelled by the pool (aborted or timed out)'))
    const at = waiting.findIndex((t) => t.id === id)
    if (at >= 0) {
      waiting.splice(at, 1)
      send(encodeFrame(ERROR, id, '', describeError(abortError(undefined, 'the task was cancelled before it started')), null))
    }
  }

  const reader = new TaskFrameReader((kind, id, name, json, buffers) => {
    if (kind === TASK) waiting.push({ id, name, json, buffers })
    else if (kind === CANCEL) cancel(id)
  })
  // Read in place (onread), as Node's own IPC channel does: no 64 KiB
  // allocation per read, no stream machinery per chunk, and a large task
  // lands in its own buffer without being copied again.
  const onRead = (n) => {
    inData = true
    try {
      reader.filled(n)
      pump()
    } finally {
      inData = false
    }
    flush()
  }
  const socket = new net.Socket({ fd, readable: true, writable: true, onread: { buffer: () => reader.target(), callback: onRead } })
  // The pool closed the channel: nothing more will come. Finish what runs,
  // then let the process end on its own.
  socket.on('end', () => {
    ended = true
    waiting.length = 0
    pump()
  })
  // The parent is gone (it kills this process too) or closed early: nothing to answer.
  socket.on('error', () => {})
  // A handler that ends the process (process.exit, an uncaught exception) must
  // not take the answers of tasks that already finished with it: they are
  // written now, synchronously, if nothing is still queued in the socket.
  process.on('exit', () => {
    if (out.length === 0 || socket.writableLength > 0) return
    const data = Buffer.concat(out)
    out = []
    let at = 0
    try {
      while (at < data.length) at += fs.writeSync(fd, data, at)
    } catch {
      // EAGAIN (the parent is not reading) or EPIPE: what is lost is lost.
    }
  })

  send(encodeFrame(HELLO, 0, '', JSON.stringify({ concurrency, handlers: [...table.keys()].filter((k) => k !== '') }), null))
  flush()
}

module.exports = { serve }

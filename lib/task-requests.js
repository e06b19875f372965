'use strict'
// Requests from a running task to the code that ran it: in a serve() worker,
// `context.request(message)` resolves with what the parent's
// `pool.run(task, { onRequest })` returned for it (or rejects with what it
// threw). This is how a task reports progress or asks its caller for something
// mid-way (offload/bullmq's job.updateProgress(), job.log(), …).
//
// The requests do not share the task channel: that one is read and written by
// the Rust pool, which would have to learn a new frame and a new event. Instead
// each pool that is ever given an `onRequest` listens on a Linux abstract Unix
// socket (no file to clean up, gone with the process) whose name and a secret
// token reach the workers in their environment; a worker connects on its first
// request and proves itself with the token. Messages are JSON, one a line.
// Pools that never use `onRequest` never listen.

const net = require('node:net')
const crypto = require('node:crypto')
const { offloadError, invalidArgValue, describeError, rebuildError } = require('./errors')

const ENV = 'OFFLOAD_REQUESTS'

/** Splits a socket's data into lines and gives each to `onLine`. */
function readLines(socket, onLine) {
  let rest = ''
  socket.setEncoding('utf8')
  socket.on('data', (chunk) => {
    rest += chunk
    let at
    while ((at = rest.indexOf('\n')) >= 0) {
      const line = rest.slice(0, at)
      rest = rest.slice(at + 1)
      onLine(line)
    }
  })
}

/**
 * The parent's side: one per Pool. `lookup(taskId)` gives the running task's
 * `onRequest`, or null when the task has settled (or was run without one).
 */
class RequestServer {
  #name = `offload-${process.pid}-${crypto.randomBytes(12).toString('hex')}`
  #token = crypto.randomBytes(24).toString('hex')
  #lookup
  #server = null
  #sockets = new Set()

  constructor(lookup) {
    this.#lookup = lookup
  }

  /** `NAME=value` for the workers' environment. */
  get envEntry() {
    return `${ENV}=${this.#name} ${this.#token}`
  }

  /** Listens, if not already: before the first task with an `onRequest` is sent. */
  listen() {
    if (this.#server !== null) return
    // For a Unix socket, listen() binds synchronously: a worker's connection
    // can never come before it.
    this.#server = net.createServer((socket) => this.#accept(socket))
    this.#server.on('error', () => {})
    this.#server.listen(`\0${this.#name}`)
    this.#server.unref()
  }

  close() {
    this.#server?.close()
    for (const socket of this.#sockets) socket.destroy()
  }

  #accept(socket) {
    socket.unref()
    socket.on('error', () => {})
    this.#sockets.add(socket)
    socket.on('close', () => this.#sockets.delete(socket))
    let trusted = false
    readLines(socket, (line) => {
      if (!trusted) {
        trusted = line === this.#token
        if (!trusted) socket.destroy()
        return
      }
      let request
      try {
        request = JSON.parse(line)
      } catch {
        return socket.destroy()
      }
      this.#answer(socket, request)
    })
  }

  #answer(socket, { task, n, message }) {
    const reply = (answer) => {
      if (!socket.destroyed) socket.write(`${answer}\n`)
    }
    const onRequest = this.#lookup(task)
    if (typeof onRequest !== 'function') {
      const err = offloadError('ERR_OFFLOAD_NO_REQUEST_HANDLER', 'nothing answers this request: the task was run without an onRequest option, or has already settled')
      return reply(`{"n":${n},"error":${describeError(err)}}`)
    }
    Promise.resolve()
      .then(() => onRequest(message))
      .then(
        (value) => {
          let json
          try {
            json = JSON.stringify(value === undefined ? null : value)
          } catch (err) {
            return reply(`{"n":${n},"error":${describeError(offloadError('ERR_OFFLOAD_BAD_RESULT', `onRequest returned a value that is not JSON-serialisable (${err.message})`))}}`)
          }
          reply(`{"n":${n},"value":${json}}`)
        },
        (err) => reply(`{"n":${n},"error":${describeError(err)}}`),
      )
  }
}

/** The worker's side: one connection per worker, made on its first request. */
class RequestClient {
  #socket = null
  #next = 1
  #pending = new Map()

  /** Sends `message` for the task `taskId`; resolves with the parent's answer. */
  request(taskId, message) {
    const address = process.env[ENV]
    if (address === undefined) {
      return Promise.reject(offloadError('ERR_OFFLOAD_NO_REQUEST_CHANNEL', 'request() needs a worker started by an offload Pool (this one was started some other way)'))
    }
    let line
    try {
      line = JSON.stringify(message === undefined ? null : message)
    } catch (err) {
      return Promise.reject(invalidArgValue('message', message, `must be JSON-serialisable (${err.message})`))
    }
    const n = this.#next++
    const socket = this.#connect(address)
    return new Promise((resolve, reject) => {
      this.#pending.set(n, { resolve, reject })
      socket.write(`{"task":${taskId},"n":${n},"message":${line}}\n`)
    })
  }

  #connect(address) {
    if (this.#socket !== null) return this.#socket
    const space = address.indexOf(' ')
    const socket = net.createConnection(`\0${address.slice(0, space)}`)
    this.#socket = socket
    // The task channel keeps the worker alive while tasks run; this one must
    // not keep it alive after.
    socket.unref()
    socket.write(`${address.slice(space + 1)}\n`)
    readLines(socket, (line) => {
      let answer
      try {
        answer = JSON.parse(line)
      } catch {
        return
      }
      const entry = this.#pending.get(answer.n)
      if (entry === undefined) return
      this.#pending.delete(answer.n)
      if (answer.error !== undefined) entry.reject(rebuildError(JSON.stringify(answer.error)))
      else entry.resolve(answer.value)
    })
    const lost = (err) => {
      this.#socket = null
      const pending = [...this.#pending.values()]
      this.#pending.clear()
      for (const { reject } of pending) {
        reject(offloadError('ERR_OFFLOAD_REQUEST_FAILED', `the request did not reach the pool's parent (${err?.message ?? 'the connection closed'})`))
      }
    }
    socket.on('error', lost)
    socket.on('close', () => lost(null))
    return socket
  }
}

module.exports = { RequestServer, RequestClient, ENV }

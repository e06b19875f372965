// The parent's side: a queue of welcome e-mails handed one at a time to a forked
// worker (mailer.js). A job is done only when the worker acknowledges it; a job
// whose worker crashed or hung runs again on a fresh worker, up to `maxAttempts`.
//
// For several workers, `new Pool({ script, retries, taskTimeout })` does all of
// this (queue, acknowledgement, retry, timeout) itself; this file shows the
// single-worker pattern that child_process.fork() guides teach, done with offload.
'use strict'
const { EventEmitter, once } = require('node:events')
const fs = require('node:fs')
const path = require('node:path')
const { fork } = require('offload')

const MAILER = path.join(__dirname, 'mailer.js')

class MailQueue extends EventEmitter {
  #outbox
  #jobTimeout
  #maxAttempts
  #smtpLatency
  #waiting = []
  #current = null
  #worker = null
  #timer = null
  #drained = null

  /**
   * @param {object} options
   * @param {string} options.outbox folder the worker delivers to
   * @param {number} [options.jobTimeout=10000] ms a job may take before its worker is killed and the job retried
   * @param {number} [options.maxAttempts=3] attempts per job before `send` rejects
   * @param {number} [options.smtpLatency=20] ms the simulated SMTP round trip takes
   */
  constructor({ outbox, jobTimeout = 10_000, maxAttempts = 3, smtpLatency = 20 }) {
    super()
    this.#outbox = outbox
    this.#jobTimeout = jobTimeout
    this.#maxAttempts = maxAttempts
    this.#smtpLatency = smtpLatency
  }

  /** The worker's pid, or undefined while none runs. */
  get workerPid() {
    return this.#worker?.pid
  }

  /** Queues one mail `{ id, to, name }`; resolves with `{ id, attempts, duplicate }` once delivered. */
  send(mail) {
    return new Promise((resolve, reject) => {
      this.#waiting.push({ mail, attempts: 0, resolve, reject })
      this.#next()
    })
  }

  /** Resolves once every queued mail is settled and the worker has exited. */
  async close() {
    if (this.#current || this.#waiting.length > 0) {
      await new Promise((resolve) => (this.#drained = resolve))
    }
    const worker = this.#worker
    if (worker === null) return
    this.#worker = null
    const exited = once(worker, 'exit')
    // The worker's IPC channel was all that kept it alive: it exits by itself.
    worker.disconnect()
    await exited
  }

  #next() {
    if (this.#current !== null) return
    const job = this.#waiting.shift()
    if (job === undefined) {
      this.#drained?.()
      this.#drained = null
      return
    }
    this.#current = job
    job.attempts++
    const worker = this.#worker ?? this.#startWorker()
    this.#timer = setTimeout(() => {
      this.emit('timeout', job.mail, worker.pid)
      // SIGTERM first; offload follows with SIGKILL after forceKillAfter if the worker ignores it.
      worker.kill()
    }, this.#jobTimeout)
    // A worker that died in the meantime rejects this write; its 'exit' retries the job.
    worker.send(job.mail).catch(() => {})
  }

  #startWorker() {
    const worker = fork(MAILER, [this.#outbox, String(this.#smtpLatency)], {
      // What offload adds to child_process.fork(): the worker dies with this
      // process even on kill -9 (an orphaned mailer would go on sending after a
      // restart queued the same mails again), a kill that escalates to SIGKILL,
      // and a memory ceiling.
      forceKillAfter: 2000,
      limits: { memoryBytes: 512 * 2 ** 20 },
    })
    worker.on('message', (message) => this.#onMessage(worker, message))
    worker.on('exit', (code, signal) => this.#onExit(worker, code, signal))
    this.#worker = worker
    return worker
  }

  #onMessage(worker, message) {
    const job = this.#current
    // An answer from a worker already replaced, or for a job already settled, is stale.
    if (worker !== this.#worker || job === null || message.id !== job.mail.id) return
    if (message.type === 'started') {
      this.emit('started', job.mail, worker.pid)
      return
    }
    clearTimeout(this.#timer)
    this.#current = null
    job.resolve({ id: job.mail.id, attempts: job.attempts, duplicate: message.duplicate })
    this.#next()
  }

  #onExit(worker, code, signal) {
    if (worker !== this.#worker) return
    this.#worker = null
    const job = this.#current
    if (job === null) return
    clearTimeout(this.#timer)
    this.#current = null
    // A mailer killed between writing its draft and linking it leaves the draft behind.
    fs.rmSync(path.join(this.#outbox, `.${job.mail.id}.${worker.pid}.draft`), { force: true })
    const reason = `the mailer (pid ${worker.pid}) exited with ${signal ?? `code ${code}`}`
    if (job.attempts >= this.#maxAttempts) {
      const err = new Error(`welcome mail ${job.mail.id} failed ${job.attempts} times; last: ${reason}. Check the mailer's stderr above.`)
      err.code = 'ERR_MAIL_FAILED'
      job.reject(err)
    } else {
      this.emit('retry', job.mail, reason)
      // First in line again, on a fresh worker.
      this.#waiting.unshift(job)
    }
    this.#next()
  }
}

module.exports = { MailQueue }

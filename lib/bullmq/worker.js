'use strict'
// offload/bullmq's Worker: BullMQ's Worker (a subclass: the same options,
// events and methods) whose jobs run in an offload Pool instead of BullMQ's
// child processes or worker threads.

const fs = require('node:fs')
const path = require('node:path')
const { fileURLToPath, pathToFileURL } = require('node:url')
const bullmq = require('./bullmq-module')
const { Pool } = require('../pool')
const { invalidArgType, invalidArgValue, offloadError } = require('../errors')
const { createProcessor, markSandbox } = require('./processor')

const RUNTIME = path.join(__dirname, 'sandbox-runtime.js')
/** Pool options the sandbox sets itself. */
const SANDBOX_OWNS = new Set(['script', 'command', 'args'])
/** BullMQ's own rule for a processor path without an extension. */
const PROCESSOR_EXTENSIONS = ['.js', '.ts', '.flow', '.cjs', '.mjs']

/** The processor file as a file URL for import(), checked to exist as BullMQ checks it. */
function processorUrl(processor) {
  let file
  if (processor instanceof URL) {
    if (processor.protocol !== 'file:') throw invalidArgValue('processor', processor.href, 'must be a file: URL')
    file = fileURLToPath(processor)
  } else if (processor.startsWith('file:')) {
    file = fileURLToPath(processor)
  } else {
    file = path.resolve(processor)
  }
  if (!PROCESSOR_EXTENSIONS.includes(path.extname(file))) file += '.js'
  if (!fs.existsSync(file)) {
    throw offloadError('ERR_OFFLOAD_BULLMQ_PROCESSOR_MISSING', `The BullMQ processor file ${file} does not exist`, { path: file })
  }
  return pathToFileURL(file).href
}

function sandboxPool(processor, poolOptions) {
  if (poolOptions === null || typeof poolOptions !== 'object') throw invalidArgType('options.pool', 'of type object', poolOptions)
  for (const key of Object.keys(poolOptions)) {
    if (SANDBOX_OWNS.has(key)) throw invalidArgValue('options.pool', poolOptions, `sets '${key}', which the Worker sets to run the processor file`)
  }
  return markSandbox(new Pool({ ...poolOptions, script: RUNTIME, args: [processorUrl(processor)] }))
}

class Worker extends bullmq.Worker {
  #pool
  #ownsPool

  /**
   * `processor`: the path or file URL of a BullMQ sandboxed processor file, or
   * an offload Pool of serve() workers (kept open by close(): it is yours).
   * `options`: BullMQ's WorkerOptions plus `pool` (offload Pool options for
   * the processor file's workers) and `handler` (for a Pool processor).
   * `backendFactory` is BullMQ's (its PostgreSQL backend, for one), passed on.
   */
  constructor(name, processor, options, backendFactory) {
    if (options === null || typeof options !== 'object') throw invalidArgType('options', 'of type object', options)
    const { pool: poolOptions, handler, ...workerOptions } = options
    let pool
    let ownsPool = false
    if (processor instanceof Pool) {
      if (poolOptions !== undefined) throw invalidArgValue('options.pool', poolOptions, 'is for a processor file; configure the Pool you pass when you create it')
      pool = processor
    } else if (typeof processor === 'string' || processor instanceof URL) {
      if (handler !== undefined) throw invalidArgValue('options.handler', handler, 'is for a Pool processor; a processor file exports one function')
      if (workerOptions.connection == null) throw new Error('Worker requires a connection') // BullMQ's check, before any process starts
      pool = sandboxPool(processor, poolOptions ?? {})
      ownsPool = true
    } else {
      throw invalidArgType('processor', 'a path or file URL of a BullMQ processor file, or an offload Pool', processor)
    }
    let processFn
    try {
      processFn = createProcessor(pool, handler === undefined ? {} : { handler })
      super(name, processFn, { concurrency: pool.capacity, ...workerOptions }, backendFactory)
    } catch (err) {
      if (ownsPool) pool.destroy()
      throw err
    }
    this.#pool = pool
    this.#ownsPool = ownsPool
    // Problems no job reports (a worker that cannot start, a protocol error) are the Worker's errors.
    if (ownsPool) pool.on('error', (err) => this.emit('error', err))
  }

  /** The offload Pool that runs this Worker's jobs. */
  get pool() {
    return this.#pool
  }

  /**
   * BullMQ's close (stop fetching, wait for the jobs in flight unless `force`,
   * close the connections), then the pool it made: closed, or destroyed with `force`.
   */
  async close(force = false) {
    try {
      await super.close(force)
    } finally {
      if (this.#ownsPool) await (force ? this.#pool.destroy() : this.#pool.close())
    }
  }
}

module.exports = { Worker }

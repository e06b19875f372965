'use strict'
// The BullMQ processor function that runs each job on an offload Pool:
// `(job, token, signal) => Promise`. Two kinds of pool:
// - a sandbox pool (lib/bullmq/sandbox-runtime.js running a BullMQ processor
//   file): the task is the job's JSON and lock token; the job methods the
//   processor calls come back as requests and are answered with the real job;
// - any serve() pool: the task is `job.data`, the handler gets `{ id, name }`
//   of the job as `context.meta` and BullMQ's cancellation as `context.signal`.
// Either way a job's own `timeout` option (`queue.add(name, data, { timeout })`:
// BullMQ keeps job options it does not know, on Redis and on PostgreSQL) is
// the task's timeout, instead of the pool's `taskTimeout`.

const { Pool } = require('../pool')
const { invalidArgType, offloadError } = require('../errors')
const { checkNonNegative, checkKnownKeys } = require('../validate')

/** The job methods a sandboxed processor may call, as BullMQ's child forwards them. */
const JOB_METHODS = new Set([
  'updateProgress', 'log', 'moveToDelayed', 'moveToWait', 'moveToWaitingChildren', 'updateData',
  'getChildrenValues', 'getIgnoredChildrenFailures', 'getDependenciesCount', 'getDependencies',
])

const SANDBOX = Symbol('offload.bullmq.sandbox')

/**
 * BullMQ keeps only a failed job's message and stack: an error of offload's
 * own (a crash, a timeout, an abort) says its code there too, so that the
 * job's failedReason tells a crash from the processor's own error.
 */
function withCodeInMessage(err) {
  if (err === null || typeof err !== 'object' || typeof err.code !== 'string' || !err.code.startsWith('ERR_OFFLOAD_')) throw err
  if (!err.message.startsWith(err.code)) {
    const old = err.message
    err.message = `${err.code}: ${old}`
    if (typeof err.stack === 'string' && err.stack.includes(old)) err.stack = err.stack.replace(old, err.message)
  }
  throw err
}

/** The job's `opts.timeout` (ms), checked; undefined when it has none. */
function jobTimeout(job) {
  const timeout = job.opts?.timeout
  return timeout == null ? undefined : checkNonNegative(timeout, 'job.opts.timeout', { integer: true })
}

function refusedMethod(method) {
  return offloadError('ERR_OFFLOAD_BULLMQ_JOB_METHOD', `a sandboxed processor cannot call job.${method}() (it can call ${[...JOB_METHODS].join(', ')})`)
}

/**
 * The processor for `pool`. For a serve() pool, `options.handler` names the
 * handler (a string, or `(job) => string`; default: the worker's default).
 */
function createProcessor(pool, options = {}) {
  if (!(pool instanceof Pool)) throw invalidArgType('pool', 'an instance of offload Pool', pool)
  if (options === null || typeof options !== 'object') throw invalidArgType('options', 'of type object', options)
  checkKnownKeys(options, 'options', ['handler'])
  const { handler } = options
  if (handler !== undefined && typeof handler !== 'string' && typeof handler !== 'function') {
    throw invalidArgType('options.handler', 'a string or a function (job) => string', handler)
  }
  if (pool[SANDBOX]) return sandboxProcessor(pool)
  // Three parameters: BullMQ passes its cancellation signal only to processors that take one.
  return async function offloadProcessor(job, token, signal) {
    const name = typeof handler === 'function' ? handler(job) : handler
    return pool.run(job.data, { signal, timeout: jobTimeout(job), handler: name, meta: { id: job.id, name: job.name } }).catch(withCodeInMessage)
  }
}

function sandboxProcessor(pool) {
  return async function offloadSandboxProcessor(job, token, signal) {
    const onRequest = ({ method, args }) => {
      if (!JOB_METHODS.has(method)) throw refusedMethod(method)
      return job[method](...args)
    }
    return pool.run({ job: job.asJSONSandbox(), token }, { signal, timeout: jobTimeout(job), onRequest }).catch(withCodeInMessage)
  }
}

/** Marks a pool as running sandbox-runtime.js. */
function markSandbox(pool) {
  pool[SANDBOX] = true
  return pool
}

module.exports = { createProcessor, markSandbox }

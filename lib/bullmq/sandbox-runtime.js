'use strict'
// The program an offload/bullmq Worker's pool runs: it loads an unchanged
// BullMQ sandboxed processor file (CommonJS `module.exports = async (job) =>
// …` or an ESM default export) and serves it. Each task is a job as BullMQ's
// own sandbox sends it (`job.asJSONSandbox()`) with its lock token; the
// processor gets the same `job` object BullMQ's child gives it, and every
// method on it that BullMQ forwards to the parent crosses back as a
// `context.request()` (lib/bullmq/processor.js answers it with the real job).
//
// The processor file is loaded before the worker counts as started: a file
// that is missing, does not parse or throws while loading is a worker that
// failed to start (the pool backs off), not a job failure per job.

const { serve } = require('../worker')

const processorFile = process.argv[2]

/** BullMQ's own rule (child-processor.js): the module's default export, or its `default`. */
async function loadProcessor(file) {
  const { default: exported } = await import(file)
  const processor = exported && typeof exported.default === 'function' ? exported.default : exported
  if (typeof processor !== 'function') throw new Error(`No function is exported in processor file ${file}`)
  return processor
}

/**
 * The `job` a BullMQ sandboxed processor gets: the job's JSON and the methods
 * BullMQ's child forwards, as own properties (as BullMQ's `wrapJob` makes it).
 * Object.assign, not an object literal spreading `json`: V8 builds a literal
 * that spreads an object and then adds functions on a slow path that keeps
 * new maps alive, 5× the time per job and young-generation collections that
 * copy megabytes (measured in bench/RESULTS.md, "Where a job's CPU goes").
 */
function sandboxJob(json, context) {
  const ask = (method, ...args) => context.request({ method, args })
  const job = Object.assign({}, json, {
    data: JSON.parse(json.data || '{}'),
    opts: json.opts,
    returnValue: JSON.parse(json.returnvalue || '{}'),
    async updateProgress(progress) {
      // Kept here too, so that the processor reads back what it set.
      this.progress = progress
      await ask('updateProgress', progress)
    },
    log: (row) => ask('log', row),
    moveToDelayed: (timestamp, token) => ask('moveToDelayed', timestamp, token),
    moveToWait: (token) => ask('moveToWait', token),
    moveToWaitingChildren: (token, opts) => ask('moveToWaitingChildren', token, opts),
    async updateData(data) {
      await ask('updateData', data)
      job.data = data
    },
    getChildrenValues: () => ask('getChildrenValues'),
    getIgnoredChildrenFailures: () => ask('getIgnoredChildrenFailures'),
    getDependenciesCount: (opts) => ask('getDependenciesCount', opts),
    getDependencies: (opts) => ask('getDependencies', opts),
  })
  return job
}

serve(
  loadProcessor(processorFile).then((processor) => async ({ job, token }, context) => {
    const result = await processor(sandboxJob(job, context), token, context.signal)
    return result === undefined ? null : result
  }),
)

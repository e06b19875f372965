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
const { sandboxJob } = require('./sandbox-job')

const processorFile = process.argv[2]

/** BullMQ's own rule (child-processor.js): the module's default export, or its `default`. */
async function loadProcessor(file) {
  const { default: exported } = await import(file)
  const processor = exported && typeof exported.default === 'function' ? exported.default : exported
  if (typeof processor !== 'function') throw new Error(`No function is exported in processor file ${file}`)
  return processor
}

serve(
  loadProcessor(processorFile).then((processor) => async ({ job, token }, context) => {
    const result = await processor(sandboxJob(job, context), token, context.signal)
    return result === undefined ? null : result
  }),
)

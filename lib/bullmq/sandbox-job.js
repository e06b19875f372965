'use strict'
// The `job` object a BullMQ sandboxed processor gets in an offload pool worker
// (lib/bullmq/sandbox-runtime.js), the same as BullMQ's child gives it.

/**
 * The job's JSON (`job.asJSONSandbox()`) and the methods BullMQ's child
 * forwards, each a `context.request()` to the parent (lib/bullmq/processor.js
 * answers it with the real job), all own properties, as BullMQ's `wrapJob`
 * makes them.
 * Object.assign, not an object literal spreading `json`: V8 builds a literal
 * that spreads an object and then adds functions on a slow path that keeps
 * new maps alive, 5× the time per job and young-generation collections that
 * copy megabytes (bench/RESULTS.md, "Queue": where a job's CPU goes).
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

module.exports = { sandboxJob }

'use strict'
// What lib/subprocess.js needs to chain children (`a.pipe(b)`, `pipeline()`):
// a piped stage's options checked, and the one outcome of a chain of stages.
// It knows nothing of Subprocess, so that lib/subprocess.js can depend on it
// and lib/pipeline.js on both, one way.

const { SubprocessError, invalidArgValue } = require('./errors')
const { normalize, checkCommand } = require('./options')

/**
 * `{ args, normalized }` for a stage whose stdin is the previous stage's
 * stdout; `(file, options)` is allowed, as for spawn().
 */
function pipedStage(file, args, options) {
  if (!Array.isArray(args) && args !== undefined && args !== null && typeof args === 'object') {
    options = args
    args = []
  }
  args = checkCommand(file, args)
  const normalized = normalize(options)
  if (normalized.native.stdin.kind !== 'pipe' || (options && options.stdin !== undefined)) {
    throw invalidArgValue('options.stdin', options.stdin, 'cannot be set for a piped stage: its stdin is the previous stage\'s stdout')
  }
  return { args, normalized }
}

/** The settled outcome of a pipeline: every stage's result, or the first failure. */
function combine(stages, outcomes, reject) {
  const last = outcomes.length - 1
  const results = outcomes.map((o) => o.result ?? o.error)
  let failed = -1
  for (let i = 0; i <= last; i++) {
    const o = outcomes[i]
    if (!o.error) continue
    // A stage that dies of SIGPIPE only found that a later stage stopped reading,
    // as in `yes | head -1`; the shell does not call that a failure either.
    if (i < last && o.error.signal === 'SIGPIPE' && o.error.code === 'ERR_OFFLOAD_SIGNAL') continue
    failed = i
    break
  }
  const final = { ...results[last], stages: results }
  if (failed === -1) {
    final.failed = false
    return final
  }
  const cause = outcomes[failed].error
  const message = `Pipeline stage ${failed + 1} of ${stages.length} (${stages[failed].command}) failed: ${cause.message}`
  // The stage's own `cause` (an abort's signal.reason) is not enumerable: pass it on.
  const options = 'cause' in cause ? { cause: cause.cause } : undefined
  const error = new SubprocessError(message, { ...cause, stage: failed, stages: results, failed: true, code: cause.code }, options)
  if (reject) throw error
  return error
}

module.exports = { pipedStage, combine }

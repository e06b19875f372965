'use strict'
// Pipelines: each stage's stdout is the next stage's stdin, one kernel pipe
// between them; the bytes never pass through JavaScript.

const { SubprocessError, invalidArgType, invalidArgValue } = require('./errors')
const { normalize, checkCommand } = require('./options')

/** Starts `file args` with its stdin fed by `source`'s stdout. */
function pipeInto(source, file, args, options) {
  if (!Array.isArray(args) && args !== undefined && args !== null && typeof args === 'object') {
    options = args
    args = []
  }
  args = checkCommand(file, args)
  const normalized = normalize(options)
  if (normalized.native.stdin.kind !== 'pipe' || (options && options.stdin !== undefined)) {
    throw invalidArgValue('options.stdin', options.stdin, 'cannot be set for a piped stage: its stdin is the previous stage\'s stdout')
  }
  const collected = source._handOverStdout()
  const upstream = [...source._upstreamStages(), source]
  const { Subprocess } = require('./subprocess')
  if (collected === null) {
    normalized.native.stdin = { kind: 'child' }
    return new Subprocess(file, args, normalized, { stdinFrom: source._native, upstream })
  }
  // The source's output was already collected: pass those bytes on.
  const next = new Subprocess(file, args, normalized, { upstream })
  collected.then((data) => next.stdin.end(data ?? Buffer.alloc(0)))
  return next
}

function stageOf(stage, index) {
  if (Array.isArray(stage)) {
    if (stage.length === 0) throw invalidArgValue(`stages[${index}]`, stage, 'is empty: a stage is [file, ...args]')
    return { file: stage[0], args: stage.slice(1), options: undefined }
  }
  if (stage && typeof stage === 'object' && typeof stage.file === 'string') return stage
  throw invalidArgType(`stages[${index}]`, 'an array [file, ...args] or { file, args, options }', stage)
}

/**
 * `pipeline(['ps', 'aux'], ['grep', 'node'])`: starts every stage and returns the
 * last one; awaiting it waits for all, and reports each in `result.stages`.
 */
function pipeline(...stages) {
  if (stages.length === 1 && Array.isArray(stages[0]) && Array.isArray(stages[0][0])) stages = stages[0]
  if (stages.length === 0) throw invalidArgValue('stages', stages, 'needs at least one stage')
  const specs = stages.map(stageOf)
  const { spawn } = require('../index.js')
  let current = spawn(specs[0].file, specs[0].args, specs[0].options)
  for (const spec of specs.slice(1)) current = pipeInto(current, spec.file, spec.args, spec.options)
  return current
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

module.exports = { pipeline, pipeInto, combine }

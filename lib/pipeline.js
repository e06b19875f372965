'use strict'
// Pipelines: each stage's stdout is the next stage's stdin, one kernel pipe
// between them; the bytes never pass through JavaScript. The chaining itself
// is Subprocess#pipe (lib/subprocess.js); this is the many-stage call.

const { spawn } = require('./exec')
const { invalidArgType, invalidArgValue } = require('./errors')

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
  let current = spawn(specs[0].file, specs[0].args, specs[0].options)
  for (const spec of specs.slice(1)) current = current.pipe(spec.file, spec.args, spec.options)
  return current
}

module.exports = { pipeline }

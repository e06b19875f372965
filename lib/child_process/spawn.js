'use strict'
// Node's spawn(): a ChildProcess, plus the `timeout` (enforced by the engine) and `signal`
// options that stop it.

const { NodeAbortError } = require('../errors')
const { validateAbortSignal } = require('../validate')
const { normalizeSpawnArguments, validateTimeout, sanitizeKillSignal } = require('./arguments')
const { ChildProcess, kLimits } = require('./child-process')

function abortChildProcess(child, killSignal, reason) {
  try {
    if (child.kill(killSignal)) child.emit('error', new NodeAbortError(undefined, { cause: reason }))
  } catch (err) {
    child.emit('error', err)
  }
}

/** Starts `file` with `args`, like Node's child_process.spawn. */
function spawn(file, args, options) {
  return spawnLimited(file, args, options)
}

/**
 * spawn(), plus what execFile() asks of the engine: `limits.maxBuffer` (streamed output
 * counts against it) and `limits.onKill(stream, kept)`, told when the engine kills the
 * child for the timeout (no arguments) or for `maxBuffer` on `stream`, the last chunk of
 * which had `kept` bytes within the limit. `timeout` and `killSignal` come from the options
 * (spawn's own) or from `limits` (execFile's).
 */
function spawnLimited(file, args, options, limits = {}) {
  const spec = normalizeSpawnArguments(file, args, options)
  const timeout = limits.timeout ?? spec.options.timeout
  const { signal } = spec.options
  validateTimeout(timeout)
  validateAbortSignal(signal, 'options.signal')
  const killSignal = limits.killSignal ?? sanitizeKillSignal(spec.options.killSignal)
  const child = new ChildProcess()
  // The engine enforces the timeout: it sends killSignal (SIGTERM by default) and nothing
  // after it, as Node's timer does, and the child is then `killed`.
  child[kLimits] = { ...limits, timeout: timeout > 0 ? timeout : undefined, killSignal }
  // Node's shape, through the public method, so code that wraps ChildProcess.prototype.spawn sees every launch.
  child.spawn({
    ...spec.options,
    file: spec.file,
    args: [typeof spec.options.argv0 === 'string' ? spec.options.argv0 : spec.file, ...spec.args],
    cwd: spec.cwd,
    envPairs: spec.envPairs,
    detached: !!spec.options.detached,
  })

  if (signal) {
    const onAbort = () => abortChildProcess(child, killSignal, signal.reason)
    if (signal.aborted) {
      process.nextTick(onAbort)
    } else {
      signal.addEventListener('abort', onAbort, { once: true })
      const remove = () => signal.removeEventListener('abort', onAbort)
      child.once('exit', remove)
      child.once('close', remove)
    }
  }
  return child
}

module.exports = { spawn, spawnLimited }

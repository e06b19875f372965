'use strict'
// Node's spawn(): a ChildProcess, plus the `timeout` and `signal` options that stop it.

const { NodeAbortError } = require('../errors')
const { validateAbortSignal } = require('../validate')
const { normalizeSpawnArguments, validateTimeout, sanitizeKillSignal } = require('./arguments')
const { ChildProcess } = require('./child-process')

function abortChildProcess(child, killSignal, reason) {
  try {
    if (child.kill(killSignal)) child.emit('error', new NodeAbortError(undefined, { cause: reason }))
  } catch (err) {
    child.emit('error', err)
  }
}

/** Starts `file` with `args`, like Node's child_process.spawn. */
function spawn(file, args, options) {
  const spec = normalizeSpawnArguments(file, args, options)
  const { timeout, signal } = spec.options
  validateTimeout(timeout)
  validateAbortSignal(signal, 'options.signal')
  const killSignal = sanitizeKillSignal(spec.options.killSignal)
  const child = new ChildProcess()
  // Node's shape, through the public method, so code that wraps ChildProcess.prototype.spawn sees every launch.
  child.spawn({
    ...spec.options,
    file: spec.file,
    args: [typeof spec.options.argv0 === 'string' ? spec.options.argv0 : spec.file, ...spec.args],
    cwd: spec.cwd,
    envPairs: spec.envPairs,
    detached: !!spec.options.detached,
  })

  if (timeout > 0) {
    let timer = setTimeout(() => {
      timer = null
      try {
        child.kill(killSignal)
      } catch (err) {
        child.emit('error', err)
      }
    }, timeout)
    const clear = () => {
      if (timer !== null) clearTimeout(timer)
      timer = null
    }
    // 'close' too: Node's timer outlives a child that never started.
    child.once('exit', clear)
    child.once('close', clear)
  }
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

module.exports = { spawn }

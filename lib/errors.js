'use strict'
// Error classes and the Node-style argument errors thrown at the call.

const { inspect } = require('node:util')

function describe(value) {
  if (value === null) return 'null'
  if (value === undefined) return 'undefined'
  if (typeof value === 'function') return `function ${value.name || '<anonymous>'}`
  if (typeof value === 'object') {
    if (value.constructor && value.constructor.name) return `an instance of ${value.constructor.name}`
    return inspect(value, { depth: -1 })
  }
  let shown = inspect(value, { colors: false })
  if (shown.length > 28) shown = `${shown.slice(0, 25)}...`
  return `type ${typeof value} (${shown})`
}

/** `TypeError` with `code: 'ERR_INVALID_ARG_TYPE'`, worded like Node's. */
function invalidArgType(name, expected, actual) {
  const err = new TypeError(`The "${name}" argument must be ${expected}. Received ${describe(actual)}`)
  err.code = 'ERR_INVALID_ARG_TYPE'
  return err
}

/** `TypeError` (or `RangeError`) with `code: 'ERR_INVALID_ARG_VALUE'`, worded like Node's. */
function invalidArgValue(name, value, reason, ErrorClass = TypeError) {
  let shown = inspect(value, { colors: false })
  if (shown.length > 128) shown = `${shown.slice(0, 128)}...`
  const err = new ErrorClass(`The argument '${name}' ${reason}. Received ${shown}`)
  err.code = 'ERR_INVALID_ARG_VALUE'
  return err
}

/**
 * A subprocess that failed: it could not start, exited non-zero, was killed by a
 * signal, timed out, was aborted or produced more output than `maxBuffer`. It
 * carries every field of a `Result` plus a stable `code`.
 */
class SubprocessError extends Error {
  constructor(message, fields) {
    super(message)
    this.name = 'SubprocessError'
    Object.assign(this, fields)
  }
}

/**
 * The native addon could not be loaded (`code: 'ERR_OFFLOAD_NATIVE_UNAVAILABLE'`): no
 * binary for this platform was installed, or it would not load. The message names the
 * platform, the package looked for, the first load error and the ways out; `loadErrors`
 * lists every load attempt's error, `platform` what was detected.
 */
class NativeUnavailableError extends Error {
  constructor(message, fields) {
    super(message)
    this.name = 'NativeUnavailableError'
    this.code = 'ERR_OFFLOAD_NATIVE_UNAVAILABLE'
    Object.assign(this, fields)
  }
}

module.exports = { SubprocessError, NativeUnavailableError, invalidArgType, invalidArgValue }

'use strict'
// Errors as JSON across a process boundary, both ways: a worker's thrown error
// to the parent (serve() answers) and a parent's error to a worker (answers to
// a task's requests, lib/task-requests.js). Message, stack, code and own
// properties survive; the class survives for the built-in ones.

/** A thrown value as JSON that `thrownError` turns back into an Error. */
function describeError(err) {
  if (!(err instanceof Error)) {
    let message
    try {
      message = typeof err === 'string' ? err : JSON.stringify(err) ?? String(err)
    } catch {
      message = String(err)
    }
    return JSON.stringify({ name: 'Error', message, notAnError: true })
  }
  const info = { name: err.name, message: err.message, stack: err.stack }
  for (const key of Object.keys(err)) {
    if (key in info) continue
    info[key] = err[key]
  }
  if (err.code !== undefined) info.code = err.code
  try {
    return JSON.stringify(info)
  } catch {
    // Own properties JSON cannot hold (cycles, BigInt): keep what matters.
    return JSON.stringify({ name: err.name, message: err.message, stack: err.stack, code: err.code })
  }
}

const BUILTIN_ERRORS = { TypeError, RangeError, SyntaxError, ReferenceError, EvalError, URIError }

/** The Error `describeError` described, rebuilt from its JSON. */
function thrownError(json) {
  let info
  try {
    info = JSON.parse(json)
  } catch {
    info = { message: 'the worker\'s handler threw' }
  }
  const Class = BUILTIN_ERRORS[info.name] ?? Error
  const err = new Class(info.message ?? '')
  for (const [key, value] of Object.entries(info)) {
    if (key === 'message' || key === 'notAnError' || (key === 'name' && Class !== Error)) continue
    if (key === 'name' && value === 'Error') continue
    err[key] = value
  }
  // The other side's stack says where it went wrong; ours would only say "the channel".
  if (typeof info.stack === 'string') err.stack = info.stack
  return err
}

module.exports = { describeError, thrownError }

'use strict'
// The argument checks every public entry point shares: the main API's options, the pool's,
// and offload/child_process. Worded and ordered like Node's internal/validators, so an
// error from offload reads like one from Node, with the same `code`.

const { Buffer } = require('node:buffer')
const { fileURLToPath } = require('node:url')
const { inspect } = require('node:util')
const { codedError, invalidArgType, invalidArgValue } = require('./errors')

function validateString(value, name) {
  if (typeof value !== 'string') throw invalidArgType(name, 'of type string', value)
}

/** Node refuses NUL bytes in anything that becomes a C string (paths, arguments, env). */
function validateNoNull(value, name) {
  if (typeof value === 'string' && value.includes('\u0000')) {
    throw invalidArgValue(name, value, 'must be a string without null bytes')
  }
}

/** A string that can cross into C: of type string, with no NUL byte. Returns it. */
function checkString(value, name) {
  validateString(value, name)
  validateNoNull(value, name)
  return value
}

function validateObject(value, name) {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw invalidArgType(name, 'of type object', value)
}

function validateArray(value, name) {
  if (!Array.isArray(value)) throw invalidArgType(name, 'an instance of Array', value)
}

function validateBoolean(value, name) {
  if (typeof value !== 'boolean') throw invalidArgType(name, 'of type boolean', value)
}

/** Like validateBoolean, returning the value. */
function checkBoolean(value, name) {
  validateBoolean(value, name)
  return value
}

function validateFunction(value, name) {
  if (typeof value !== 'function') throw invalidArgType(name, 'of type function', value)
}

/** Node's duck test: anything with `aborted` passes, as its own validator does. */
function validateAbortSignal(signal, name) {
  if (signal !== undefined && (signal === null || typeof signal !== 'object' || !('aborted' in signal))) {
    throw invalidArgType(name, 'an instance of AbortSignal', signal)
  }
}

/** A number ≥ 0 (an integer if asked; Infinity only if allowed). Returns it. */
function checkNonNegative(value, name, { integer = false, allowInfinity = false } = {}) {
  if (typeof value !== 'number' || Number.isNaN(value)) throw invalidArgType(name, 'of type number', value)
  if (value < 0 || (!allowInfinity && !Number.isFinite(value)) || (integer && Number.isFinite(value) && !Number.isInteger(value))) {
    const what = integer ? 'a non-negative integer' : 'a non-negative number'
    throw invalidArgValue(name, value, `must be ${what}`, RangeError)
  }
  return value
}

/** A path given as a string, a Buffer or a `file:` URL, as Node's fs and child_process take it. */
function checkPath(value, name) {
  if (value instanceof URL) value = fileURLToPath(value)
  else if (Buffer.isBuffer(value)) value = value.toString()
  else if (typeof value !== 'string') throw invalidArgType(name, 'of type string or an instance of Buffer or URL', value)
  validateNoNull(value, name)
  return value
}

/** The `serialization` of an IPC channel (fork, spawn with 'ipc', Pool), with Node's message. Returns it, `'json'` when absent. */
function checkSerialization(value) {
  if (value === undefined || value === 'json' || value === 'advanced') return value ?? 'json'
  let shown = inspect(value)
  if (shown.length > 128) shown = `${shown.slice(0, 128)}...`
  throw codedError(TypeError, 'ERR_INVALID_ARG_VALUE', `The property 'options.serialization' must be one of: undefined, 'json', 'advanced'. Received ${shown}`)
}

module.exports = {
  validateString,
  validateNoNull,
  checkString,
  validateObject,
  validateArray,
  validateBoolean,
  checkBoolean,
  validateFunction,
  validateAbortSignal,
  checkNonNegative,
  checkPath,
  checkSerialization,
}

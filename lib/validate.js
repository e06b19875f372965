'use strict'
// The argument checks every public entry point shares: the main API's options, the pool's,
// and offload/child_process. Worded and ordered like Node's internal/validators, so an
// error from offload reads like one from Node, with the same `code`.

const { Buffer } = require('node:buffer')
const { fileURLToPath } = require('node:url')
const { invalidArgType, invalidArgValue } = require('./errors')

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
  if (!Array.isArray(value)) throw invalidArgType(name, ['Array'], value)
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
    throw invalidArgType(name, ['AbortSignal'], signal)
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

/** Node's test for a URL: a WHATWG URL, or anything shaped like one (its isURL). */
function isURL(value) {
  return Boolean(value?.href && value.protocol && value.auth === undefined && value.path === undefined)
}

/**
 * Node's getValidatedPath: a path given as a string, a Buffer (any Uint8Array) or a `file:` URL,
 * returned as a string or the bytes. A URL of another scheme, with a host or with an encoded '/'
 * throws Node's ERR_INVALID_URL_SCHEME, ERR_INVALID_FILE_URL_HOST or ERR_INVALID_FILE_URL_PATH.
 */
function getValidatedPath(value, name) {
  if (isURL(value)) value = fileURLToPath(value)
  if (typeof value !== 'string' && !(value instanceof Uint8Array)) throw invalidArgType(name, ['string', 'Buffer', 'URL'], value)
  if (typeof value === 'string' ? value.includes('\u0000') : value.includes(0)) {
    throw invalidArgValue(name, value, 'must be a string, Uint8Array, or URL without null bytes')
  }
  return value
}

/** getValidatedPath, always as a string. */
function checkPath(value, name) {
  value = getValidatedPath(value, name)
  return typeof value === 'string' ? value : Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString()
}

/** Node's validateOneOf: "must be one of: undefined, 'json', 'advanced'". */
function validateOneOf(value, name, oneOf) {
  if (!oneOf.includes(value)) {
    const allowed = oneOf.map((v) => (typeof v === 'string' ? `'${v}'` : String(v))).join(', ')
    throw invalidArgValue(name, value, `must be one of: ${allowed}`)
  }
}

/** The `serialization` of an IPC channel (fork, spawn with 'ipc', Pool), checked as Node does. Returns it, `'json'` when absent. */
function checkSerialization(value) {
  validateOneOf(value, 'options.serialization', [undefined, 'json', 'advanced'])
  return value ?? 'json'
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
  getValidatedPath,
  checkPath,
  validateOneOf,
  checkSerialization,
}

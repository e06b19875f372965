'use strict'
// The argument checks every public entry point shares: the main API's options, the pool's,
// images' and offload/child_process. Worded and ordered like Node's internal/validators, so an
// error from offload reads like one from Node, with the same `code`. The checks of a value's
// type come from `argumentChecks`, made twice: Node's (a wrong type is ERR_INVALID_ARG_TYPE)
// and the image API's (`imageChecks`), which documents one code, ERR_INVALID_ARG_VALUE, for
// every bad argument; the words are the same.

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

/** The checks of a value's type, each throwing `wrongType(name, expected, value)` for one. */
function argumentChecks(wrongType) {
  return {
    /** A string that can cross into C: of type string, with no NUL byte. Returns it. */
    checkString(value, name) {
      if (typeof value !== 'string') throw wrongType(name, 'of type string', value)
      validateNoNull(value, name)
      return value
    },

    /** A plain object (not null, not an array). Returns it. */
    checkObject(value, name) {
      if (value === null || typeof value !== 'object' || Array.isArray(value)) throw wrongType(name, 'of type object', value)
      return value
    },

    checkBoolean(value, name) {
      if (typeof value !== 'boolean') throw wrongType(name, 'of type boolean', value)
      return value
    },

    /** A whole number from `min` to `max`. Returns it. */
    checkInteger(value, name, min, max) {
      if (typeof value !== 'number') throw wrongType(name, 'of type number', value)
      if (!Number.isInteger(value) || value < min || value > max) {
        throw invalidArgValue(name, value, `must be an integer from ${min} to ${max}`, RangeError)
      }
      return value
    },

    /** A number from `min` to `max`. Returns it. */
    checkNumber(value, name, min, max) {
      if (typeof value !== 'number') throw wrongType(name, 'of type number', value)
      if (!(value >= min && value <= max)) throw invalidArgValue(name, value, `must be a number from ${min} to ${max}`, RangeError)
      return value
    },

    checkArray(value, name) {
      if (!Array.isArray(value)) throw wrongType(name, ['Array'], value)
      return value
    },

    /** A file path as a string or a `file:` URL, not empty, without NUL bytes. Returns the string. */
    checkFilePath(value, name, expected = ['string', 'URL']) {
      if (isURL(value)) value = fileURLToPath(value)
      if (typeof value !== 'string') throw wrongType(name, expected, value)
      if (value === '') throw invalidArgValue(name, value, 'must not be empty')
      validateNoNull(value, name)
      return value
    },

    /** Node's duck test: anything with `aborted` passes, as its own validator does. Returns it. */
    checkAbortSignal(signal, name) {
      if (signal !== undefined && (signal === null || typeof signal !== 'object' || !('aborted' in signal))) {
        throw wrongType(name, ['AbortSignal'], signal)
      }
      return signal
    },
  }
}

const { checkString, checkObject, checkBoolean, checkArray, checkAbortSignal } = argumentChecks(invalidArgType)

/** The image API's checks: the same words, ERR_INVALID_ARG_VALUE for every mistake. */
const imageChecks = argumentChecks((name, expected, actual) => invalidArgType(name, expected, actual, 'ERR_INVALID_ARG_VALUE'))

function validateFunction(value, name) {
  if (typeof value !== 'function') throw invalidArgType(name, 'of type function', value)
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

/** Every key of the object `value` is one of `known` (an array or a Set), or it throws naming the first that is not. */
function checkKnownKeys(value, name, known) {
  const has = Array.isArray(known) ? (key) => known.includes(key) : (key) => known.has(key)
  for (const key of Object.keys(value)) {
    if (!has(key)) throw invalidArgValue(name, value, `has an unknown option '${key}' (known: ${[...known].join(', ')})`)
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
  validateObject: checkObject,
  validateArray: checkArray,
  validateBoolean: checkBoolean,
  checkBoolean,
  validateFunction,
  validateAbortSignal: checkAbortSignal,
  checkNonNegative,
  getValidatedPath,
  checkPath,
  validateOneOf,
  checkKnownKeys,
  checkSerialization,
  imageChecks,
}

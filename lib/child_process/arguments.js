'use strict'
// Node's argument handling for spawn() and execFile(): the overloads, the checks in Node 20's
// order, `shell`, the child's environment, and the signal and timeout options.

const { constants } = require('node:os')
const { invalidArgType, invalidArgValue, codedError, outOfRange } = require('../errors')
const { validateString, validateNoNull, validateObject, validateBoolean, validateFunction, checkPath } = require('../validate')
const { IPC_FD } = require('./stdio')

function validateTimeout(timeout) {
  if (timeout != null && !(Number.isInteger(timeout) && timeout >= 0)) throw outOfRange('timeout', 'an unsigned integer', timeout)
}

function validateMaxBuffer(maxBuffer) {
  if (maxBuffer != null && !(typeof maxBuffer === 'number' && maxBuffer >= 0)) {
    throw outOfRange('options.maxBuffer', 'a positive number', maxBuffer)
  }
}

/** Like Node's convertToValidSignal: a known number, or a name in any case. */
function convertToValidSignal(signal) {
  if (typeof signal === 'number' && Object.values(constants.signals).includes(signal)) return signal
  if (typeof signal === 'string') {
    const number = constants.signals[signal.toUpperCase()]
    if (number !== undefined) return number
  }
  throw codedError(TypeError, 'ERR_UNKNOWN_SIGNAL', `Unknown signal: ${signal}`)
}

function sanitizeKillSignal(killSignal) {
  if (typeof killSignal === 'string' || typeof killSignal === 'number') return convertToValidSignal(killSignal)
  if (killSignal != null) throw invalidArgType('options.killSignal', 'of type string or number', killSignal)
  return undefined
}

/** Node's normalizeSpawnArguments: validation, `shell`, `env`, in Node's order. */
function normalizeSpawnArguments(file, args, options) {
  validateString(file, 'file')
  validateNoNull(file, 'file')
  if (file.length === 0) throw invalidArgValue('file', file, 'cannot be empty')
  if (Array.isArray(args)) {
    args = [...args]
  } else if (args == null) {
    args = []
  } else if (typeof args !== 'object') {
    throw invalidArgType('args', 'of type object', args)
  } else {
    options = args
    args = []
  }
  args.forEach((arg, i) => validateNoNull(arg, `args[${i}]`))
  if (options === undefined) options = {}
  else validateObject(options, 'options')
  options = { ...options }

  const cwd = options.cwd != null ? checkPath(options.cwd, 'options.cwd') : undefined
  if (options.detached != null) validateBoolean(options.detached, 'options.detached')
  if (options.uid != null && !isInt32(options.uid)) throw invalidArgType('options.uid', 'int32', options.uid)
  if (options.gid != null && !isInt32(options.gid)) throw invalidArgType('options.gid', 'int32', options.gid)
  if (options.shell != null && typeof options.shell !== 'boolean' && typeof options.shell !== 'string') {
    throw invalidArgType('options.shell', 'of type boolean or string', options.shell)
  }
  if (options.argv0 != null) {
    validateString(options.argv0, 'options.argv0')
    validateNoNull(options.argv0, 'options.argv0')
  }
  // Accepted for portability; they mean nothing on Linux.
  if (options.windowsHide != null) validateBoolean(options.windowsHide, 'options.windowsHide')
  if (options.windowsVerbatimArguments != null) validateBoolean(options.windowsVerbatimArguments, 'options.windowsVerbatimArguments')

  if (options.shell) {
    validateNoNull(options.shell, 'options.shell')
    const command = [file, ...args].join(' ')
    file = typeof options.shell === 'string' ? options.shell : '/bin/sh'
    args = ['-c', command]
  }
  // Node converts each argument with ToString.
  args = args.map((arg) => `${arg}`)
  return { file, args, cwd, options }
}

function isInt32(value) {
  return value === (value | 0)
}

/** The environment Node would give: `options.env` replaces ours, inherited keys included. */
function childEnv(optionsEnv, ipc, serialization) {
  if (optionsEnv == null && !ipc) return undefined
  const source = optionsEnv || process.env
  const env = {}
  for (const key in source) {
    if (source[key] !== undefined) env[key] = source[key]
  }
  // Node always passes this on, so coverage tools see their children.
  if (process.env.NODE_V8_COVERAGE && optionsEnv && !Object.hasOwn(optionsEnv, 'NODE_V8_COVERAGE')) {
    env.NODE_V8_COVERAGE = process.env.NODE_V8_COVERAGE
  }
  if (ipc) {
    env.NODE_CHANNEL_FD = String(IPC_FD)
    env.NODE_CHANNEL_SERIALIZATION_MODE = serialization
  }
  return env
}

function normalizeExecFileArgs(file, args, options, callback) {
  if (Array.isArray(args)) {
    args = [...args]
  } else if (args != null && typeof args === 'object') {
    callback = options
    options = args
    args = null
  } else if (typeof args === 'function') {
    callback = args
    options = null
    args = null
  }
  if (args == null) args = []
  if (typeof options === 'function') callback = options
  else if (options != null) validateObject(options, 'options')
  if (options == null) options = {}
  if (callback != null) validateFunction(callback, 'callback')
  if (options.argv0 != null) {
    validateString(options.argv0, 'options.argv0')
    validateNoNull(options.argv0, 'options.argv0')
  }
  return { file, args, options, callback }
}

module.exports = {
  validateTimeout,
  validateMaxBuffer,
  convertToValidSignal,
  sanitizeKillSignal,
  normalizeSpawnArguments,
  normalizeExecFileArgs,
  childEnv,
}

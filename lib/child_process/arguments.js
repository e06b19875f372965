'use strict'
// Node's argument handling for spawn(), exec(), execFile() and fork() and for their sync
// forms: the overloads, the checks in Node 20's order with Node's codes and messages, `shell`,
// the child's environment as Node's `envPairs`, and the signal and timeout options.

const { constants } = require('node:os')
const { format } = require('node:util')
const { invalidArgType, invalidArgValue, codedError, outOfRange } = require('../errors')
const { validateString, validateNoNull, validateObject, validateBoolean, validateFunction, getValidatedPath } = require('../validate')

/** Node's default maxBuffer for execFile(), exec() and the sync functions: 1 MiB. */
const MAX_BUFFER = 1024 * 1024

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
  throw codedError(TypeError, 'ERR_UNKNOWN_SIGNAL', format('Unknown signal: %s', signal))
}

function sanitizeKillSignal(killSignal) {
  if (typeof killSignal === 'string' || typeof killSignal === 'number') return convertToValidSignal(killSignal)
  if (killSignal != null) throw invalidArgType('options.killSignal', ['string', 'number'], killSignal)
  return undefined
}

/**
 * Node's normalizeSpawnArguments: validation, `shell` and the environment, in Node's order.
 * `args` are the arguments after argv[0] (`options.argv0`, else `file`); `envPairs` is the
 * child's whole environment as `KEY=value` strings, as Node hands it to ChildProcess#spawn.
 */
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
  validateEachNoNull(args, 'args')
  if (options === undefined) options = {}
  else validateObject(options, 'options')
  options = { ...options }

  const cwd = options.cwd != null ? getValidatedPath(options.cwd, 'options.cwd') : undefined
  if (options.detached != null) validateBoolean(options.detached, 'options.detached')
  if (options.uid != null && !isInt32(options.uid)) throw invalidArgType('options.uid', 'int32', options.uid)
  if (options.gid != null && !isInt32(options.gid)) throw invalidArgType('options.gid', 'int32', options.gid)
  if (options.shell != null && typeof options.shell !== 'boolean' && typeof options.shell !== 'string') {
    throw invalidArgType('options.shell', ['boolean', 'string'], options.shell)
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
  return { file, args, cwd, options, envPairs: envPairs(options.env) }
}

/** Node's check of every string of a list (args, execArgv) for NUL bytes, named `name[i]`. */
function validateEachNoNull(list, name) {
  for (let i = 0; i < list.length; i++) validateNoNull(list[i], `${name}[${i}]`)
}

function isInt32(value) {
  return value === (value | 0)
}

/** The child's environment as Node builds it: `options.env` (inherited keys included) or ours. */
function envPairs(optionsEnv) {
  const env = optionsEnv || process.env
  const pairs = []
  // Node always passes this on, so coverage tools see their children.
  const coverage = process.env.NODE_V8_COVERAGE
  const addCoverage = coverage && optionsEnv && !Object.hasOwn(optionsEnv, 'NODE_V8_COVERAGE')
  for (const key in env) {
    const value = env[key]
    if (value === undefined) continue
    validateNoNull(key, `options.env['${key}']`)
    validateNoNull(value, `options.env['${key}']`)
    pairs.push(`${key}=${value}`)
  }
  if (addCoverage) pairs.push(`NODE_V8_COVERAGE=${coverage}`)
  return pairs
}

/** `KEY=value` strings back to the object offload's engine takes; the first of a repeated key wins, as getenv() reads it. */
function envFromPairs(pairs) {
  const env = {}
  for (const pair of pairs) {
    const text = `${pair}`
    const eq = text.indexOf('=', 1)
    const key = eq === -1 ? text : text.slice(0, eq)
    if (!Object.hasOwn(env, key)) env[key] = eq === -1 ? '' : text.slice(eq + 1)
  }
  return env
}

/** Node's normalizeExecArgs, for exec() and execSync(): the command runs in a shell (`options.shell`, else /bin/sh). */
function normalizeExecArgs(command, options, callback) {
  validateString(command, 'command')
  validateNoNull(command, 'command')
  if (typeof options === 'function') {
    callback = options
    options = undefined
  }
  options = { ...options }
  options.shell = typeof options.shell === 'string' ? options.shell : true
  return { file: command, options, callback }
}

/**
 * spawnSync()'s checks before its stdio, in Node's order: normalizeSpawnArguments, then
 * `timeout`, `maxBuffer` (1 MiB unless given) and `killSignal` (as a signal number).
 */
function normalizeSpawnSyncArguments(file, args, options) {
  const spec = normalizeSpawnArguments(file, args, options)
  const maxBuffer = Object.hasOwn(spec.options, 'maxBuffer') ? spec.options.maxBuffer : MAX_BUFFER
  validateTimeout(spec.options.timeout)
  validateMaxBuffer(maxBuffer)
  const killSignal = sanitizeKillSignal(spec.options.killSignal)
  return { ...spec, timeout: spec.options.timeout, maxBuffer, killSignal }
}

/** spawnSync()'s check of data for descriptor `index` (`options.input` is index 0): bytes or a string. */
function validateSyncInput(input, index) {
  if (!ArrayBuffer.isView(input) && typeof input !== 'string') {
    throw invalidArgType(`options.stdio[${index}]`, ['Buffer', 'TypedArray', 'DataView', 'string'], input)
  }
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
  MAX_BUFFER,
  validateEachNoNull,
  validateTimeout,
  validateMaxBuffer,
  convertToValidSignal,
  sanitizeKillSignal,
  normalizeSpawnArguments,
  normalizeExecArgs,
  normalizeExecFileArgs,
  normalizeSpawnSyncArguments,
  validateSyncInput,
  envFromPairs,
  isInt32,
}

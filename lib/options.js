'use strict'
// Validates the options of spawn/execFile/exec/fork and turns them into the
// native options. Every mistake throws at the call, with Node's error codes.

const { Buffer } = require('node:buffer')
const { fileURLToPath } = require('node:url')
const { invalidArgType, invalidArgValue } = require('./errors')
const { checkString, checkBoolean, checkNonNegative, checkKnownKeys } = require('./validate')
const { signalNumber } = require('./signals')

// The engine's defaults (src/process/request.rs, exported by src/js/spawn.rs).
const { SpawnDefault } = require('./binding')

const KNOWN = new Set([
  'cwd', 'env', 'extendEnv', 'argv0', 'stdin', 'stdout', 'stderr', 'encoding', 'maxBuffer', 'timeout',
  'signal', 'killSignal', 'forceKillAfter', 'killTree', 'detached', 'uid', 'gid', 'limits', 'cleanup',
  'reject', 'stripFinalNewline',
])
// Options of one function only (it takes them off before the rest is checked here); given
// to another, they would be ignored, so they throw with where they belong.
const ONLY_IN = {
  shell: 'exec() takes (spawn, execFile, $ and pipeline never start a shell: give the whole command line to exec())',
  execPath: 'fork() takes',
  execArgv: 'fork() takes',
  serialization: 'fork() takes',
}
const LIMITS = ['memoryBytes', 'cpuSeconds', 'openFiles', 'processes', 'fileSizeBytes', 'nice']

/** `file` and `args` as Node checks them. */
function checkCommand(file, args, fileName = 'file') {
  checkString(file, fileName)
  if (file.length === 0) throw invalidArgValue(fileName, file, 'cannot be empty')
  if (args === undefined || args === null) return []
  if (!Array.isArray(args)) throw invalidArgType('args', 'an instance of Array', args)
  return args.map((arg, i) => checkString(arg, `args[${i}]`))
}

// A file: URL may encode a NUL byte (%00), which fileURLToPath decodes: checked after.
function toPath(value, name) {
  return checkString(value instanceof URL ? fileURLToPath(value) : value, name)
}

/** The child's environment as `KEY=value` entries (this process's first when `extendEnv`), each refused with a NUL byte; `undefined` to let the native side copy ours. Shared with the pool's `env`. */
function envEntries(env, extendEnv) {
  if (env === undefined && extendEnv) return undefined // the native side copies ours: cheaper
  if (env !== undefined && (env === null || typeof env !== 'object')) throw invalidArgType('options.env', 'of type object', env)
  const merged = extendEnv ? { ...process.env, ...env } : { ...env }
  const entries = []
  for (const key of Object.keys(merged)) {
    const value = merged[key]
    if (value === undefined) continue
    const entry = `${key}=${value}`
    if (entry.includes('\0')) throw invalidArgValue(`options.env['${key}']`, value, 'must be a string without null bytes')
    entries.push(entry)
  }
  return entries
}

function fdOf(value) {
  // A Node stream with a descriptor (process.stdout, fs.WriteStream after open).
  if (value && typeof value === 'object' && Number.isInteger(value.fd) && value.fd >= 0) return value.fd
  return undefined
}

function inputSpec(value, name) {
  if (value === undefined || value === 'pipe' || value === 'overlapped') return { kind: 'pipe' }
  if (value === 'ignore') return { kind: 'ignore' }
  if (value === 'inherit') return { kind: 'fd', fd: 0 }
  if (typeof value === 'string') return { kind: 'data', data: Buffer.from(value) }
  if (Buffer.isBuffer(value)) return { kind: 'data', data: value }
  if (value instanceof Uint8Array) return { kind: 'data', data: Buffer.from(value.buffer, value.byteOffset, value.byteLength) }
  if (Number.isInteger(value) && value >= 0) return { kind: 'fd', fd: value }
  if (value && typeof value === 'object') {
    if (value.file !== undefined) return { kind: 'file', path: toPath(value.file, `${name}.file`) }
    const fd = fdOf(value)
    if (fd !== undefined) return { kind: 'fd', fd }
  }
  throw invalidArgValue(name, value, "must be 'pipe', 'inherit', 'ignore', a string, a Buffer, a file descriptor or { file }")
}

function outputSpec(value, name, inheritFd) {
  if (value === undefined || value === 'pipe' || value === 'overlapped') return { kind: 'pipe' }
  if (value === 'ignore') return { kind: 'ignore' }
  if (value === 'inherit') return { kind: 'fd', fd: inheritFd }
  if (Number.isInteger(value) && value >= 0) return { kind: 'fd', fd: value }
  if (value && typeof value === 'object') {
    if (value.file !== undefined) {
      const append = value.append === undefined ? false : checkBoolean(value.append, `${name}.append`)
      return { kind: 'file', path: toPath(value.file, `${name}.file`), append }
    }
    const fd = fdOf(value)
    if (fd !== undefined) return { kind: 'fd', fd }
  }
  throw invalidArgValue(name, value, "must be 'pipe', 'inherit', 'ignore', a file descriptor or { file, append }")
}

function limitsSpec(limits) {
  if (limits === undefined) return undefined
  if (limits === null || typeof limits !== 'object') throw invalidArgType('options.limits', 'of type object', limits)
  const out = {}
  for (const key of Object.keys(limits)) {
    if (!LIMITS.includes(key)) {
      throw invalidArgValue('options.limits', limits, `has an unknown limit '${key}' (known: ${LIMITS.join(', ')})`)
    }
    const value = limits[key]
    if (value === undefined) continue
    if (key === 'nice') {
      if (!Number.isInteger(value) || value < -20 || value > 19) {
        throw invalidArgValue('options.limits.nice', value, 'must be an integer from -20 to 19', RangeError)
      }
    } else {
      checkNonNegative(value, `options.limits.${key}`, { integer: true })
    }
    out[key] = value
  }
  return out
}

/**
 * Validates `options` for a launch. Returns `{ native, settings }`: the options
 * for the native spawn, and what the JS side needs (encoding, reject, signal…).
 */
function normalize(options) {
  if (options === undefined || options === null) options = {}
  if (typeof options !== 'object') throw invalidArgType('options', 'of type object', options)
  for (const key of Object.keys(options)) {
    if (Object.hasOwn(ONLY_IN, key)) throw invalidArgValue('options', options, `has the option '${key}', which only ${ONLY_IN[key]}`)
  }
  checkKnownKeys(options, 'options', KNOWN)
  const o = options
  const native = {}
  if (o.cwd !== undefined && o.cwd !== null) native.cwd = toPath(o.cwd, 'options.cwd')
  if (o.argv0 !== undefined) native.argv0 = checkString(o.argv0, 'options.argv0')
  const extendEnv = o.extendEnv === undefined ? true : checkBoolean(o.extendEnv, 'options.extendEnv')
  native.env = envEntries(o.env === null ? undefined : o.env, extendEnv)
  native.stdin = inputSpec(o.stdin, 'options.stdin')
  native.stdout = outputSpec(o.stdout, 'options.stdout', 1)
  native.stderr = outputSpec(o.stderr, 'options.stderr', 2)
  if (o.detached !== undefined) native.detached = checkBoolean(o.detached, 'options.detached')
  if (o.killTree !== undefined) native.killTree = checkBoolean(o.killTree, 'options.killTree')
  if (o.cleanup !== undefined) native.cleanup = checkBoolean(o.cleanup, 'options.cleanup')
  if (o.uid !== undefined) native.uid = checkNonNegative(o.uid, 'options.uid', { integer: true })
  if (o.gid !== undefined) native.gid = checkNonNegative(o.gid, 'options.gid', { integer: true })
  native.limits = limitsSpec(o.limits)
  if (o.timeout !== undefined && o.timeout !== null) native.timeout = checkNonNegative(o.timeout, 'options.timeout', { integer: true })
  native.killSignal = signalNumber(o.killSignal ?? SpawnDefault.KILL_SIGNAL, 'options.killSignal')
  // false: never (absent for the native side).
  if (o.forceKillAfter !== false) native.forceKillAfter = checkNonNegative(o.forceKillAfter ?? SpawnDefault.FORCE_KILL_AFTER_MS, 'options.forceKillAfter')
  const maxBuffer = o.maxBuffer ?? SpawnDefault.MAX_BUFFER
  checkNonNegative(maxBuffer, 'options.maxBuffer', { allowInfinity: true })
  native.maxBuffer = Number.isFinite(maxBuffer) ? maxBuffer : Number.MAX_SAFE_INTEGER

  const encoding = o.encoding ?? 'utf8'
  if (encoding !== 'buffer' && !Buffer.isEncoding(encoding)) {
    throw invalidArgValue('options.encoding', encoding, "must be 'buffer' or a Buffer encoding such as 'utf8'")
  }
  if (o.signal !== undefined && !(o.signal instanceof AbortSignal)) {
    throw invalidArgType('options.signal', 'an instance of AbortSignal', o.signal)
  }
  const settings = {
    encoding,
    reject: o.reject === undefined ? true : checkBoolean(o.reject, 'options.reject'),
    stripFinalNewline: o.stripFinalNewline === undefined ? true : checkBoolean(o.stripFinalNewline, 'options.stripFinalNewline'),
    signal: o.signal,
    limits: native.limits,
    timeout: native.timeout,
  }
  return { native, settings }
}

/**
 * The Node flags a forked child or pool worker inherits: this process's, minus `-e <code>` /
 * `-p <code>` (as Node's own fork() does), or under `node -e` every child would run the same
 * code again, start its own children, and so on.
 */
function inheritedExecArgv() {
  const execArgv = process.execArgv
  if (process._eval == null) return execArgv
  const index = execArgv.lastIndexOf(process._eval)
  return index > 0 ? [...execArgv.slice(0, index - 1), ...execArgv.slice(index + 1)] : execArgv
}

module.exports = { normalize, checkCommand, inheritedExecArgv, envEntries }

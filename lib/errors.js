'use strict'
// Every error offload raises is made here, so that one kind of failure has one
// shape wherever it happens:
// - Node's own failures keep Node's shape: argument errors (ERR_INVALID_ARG_*),
//   launch failures (`spawn ls ENOENT`, with errno, syscall, path, spawnargs),
//   and file errors, which are exactly what `fs` gives (`ENOENT: no such file or
//   directory, open '/nope.jpg'`, with code, errno, syscall, path).
// - offload's own failures are an `Error` with a stable `code` from CODES below.
// - Every abort, by any API, is an `Error` named 'AbortError' (what code that
//   checks `err.name === 'AbortError'` expects, as with Node's own APIs) with
//   `code: 'ERR_OFFLOAD_ABORTED'` and `cause: signal.reason`. A subprocess's abort
//   is a SubprocessError (it keeps the result fields) whose name is 'AbortError'.
//   offload/child_process alone gives Node's AbortError (`code: 'ABORT_ERR'`),
//   because it promises Node's behaviour.
// The engines in Rust report raw facts (an errno and a syscall, a failure kind);
// the Errors are built here, so their names and texts come from Node's tables.

const { constants } = require('node:os')
const { inspect, getSystemErrorMap, getSystemErrorName } = require('node:util')

/**
 * offload's own error codes, each with what it means. The README's error table
 * lists the same codes (a test checks both ways).
 */
const CODES = Object.freeze({
  // Subprocesses (spawn, execFile, exec, $, pipeline, fork): a SubprocessError.
  ERR_OFFLOAD_EXIT_CODE: 'the command exited with a non-zero code (`exitCode`)',
  ERR_OFFLOAD_SIGNAL: 'a signal killed the command (`signal`)',
  ERR_OFFLOAD_MAX_BUFFER: 'an output passed `maxBuffer`; the command was killed and the output is cut at `maxBuffer`',
  ERR_OFFLOAD_CPU_LIMIT: 'the command used `limits.cpuSeconds` and was killed (SIGXCPU, then SIGKILL)',
  ERR_OFFLOAD_FILE_SIZE_LIMIT: 'the command wrote past `limits.fileSizeBytes` (SIGXFSZ)',
  ERR_OFFLOAD_SPAWN_FAILED: 'the launch failed for a reason the OS gives no errno for',
  ERR_OFFLOAD_STDOUT_UNAVAILABLE: 'pipe() or lines() on a child whose stdout is not a pipe, is already piped, or is being read as a stream',
  // Shared by subprocesses and pool tasks.
  ERR_OFFLOAD_TIMEOUT: '`timeout` (or the pool\'s `taskTimeout`) passed; the command or worker was killed',
  ERR_OFFLOAD_ABORTED: 'the `signal` was aborted; the error is named AbortError and its `cause` is `signal.reason`',
  // Pool tasks.
  ERR_OFFLOAD_WORKER_CRASHED: 'the worker died while running the task (`exitCode` or `signal`, and `stderr` when piped)',
  ERR_OFFLOAD_WORKER_START_FAILED:
    'pool workers die before they are ready, `maxStartFailures` times in a row, and none is ready; the message has the script or command, the exit code or signal and the tail of its stderr (also the pool\'s \'error\' event, once per episode)',
  ERR_OFFLOAD_QUEUE_FULL: '`maxQueue` tasks are already waiting',
  ERR_OFFLOAD_POOL_CLOSED: 'the pool is closing or was destroyed',
  ERR_OFFLOAD_NO_HANDLER: 'the task names no handler of the worker, or the worker does not call serve()',
  ERR_OFFLOAD_BAD_RESULT: 'the worker answered with something that is not JSON (or, with `serialization: \'advanced\'`, bytes V8 cannot deserialize), or a task\'s `onRequest` returned a value JSON cannot hold (the worker\'s `request()` rejects)',
  // A pool's 'error' event.
  ERR_OFFLOAD_WORKER_PROTOCOL: 'a worker wrote garbage on its task channel; it is replaced',
  ERR_OFFLOAD_WORKER_UNRESPONSIVE: 'a serve() handler ignored its AbortSignal for 1 s; its worker is replaced',
  // serve() in a worker (offload/worker).
  ERR_OFFLOAD_ALREADY_SERVING: 'serve() was called twice in one worker',
  ERR_OFFLOAD_NOT_A_WORKER: 'serve() was called in a process no pool (or fork()) started',
  // A serve() handler's context.request() (lib/task-requests.js).
  ERR_OFFLOAD_NO_REQUEST_HANDLER: 'the task was run without `onRequest`, or has already settled',
  ERR_OFFLOAD_REQUEST_FAILED: 'the connection to the pool\'s parent was lost before the answer came',
  ERR_OFFLOAD_NO_REQUEST_CHANNEL: 'the worker was not started by an offload Pool, so no one can answer',
  // offload/bullmq.
  ERR_OFFLOAD_BULLMQ_MISSING: 'offload/bullmq was loaded without the `bullmq` package installed',
  ERR_OFFLOAD_BULLMQ_PROCESSOR_MISSING: 'the Worker\'s processor file does not exist (`path`)',
  ERR_OFFLOAD_BULLMQ_JOB_METHOD: 'a sandboxed processor called a job method BullMQ\'s sandbox does not forward',
  // Images.
  ERR_OFFLOAD_IMAGE_CORRUPT: 'truncated or damaged image data',
  ERR_OFFLOAD_IMAGE_UNSUPPORTED: 'not a format offload reads (or writes), or AVIF input in a build without libdav1d',
  ERR_OFFLOAD_IMAGE_TOO_LARGE: 'over `limitInputPixels` or 65535 pixels a side, judged from the header',
  // offload/child_process.
  ERR_OFFLOAD_UNSUPPORTED_OPTION: 'an option of Node\'s child_process that offload cannot honour',
  // Loading offload itself.
  ERR_OFFLOAD_NATIVE_UNAVAILABLE:
    'no prebuilt binary for this platform was installed, or it would not load; the message names the platform, the package, the load error and the ways out',
  // The `offload thumbs` command line.
  ERR_OFFLOAD_OUTPUT_IS_INPUT: '`--out` would overwrite an input',
  ERR_OFFLOAD_CLI: 'a thumbnail failed with an error that has no code of its own',
})

const ABORTED = 'ERR_OFFLOAD_ABORTED'

/** An `Error` with one of offload's `code`s and extra fields; an abort is named AbortError. */
function offloadError(code, message, fields = undefined, options = undefined) {
  const err = new Error(message, options)
  if (code === ABORTED) err.name = 'AbortError'
  err.code = code
  return fields === undefined ? err : Object.assign(err, fields)
}

/** What every abort rejects with; `cause` is `signal.reason`. */
function abortError(signal, message = 'The operation was aborted') {
  const reason = signal?.reason
  return offloadError(ABORTED, message, undefined, reason === undefined ? undefined : { cause: reason })
}

/**
 * A subprocess that failed: it could not start, exited non-zero, was killed by a
 * signal, timed out, was aborted or produced more output than `maxBuffer`. It
 * carries every field of a `Result` plus a stable `code`. An aborted one is
 * named 'AbortError' (and has `cause: signal.reason`) but is still a
 * SubprocessError, so both `err.name === 'AbortError'` and
 * `err instanceof SubprocessError` hold.
 */
class SubprocessError extends Error {
  constructor(message, fields, options = undefined) {
    super(message, options)
    Object.assign(this, fields)
    this.name = fields.code === ABORTED ? 'AbortError' : 'SubprocessError'
  }
}

/**
 * Node's own AbortError, for offload/child_process only, which promises Node's
 * shapes: `code: 'ABORT_ERR'`, and a constructor named AbortError as Node's.
 */
const NodeAbortError = class AbortError extends Error {
  constructor(message = 'The operation was aborted', options = undefined) {
    super(message, options)
    this.code = 'ABORT_ERR'
    this.name = 'AbortError'
  }
}

/** A mistake on the `offload` command line: reported with a usage hint, exit code 2. */
class UsageError extends Error {
  constructor(message) {
    super(message)
    this.name = 'UsageError'
  }
}

// Node's argument errors, worded like Node's (internal/errors.js): the same classes, codes,
// messages, `toString()` and stack header ("TypeError [ERR_INVALID_ARG_TYPE]: The ...").

/** How Node names the value it received: "type number (5)", "an instance of Map", "function foo". */
function describe(value) {
  if (value === null) return 'null'
  if (value === undefined) return 'undefined'
  switch (typeof value) {
    case 'number':
      return `type number (${Object.is(value, -0) ? '-0' : value})`
    case 'bigint':
      return `type bigint (${value}n)`
    case 'boolean':
    case 'symbol':
      return `type ${typeof value} (${String(value)})`
    case 'function':
      return `function ${value.name}`
    case 'object':
      if (value.constructor && 'name' in value.constructor) return `an instance of ${value.constructor.name}`
      return inspect(value, { depth: -1 })
    case 'string': {
      const shown = value.length > 28 ? `${value.slice(0, 25)}...` : value
      return shown.includes("'") ? `type string (${JSON.stringify(shown)})` : `type string ('${shown}')`
    }
  }
}

/** Node's "a, b, or c". */
function formatList(list, conjunction) {
  if (list.length < 3) return list.join(` ${conjunction} `)
  return `${list.slice(0, -1).join(', ')}, ${conjunction} ${list[list.length - 1]}`
}

const TYPE_NAMES = ['string', 'function', 'number', 'object', 'Function', 'Object', 'boolean', 'bigint', 'symbol']

/** Node's wording of a list of expected types ('string'), classes ('Buffer') and other words ('int32'). */
function formatExpected(expected) {
  const types = []
  const instances = []
  const other = []
  for (const value of expected) {
    if (TYPE_NAMES.includes(value)) types.push(value.toLowerCase())
    else if (/^[A-Z][a-zA-Z0-9]*$/.test(value)) instances.push(value)
    else other.push(value)
  }
  // Where classes are listed, "object" reads better as one of them.
  if (instances.length > 0 && types.includes('object')) {
    types.splice(types.indexOf('object'), 1)
    instances.push('Object')
  }
  const parts = []
  if (types.length > 0) parts.push(`${types.length > 1 ? 'one of type' : 'of type'} ${formatList(types, 'or')}`)
  if (instances.length > 0) parts.push(`an instance of ${formatList(instances, 'or')}`)
  if (other.length > 1) parts.push(`one of ${formatList(other, 'or')}`)
  else if (other.length === 1) parts.push(`${other[0].toLowerCase() !== other[0] ? 'an ' : ''}${other[0]}`)
  return parts.join(' or ')
}

/** Node calls a dotted name a property ("options.cwd") and a plain one an argument ("file"). */
function nameKind(name) {
  return name.includes('.') ? 'property' : 'argument'
}

const nodeErrorClasses = new Map()

/** Per built-in class, one subclass with Node's `toString()`; `constructor` is still the built-in, as in Node. */
function nodeErrorClass(Base) {
  let NodeError = nodeErrorClasses.get(Base)
  if (NodeError === undefined) {
    NodeError = class extends Base {
      get ['constructor']() {
        return Base
      }

      toString() {
        return `${this.name} [${this.code}]: ${this.message}`
      }
    }
    nodeErrorClasses.set(Base, NodeError)
  }
  return NodeError
}

/**
 * An `ErrorClass` (`Error`, `TypeError`, …) with `code`, as Node's internal errors are: its stack
 * starts "TypeError [ERR_X]: message" and so does its `toString()`.
 */
function codedError(ErrorClass, code, message) {
  const err = new (nodeErrorClass(ErrorClass))(message)
  err.name = `${ErrorClass.name} [${code}]`
  Error.captureStackTrace(err, codedError)
  // The header is written when the stack is first read: read it while the name says the code.
  void err.stack
  delete err.name
  err.code = code
  return err
}

/**
 * `TypeError` with `code: 'ERR_INVALID_ARG_TYPE'`. `expected` is Node's list of types, classes
 * and words (`['string', 'Buffer', 'URL']`, worded as Node does), or one phrase used as is.
 * `code` replaces the code where an API documents another one for every bad argument (the
 * image API's is ERR_INVALID_ARG_VALUE).
 */
function invalidArgType(name, expected, actual, code = 'ERR_INVALID_ARG_TYPE') {
  const must = Array.isArray(expected) ? formatExpected(expected) : expected
  const subject = name.endsWith(' argument') ? name : `"${name}" ${nameKind(name)}`
  return codedError(TypeError, code, `The ${subject} must be ${must}. Received ${describe(actual)}`)
}

/** `TypeError` (or `RangeError`) with `code: 'ERR_INVALID_ARG_VALUE'`. */
function invalidArgValue(name, value, reason = 'is invalid', ErrorClass = TypeError) {
  let shown = inspect(value)
  if (shown.length > 128) shown = `${shown.slice(0, 128)}...`
  return codedError(ErrorClass, 'ERR_INVALID_ARG_VALUE', `The ${nameKind(name)} '${name}' ${reason}. Received ${shown}`)
}

/** Node's 1_000_000_000_000 for big numbers in range errors. */
function addNumericalSeparator(digits) {
  let result = ''
  let i = digits.length
  const start = digits[0] === '-' ? 1 : 0
  for (; i >= start + 4; i -= 3) result = `_${digits.slice(i - 3, i)}${result}`
  return `${digits.slice(0, i)}${result}`
}

/** `RangeError` with `code: 'ERR_OUT_OF_RANGE'`. */
function outOfRange(name, range, value) {
  let shown
  if (Number.isInteger(value) && Math.abs(value) > 2 ** 32) {
    shown = addNumericalSeparator(String(value))
  } else if (typeof value === 'bigint') {
    shown = String(value)
    if (value > 2n ** 32n || value < -(2n ** 32n)) shown = addNumericalSeparator(shown)
    shown += 'n'
  } else {
    shown = inspect(value)
  }
  return codedError(RangeError, 'ERR_OUT_OF_RANGE', `The value of "${name}" is out of range. It must be ${range}. Received ${shown}`)
}

/** `TypeError` with `code: 'ERR_MISSING_ARGS'`: 'The "message" argument must be specified'. */
function missingArgs(...names) {
  const listed = names.map((name) => (Array.isArray(name) ? name.map((n) => `"${n}"`).join(' or ') : `"${name}"`))
  return codedError(TypeError, 'ERR_MISSING_ARGS', `The ${formatList(listed, 'and')} argument${names.length > 1 ? 's' : ''} must be specified`)
}

/** offload/child_process: an option it cannot honour throws instead of being ignored. */
function unsupportedOption(what, why) {
  return codedError(TypeError, 'ERR_OFFLOAD_UNSUPPORTED_OPTION', `offload/child_process does not support ${what}: ${why}`)
}

// OS errors. `errno` is negative, as Node's; the name and text are libuv's, as Node gives them.

/** `<syscall> <CODE>`, as Node reports errors of child processes and sockets (`write EPIPE`). */
function errnoException(errno, syscall) {
  // An I/O error the OS gave no errno for (never seen from a pipe) is EIO, as the image engine counts it.
  if (!(errno < 0)) errno = -constants.errno.EIO
  const code = getSystemErrorName(errno)
  return Object.assign(new Error(`${syscall} ${code}`), { errno, code, syscall })
}

/**
 * Exactly what `fs` gives for a failed `syscall` (`ENOENT: no such file or
 * directory, open '/nope.jpg'`): `errno`, `code`, `syscall`, and `path` when fs names one.
 */
function fsError(errno, syscall, path = undefined) {
  const [code, description] = getSystemErrorMap().get(errno) ?? ['UNKNOWN', 'unknown error'] // as Node's uvException
  const message = `${code}: ${description}, ${syscall}${path === undefined ? '' : ` '${path}'`}`
  const err = Object.assign(new Error(message), { errno, code, syscall })
  if (path !== undefined) err.path = path
  return err
}

const LAUNCH_STEPS = {
  cwd: (f) => `the working directory (options.cwd) '${f.path}' cannot be used: ${f.description}`,
  stdio: (f) => (f.path ? `cannot open '${f.path}' for stdio: ${f.description}` : `stdio setup failed: ${f.description}`),
  limits: (f) => `a resource limit (options.limits) was refused: ${f.description}`,
  credentials: (f) => `cannot switch to options.uid/options.gid: ${f.description}`,
}

/**
 * The `Error` Node gives for a failed launch (`spawn nope ENOENT`, with `errno`,
 * `syscall`, `path`, `spawnargs`), plus which step failed when it was not the exec.
 * `failure` is the native report: `{ errno, message, step, path }`.
 */
function spawnError(failure, file, args, cwd) {
  const syscall = `spawn ${file}`
  const code = failure.errno === 0 ? 'ERR_OFFLOAD_SPAWN_FAILED' : getSystemErrorName(failure.errno)
  const description = failure.errno === 0 ? failure.message : getSystemErrorMap().get(failure.errno)?.[1] ?? code
  let message = `${syscall} ${code}`
  const step = LAUNCH_STEPS[failure.step]
  if (step) message += `: ${step({ path: failure.path, description })}`
  else if (failure.step !== 'exec') message += `: ${description}`
  const err = new Error(message)
  err.errno = failure.errno
  err.code = code
  err.syscall = syscall
  err.path = failure.step === 'exec' ? file : failure.path
  err.spawnargs = args
  if (failure.step === 'cwd') err.cwd = cwd
  return err
}

// Errors thrown by a serve() handler cross to the parent as JSON.

/** A thrown value as the JSON `rebuildError` turns back into an Error in the parent. */
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

/** The Error a `serve()` handler threw: the same class, message, own properties and the worker's stack. */
function rebuildError(json) {
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
  // The worker's own stack says where it went wrong; ours would only say "the event channel".
  if (typeof info.stack === 'string') err.stack = info.stack
  return err
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

module.exports = {
  CODES,
  offloadError,
  abortError,
  SubprocessError,
  NativeUnavailableError,
  NodeAbortError,
  UsageError,
  codedError,
  invalidArgType,
  invalidArgValue,
  outOfRange,
  missingArgs,
  unsupportedOption,
  errnoException,
  fsError,
  spawnError,
  describeError,
  rebuildError,
}

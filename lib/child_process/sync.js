'use strict'
// Node's spawnSync(), execFileSync() and execSync(). The child runs to its end in one native
// call (src/process/blocking.rs): launched without fork(), like every offload child, with the
// JS thread blocked for the child's run, as Node's sync functions block it. The results and
// errors are Node's field for field, and so are the rules of the run: maxBuffer counts stdout
// and stderr together, a timeout or an overflow sends killSignal once (no SIGKILL follows)
// and closes the pipes, and an input the child does not read is an EPIPE error.
//
// One difference: Node 20 drops a Buffer or string given as a stdio entry (the entries after
// it move down an index); here that throws ERR_OFFLOAD_UNSUPPORTED_OPTION; `input` is the way.

const { Buffer } = require('node:buffer')
const { constants } = require('node:os')
const native = require('../binding')
const { errnoException } = require('../errors')
const { signalName } = require('../signals')
const { normalizeSpawnSyncArguments, validateSyncInput, normalizeExecArgs, normalizeExecFileArgs, isInt32 } = require('./arguments')
const { validStdio } = require('./stdio')

/** What the native call takes for a stdio entry: a descriptor number or an FdEntry. */
function nativeStdio(entry) {
  if (entry.type === 'pipe') return native.FdEntry.PIPE
  if (entry.type === 'ignore') return native.FdEntry.NONE
  return entry.fd
}

/** `options.input` as bytes (a string is encoded with `encoding`, as Node does). */
function inputBytes(input, encoding) {
  validateSyncInput(input, 0)
  if (typeof input === 'string') return Buffer.from(input, encoding)
  return Buffer.from(input.buffer, input.byteOffset, input.byteLength)
}

/**
 * Runs `file` with `args` to its end, like Node's child_process.spawnSync: returns
 * `{ pid, output, stdout, stderr, status, signal, error? }`.
 */
function spawnSync(file, args, options) {
  const spec = normalizeSpawnSyncArguments(file, args, options)
  options = spec.options
  const { entries } = validStdio(options.stdio || 'pipe', true)
  // Node takes any truthy input, and feeds it only to a stdin that is a pipe.
  const input = options.input ? inputBytes(options.input, options.encoding) : undefined

  const run = native.spawnSync({
    file: spec.file,
    args: spec.args,
    argv0: options.argv0 ?? undefined,
    cwd: spec.cwd,
    env: spec.envPairs,
    stdio: entries.map(nativeStdio),
    input,
    detached: Boolean(options.detached),
    // As libuv: the ids are uid_t and gid_t, so -1 is 4294967295 (which the OS refuses).
    uid: isInt32(options.uid) ? options.uid >>> 0 : undefined,
    gid: isInt32(options.gid) ? options.gid >>> 0 : undefined,
    timeout: spec.timeout ?? undefined,
    killSignal: spec.killSignal ?? constants.signals.SIGTERM,
    // Absent (even when given as undefined) is no limit, as in Node.
    maxBuffer: spec.maxBuffer ?? 0,
  })

  // Node's keys, in Node's order.
  const result = {}
  if (run.error !== undefined && run.error !== null) {
    const error = errnoException(run.error, `spawnSync ${spec.file}`)
    error.path = spec.file
    error.spawnargs = spec.args
    result.error = error
  }
  const launched = run.pid !== 0
  result.status = launched && run.signal == null ? (run.status ?? null) : null
  result.signal = signalName(run.signal ?? null)
  let output = launched ? run.output.map((bytes) => bytes ?? null) : null
  if (output !== null && options.encoding && options.encoding !== 'buffer') {
    output = output.map((bytes) => (bytes === null ? null : bytes.toString(options.encoding)))
  }
  result.output = output
  result.pid = run.pid
  result.stdout = output && output[1]
  result.stderr = output && output[2]
  return result
}

/** Node's checkExecSyncError: the run's error with the result on it, or "Command failed". */
function checkExecSyncError(ret, args, cmd) {
  if (ret.error) return Object.assign(ret.error, ret)
  if (ret.status === 0) return undefined
  let message = `Command failed: ${cmd || args.join(' ')}`
  if (ret.stderr && ret.stderr.length > 0) message += `\n${ret.stderr.toString()}`
  return Object.assign(new Error(message), ret)
}

/** Like Node: with no `stdio` option, the child's stderr is passed on to ours. */
function passStderrOn(options, ret) {
  if (!options.stdio && ret.stderr) process.stderr.write(ret.stderr)
}

/**
 * Runs `file` with `args` to its end and returns its stdout, like Node's
 * child_process.execFileSync; throws on a non-zero exit, a signal, or an error.
 */
function execFileSync(file, args, options) {
  ;({ file, args, options } = normalizeExecFileArgs(file, args, options))
  const ret = spawnSync(file, args, options)
  passStderrOn(options, ret)
  const err = checkExecSyncError(ret, [options.argv0 || file, ...args])
  if (err) throw err
  return ret.stdout
}

/**
 * Runs `command` in a shell to its end and returns its stdout, like Node's
 * child_process.execSync; throws on a non-zero exit, a signal, or an error.
 */
function execSync(command, options) {
  const { file, options: normalized } = normalizeExecArgs(command, options)
  const ret = spawnSync(file, normalized)
  passStderrOn(normalized, ret)
  const err = checkExecSyncError(ret, undefined, command)
  if (err) throw err
  return ret.stdout
}

module.exports = { spawnSync, execFileSync, execSync }

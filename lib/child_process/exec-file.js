'use strict'
// Node's execFile(): spawn() plus buffering of stdout and stderr for the callback, and what
// util.promisify(exec/execFile) returns. The engine enforces timeout and maxBuffer (it counts
// the streamed output, kills the child, and says which stream passed the limit and where).

const { Buffer } = require('node:buffer')
const { getSystemErrorName } = require('node:util')
const { codedError } = require('../errors')
const { spawnLimited } = require('./spawn')
const { MAX_BUFFER, normalizeExecFileArgs, validateTimeout, validateMaxBuffer, sanitizeKillSignal } = require('./arguments')

/**
 * Runs `file` with `args`, buffering its output for `callback(error, stdout,
 * stderr)`, like Node's child_process.execFile.
 */
function execFile(file, args, options, callback) {
  ;({ file, args, options, callback } = normalizeExecFileArgs(file, args, options, callback))
  options = {
    encoding: 'utf8',
    timeout: 0,
    maxBuffer: MAX_BUFFER,
    killSignal: 'SIGTERM',
    cwd: null,
    env: null,
    shell: false,
    ...options,
  }
  validateTimeout(options.timeout)
  validateMaxBuffer(options.maxBuffer)
  options.killSignal = sanitizeKillSignal(options.killSignal)

  const encoding = options.encoding !== 'buffer' && Buffer.isEncoding(options.encoding) ? options.encoding : null
  const stdoutChunks = []
  const stderrChunks = []
  let killed = false
  let exited = false
  let ex = null
  let cmd = file

  // Node hands exactly these on to spawn (not argv0, stdio or detached); the engine enforces
  // timeout and maxBuffer, and says when it killed the child for one of them.
  const child = spawnLimited(
    file,
    args,
    {
      cwd: options.cwd,
      env: options.env,
      gid: options.gid,
      shell: options.shell,
      signal: options.signal,
      uid: options.uid,
      windowsHide: !!options.windowsHide,
      windowsVerbatimArguments: !!options.windowsVerbatimArguments,
    },
    {
      timeout: options.timeout > 0 ? options.timeout : undefined,
      killSignal: options.killSignal,
      // Node compares the running length with maxBuffer: undefined never stops it, null is 0.
      maxBuffer: options.maxBuffer === undefined ? Infinity : Number(options.maxBuffer),
      onKill: (stream, kept) => {
        if (stream !== undefined) {
          // As Node: the last chunk is cut in characters for strings, in bytes for Buffers.
          const chunks = stream === 1 ? stdoutChunks : stderrChunks
          if (chunks.length > 0) chunks.push(chunks.pop().slice(0, kept))
          ex = codedError(RangeError, 'ERR_CHILD_PROCESS_STDIO_MAXBUFFER', `${stream === 1 ? 'stdout' : 'stderr'} maxBuffer length exceeded`)
        }
        stopCollecting()
      },
    },
  )

  function exithandler(code, signal) {
    if (exited) return
    exited = true
    if (!callback) return
    const stdout = encoding || child.stdout?.readableEncoding ? stdoutChunks.join('') : Buffer.concat(stdoutChunks)
    const stderr = encoding || child.stderr?.readableEncoding ? stderrChunks.join('') : Buffer.concat(stderrChunks)
    if (!ex && code === 0 && signal === null) {
      callback(null, stdout, stderr)
      return
    }
    if (args?.length) cmd += ` ${args.join(' ')}`
    if (!ex) {
      ex = new Error(`Command failed: ${cmd}\n${stderr}`)
      ex.code = code < 0 ? getSystemErrorName(code) : code
      ex.killed = child.killed || killed
      ex.signal = signal
    }
    ex.cmd = cmd
    callback(ex, stdout, stderr)
  }

  function errorhandler(e) {
    ex = e
    if (child.stdout) child.stdout.destroy()
    if (child.stderr) child.stderr.destroy()
    exithandler()
  }

  /** What Node's kill() does besides the signal, which the engine sent. */
  function stopCollecting() {
    if (child.stdout) child.stdout.destroy()
    if (child.stderr) child.stderr.destroy()
    killed = true
  }

  if (child.stdout) {
    if (encoding) child.stdout.setEncoding(encoding)
    child.stdout.on('data', (chunk) => stdoutChunks.push(chunk))
  }
  if (child.stderr) {
    if (encoding) child.stderr.setEncoding(encoding)
    child.stderr.on('data', (chunk) => stderrChunks.push(chunk))
  }

  child.addListener('close', exithandler)
  child.addListener('error', errorhandler)
  return child
}

/** What util.promisify(exec) and util.promisify(execFile) return, as in Node. */
function customPromiseExecFunction(orig) {
  return (...args) => {
    let resolve
    let reject
    const promise = new Promise((res, rej) => {
      resolve = res
      reject = rej
    })
    promise.child = orig(...args, (err, stdout, stderr) => {
      if (err !== null) {
        err.stdout = stdout
        err.stderr = stderr
        reject(err)
      } else {
        resolve({ stdout, stderr })
      }
    })
    return promise
  }
}


module.exports = { execFile, customPromiseExecFunction }

'use strict'
// Node's execFile(): spawn() plus buffering of stdout and stderr for the callback, cut at
// maxBuffer, and what util.promisify(exec/execFile) returns.

const { Buffer } = require('node:buffer')
const { getSystemErrorName } = require('node:util')
const { codedError } = require('../errors')
const { spawn } = require('./spawn')
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

  // Node hands exactly these on to spawn (not argv0, stdio or detached).
  const child = spawn(file, args, {
    cwd: options.cwd,
    env: options.env,
    gid: options.gid,
    shell: options.shell,
    signal: options.signal,
    uid: options.uid,
    windowsHide: !!options.windowsHide,
    windowsVerbatimArguments: !!options.windowsVerbatimArguments,
  })

  const encoding = options.encoding !== 'buffer' && Buffer.isEncoding(options.encoding) ? options.encoding : null
  const stdoutChunks = []
  const stderrChunks = []
  let stdoutLen = 0
  let stderrLen = 0
  let killed = false
  let exited = false
  let timeoutId = null
  let ex = null
  let cmd = file

  function exithandler(code, signal) {
    if (exited) return
    exited = true
    if (timeoutId) {
      clearTimeout(timeoutId)
      timeoutId = null
    }
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

  function kill() {
    if (child.stdout) child.stdout.destroy()
    if (child.stderr) child.stderr.destroy()
    killed = true
    try {
      child.kill(options.killSignal)
    } catch (e) {
      ex = e
      exithandler()
    }
  }

  if (options.timeout > 0) {
    timeoutId = setTimeout(() => {
      kill()
      timeoutId = null
    }, options.timeout)
  }

  function collect(stream, chunks, name, length) {
    if (encoding) stream.setEncoding(encoding)
    stream.on('data', (chunk) => {
      if (options.maxBuffer === Infinity) {
        chunks.push(chunk)
        return
      }
      const streamEncoding = stream.readableEncoding
      const size = streamEncoding ? Buffer.byteLength(chunk, streamEncoding) : chunk.length
      const total = length(size)
      if (total > options.maxBuffer) {
        // As Node: cut in characters for strings, in bytes for Buffers.
        chunks.push(chunk.slice(0, options.maxBuffer - (total - size)))
        ex = codedError(RangeError, 'ERR_CHILD_PROCESS_STDIO_MAXBUFFER', `${name} maxBuffer length exceeded`)
        kill()
      } else {
        chunks.push(chunk)
      }
    })
  }
  if (child.stdout) collect(child.stdout, stdoutChunks, 'stdout', (n) => (stdoutLen += n))
  if (child.stderr) collect(child.stderr, stderrChunks, 'stderr', (n) => (stderrLen += n))

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

'use strict'
// spawn, execFile, exec, the $ tagged template, and fork.

const { IPC_FD } = require('./binding')
const { Subprocess } = require('./subprocess')
const { normalize, checkCommand, inheritedExecArgv } = require('./options')
const { checkString, checkSerialization } = require('./validate')
const { invalidArgType, invalidArgValue } = require('./errors')

function splitArgs(args, options) {
  // (file, options) is allowed, like Node's spawn.
  if (options === undefined && args !== null && typeof args === 'object' && !Array.isArray(args)) return [undefined, args]
  return [args, options]
}

/** Starts `file` with `args`; returns a Subprocess at once. */
function spawn(file, args, options) {
  ;[args, options] = splitArgs(args, options)
  args = checkCommand(file, args)
  return new Subprocess(file, args, normalize(options))
}

/** Runs `file` with `args`, output buffered; resolves to a Result. */
function execFile(file, args, options) {
  return spawn(file, args, options).then()
}

/** Runs `command` through `/bin/sh -c` (or `options.shell`), like Node's exec. */
function exec(command, options) {
  checkString(command, 'command')
  const { shell, ...rest } = options ?? {}
  let file = '/bin/sh'
  if (typeof shell === 'string') file = checkString(shell, 'options.shell')
  else if (shell !== undefined && shell !== true) throw invalidArgType('options.shell', 'of type string or true', shell)
  return new Subprocess(file, ['-c', command], normalize(rest)).then()
}

function templateValue(value, index) {
  if (typeof value === 'string') return value
  if (typeof value === 'number' || typeof value === 'bigint') return String(value)
  throw invalidArgType(`$ value ${index}`, 'a string, a number or an array of them', value)
}

/**
 * Splits a template into arguments: the literal text on whitespace, while each
 * interpolated value is exactly one argument (or one per element of an array),
 * joined to literal text it touches (`--out=${file}`). No shell is involved.
 */
function templateArgs(strings, values) {
  const tokens = []
  let current = null
  const flush = () => {
    if (current !== null) tokens.push(current)
    current = null
  }
  strings.forEach((literal, i) => {
    for (const ch of literal) {
      if (/\s/.test(ch)) flush()
      else current = (current ?? '') + ch
    }
    if (i >= values.length) return
    const value = values[i]
    if (Array.isArray(value)) {
      value.forEach((element, j) => {
        if (j > 0) flush()
        current = (current ?? '') + templateValue(element, i)
      })
    } else {
      current = (current ?? '') + templateValue(value, i)
    }
  })
  flush()
  return tokens
}

/**
 * `` $`convert ${input} -resize 800x600 ${output}` `` runs a command with no shell;
 * `` $(options)`…` `` binds options.
 */
function $(first, ...values) {
  if (Array.isArray(first) && Array.isArray(first.raw)) {
    const [file, ...args] = templateArgs(first, values)
    if (file === undefined) throw invalidArgValue('$', '', 'needs a command')
    return spawn(file, args)
  }
  const options = first
  normalize(options) // validate now, at the call
  return (strings, ...vals) => {
    if (!Array.isArray(strings) || !Array.isArray(strings.raw)) throw invalidArgType('$(options)', 'used as a tagged template', strings)
    const [file, ...args] = templateArgs(strings, vals)
    if (file === undefined) throw invalidArgValue('$', '', 'needs a command')
    return spawn(file, args, options)
  }
}

/**
 * Starts a Node module with an IPC channel spoken in Node's format (`serialization`:
 * `'json'`, or `'advanced'` for V8's structured clone), so the child's
 * `process.send()` / `process.on('message')` work unchanged.
 */
function fork(modulePath, args, options) {
  ;[args, options] = splitArgs(args, options)
  const path = modulePath instanceof URL ? require('node:url').fileURLToPath(modulePath) : modulePath
  args = checkCommand(path, args, 'modulePath')
  const { execPath = process.execPath, execArgv = inheritedExecArgv(), serialization: given, ...rest } = options ?? {}
  checkString(execPath, 'options.execPath')
  if (!Array.isArray(execArgv)) throw invalidArgType('options.execArgv', 'an instance of Array', execArgv)
  execArgv.forEach((arg, i) => checkString(arg, `options.execArgv[${i}]`))
  const serialization = checkSerialization(given)
  const env = { ...(rest.env ?? {}), NODE_CHANNEL_FD: String(IPC_FD), NODE_CHANNEL_SERIALIZATION_MODE: serialization, NODE_UNIQUE_ID: undefined }
  // An inherited stderr (the default) is passed through by us, so that a child
  // that fails (a missing module, a throw at load) fails with the end of it.
  const relayStderr = rest.stderr === undefined
  const stderr = relayStderr ? 'pipe' : rest.stderr
  const normalized = normalize({ stdin: 'inherit', stdout: 'inherit', ...rest, stderr, env, extendEnv: rest.extendEnv ?? true })
  return new Subprocess(execPath, [...execArgv, path, ...args], normalized, { ipc: serialization, relayStderr })
}

module.exports = { spawn, execFile, exec, $, fork }

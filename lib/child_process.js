'use strict'
// `require('offload/child_process')`: Node's spawn, exec, execFile and fork on
// top of Subprocess, so code written for node:child_process runs unchanged. It
// checks options in Node 20's order and gives Node's events and error shapes
// (the tests compare both modules on the same scenarios); where offload cannot
// do what Node does, the call throws ERR_OFFLOAD_UNSUPPORTED_OPTION instead of
// ignoring it.
// The deliberate differences are listed in child_process.d.ts.
//
// The pieces, in lib/child_process/: arguments.js (Node's overloads and checks),
// stdio.js (the stdio option), child-process.js (the ChildProcess class), spawn.js
// (spawn with its timeout and signal), exec-file.js (execFile's buffering).

const { promisify } = require('node:util')
const { inheritedExecArgv } = require('./options')
const { codedError } = require('./errors')
const { validateNoNull, validateObject, validateArray, checkPath } = require('./validate')
const { normalizeExecArgs, validateEachNoNull } = require('./child_process/arguments')
const { stdioStringToArray } = require('./child_process/stdio')
const { ChildProcess } = require('./child_process/child-process')
const { spawn } = require('./child_process/spawn')
const { execFile, customPromiseExecFunction } = require('./child_process/exec-file')

/** Runs `command` in a shell, like Node's child_process.exec. */
function exec(command, options, callback) {
  const normalized = normalizeExecArgs(command, options, callback)
  return module.exports.execFile(normalized.file, normalized.options, normalized.callback)
}

Object.defineProperty(exec, promisify.custom, { enumerable: false, value: customPromiseExecFunction(exec) })
Object.defineProperty(execFile, promisify.custom, { enumerable: false, value: customPromiseExecFunction(execFile) })

/**
 * Starts a Node.js module with an IPC channel, like Node's child_process.fork:
 * the child's process.send() / process.on('message') reach this process.
 */
function fork(modulePath, args = [], options) {
  modulePath = checkPath(modulePath, 'modulePath')
  if (args == null) {
    args = []
  } else if (typeof args === 'object' && !Array.isArray(args)) {
    options = args
    args = []
  } else {
    validateArray(args, 'args')
  }
  if (options != null) validateObject(options, 'options')
  options = { ...options, shell: false }
  options.execPath = options.execPath || process.execPath
  validateNoNull(options.execPath, 'options.execPath')
  const execArgv = options.execArgv || inheritedExecArgv()
  validateEachNoNull(execArgv, 'options.execArgv')
  args = [...execArgv, modulePath, ...args]
  if (typeof options.stdio === 'string') {
    options.stdio = stdioStringToArray(options.stdio, 'ipc')
  } else if (!Array.isArray(options.stdio)) {
    options.stdio = stdioStringToArray(options.silent ? 'pipe' : 'inherit', 'ipc')
  } else if (!options.stdio.includes('ipc')) {
    throw codedError(Error, 'ERR_CHILD_PROCESS_IPC_REQUIRED', "Forked processes must have an IPC channel, missing value 'ipc' in options.stdio")
  }
  return spawn(options.execPath, args, options)
}

module.exports = { ChildProcess, spawn, exec, execFile, fork }

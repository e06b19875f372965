'use strict'
// Node's stdio option, checked and normalised as Node's getValidStdio does, then turned into
// what offload's engine launches: each entry becomes `{ type, fd? }`.

const { inspect } = require('node:util')
const { invalidArgValue, codedError, unsupportedOption } = require('../errors')

/** The child's descriptor for the IPC channel: the native launcher always uses 3. */
const IPC_FD = 3

function stdioStringToArray(stdio, channel) {
  const options = []
  switch (stdio) {
    case 'ignore':
    case 'overlapped':
    case 'pipe':
      options.push(stdio, stdio, stdio)
      break
    case 'inherit':
      options.push(0, 1, 2)
      break
    default:
      throw invalidArgValue('stdio', stdio, 'is invalid')
  }
  if (channel) options.push(channel)
  return options
}

/** The descriptor behind a net.Socket or similar handle-backed stream, as Node's 'wrap' stdio. */
function handleFd(value) {
  const handle = value?._handle ?? value?.handle
  return handle && Number.isInteger(handle.fd) && handle.fd >= 0 ? handle : null
}

/**
 * Node's getValidStdio, then what offload can do with it: each entry becomes
 * `{ type: 'pipe' | 'ignore' | 'inherit' | 'fd' | 'ipc', fd }`.
 */
function validStdio(stdio) {
  if (typeof stdio === 'string') stdio = stdioStringToArray(stdio)
  else if (!Array.isArray(stdio)) throw invalidArgValue('stdio', stdio, 'is invalid')
  stdio = [...stdio]
  while (stdio.length < 3) stdio.push(undefined)
  let ipcIndex = -1
  const entries = stdio.map((value, i) => {
    if (value == null) value = i < 3 ? 'pipe' : 'ignore'
    if (value === 'ignore') return { type: 'ignore' }
    if (value === 'pipe' || value === 'overlapped' || (typeof value === 'number' && value < 0)) return { type: 'pipe' }
    if (value === 'ipc') {
      if (ipcIndex !== -1) throw codedError(Error, 'ERR_IPC_ONE_PIPE', 'Child process can have only one IPC pipe')
      ipcIndex = i
      return { type: 'ipc' }
    }
    if (value === 'inherit') return { type: 'inherit', fd: i }
    if (typeof value === 'number' || typeof value.fd === 'number') return { type: 'fd', fd: typeof value === 'number' ? value : value.fd }
    const handle = handleFd(value)
    if (handle !== null) {
      // As Node does: the child reads this stream now, so the parent must stop.
      if (typeof handle.readStop === 'function') {
        handle.reading = false
        handle.readStop()
      }
      if (typeof value.pause === 'function') value.pause()
      return { type: 'fd', fd: handle.fd }
    }
    if (ArrayBuffer.isView(value) || typeof value === 'string') {
      throw codedError(
        TypeError,
        'ERR_INVALID_SYNC_FORK_INPUT',
        `Asynchronous forks do not support Buffer, TypedArray, DataView or string input: ${inspect(value)}`,
      )
    }
    throw invalidArgValue('stdio', value, 'is invalid')
  })
  entries.forEach((entry, i) => {
    if (entry.type === 'ipc' && i !== IPC_FD) {
      throw unsupportedOption(`options.stdio[${i}] = 'ipc'`, `the IPC channel can only be the child's fd ${IPC_FD} (as fork() puts it)`)
    }
    if (i >= 3 && entry.type !== 'ignore' && entry.type !== 'ipc') {
      throw unsupportedOption(`options.stdio[${i}]`, "descriptors beyond stdin, stdout and stderr can only be 'ignore', null, undefined, or 'ipc' at index 3")
    }
  })
  return { entries, ipcIndex }
}

function offloadStdio(entry) {
  if (entry.type === 'fd') return entry.fd
  return entry.type
}

module.exports = { IPC_FD, stdioStringToArray, validStdio, offloadStdio }

'use strict'
// Node's stdio option, checked and normalised as Node's getValidStdio does, then turned into
// what offload's engine launches. Each entry becomes one of:
//   { type: 'pipe' }             a pipe (stdin, stdout, stderr) or a socket pair (beyond them)
//   { type: 'ignore' }           /dev/null for 0 to 2; nothing (closed) beyond, as in Node
//   { type: 'ipc' }              Node's IPC channel, at this index (NODE_CHANNEL_FD)
//   { type: 'inherit', fd }      our descriptor of the same number
//   { type: 'fd', fd }           a descriptor of ours: a number, or a stream's `.fd`
//   { type: 'wrap', fd, stream } a stream with a handle (a net.Socket, a Node child's pipe):
//                                its descriptor goes to the child and we stop reading it
//   { type: 'child', source }    an offload/child_process child's stdout (`source` is its
//                                { child, sub, n }), handed over as the kernel pipe it is
//                                (stdin only)

const { inspect } = require('node:util')
const { invalidArgValue, codedError, unsupportedOption } = require('../errors')

/** Marks the streams of offload's own ChildProcess: `{ child, sub, n }` (the stream's number). */
const kChildStream = Symbol('offload.childStream')

// What the native side takes for the child's descriptors 3, 4, … besides a descriptor of ours.
const { FdEntry, IPC_FD } = require('../binding')

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
  for (const handle of [value, value?.handle, value?._handle]) {
    if (handle && typeof handle === 'object' && Number.isInteger(handle.fd) && handle.fd >= 0 && typeof handle.readStop === 'function') {
      return handle.fd
    }
  }
  return -1
}

function entryOf(value, i, sync) {
  if (value == null) value = i < 3 ? 'pipe' : 'ignore'
  if (value === 'ignore') return { type: 'ignore' }
  if (value === 'pipe' || value === 'overlapped' || (typeof value === 'number' && value < 0)) return { type: 'pipe' }
  if (value === 'ipc') {
    if (sync) throw codedError(Error, 'ERR_IPC_SYNC_FORK', 'IPC cannot be used with synchronous forks')
    return { type: 'ipc' }
  }
  if (value === 'inherit') return { type: 'inherit', fd: i }
  if (typeof value === 'number' || typeof value.fd === 'number') return { type: 'fd', fd: typeof value === 'number' ? value : value.fd }
  const fd = handleFd(value)
  if (fd !== -1) return { type: 'wrap', fd, stream: value }
  const own = value[kChildStream]
  if (own !== undefined) {
    if (sync) {
      throw unsupportedOption(`options.stdio[${i}] = another child's stream`, 'a synchronous child cannot read from a running child; collect its output first and pass it as options.input')
    }
    // The engine passes a child's stdout pipe to the next child's stdin untouched;
    // its other pipes stay with their own readers and writers.
    if (own.n !== 1 || i !== 0) {
      throw unsupportedOption(
        `options.stdio[${i}] = another child's ${own.n === 0 ? 'stdin' : own.n === 1 ? 'stdout' : 'stderr'}`,
        "an offload child's stream can be given only as it is the other end of: its stdout as stdin (stdio[0]); pipe the data with stream.pipe() instead",
      )
    }
    return { type: 'child', source: own }
  }
  if (ArrayBuffer.isView(value) || typeof value === 'string') {
    if (sync) {
      // Node 20 drops such an entry, so every later one moves down an index.
      throw unsupportedOption(`options.stdio[${i}] as a Buffer, TypedArray, DataView or string`, 'pass the bytes as options.input')
    }
    throw codedError(
      TypeError,
      'ERR_INVALID_SYNC_FORK_INPUT',
      `Asynchronous forks do not support Buffer, TypedArray, DataView or string input: ${inspect(value)}`,
    )
  }
  throw invalidArgValue('stdio', value, 'is invalid')
}

/**
 * Node's getValidStdio, then what offload can do with it: `{ entries, ipcIndex }`, one entry
 * per descriptor of the child (at least three), `ipcIndex` -1 without a channel. `sync` is
 * for spawnSync and friends, which take no IPC channel and no running child's stream.
 */
function validStdio(stdio, sync = false) {
  if (typeof stdio === 'string') stdio = stdioStringToArray(stdio)
  else if (!Array.isArray(stdio)) throw invalidArgValue('stdio', stdio, 'is invalid')
  stdio = [...stdio]
  while (stdio.length < 3) stdio.push(undefined)
  let ipcIndex = -1
  const entries = stdio.map((value, i) => {
    const entry = entryOf(value, i, sync)
    if (entry.type === 'ipc') {
      if (ipcIndex !== -1) throw codedError(Error, 'ERR_IPC_ONE_PIPE', 'Child process can have only one IPC pipe')
      ipcIndex = i
    }
    return entry
  })
  return { entries, ipcIndex }
}

/** What lib/options.js takes for stdin, stdout or stderr. */
function offloadStdio(entry) {
  switch (entry.type) {
    case 'fd':
    case 'inherit':
    case 'wrap':
      return entry.fd
    case 'ipc':
      // The channel is a socket the child reads and writes: on 0 to 2 it still gets
      // one, here the IPC channel itself, so nothing else is opened there.
      return 'ignore'
    case 'child':
      return 'pipe'
    default:
      return entry.type
  }
}

/**
 * The native side's description of the child's descriptors (the IPC channel's place, and
 * what goes beyond stderr), or `undefined` when it has nothing to add (the common case:
 * nothing to allocate or pass).
 */
function extraDescriptors(entries, ipcIndex) {
  if (entries.length <= 3 && ipcIndex === -1) return undefined
  // The launcher puts the channel at IPC_FD by itself.
  if (ipcIndex === IPC_FD && entries.length === IPC_FD + 1) return undefined
  const extra = []
  for (let i = 0; i < entries.length; i++) {
    const entry = entries[i]
    if (entry.type === 'ipc') extra.push(FdEntry.IPC)
    else if (i < 3 || entry.type === 'ignore') extra.push(FdEntry.NONE)
    else if (entry.type === 'pipe') extra.push(FdEntry.PIPE)
    else extra.push(entry.fd)
  }
  return extra
}

module.exports = { kChildStream, stdioStringToArray, validStdio, offloadStdio, extraDescriptors }

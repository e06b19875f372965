'use strict'
// Packs validated launch options into the form `native.spawn` takes: one
// Float64Array of numbers (reused: the call is synchronous) and an array of
// strings. Reading an object's properties one by one through napi costs more
// than the launch itself. The slots, stdio kinds, flags and the absent marker are
// src/js/spawn.rs's, exported by the addon (SpawnSlot, SpawnText, StdioKind, SpawnFlag,
// LimitSlot, NOT_SET). The native side checks none of it: everything here was validated
// by lib/options.js or lib/child_process/.

const { SpawnSlot: AT, SpawnText: TEXT, StdioKind, SpawnFlag: FLAG, LimitSlot: LIMIT, NOT_SET } = require('./binding')

// By the `kind` names of lib/options.js ('pipe', 'fd', …).
const KIND = Object.fromEntries(Object.entries(StdioKind).map(([name, value]) => [name.toLowerCase(), value]))

const numbers = new Float64Array(AT.LEN)

function orNotSet(value) {
  return value === undefined ? NOT_SET : value
}

/**
 * Writes `limits` (validated) from `at`, at the LimitSlot offsets; NOT_SET (NaN for
 * nice) when absent. `spawn` and `Pool` share this form.
 */
function packLimits(limits = {}, into = new Array(LIMIT.LEN), at = 0) {
  into[at + LIMIT.MEMORY_BYTES] = orNotSet(limits.memoryBytes)
  into[at + LIMIT.CPU_SECONDS] = orNotSet(limits.cpuSeconds)
  into[at + LIMIT.OPEN_FILES] = orNotSet(limits.openFiles)
  into[at + LIMIT.PROCESSES] = orNotSet(limits.processes)
  into[at + LIMIT.FILE_SIZE_BYTES] = orNotSet(limits.fileSizeBytes)
  into[at + LIMIT.NICE] = limits.nice ?? Number.NaN
  return into
}

/**
 * Fills the shared numbers array from `native` (see lib/options.js) and
 * returns `[numbers, strings, stdinData]` for `native.spawn`.
 */
function pack(native) {
  numbers[AT.STDIN_KIND] = KIND[native.stdin.kind]
  numbers[AT.STDIN_FD] = native.stdin.fd ?? 0
  numbers[AT.STDOUT_KIND] = KIND[native.stdout.kind]
  numbers[AT.STDOUT_FD] = native.stdout.fd ?? 1
  numbers[AT.STDOUT_APPEND] = native.stdout.append ? 1 : 0
  numbers[AT.STDERR_KIND] = KIND[native.stderr.kind]
  numbers[AT.STDERR_FD] = native.stderr.fd ?? 2
  numbers[AT.STDERR_APPEND] = native.stderr.append ? 1 : 0
  numbers[AT.FLAGS] =
    (native.ipc ? FLAG.IPC : 0) |
    (native.ipc === 'advanced' ? FLAG.ADVANCED_IPC : 0) |
    (native.detached ? FLAG.DETACHED : 0) |
    (native.killTree ? FLAG.KILL_TREE : 0) |
    (native.cleanup === false ? FLAG.NO_CLEANUP : 0) |
    (native.limitStreamedOutput ? FLAG.LIMIT_STREAMED_OUTPUT : 0)
  numbers[AT.UID] = orNotSet(native.uid)
  numbers[AT.GID] = orNotSet(native.gid)
  numbers[AT.TIMEOUT] = native.timeout ?? 0
  numbers[AT.KILL_SIGNAL] = native.killSignal
  numbers[AT.FORCE_KILL_AFTER] = orNotSet(native.forceKillAfter)
  numbers[AT.MAX_BUFFER] = native.maxBuffer
  packLimits(native.limits, numbers, AT.MEMORY_BYTES)
  const strings = new Array(TEXT.LEN)
  strings[TEXT.CWD] = native.cwd
  strings[TEXT.ARGV0] = native.argv0
  strings[TEXT.STDIN_PATH] = native.stdin.path
  strings[TEXT.STDOUT_PATH] = native.stdout.path
  strings[TEXT.STDERR_PATH] = native.stderr.path
  return [numbers, strings, native.stdin.kind === 'data' ? native.stdin.data : undefined]
}

module.exports = { pack, packLimits }

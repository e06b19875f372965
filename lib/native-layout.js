'use strict'
// Packs validated launch options into the form `native.spawn` takes: one
// Float64Array of numbers (reused: the call is synchronous) and an array of
// strings. Reading an object's properties one by one through napi costs more
// than the launch itself. The slots, stdio kinds and flags are src/js/spawn.rs's,
// exported by the addon (SpawnSlot, SpawnText, StdioKind, SpawnFlag).

const { SpawnSlot: AT, SpawnText: TEXT, StdioKind, SpawnFlag: FLAG } = require('./binding')

// By the `kind` names of lib/options.js ('pipe', 'fd', …).
const KIND = Object.fromEntries(Object.entries(StdioKind).map(([name, value]) => [name.toLowerCase(), value]))
const ABSENT = -1

const settings = new Float64Array(AT.LEN)

function absentIfUndefined(value) {
  return value === undefined ? ABSENT : value
}

/**
 * Writes `limits` (validated) as six numbers from `at`: memoryBytes, cpuSeconds,
 * openFiles, processes, fileSizeBytes, nice; -1 (NaN for nice) when absent.
 * `spawn` and `Pool` share this form.
 */
function packLimits(limits = {}, into = new Array(6), at = 0) {
  into[at] = absentIfUndefined(limits.memoryBytes)
  into[at + 1] = absentIfUndefined(limits.cpuSeconds)
  into[at + 2] = absentIfUndefined(limits.openFiles)
  into[at + 3] = absentIfUndefined(limits.processes)
  into[at + 4] = absentIfUndefined(limits.fileSizeBytes)
  into[at + 5] = limits.nice ?? Number.NaN
  return into
}

/**
 * Fills the shared settings array from `native` (see lib/options.js) and
 * returns `[settings, strings, stdinData]` for `native.spawn`.
 */
function pack(native) {
  settings[AT.STDIN_KIND] = KIND[native.stdin.kind]
  settings[AT.STDIN_FD] = native.stdin.fd ?? 0
  settings[AT.STDOUT_KIND] = KIND[native.stdout.kind]
  settings[AT.STDOUT_FD] = native.stdout.fd ?? 1
  settings[AT.STDOUT_APPEND] = native.stdout.append ? 1 : 0
  settings[AT.STDERR_KIND] = KIND[native.stderr.kind]
  settings[AT.STDERR_FD] = native.stderr.fd ?? 2
  settings[AT.STDERR_APPEND] = native.stderr.append ? 1 : 0
  settings[AT.FLAGS] =
    (native.ipc ? FLAG.IPC : 0) |
    (native.ipc === 'advanced' ? FLAG.ADVANCED_IPC : 0) |
    (native.detached ? FLAG.DETACHED : 0) |
    (native.killTree ? FLAG.KILL_TREE : 0) |
    (native.cleanup === false ? FLAG.NO_CLEANUP : 0) |
    (native.limitStreamedOutput ? FLAG.LIMIT_STREAMED_OUTPUT : 0)
  settings[AT.UID] = absentIfUndefined(native.uid)
  settings[AT.GID] = absentIfUndefined(native.gid)
  settings[AT.TIMEOUT] = native.timeout ?? 0
  settings[AT.KILL_SIGNAL] = native.killSignal
  settings[AT.FORCE_KILL_AFTER] = native.forceKillAfter
  settings[AT.MAX_BUFFER] = native.maxBuffer
  packLimits(native.limits, settings, AT.MEMORY_BYTES)
  const strings = new Array(TEXT.LEN)
  strings[TEXT.CWD] = native.cwd
  strings[TEXT.ARGV0] = native.argv0
  strings[TEXT.STDIN_PATH] = native.stdin.path
  strings[TEXT.STDOUT_PATH] = native.stdout.path
  strings[TEXT.STDERR_PATH] = native.stderr.path
  return [settings, strings, native.stdin.kind === 'data' ? native.stdin.data : undefined]
}

module.exports = { pack, packLimits }

// What the kernel says about other processes, for tests that check nothing is left
// running. There is no event for another process's death, so callers poll these.
import fs from 'node:fs'

/**
 * State, parent, group, session, start time, name and CPU time (user and
 * system, in clock ticks; `cutime`/`cstime`: of its children it reaped) of a
 * pid, or of a thread (`'pid/task/tid'`), or null once it is gone.
 */
export function procStat(pid) {
  try {
    const text = fs.readFileSync(`/proc/${pid}/stat`, 'utf8')
    // The command name may hold spaces and parentheses: the fields start after the last ')'.
    const close = text.lastIndexOf(')')
    const fields = text.slice(close + 2).split(' ')
    return {
      state: fields[0], ppid: Number(fields[1]), pgrp: Number(fields[2]), session: Number(fields[3]), start: fields[19],
      name: text.slice(text.indexOf('(') + 1, close), utime: Number(fields[11]), stime: Number(fields[12]), cutime: Number(fields[13]), cstime: Number(fields[14]),
    }
  } catch {
    return null
  }
}

/** Alive: exists and is not a zombie (a dead child an init has not reaped yet). One argument, so `pids.filter(alive)` works. */
export function alive(pid) {
  const stat = procStat(pid)
  return stat !== null && stat.state !== 'Z'
}

/** Alive, and the same process that had start time `start`, not a later one that reused the pid. */
export function aliveSince(pid, start) {
  const stat = procStat(pid)
  return stat !== null && stat.state !== 'Z' && stat.start === start
}

/** The live processes whose parent is `pid`. */
export function childrenOf(pid) {
  return fs
    .readdirSync('/proc')
    .filter((name) => {
      if (!/^\d+$/.test(name)) return false
      const stat = procStat(name)
      return stat?.ppid === pid && stat.state !== 'Z'
    })
    .map(Number)
}

/** Every process whose parent is `pid`, zombies included: a zombie is a child nobody reaped. */
export function childrenAndZombiesOf(pid) {
  return fs
    .readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name) && procStat(name)?.ppid === pid)
    .map(Number)
}

/** How many descriptors this process has open. */
export function openFdCount() {
  return fs.readdirSync('/proc/self/fd').length
}

/**
 * Polls `check` (sync or async) every `everyMs` until it returns a truthy value, which it
 * returns; throws at the deadline, naming `what`.
 */
export async function pollUntil(check, { deadlineMs = 10_000, everyMs = 20, what = 'condition' } = {}) {
  const end = Date.now() + deadlineMs
  for (;;) {
    const value = await check()
    if (value) return value
    if (Date.now() > end) throw new Error(`timed out after ${deadlineMs} ms waiting for ${typeof what === 'function' ? what() : what}`)
    await new Promise((resolve) => setTimeout(resolve, everyMs))
  }
}

/**
 * CPU time (clock ticks) of `pid` and every process under it, those that ended
 * and were reaped included (their parent's `cutime`/`cstime`).
 */
export function treeCpuTicks(pid) {
  const stat = procStat(pid)
  if (stat === null) return 0
  let ticks = stat.utime + stat.stime + stat.cutime + stat.cstime
  for (const child of childrenAndZombiesOf(pid)) ticks += treeCpuTicks(child)
  return ticks
}

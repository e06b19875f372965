'use strict'
// The subprocesses the service has running (report renderers), for /health and
// for shutdown: what a stuck child is, and which ones to kill when time is up.

class RunningChildren {
  #children = new Map() // pid → { child, what, startedAt }
  #emptied = []
  #finished = 0
  #killed = 0

  /** Tracks `child` (an offload Subprocess) until it has exited. */
  add(child, what) {
    const pid = child.pid
    this.#children.set(pid, { child, what, startedAt: new Date().toISOString() })
    const forget = (outcome) => {
      this.#children.delete(pid)
      this.#finished++
      if (outcome.signal) this.#killed++
      if (this.#children.size === 0) for (const resolve of this.#emptied.splice(0)) resolve()
    }
    // Awaiting the subprocess settles once it exited and its pipes are drained; a
    // failure is the route's to report, here it only says how the child ended.
    child.then(forget, forget)
  }

  get count() {
    return this.#children.size
  }

  /** For /health: how many run, which, and how many ended so far (`killed`: by a signal). */
  stats() {
    return { count: this.#children.size, running: this.list(), finished: this.#finished, killed: this.#killed }
  }

  /** `[{ pid, what, startedAt }]`, oldest first. */
  list() {
    return [...this.#children].map(([pid, { what, startedAt }]) => ({ pid, what, startedAt }))
  }

  /** Sends `signal` to every child (SIGKILL follows after the spawn's `forceKillAfter`). */
  killAll(signal = 'SIGTERM') {
    for (const { child } of this.#children.values()) child.kill(signal)
  }

  /** Resolves once no child is running. */
  whenEmpty() {
    if (this.#children.size === 0) return Promise.resolve()
    return new Promise((resolve) => this.#emptied.push(resolve))
  }
}

module.exports = { RunningChildren }

'use strict'
// The subprocesses the service has running (report renderers), for /health and
// for shutdown: what a stuck child is, and which ones to kill when time is up.

class RunningChildren {
  #children = new Map() // pid → { child, what, startedAt }
  #emptied = []

  /** Tracks `child` (an offload Subprocess) until it has exited. */
  add(child, what) {
    const pid = child.pid
    this.#children.set(pid, { child, what, startedAt: new Date().toISOString() })
    const forget = () => {
      this.#children.delete(pid)
      if (this.#children.size === 0) for (const resolve of this.#emptied.splice(0)) resolve()
    }
    // Awaiting the subprocess settles once it exited and its pipes are drained; a
    // failure is the route's to report, here it only means the child is gone.
    child.then(forget, forget)
  }

  get count() {
    return this.#children.size
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

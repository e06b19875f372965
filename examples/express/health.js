'use strict'
// GET /health: how the process is doing right now. The event-loop delay comes
// from perf_hooks.monitorEventLoopDelay over fixed windows: the histogram is
// read and reset every `windowMs`, and /health shows the last complete window
// (or, during the first one, the window so far). A lifetime histogram would
// let a bad minute hide behind a good day; a reset per request would let two
// monitoring clients erase each other's view.

const { monitorEventLoopDelay } = require('node:perf_hooks')

const ms = (ns) => Math.round(ns / 1e4) / 100

/** Event-loop delay percentiles per window of `windowMs`, sampled every `resolutionMs`. */
class EventLoopDelayWindows {
  constructor({ windowMs = 10_000, resolutionMs = 1 } = {}) {
    this.windowMs = windowMs
    this.resolutionMs = resolutionMs
    this.histogram = monitorEventLoopDelay({ resolution: resolutionMs })
    this.histogram.enable()
    this.windowStart = Date.now()
    this.last = null
    this.timer = setInterval(() => this.rotate(), windowMs)
    this.timer.unref()
  }

  summary() {
    const h = this.histogram
    return {
      p50: ms(h.percentile(50)),
      p99: ms(h.percentile(99)),
      max: ms(h.max),
      samples: h.count,
      from: new Date(this.windowStart).toISOString(),
      to: new Date().toISOString(),
    }
  }

  rotate() {
    this.last = this.summary()
    this.histogram.reset()
    this.windowStart = Date.now()
  }

  /** Milliseconds. The values include the sampling interval itself (`resolutionMs`): an idle loop shows about that much. */
  snapshot() {
    const window = this.last ?? { ...this.summary(), partial: true }
    return { windowMs: this.windowMs, resolutionMs: this.resolutionMs, ...window }
  }

  stop() {
    clearInterval(this.timer)
    this.histogram.disable()
  }
}

/**
 * The /health handler. `sections` maps a name to a function giving that part of
 * the report (pool statistics, running subprocesses, image counters); `state()`
 * says 'ok' or 'draining' (shutting down: load balancers should stop sending).
 */
function healthRoute({ loop, sections, state }) {
  return function health(req, res) {
    const status = state()
    const report = { status, uptimeSeconds: Math.round(process.uptime()), eventLoopDelayMs: loop.snapshot() }
    for (const [name, read] of Object.entries(sections)) report[name] = read()
    res.status(status === 'ok' ? 200 : 503).set('Cache-Control', 'no-store').json(report)
  }
}

module.exports = { EventLoopDelayWindows, healthRoute }

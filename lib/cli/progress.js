'use strict'
// What a batch shows while it runs and when it ends. On a terminal: one line redrawn in place
// (bar, done/total, percentage, rate, ETA, failures), with failures printed above it. Elsewhere
// (a pipe, a file, CI logs): one plain line per file, which greps and diffs well.

/** How often the bar may be redrawn; a batch of small images finishes hundreds a second. */
const REDRAW_MS = 100
/** The bar is also redrawn on this beat, so rate and ETA move while large images are decoding. */
const TICK_MS = 1000

function formatBytes(n) {
  if (n < 1000) return `${n} B`
  const units = ['kB', 'MB', 'GB', 'TB']
  let value = n
  let unit = -1
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000
    unit++
  }
  return `${value.toFixed(value < 10 ? 2 : 1)} ${units[unit]}`
}

function formatSeconds(ms) {
  return ms < 10000 ? `${(ms / 1000).toFixed(2)} s` : `${(ms / 1000).toFixed(1)} s`
}

/** `m:ss`, or `h:mm:ss` past an hour. */
function formatClock(seconds) {
  const s = Math.max(0, Math.round(seconds))
  const hours = Math.floor(s / 3600)
  const minutes = Math.floor((s % 3600) / 60)
  const secs = String(s % 60).padStart(2, '0')
  return hours > 0 ? `${hours}:${String(minutes).padStart(2, '0')}:${secs}` : `${minutes}:${secs}`
}

/**
 * Counts shared by the batch and its reporter. `total` images planned; the others count
 * the ones settled so far; `stopped` were aborted in flight by a signal.
 */
function createTally(total) {
  return { total, ok: 0, failed: 0, skipped: 0, stopped: 0, bytesIn: 0, bytesOut: 0, startedAt: performance.now() }
}

function settled(t) {
  return t.ok + t.failed + t.skipped
}

function summaryLines(t, signal) {
  const elapsed = performance.now() - t.startedAt
  const done = settled(t)
  const rate = elapsed > 0 ? (done * 1000) / elapsed : 0
  const lines = []
  if (signal !== undefined) {
    const notStarted = t.total - done - t.stopped
    lines.push(`Interrupted by ${signal}: ${t.stopped} stopped in flight, ${notStarted} not started; no partial file was left behind.`)
  }
  lines.push(`Thumbnails: ${t.ok} ok, ${t.failed} failed, ${t.skipped} skipped of ${t.total} in ${formatSeconds(elapsed)} (${rate.toFixed(1)} img/s)`)
  const ratio = t.bytesIn > 0 ? ` (${((t.bytesOut / t.bytesIn) * 100).toFixed(1)}% of the input)` : ''
  lines.push(`Bytes: ${formatBytes(t.bytesIn)} in, ${formatBytes(t.bytesOut)} out${ratio}`)
  return lines
}

function failedLine(entry, err) {
  // Node's fs errors already start with their code ("ENOENT: no such file ...").
  const message = err.message.startsWith(`${err.code}: `) ? err.message.slice(err.code.length + 2) : err.message
  return `FAILED ${entry.input}: ${err.code} ${message}`
}

/** One line per file: `ok in -> out WxH bytes ms`, `skipped in -> out: exists`, `FAILED in: CODE message`. */
class LineReporter {
  constructor(stream, tally, quiet) {
    this.stream = stream
    this.tally = tally
    this.quiet = quiet
  }

  write(line) {
    this.stream.write(`${line}\n`)
  }

  ok(entry, info, ms) {
    if (!this.quiet) this.write(`ok ${entry.input} -> ${entry.output} ${info.width}x${info.height} ${info.size} bytes ${Math.round(ms)} ms`)
  }

  skipped(entry) {
    if (!this.quiet) this.write(`skipped ${entry.input} -> ${entry.output}: exists`)
  }

  failed(entry, err) {
    this.write(failedLine(entry, err))
  }

  stopping(signal, inFlight) {
    this.write(`${signal}: stopping ${inFlight} image${inFlight === 1 ? '' : 's'} in flight, starting no more (a second ${signal} exits at once)`)
  }

  finish(signal) {
    for (const line of summaryLines(this.tally, signal)) this.write(line)
  }
}

/** A single line redrawn with `\r` on a terminal; failures scroll above it. */
class BarReporter {
  constructor(stream, tally) {
    this.stream = stream
    this.tally = tally
    this.lastDraw = -Infinity
    this.signal = undefined
    this.timer = setInterval(() => this.draw(), TICK_MS)
    this.timer.unref()
    this.draw()
  }

  line() {
    const t = this.tally
    const done = settled(t)
    const elapsed = (performance.now() - t.startedAt) / 1000
    const rate = elapsed > 0 ? done / elapsed : 0
    const percent = t.total > 0 ? Math.floor((done * 100) / t.total) : 100
    const eta = this.signal ? `stopping (${this.signal} again: exit at once)` : done > 0 && rate > 0 ? `ETA ${formatClock((t.total - done) / rate)}` : 'ETA --:--'
    const failed = t.failed > 0 ? `  ${t.failed} failed` : ''
    const text = `${String(done).padStart(String(t.total).length)}/${t.total} ${String(percent).padStart(3)}%  ${rate.toFixed(1)} img/s  ${eta}${failed}`
    const columns = this.stream.columns || 80
    const barWidth = Math.min(30, columns - text.length - 4)
    if (barWidth < 5) return text.slice(0, columns - 1)
    const filled = t.total > 0 ? Math.floor((done * barWidth) / t.total) : barWidth
    return `[${'#'.repeat(filled)}${'-'.repeat(barWidth - filled)}] ${text}`
  }

  draw(force = false) {
    const now = performance.now()
    if (!force && now - this.lastDraw < REDRAW_MS) return
    this.lastDraw = now
    this.stream.write(`\r${this.line()}\x1b[K`)
  }

  ok() {
    this.draw()
  }

  skipped() {
    this.draw()
  }

  failed(entry, err) {
    this.stream.write(`\r\x1b[K${failedLine(entry, err)}\n`)
    this.draw(true)
  }

  stopping(signal) {
    this.signal = signal
    this.draw(true)
  }

  finish(signal) {
    clearInterval(this.timer)
    this.draw(true)
    this.stream.write(`\n${summaryLines(this.tally, signal).join('\n')}\n`)
  }
}

/** The bar when `stream` is a terminal (and not `quiet`), plain lines otherwise. */
function createReporter(stream, tally, { quiet }) {
  return stream.isTTY && !quiet ? new BarReporter(stream, tally) : new LineReporter(stream, tally, quiet)
}

module.exports = { createTally, createReporter }

'use strict'
// GET /report/:id?months=N: a PDF sales report, streamed as it is rendered.
// The numbers are aggregated in a Pool worker (CPU work kept off the event
// loop), then a renderer subprocess turns them into a PDF whose stdout is piped
// to the response with backpressure. A client that disconnects aborts both: the
// pool task is withdrawn, the renderer is killed.

const path = require('node:path')
const { pipeline } = require('node:stream/promises')
const { spawn } = require('offload')
const { HttpError, disconnectSignal, integerParam } = require('./http-errors.js')

const RENDERER = path.join(__dirname, 'report-renderer.js')
const ID = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/
const MAX_MONTHS = 120

/**
 * The route handler. `pool` runs report-worker.js; `children` tracks renderers;
 * `pageDelayMs` is the renderer's stand-in layout time per page; `timeoutMs`
 * bounds one report from start to last byte.
 */
function reportRoute({ pool, children, pageDelayMs, timeoutMs }) {
  return async function report(req, res) {
    const { id } = req.params
    if (!ID.test(id)) {
      throw new HttpError(400, 'INVALID_PARAMETER', `report id must be 1 to 64 letters, digits, '-' or '_', starting with a letter or digit; got ${JSON.stringify(id)}`)
    }
    const months = integerParam(req.query, 'months', { min: 1, max: MAX_MONTHS, fallback: 12 })
    const signal = AbortSignal.any([disconnectSignal(res), AbortSignal.timeout(timeoutMs)])

    let data
    try {
      data = await pool.run({ id, months }, { handler: 'aggregate', signal })
    } catch (err) {
      if (signal.aborted) return abandoned(res, signal)
      throw err
    }

    const renderer = spawn(process.execPath, [RENDERER, `--page-delay-ms=${pageDelayMs}`], {
      stdin: Buffer.from(JSON.stringify(data)),
      stderr: 'pipe',
      signal,
      forceKillAfter: 2000,
    })
    children.add(renderer, `report ${id} (${months} months)`)
    res.status(200)
    res.type('application/pdf')
    res.set('Content-Disposition', `inline; filename="report-${id}.pdf"`)
    res.set('X-Report-Pid', String(renderer.pid))

    // `end: false`: the response is ended only once the renderer exited with 0, so a
    // renderer that dies midway gives a cut connection, never a short "complete" PDF.
    const [streamed, exited] = await Promise.allSettled([pipeline(renderer.stdout, res, { end: false }), renderer])
    if (signal.aborted) return abandoned(res, signal)
    if (streamed.status === 'rejected') throw streamed.reason
    if (exited.status === 'rejected') {
      console.error(`report ${id}: ${exited.reason.message}`)
      throw new HttpError(502, 'REPORT_FAILED', `the report renderer failed (${exited.reason.code}); retry, and report it if it persists`)
    }
    res.end()
  }
}

/** A report whose client left needs no answer; one that ran out of time gets a 504 or a cut connection. */
function abandoned(res, signal) {
  if (signal.reason?.code === 'CLIENT_CLOSED') return
  if (res.headersSent) {
    res.destroy()
    return
  }
  throw new HttpError(504, 'REPORT_TIMEOUT', 'the report took too long to produce; ask for fewer months')
}

module.exports = { reportRoute }

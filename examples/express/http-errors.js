'use strict'
// Every error the service sends has one JSON shape, { error: { code, message } },
// with a stable `code` clients can switch on and a message that says what to do.

class HttpError extends Error {
  constructor(status, code, message) {
    super(message)
    this.name = 'HttpError'
    this.status = status
    this.code = code
  }
}

/** Catch-all for routes nobody serves. */
function notFound(req, res, next) {
  next(new HttpError(404, 'NOT_FOUND', `no route for ${req.method} ${req.path}; try POST /thumbnail, GET /report/:id or GET /health`))
}

/**
 * Express error middleware. Express's own client errors (a malformed URL, …) keep
 * their 4xx status; a client that is gone gets nothing; anything else that is not an
 * HttpError is a bug or an outage, so it is logged and the client gets a 500 without
 * internals.
 */
function sendError(err, req, res, next) {
  if (res.destroyed || res.socket?.destroyed) return // the client hung up: nobody to answer
  if (!(err instanceof HttpError) && Number.isInteger(err.status) && err.status >= 400 && err.status < 500) {
    err = new HttpError(err.status, 'BAD_REQUEST', err.message)
  }
  if (res.headersSent) {
    // A streamed body cannot turn into an error document: cut the connection so the
    // client sees a truncated response instead of a short one that looks complete.
    res.destroy(err)
    return
  }
  let status = err.status
  let code = err.code
  let message = err.message
  if (!(err instanceof HttpError)) {
    console.error(`${req.method} ${req.originalUrl}:`, err)
    status = 500
    code = 'INTERNAL'
    message = 'the server failed to handle the request; retry later, and report it if it persists'
  }
  // A route may have named the file it meant to send; the error document is not that file.
  res.removeHeader('Content-Disposition')
  res.status(status).json({ error: { code, message } })
}

/**
 * An AbortSignal that fires when the client goes away before its response is
 * complete, so the work done for it (a resize, a pool task, a subprocess) stops.
 */
function disconnectSignal(res) {
  const controller = new AbortController()
  res.once('close', () => {
    if (!res.writableFinished) controller.abort(new HttpError(499, 'CLIENT_CLOSED', 'the client closed the connection'))
  })
  return controller.signal
}

/** An integer query parameter within [min, max], `fallback` when absent. */
function integerParam(query, name, { min, max, fallback }) {
  const raw = query[name]
  if (raw === undefined || raw === '') return fallback
  if (typeof raw !== 'string' || !/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) {
    throw new HttpError(400, 'INVALID_PARAMETER', `${name} must be a whole number from ${min} to ${max}; got ${JSON.stringify(raw)}`)
  }
  return Number(raw)
}

module.exports = { HttpError, notFound, sendError, disconnectSignal, integerParam }

#!/usr/bin/env node
'use strict'
// The example service: an Express app that keeps heavy work off its event loop
// with offload.
//
//   POST /thumbnail?width=&height=&format=   image in the body → resized image
//   GET  /report/:id?months=                 PDF report streamed from a subprocess
//   GET  /health                             event-loop delay, pool, subprocesses, images
//
// Run it: `node examples/express/server.js` (PORT, default 3000; HOST, default
// 127.0.0.1). SIGTERM or SIGINT: stop accepting, finish in-flight requests,
// close the pool, kill remaining children, exit 0. Tests and benchmarks call
// start() instead.

const http = require('node:http')
const path = require('node:path')
const express = require('express')
const { Pool, getConcurrency } = require('offload')

const { HttpError, notFound, sendError } = require('./http-errors.js')
const { thumbnailRoute } = require('./thumbnail-route.js')
const { reportRoute } = require('./report-route.js')
const { RunningChildren } = require('./running-children.js')
const { EventLoopDelayWindows, healthRoute } = require('./health.js')

const DEFAULTS = {
  /** Largest request body (bytes) POST /thumbnail accepts. */
  maxBodyBytes: 20 * 2 ** 20,
  /** Largest image (width × height, from its header) decoded; bigger ones get 413 before any pixel memory is used. */
  maxInputPixels: 100_000_000,
  /** Largest thumbnail side, in pixels. */
  maxDimension: 4096,
  /** Pool workers aggregating report data (default: one per CPU). */
  poolSize: undefined,
  /** Stand-in layout time per report page in the renderer, milliseconds. */
  reportPageDelayMs: 50,
  /** Longest a report may take, milliseconds. */
  reportTimeoutMs: 120_000,
  /** Event-loop delay window of /health, milliseconds. */
  healthWindowMs: 10_000,
  /** How long shutdown waits for in-flight requests before cutting them, milliseconds (under Kubernetes' 30 s grace period, so the pool and children still get closed before its SIGKILL). */
  shutdownGraceMs: 25_000,
}

/**
 * Starts the service on `host`:`port` (port 0: any free port). Resolves with
 * `{ url, server, pool, children, shutdown }`; `shutdown()` resolves once
 * everything is closed.
 */
async function start({ port = 0, host = '127.0.0.1', ...options } = {}) {
  const settings = { ...DEFAULTS, ...options }
  const pool = new Pool({
    script: path.join(__dirname, 'report-worker.js'),
    size: settings.poolSize,
    minSize: 1,
    idleTimeout: 60_000,
    stderr: 'pipe',
  })
  pool.on('error', (err) => console.error(`report pool: ${err.message}`))
  const children = new RunningChildren()
  const loop = new EventLoopDelayWindows({ windowMs: settings.healthWindowMs })
  const thumbnails = thumbnailRoute({
    threads: getConcurrency,
    maxBodyBytes: settings.maxBodyBytes,
    maxInputPixels: settings.maxInputPixels,
    maxDimension: settings.maxDimension,
  })
  let draining = false

  const app = express()
  app.disable('x-powered-by')
  app.get('/health', healthRoute({
    loop,
    state: () => (draining ? 'draining' : 'ok'),
    sections: {
      pool: () => pool.stats(),
      subprocesses: () => children.stats(),
      images: thumbnails.stats,
    },
  }))
  app.use((req, res, next) => {
    // A request on a connection kept alive from before the shutdown: refuse it and
    // close, so the client retries elsewhere instead of waiting on a dying process.
    if (!draining) return next()
    res.set('Connection', 'close')
    next(new HttpError(503, 'SHUTTING_DOWN', 'the server is shutting down; retry the request'))
  })
  app.post('/thumbnail', thumbnails.thumbnail)
  app.get('/report/:id', reportRoute({
    pool,
    children,
    pageDelayMs: settings.reportPageDelayMs,
    timeoutMs: settings.reportTimeoutMs,
  }))
  app.use(notFound)
  app.use(sendError)

  const server = http.createServer(app)
  // Longer than the 60 s idle timeout of common load balancers, so the balancer, not
  // this server, closes idle connections (else it may send on a closing one).
  server.keepAliveTimeout = 65_000
  // While draining, a connection is closed as soon as its response is finished
  // (end(), not destroy(): bytes still queued for a slow client go out first), so
  // the server's 'close' does not wait for keep-alive connections to time out.
  server.on('request', (req, res) => {
    const socket = req.socket // res.socket is detached by the time 'finish' fires
    res.once('finish', () => draining && socket.end())
  })
  try {
    await new Promise((resolve, reject) => {
      server.once('error', reject)
      server.listen(port, host, () => {
        server.off('error', reject)
        resolve()
      })
    })
  } catch (err) {
    // EADDRINUSE and the like: leave no pool workers behind.
    loop.stop()
    await pool.destroy()
    throw err
  }
  const address = server.address()
  const url = `http://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}`

  let shuttingDown = null
  /**
   * Stops accepting at once (the listening socket is closed before this returns
   * its promise), lets in-flight requests finish within `shutdownGraceMs`, then
   * closes the pool and kills whatever children are left.
   */
  function shutdown() {
    if (shuttingDown) return shuttingDown
    draining = true
    const closed = new Promise((resolve) => server.close(resolve))
    server.closeIdleConnections()
    shuttingDown = (async () => {
      const grace = setTimeout(() => {
        console.error(`shutdown: requests still running after ${settings.shutdownGraceMs} ms; cutting them`)
        server.closeAllConnections()
        children.killAll()
      }, settings.shutdownGraceMs)
      await closed
      clearTimeout(grace)
      children.killAll()
      await Promise.all([children.whenEmpty(), pool.close()])
      loop.stop()
    })()
    return shuttingDown
  }

  return { url, server, pool, children, shutdown }
}

function main() {
  const port = Number(process.env.PORT ?? 3000)
  const host = process.env.HOST ?? '127.0.0.1'
  const options = {}
  if (process.env.REPORT_PAGE_DELAY_MS !== undefined) options.reportPageDelayMs = Number(process.env.REPORT_PAGE_DELAY_MS)
  start({ port, host, ...options }).then(
    (service) => {
      console.log(`listening on ${service.url}`)
      const stop = (signal) => {
        service.shutdown().then(
          () => console.log('shut down'),
          (err) => {
            console.error('shutdown failed:', err)
            process.exitCode = 1
          },
        )
        console.log(`${signal}: no longer accepting connections; finishing in-flight requests`)
      }
      process.once('SIGTERM', stop)
      process.once('SIGINT', stop)
    },
    (err) => {
      console.error(`cannot start: ${err.message}`)
      process.exit(1)
    },
  )
}

if (require.main === module) main()

module.exports = { start, DEFAULTS }

#!/usr/bin/env node
// The POST /thumbnail endpoint of examples/express/, with the same request
// handling, errors and /health, served by one of three resizers, for
// bench/server.mjs:
//
//   offload   offload's resize() (its own Rust image threads)
//   sharp     sharp (libvips, on libuv's threadpool)
//   magick    one ImageMagick `convert` per request, started with node:child_process
//
//   node bench/servers/thumbnail.mjs --engine=NAME [--port=0] [--window-ms=2000]
//
// Prints "listening on http://127.0.0.1:PORT" once it accepts requests.

import { createRequire } from 'node:module'
import http from 'node:http'

import { findMagick, runMagick } from '../lib/magick.mjs'

const require = createRequire(import.meta.url)
const express = require('express')
const { getConcurrency } = require('../../index.js')
const { thumbnailRoute } = require('../../examples/express/thumbnail-route.js')
const { DEFAULTS } = require('../../examples/express/server.js')
const { EventLoopDelayWindows, healthRoute } = require('../../examples/express/health.js')
const { HttpError, notFound, sendError } = require('../../examples/express/http-errors.js')

const arg = (name, fallback) => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? fallback

function sharpEngine() {
  const sharp = require('sharp')
  sharp.cache(false) // the same input every request: a cache would measure nothing
  return {
    // Images at once: one per libuv threadpool thread (sharp.concurrency() is libvips' threads per image).
    threads: () => Number(process.env.UV_THREADPOOL_SIZE ?? 4),
    resizeImage: (input, { width, height, format, maxInputPixels }) => {
      // rotate(): upright from EXIF, as offload does by default.
      let image = sharp(input, { limitInputPixels: maxInputPixels }).rotate().resize(width, height)
      if (format) image = image.toFormat(format, { quality: 80 })
      return image.toBuffer({ resolveWithObject: true })
    },
  }
}

function magickEngine() {
  const magick = findMagick()
  if (!magick.cmd) throw new Error(magick.note)
  return {
    threads: () => null,
    resizeImage: async (input, { width, height, format, signal }) => {
      if (!width || !height || !['jpeg', 'png'].includes(format)) {
        throw new HttpError(400, 'INVALID_PARAMETER', 'the ImageMagick engine of this benchmark takes width, height and format=jpeg or png')
      }
      return { data: await runMagick(magick, { width, height, format }, input, { signal }), info: { format } }
    },
  }
}

const ENGINES = {
  offload: () => ({ threads: getConcurrency, resizeImage: undefined }), // the route's default: offload's resize
  sharp: sharpEngine,
  magick: magickEngine,
}

const name = arg('engine')
if (!ENGINES[name]) {
  console.error(`--engine must be one of ${Object.keys(ENGINES).join(', ')}; got ${name}`)
  process.exit(2)
}
const engine = ENGINES[name]()
const loop = new EventLoopDelayWindows({ windowMs: Number(arg('window-ms', 2000)) })
// The example service's limits, so that the three engines serve exactly its endpoint.
const { maxBodyBytes, maxInputPixels, maxDimension } = DEFAULTS
const thumbnails = thumbnailRoute({ ...engine, maxBodyBytes, maxInputPixels, maxDimension })

const app = express()
app.disable('x-powered-by')
app.get('/health', healthRoute({ loop, state: () => 'ok', sections: { engine: () => name, images: thumbnails.stats } }))
app.post('/thumbnail', thumbnails.thumbnail)
app.use(notFound)
app.use(sendError)

const server = http.createServer(app)
server.listen(Number(arg('port', 0)), '127.0.0.1', () => console.log(`listening on http://127.0.0.1:${server.address().port}`))
process.once('SIGTERM', () => {
  loop.stop()
  server.close()
  server.closeAllConnections()
})

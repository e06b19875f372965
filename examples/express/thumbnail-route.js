'use strict'
// POST /thumbnail?width=&height=&format=: the image is the request body, the
// thumbnail is the response. The resize itself is a parameter (`resizeImage`)
// so that bench/server.mjs can serve the very same endpoint with sharp or an
// ImageMagick process in place of offload's resize().

const { resize, formats } = require('offload')
const { HttpError, disconnectSignal, integerParam } = require('./http-errors.js')
const { readBody } = require('./read-body.js')

const CONTENT_TYPES = { jpeg: 'image/jpeg', png: 'image/png', webp: 'image/webp', avif: 'image/avif', gif: 'image/gif' }
const FORMATS = Object.keys(CONTENT_TYPES)
/** The formats this build of offload decodes (AVIF only when it was built with libdav1d), as the 415 names them. */
const READABLE = Object.values(formats).filter((f) => f.input.buffer && f.id !== 'raw').map((f) => f.id)

/** offload's resize, with the thumbnail options; `info.format` is what it wrote (by default the input's format). */
function offloadResize(input, { width, height, format, maxInputPixels, signal }) {
  return resize(input, { width, height, format, limitInputPixels: maxInputPixels, signal, resolveWithObject: true })
}

/** The resize options from the query string, or a 400 that says what is wrong. */
function thumbnailOptions(query, maxDimension) {
  const width = integerParam(query, 'width', { min: 1, max: maxDimension })
  const height = integerParam(query, 'height', { min: 1, max: maxDimension })
  if (width === undefined && height === undefined) {
    throw new HttpError(400, 'INVALID_PARAMETER', 'give width, height or both (pixels); the other side follows the aspect ratio')
  }
  const format = query.format === undefined || query.format === '' ? undefined : String(query.format).toLowerCase()
  if (format !== undefined && !FORMATS.includes(format)) {
    throw new HttpError(400, 'INVALID_PARAMETER', `format must be one of ${FORMATS.join(', ')} (or absent for the input's); got ${JSON.stringify(query.format)}`)
  }
  return { width, height, format }
}

/** What an image failure means for the client, by the error's `code`. */
function imageHttpError(err, maxInputPixels) {
  switch (err.code) {
    case 'ERR_OFFLOAD_IMAGE_CORRUPT':
      return new HttpError(422, 'IMAGE_CORRUPT', 'the image is truncated or damaged; send the complete file')
    case 'ERR_OFFLOAD_IMAGE_UNSUPPORTED':
      return new HttpError(415, 'IMAGE_UNSUPPORTED', `the body is not an image this service reads (${READABLE.join(', ')}); send one of those`)
    case 'ERR_OFFLOAD_IMAGE_TOO_LARGE':
      return new HttpError(413, 'IMAGE_TOO_LARGE', `the image is larger than this service decodes (at most ${maxInputPixels} pixels, 65535 a side); send a smaller image`)
    default:
      return err
  }
}

/**
 * The route handler and its counters. `resizeImage(body, options)` resolves with
 * `{ data, info: { format } }`, the encoded thumbnail (default: offload's resize);
 * `threads()` says how many threads it resizes on, for /health.
 */
function thumbnailRoute({ resizeImage = offloadResize, threads, maxBodyBytes, maxInputPixels, maxDimension }) {
  const counters = { inFlight: 0, completed: 0, failed: 0, canceled: 0 }

  async function thumbnail(req, res) {
    const options = thumbnailOptions(req.query, maxDimension)
    const body = await readBody(req, { limit: maxBodyBytes })
    if (body.length === 0) throw new HttpError(400, 'EMPTY_BODY', 'send the image bytes as the request body')
    const signal = disconnectSignal(res)
    counters.inFlight++
    let output
    try {
      output = await resizeImage(body, { ...options, maxInputPixels, signal })
    } catch (err) {
      if (signal.aborted) {
        counters.canceled++
        return
      }
      counters.failed++
      throw imageHttpError(err, maxInputPixels)
    } finally {
      counters.inFlight--
    }
    counters.completed++
    res.type(CONTENT_TYPES[output.info.format] ?? 'application/octet-stream').send(output.data)
  }

  function stats() {
    return { threads: threads(), ...counters }
  }

  return { thumbnail, stats }
}

module.exports = { thumbnailRoute }

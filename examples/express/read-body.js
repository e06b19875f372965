'use strict'
// Reads a request body into one Buffer, refusing more than `limit` bytes with a
// 413. A body over the limit is still read (and dropped) up to `drainLimit`
// bytes before the 413 goes out: closing a connection the client is still
// writing to makes its kernel answer with a reset, and most clients then report
// "connection reset" instead of showing the 413.

const { HttpError } = require('./http-errors.js')

function tooLarge(limit) {
  return new HttpError(413, 'BODY_TOO_LARGE', `the request body is larger than ${limit} bytes; send a smaller image`)
}

function readBody(req, { limit, drainLimit = limit + 32 * 2 ** 20 }) {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length'])
    if (declared > drainLimit) {
      // Not worth reading just to be polite: answer now and close.
      req.res.set('Connection', 'close')
      reject(tooLarge(limit))
      return
    }
    const chunks = []
    let size = 0
    req.on('data', (chunk) => {
      size += chunk.length
      if (size > drainLimit) {
        req.res.set('Connection', 'close')
        req.removeAllListeners('data')
        req.removeAllListeners('end')
        req.resume()
        reject(tooLarge(limit))
      } else if (size <= limit) {
        chunks.push(chunk)
      } else {
        chunks.length = 0
      }
    })
    req.on('end', () => (size > limit ? reject(tooLarge(limit)) : resolve(Buffer.concat(chunks, size))))
    req.on('error', reject)
  })
}

module.exports = { readBody }

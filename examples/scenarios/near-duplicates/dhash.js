// The difference hash (dHash) of one image, in rows and columns.
// The image is shrunk to 9×9 grey levels; each of the 128 bits says whether a
// pixel is brighter than its right-hand (64 bits) or lower (64 bits) neighbour.
// Resizing, recompressing or re-orienting a photo barely changes those bits, so
// near-duplicates have hashes a few bits apart.
'use strict'
const { resize } = require('offload')

const SIDE = 9
// Grey levels (of 255) the thumbnail must span: below it the bits are noise.
const MIN_CONTRAST = 8

/** 128 bits as 32 hex digits (a JSON-friendly form; BigInt does not cross as JSON). */
async function differenceHash({ path }) {
  // fit 'fill' squeezes the whole picture in: a crop would hash only its middle.
  const { data, info } = await resize(path, { width: SIDE, height: SIDE, fit: 'fill', format: 'raw', resolveWithObject: true })
  const grey = new Float64Array(SIDE * SIDE)
  for (let p = 0; p < grey.length; p++) {
    const i = p * info.channels
    const alpha = info.channels === 4 ? data[i + 3] / 255 : 1
    // Transparent parts count as white, whatever colour they hide.
    grey[p] = (0.299 * data[i] + 0.587 * data[i + 1] + 0.114 * data[i + 2]) * alpha + 255 * (1 - alpha)
  }
  if (Math.max(...grey) - Math.min(...grey) < MIN_CONTRAST) {
    const err = new Error(`${path} is too plain to hash: it spans fewer than ${MIN_CONTRAST} grey levels at ${SIDE}×${SIDE}`)
    err.code = 'ERR_IMAGE_TOO_PLAIN'
    throw err
  }
  const at = (x, y) => grey[y * SIDE + x]
  let bits = 0n
  for (let y = 0; y < SIDE - 1; y++) {
    for (let x = 0; x < SIDE - 1; x++) {
      bits = (bits << 2n) | (at(x, y) > at(x + 1, y) ? 2n : 0n) | (at(x, y) > at(x, y + 1) ? 1n : 0n)
    }
  }
  return bits.toString(16).padStart(32, '0')
}

module.exports = { differenceHash, SIDE, MIN_CONTRAST }

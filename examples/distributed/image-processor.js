// The BullMQ sandboxed processor each worker host runs, unchanged from what
// BullMQ's own `new Worker(queue, 'image-processor.js')` would run: a
// thumbnail and a perceptual hash (dHash) of the image at job.data.path.
// offload's resize does the decoding; the hash is the near-duplicates
// example's. Errors (a corrupt image, one too plain to hash) fail the job
// with their code.
'use strict'
const fs = require('node:fs')
const path = require('node:path')
const { resize } = require('offload')
const { differenceHash } = require('../scenarios/near-duplicates/dhash')

module.exports = async (job) => {
  const { path: file, thumbs } = job.data
  // The hash first: an image that cannot be hashed leaves no thumbnail behind.
  const hash = await differenceHash({ path: file })
  await job.updateProgress(50)
  const thumbnail = await resize(file, { width: 320, height: 320, fit: 'inside', format: 'jpeg', quality: 75, resolveWithObject: true })
  let thumbPath = null
  if (thumbs) {
    thumbPath = path.join(thumbs, `${path.basename(file, path.extname(file))}.jpg`)
    await fs.promises.writeFile(thumbPath, thumbnail.data)
  }
  return { file, hash, thumbnail: { path: thumbPath, width: thumbnail.info.width, height: thumbnail.info.height, bytes: thumbnail.data.length } }
}

#!/usr/bin/env node
// Enqueues every image of a folder, one job each. The hosts read the images
// by path: on several machines, give the folder at the same path on each
// (a shared volume), or enqueue from a folder they all mount.
//
//   REDIS_URL=... node examples/distributed/producer.js <folder> [thumbnail folder]
'use strict'
const crypto = require('node:crypto')
const fs = require('node:fs')
const path = require('node:path')
const { Queue } = require('bullmq')
const { redisConnection, QUEUE } = require('./connection')

const IMAGE_EXTENSIONS = new Set(['.jpg', '.jpeg', '.png', '.webp', '.gif', '.avif'])

async function main() {
  const folder = process.argv[2] && path.resolve(process.argv[2])
  if (!folder) throw new Error('usage: producer.js <folder of images> [thumbnail folder]')
  const thumbs = process.argv[3] ? path.resolve(process.argv[3]) : null
  if (thumbs) fs.mkdirSync(thumbs, { recursive: true })
  const files = fs.readdirSync(folder).filter((name) => IMAGE_EXTENSIONS.has(path.extname(name).toLowerCase())).sort()
  const queue = new Queue(QUEUE, { connection: redisConnection() })
  try {
    // The job id comes from the path: enqueuing a folder twice does not do its work twice.
    await queue.addBulk(files.map((name) => {
      const file = path.join(folder, name)
      const jobId = `image-${crypto.createHash('sha256').update(file).digest('hex').slice(0, 32)}`
      return { name: 'image', data: { path: file, thumbs }, opts: { jobId, attempts: 2, backoff: { type: 'exponential', delay: 500 } } }
    }))
    console.log(`${files.length} images queued on '${QUEUE}'`)
  } finally {
    await queue.close()
  }
}

main().catch((err) => {
  console.error(err.message)
  process.exitCode = 1
})

#!/usr/bin/env node
// Near-duplicate images in a folder: a pool of worker processes hashes every
// image, the parent gathers the hashes and groups the ones a few bits apart.
//
// The version people copy:
//
//   const workers = os.cpus().map(() => child_process.fork('./hash-worker.js'))
//   files.forEach((file, i) => workers[i % workers.length].send(file))
//   workers.forEach((w) => w.on('message', ({ file, hash }) => hashes.set(file, hash)))
//
// What goes wrong: round-robin ignores which worker is free, so one slow image
// holds up everything queued behind it; nothing says when every answer is in;
// an image that crashes a worker loses its answer and every task queued on that
// worker, silently; errors do not cross back; and the workers outlive a parent
// that crashed.
//
// What offload does instead: `new Pool({ script })` keeps one queue and hands each
// image to the next free worker; `pool.run(task)` is a promise per image, so
// Promise.all says when all are in; a worker that crashes is replaced and only its
// own task rejects (WORKER_CRASHED), an error thrown in the worker rejects with
// its class, message and code; the workers die with this process. The worker
// (hash-worker.js) calls `serve()` from offload/worker and decodes with offload's
// `resize(..., { format: 'raw' })`.
//
//   node examples/scenarios/near-duplicates [folder] [max distance]   (default: the test images, 12 bits of 128)
//
// The test images hold one photo stored with each of the eight EXIF orientations;
// turned upright, they hash alike and come out as one group. Plain images (one
// colour) have no hash: the worker throws ERR_IMAGE_TOO_PLAIN, which reaches the
// parent with its code.
'use strict'
const fs = require('node:fs')
const path = require('node:path')
const { Pool } = require('offload')

const HASH_WORKER = path.join(__dirname, 'hash-worker.js')
const DEFAULT_FOLDER = path.join(__dirname, '../../../../shared/fixtures/images')
const IMAGE_EXTENSIONS = new Set(['.jpg', '.jpeg', '.png', '.webp', '.gif'])
const DEFAULT_MAX_DISTANCE = 12
const HASH_BITS = 128

/** Bits in which two hashes (hex digits) differ. */
function hammingDistance(a, b) {
  let x = BigInt(`0x${a}`) ^ BigInt(`0x${b}`)
  let bits = 0
  for (; x > 0n; x &= x - 1n) bits++
  return bits
}

/** Each file's hash (or why it has none), computed on a pool of worker processes. */
async function hashImages(files) {
  const pool = new Pool({ script: HASH_WORKER })
  try {
    return await Promise.all(
      files.map((file) =>
        pool.run({ path: file }).then(
          (hash) => ({ file, hash }),
          (err) => ({ file, error: err.code ?? err.message }),
        ),
      ),
    )
  } finally {
    await pool.close()
  }
}

/** Groups (2 files or more) joined by hashes at most `maxDistance` bits apart, largest first. */
function groupNearDuplicates(hashed, maxDistance) {
  const images = hashed.filter((h) => h.hash !== undefined)
  // Union-find over every close pair: a near-duplicate of a near-duplicate joins the group.
  const parent = images.map((_, i) => i)
  const root = (i) => (parent[i] === i ? i : (parent[i] = root(parent[i])))
  for (let i = 0; i < images.length; i++) {
    for (let j = i + 1; j < images.length; j++) {
      if (hammingDistance(images[i].hash, images[j].hash) <= maxDistance) parent[root(j)] = root(i)
    }
  }
  const groups = new Map()
  images.forEach((image, i) => {
    if (!groups.has(root(i))) groups.set(root(i), [])
    groups.get(root(i)).push(image.file)
  })
  return [...groups.values()].filter((g) => g.length > 1).sort((a, b) => b.length - a.length)
}

/** Hashes the images of `folder` and groups them. */
async function findNearDuplicates(folder, maxDistance = DEFAULT_MAX_DISTANCE) {
  const files = fs
    .readdirSync(folder)
    .filter((name) => IMAGE_EXTENSIONS.has(path.extname(name).toLowerCase()))
    .sort()
    .map((name) => path.join(folder, name))
  if (files.length === 0) throw new Error(`no .jpg, .jpeg, .png, .webp or .gif files in ${folder}: give a folder of images`)
  const hashed = await hashImages(files)
  return { hashed, groups: groupNearDuplicates(hashed, maxDistance) }
}

async function main() {
  const folder = path.resolve(process.argv[2] ?? DEFAULT_FOLDER)
  const maxDistance = Number(process.argv[3] ?? DEFAULT_MAX_DISTANCE)
  if (!Number.isInteger(maxDistance) || maxDistance < 0 || maxDistance > HASH_BITS) {
    throw new Error(`the max distance must be a whole number of bits, 0 to ${HASH_BITS}; got ${process.argv[3]}`)
  }
  const started = performance.now()
  const { hashed, groups } = await findNearDuplicates(folder, maxDistance)
  const ms = (performance.now() - started).toFixed(0)
  const failed = hashed.filter((h) => h.error)
  console.log(`${hashed.length - failed.length} images hashed in ${folder} on a pool of worker processes in ${ms} ms`)
  const hashOf = new Map(hashed.map((h) => [h.file, h.hash]))
  groups.forEach((group, i) => {
    console.log(`group ${i + 1}: ${group.length} near-duplicates (at most ${maxDistance} of ${HASH_BITS} bits apart)`)
    for (const file of group) console.log(`  ${hashOf.get(file)}  ${path.basename(file)}  ${hammingDistance(hashOf.get(group[0]), hashOf.get(file))} bits from the first`)
  })
  if (groups.length === 0) console.log(`no near-duplicates (at most ${maxDistance} of ${HASH_BITS} bits apart)`)
  for (const { file, error } of failed) console.log(`not hashed: ${path.basename(file)} (${error})`)
}

if (require.main === module) {
  main().catch((err) => {
    console.error(err.message)
    process.exitCode = 1
  })
}

module.exports = { findNearDuplicates, groupNearDuplicates, hammingDistance, HASH_BITS, DEFAULT_MAX_DISTANCE }

#!/usr/bin/env node
// Waits until the queue has no job left to run, then prints the groups of
// near-duplicate images from the hosts' results (the hashes at most
// MAX_DISTANCE bits apart, default 12 of 128), which host made each, and the
// images that failed. --clean removes the finished jobs afterwards.
//
//   REDIS_URL=... node examples/distributed/gatherer.js [--clean]
'use strict'
const path = require('node:path')
const { Queue, QueueEvents } = require('bullmq')
const { redisConnection, QUEUE } = require('./connection')
const { groupNearDuplicates, hammingDistance, HASH_BITS, DEFAULT_MAX_DISTANCE } = require('../scenarios/near-duplicates')

async function untilDrained(queue, events) {
  // Re-count on each finished job; the first count covers a queue already done.
  let wake = () => {}
  const onFinished = () => wake()
  events.on('completed', onFinished)
  events.on('failed', onFinished)
  try {
    for (;;) {
      const finished = new Promise((resolve) => {
        wake = resolve
      })
      const counts = await queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized', 'waiting-children')
      if (Object.values(counts).every((n) => n === 0)) return
      await finished
    }
  } finally {
    events.off('completed', onFinished)
    events.off('failed', onFinished)
  }
}

async function main() {
  const maxDistance = Number(process.env.MAX_DISTANCE ?? DEFAULT_MAX_DISTANCE)
  const connection = redisConnection()
  const queue = new Queue(QUEUE, { connection })
  const events = new QueueEvents(QUEUE, { connection })
  try {
    await events.waitUntilReady()
    await untilDrained(queue, events)
    await report(queue, maxDistance)
  } finally {
    await events.close()
    await queue.close()
  }
}

async function report(queue, maxDistance) {
  const completed = await queue.getJobs(['completed'])
  const failed = await queue.getJobs(['failed'])
  const hashed = completed.map((job) => ({ file: job.returnvalue.file, hash: job.returnvalue.hash }))
  const hostOf = new Map(completed.map((job) => [job.returnvalue.file, job.processedBy]))
  console.log(`${completed.length} images hashed, ${failed.length} failed, by ${new Set(hostOf.values()).size} worker host(s)`)
  const hashOf = new Map(hashed.map((h) => [h.file, h.hash]))
  const groups = groupNearDuplicates(hashed, maxDistance)
  groups.forEach((group, i) => {
    console.log(`group ${i + 1}: ${group.length} near-duplicates (at most ${maxDistance} of ${HASH_BITS} bits apart)`)
    for (const file of group) console.log(`  ${hashOf.get(file)}  ${path.basename(file)}  ${hammingDistance(hashOf.get(group[0]), hashOf.get(file))} bits from the first  (${hostOf.get(file)})`)
  })
  if (groups.length === 0) console.log(`no near-duplicates (at most ${maxDistance} of ${HASH_BITS} bits apart)`)
  for (const job of failed.sort((a, b) => a.data.path.localeCompare(b.data.path))) console.log(`not hashed: ${path.basename(job.data.path)} (${job.failedReason.split('\n')[0]})`)
  if (process.argv.includes('--clean')) await queue.obliterate({ force: true })
}

main().catch((err) => {
  console.error(err.message)
  process.exitCode = 1
})

#!/usr/bin/env node
// A worker host: run it on as many machines as you like, each pointed at the
// same Redis (REDIS_URL). Its jobs run in an offload pool of worker processes
// (one per CPU by default, POOL_SIZE to choose), recycled every 500 images or
// past 512 MB, each image given 60 s.
//
//   REDIS_URL=redis://queue-host:6379 node examples/distributed/worker-host.js
//
// SIGTERM or SIGINT: stop taking jobs, finish the ones in flight, exit 0. A
// host that dies without that (kill -9, power loss) takes its pool workers
// with it; after lockDuration its jobs are moved back by another host's
// stalled-job check and run again there.
'use strict'
const os = require('node:os')
const path = require('node:path')
const { Worker } = require('offload/bullmq')
const { redisConnection, QUEUE } = require('./connection')

const worker = new Worker(QUEUE, path.join(__dirname, 'image-processor.js'), {
  connection: redisConnection(),
  // Saved with each job it finishes (job.processedBy): the gatherer says which host did what.
  name: `${os.hostname()}:${process.pid}`,
  lockDuration: Number(process.env.LOCK_DURATION ?? 30_000),
  stalledInterval: Number(process.env.STALLED_INTERVAL ?? 30_000),
  pool: {
    ...(process.env.POOL_SIZE ? { size: Number(process.env.POOL_SIZE) } : {}),
    maxTasksPerWorker: 500,
    maxRssBytes: 512 * 1024 * 1024,
    taskTimeout: 60_000,
    stderr: 'pipe',
  },
})
worker.on('error', (err) => console.error(`worker host: ${err.code ?? ''} ${err.message}`))
worker.on('failed', (job, err) => console.log(`failed ${path.basename(job?.data.path ?? '?')}: ${err.code ?? err.message}`))
worker.waitUntilReady().then(() => console.log(`worker host ${process.pid} ready: queue '${QUEUE}', ${worker.opts.concurrency} at a time`))

let stopping = false
for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, async () => {
    if (stopping) return
    stopping = true
    await worker.close()
    console.log(`worker host ${process.pid} stopped`)
    process.exit(0)
  })
}

'use strict'
// require('offload/bullmq'): offload pools as BullMQ's job processors. Change
// `require('bullmq').Worker` to `require('offload/bullmq').Worker` and a
// sandboxed processor file runs in offload Pool workers: recycled by count or
// memory, timed out even in a CPU loop, limited, never restarted in a storm;
// or give it a Pool of serve() workers. `createProcessor(pool)` is the
// processor function for BullMQ's own Worker. `require('offload')` never loads
// bullmq; this entry does.

const { Worker } = require('./worker')
const { createProcessor } = require('./processor')

module.exports = { Worker, createProcessor }

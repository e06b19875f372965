'use strict'
// The serve() echo of bench/workers/offload-serve.cjs, from the checkout in OFFLOAD_ROOT
// (bench/pool-calls.mjs compares two checkouts, each with its own lib/worker.js).
require(require('node:path').join(process.env.OFFLOAD_ROOT, 'lib', 'worker.js')).serve((task) => task)

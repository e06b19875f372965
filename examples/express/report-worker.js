'use strict'
// The service's Pool worker: report aggregation runs here, in its own process,
// so a 120-month report does not stall the server's event loop.
const { serve } = require('offload/worker')
const { monthlyTotals, summarize } = require('./report-data.js')

serve({
  async aggregate(task, { signal }) {
    const months = []
    for (const month of monthlyTotals(task)) {
      months.push(month)
      // Between months, let the pool's cancel message in (a client that left, a
      // timeout): the worker is free for the next report within one month's work.
      await new Promise((resolve) => setImmediate(resolve))
      signal.throwIfAborted()
    }
    return summarize(task.id, months)
  },
})

'use strict'
// Preloaded into every Node pool worker (`node --require`): tells the pool that a plain
// worker can take tasks once its module listens for them (`process.on('message')`), unless
// the module called serve() (lib/worker.js) on its task channel, which says so there. (A pool
// of serialization 'advanced' gives no task channel: serve() then answers messages, and this
// says the worker is ready as for any plain one.) Task timeouts then do not include Node's start.
//
// It waits for the 'message' listener, not just for the end of the first tick: an ES module
// worker's code runs later than that (module loading is asynchronous), and a worker that is
// about to call serve() must not be taken for a plain one meanwhile, or its first tasks
// would reach it as plain messages.
if (typeof process.send === 'function') {
  const onListener = (event) => {
    if (event !== 'message') return
    process.off('newListener', onListener)
    // The rest of the module's setup runs first, as it does for a CommonJS worker.
    setImmediate(() => {
      if (globalThis[Symbol.for('offload.worker.serving')] && process.env.OFFLOAD_CHANNEL_FD) return
      globalThis[Symbol.for('offload.worker.readySent')] = true
      process.send({ $offload: 'ready' })
    })
  }
  process.on('newListener', onListener)
}

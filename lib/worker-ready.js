'use strict'
// Preloaded into every Node pool worker (`node --require`): once the worker's
// own module has run (and so registered its 'message' listener), tell the pool
// it can take tasks, unless the module called serve() (lib/worker.js), which
// says so on its own channel. Task timeouts then do not include Node's start.
if (typeof process.send === 'function') {
  setImmediate(() => {
    if (globalThis[Symbol.for('offload.worker.serving')]) return
    globalThis[Symbol.for('offload.worker.readySent')] = true
    process.send({ $offload: 'ready' })
  })
}

'use strict'
// Preloaded into every Node pool worker (`node --require`): once the worker's
// own module has run (and so registered its 'message' listener), tell the pool
// it can take tasks. Task timeouts then do not include Node's start.
if (typeof process.send === 'function') {
  setImmediate(() => process.send({ $offload: 'ready' }))
}

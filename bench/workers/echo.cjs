'use strict'
// The plain worker everyone writes: answer each message with itself.
// Used by offload's Pool and by the hand-rolled child_process.fork pools.
process.on('message', (task) => process.send(task))

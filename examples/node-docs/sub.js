'use strict'
// The child of fork-messages.mjs (Node's sub.js).
process.on('message', (m) => {
  console.log('CHILD got message:', m)
  // Added: the docs' child waits for messages forever; this one leaves after the first.
  process.disconnect()
})

// Causes the parent to print: PARENT got message: { foo: 'bar', baz: null }
process.send({ foo: 'bar', baz: NaN })

// subprocess.send(): the parent forks sub.js, and each side sends the other a message.
import { fork } from 'node:child_process'

const n = fork(new URL('./sub.js', import.meta.url))

n.on('message', (m) => {
  console.log('PARENT got message:', m)
})

// Causes the child to print: CHILD got message: { hello: 'world' }
n.send({ hello: 'world' })

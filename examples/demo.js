#!/usr/bin/env node
// `npm run demo`: offload doing its job on built-in data, with timings.
// Everything here runs real processes; nothing is downloaded.
'use strict'
const { createHash } = require('node:crypto')
const { monitorEventLoopDelay } = require('node:perf_hooks')
const path = require('node:path')
const { $, exec, execFile, fork, pipeline, spawn } = require('..')

const ms = (start) => `${(Number(process.hrtime.bigint() - start) / 1e6).toFixed(1)} ms`

async function main() {
  const loop = monitorEventLoopDelay({ resolution: 1 })
  loop.enable()
  console.log('offload demo: subprocesses supervised from Rust, the event loop stays free\n')

  let t = process.hrtime.bigint()
  const kernel = await execFile('uname', ['-sr'])
  console.log(`1. execFile uname -sr            → ${kernel.stdout}  (${ms(t)}, exit code ${kernel.exitCode})`)

  t = process.hrtime.bigint()
  const name = "a file; with 'quotes' and spaces"
  const echoed = await $`printf %s ${name}`
  console.log(`2. $\`printf %s \${name}\`           → ${JSON.stringify(echoed.stdout)} as one argument, no shell (${ms(t)})`)

  t = process.hrtime.bigint()
  const counted = await exec('seq 1 100000 | wc -l')
  console.log(`3. exec('seq 1 100000 | wc -l')   → ${counted.stdout.trim()} lines through /bin/sh (${ms(t)})`)

  t = process.hrtime.bigint()
  const grep = await pipeline(['ps', '-e', '-o', 'comm='], ['grep', '-c', '^node'])
  console.log(`4. pipeline(ps | grep -c ^node)   → ${grep.stdout} node process(es), bytes via a kernel pipe (${ms(t)})`)

  t = process.hrtime.bigint()
  const hash = createHash('sha256')
  const big = spawn('head', ['-c', String(64 * 1024 * 1024), '/dev/zero'])
  for await (const chunk of big.stdout) hash.update(chunk)
  await big
  console.log(`5. streamed 64 MiB from a child    → sha256 ${hash.digest('hex').slice(0, 16)}… with backpressure (${ms(t)})`)

  t = process.hrtime.bigint()
  const total = 400
  let started = 0
  const lane = async () => {
    while (started < total) {
      started++
      await execFile('true')
    }
  }
  await Promise.all(Array.from({ length: 16 }, lane))
  const seconds = Number(process.hrtime.bigint() - t) / 1e9
  console.log(`6. ${total} × /bin/true, 16 in flight → ${(total / seconds).toFixed(0)} spawns/s (${ms(t)})`)

  t = process.hrtime.bigint()
  const worker = fork(path.join(__dirname, 'demo-worker.js'))
  const reply = await new Promise((resolve) => {
    worker.once('message', resolve)
    worker.send({ words: ['offload', 'moves', 'work', 'off', 'the', 'loop'] })
  })
  worker.disconnect()
  await worker
  console.log(`7. fork(demo-worker.js) over IPC   → ${JSON.stringify(reply)} (${ms(t)})`)

  try {
    await execFile('sleep', ['10'], { timeout: 200 })
  } catch (err) {
    console.log(`8. a timeout, explained            → ${err.code}: ${err.message.split('\n')[0]}`)
  }

  loop.disable()
  console.log(`\nEvent-loop delay while all this ran: p99 ${(loop.percentile(99) / 1e6).toFixed(1)} ms, max ${(loop.max / 1e6).toFixed(1)} ms`)
  console.log('Nothing was written to disk; see README.md for the API and bench/RESULTS.md for measurements.')
}

main().catch((err) => {
  console.error(err)
  process.exitCode = 1
})

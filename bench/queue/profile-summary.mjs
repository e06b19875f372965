// Summarises V8 CPU profiles (node --cpu-prof) of bench/queue/profile.mjs:
// every sample is charged to the code that caused it, the nearest frame on
// its stack that is not Node's own (Node's internals, a socket write for one,
// count for whoever called them); samples with no such frame are Node's event
// loop and I/O of their own. Offload's share is split by file.
//
// Only the samples inside the measured window (DIR/window.json, written by
// profile.mjs) count, and they are given in ms per job.
//
//   node bench/queue/profile-summary.mjs DIR [--functions N]   (N: the top functions, by self time, with their owner)
import fs from 'node:fs'
import path from 'node:path'

const dir = process.argv[2]
const window = JSON.parse(fs.readFileSync(path.join(dir, 'window.json'), 'utf8'))
const [from, to] = [Number(window.startUs), Number(window.endUs)]
const per = window.jobs
const at = process.argv.indexOf('--functions')
const FUNCTIONS = at > 0 ? Number(process.argv[at + 1]) : 0

/** The owner of a frame's code, or null for Node's own and V8's pseudo-frames. */
function owner(url) {
  if (!url || url.startsWith('node:')) return null
  const file = url.replace(/^file:\/\//, '')
  if (/\/node_modules\/bullmq\//.test(file)) return 'bullmq'
  if (/\/node_modules\/(ioredis|@ioredis|redis-parser|cluster-key-slot|denque|standard-as-callback|redis-errors)\//.test(file)) return 'ioredis'
  if (/\/node_modules\/msgpackr|\/node_modules\/cron-parser|\/node_modules\/semver|\/node_modules\/uuid/.test(file)) return 'bullmq'
  const lib = file.match(/\/lib\/(.+\.js)$/)
  if (lib && !file.includes('node_modules')) return `offload ${lib[1]}`
  if (/\/bench\/queue\/(cpu|leak|thumb-[a-z]+)\.js$/.test(file)) return 'processor'
  if (/\/bench\/queue\/host\.mjs$/.test(file)) return 'bench host'
  if (/\/node_modules\/sharp\//.test(file)) return 'sharp'
  return `other ${path.basename(file)}`
}

function summarize(profile) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]))
  const parent = new Map()
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id)
  const charged = new Map()
  const chargeOf = (id) => {
    if (charged.has(id)) return charged.get(id)
    const n = byId.get(id)
    const name = n.callFrame.functionName
    let who
    if (name === '(garbage collector)') who = 'gc'
    else if (name === '(idle)') who = 'idle'
    else if (name === '(program)') who = 'program (V8, native calls)'
    else who = owner(n.callFrame.url) ?? (parent.has(id) ? chargeOf(parent.get(id)) : null) ?? 'node (event loop, I/O)'
    charged.set(id, who)
    return who
  }
  const us = new Map()
  const leaves = new Map()
  const { samples, timeDeltas } = profile
  let t = profile.startTime
  for (let i = 0; i < samples.length; i++) {
    t += timeDeltas[i]
    if (t < from || t > to) continue
    const who = chargeOf(samples[i])
    const dt = timeDeltas[i + 1] ?? 0
    us.set(who, (us.get(who) ?? 0) + dt)
    const { functionName, url, lineNumber } = byId.get(samples[i]).callFrame
    const leaf = `${who} | ${functionName || '(anonymous)'} ${url ? `${path.basename(url)}:${lineNumber + 1}` : ''}`
    leaves.set(leaf, (leaves.get(leaf) ?? 0) + dt)
  }
  return { us, leaves }
}

for (const file of fs.readdirSync(dir).filter((f) => f.endsWith('.cpuprofile')).sort()) {
  const { us, leaves } = summarize(JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8')))
  const busy = [...us].filter(([k]) => k !== 'idle').reduce((s, [, v]) => s + v, 0)
  if (busy === 0) continue // a process that ended before the window, or started after it
  console.log(`\n${file}: busy ${(busy / 1000 / per).toFixed(3)} ms/job in the window`)
  for (const [who, v] of [...us].sort((a, b) => b[1] - a[1])) {
    if (who === 'idle') continue
    const ms = v / 1000
    console.log(`  ${who.padEnd(32)} ${(ms / per).toFixed(4).padStart(8)} ms/job  ${((100 * v) / busy).toFixed(1).padStart(5)}%`)
  }
  for (const [leaf, v] of [...leaves].filter(([k]) => !k.startsWith('idle')).sort((a, b) => b[1] - a[1]).slice(0, FUNCTIONS)) {
    console.log(`    ${(v / 1000 / per).toFixed(4)} ms/job  ${leaf}`)
  }
}

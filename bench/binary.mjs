#!/usr/bin/env node
// Builds of the addon side by side: AVIF and JPEG decode speed, to measure a change in
// how the binary is built or linked (e.g. the system's libdav1d.so against libdav1d
// compiled in, the machine's GCC against the cross toolchain's GCC 4.8).
//
//   node bench/binary.mjs A.node B.node [C.node ...] [--rounds=N]
//
// Inputs: AVIFs made by sharp from ../shared/fixtures/images/ (8-bit 4:2:0 and 4:4:4,
// 10-bit, with alpha; full size), and the JPEG fixtures. Each trial is a fresh Node
// process that loads one build (through NAPI_RS_NATIVE_LIBRARY_PATH, which native.js
// honours), warms up and decodes each input for a time budget, one at a time: AVIF is
// decoded whole (resize to its own width, raw output); JPEG likewise (no DCT scaling).
// The measure is CPU time (user + system, every thread) per image: on a shared machine
// it moves far less than wall time with the other processes' load.
// The builds take turns, their order rotating every round; the table gives each one's
// median ms per image over the rounds, and its ratio to the first build's.
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const here = path.dirname(fileURLToPath(import.meta.url))
const root = path.join(here, '..')

if (process.argv[2] === '--trial') {
  const { resize, metadata } = await import(path.join(root, 'index.js')).then((m) => m.default)
  const inputs = JSON.parse(process.argv[3])
  const out = {}
  for (const file of inputs) {
    const bytes = fs.readFileSync(file)
    const { width } = await metadata(bytes)
    const once = () => resize(bytes, { width, format: 'raw' })
    for (let i = 0; i < 2; i++) await once()
    let n = 0
    const start = process.hrtime.bigint()
    const cpu = process.cpuUsage()
    while (Number(process.hrtime.bigint() - start) / 1e6 < 1500 || n < 3) {
      await once()
      n++
    }
    const used = process.cpuUsage(cpu)
    out[path.basename(file)] = (used.user + used.system) / 1000 / n
  }
  console.log(JSON.stringify(out))
  process.exit(0)
}

const builds = process.argv.slice(2).filter((x) => !x.startsWith('--'))
if (builds.length < 2) {
  console.error('usage: node bench/binary.mjs A.node B.node [C.node ...] [--rounds=N]')
  process.exit(2)
}
const rounds = Number((process.argv.find((x) => x.startsWith('--rounds=')) || '--rounds=5').slice(9))
const fixtures = path.join(root, '..', 'shared', 'fixtures', 'images')
const { default: sharp } = await import('sharp')
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'offload-bench-binary-'))
const avifs = []
for (const [name, src, options] of [
  ['landscape-420.avif', 'Landscape_1.jpg', { quality: 60 }],
  ['photo-444.avif', '2569067123_aca715a2ee_o.jpg', { quality: 60, chromaSubsampling: '4:4:4' }],
  ['flowers-10bit.avif', 'flowers.jpeg', { quality: 60, bitdepth: 10 }],
  ['alpha.avif', 'with-alpha.png', { quality: 60 }],
]) {
  const file = path.join(dir, name)
  fs.writeFileSync(file, await sharp(path.join(fixtures, src)).avif(options).toBuffer())
  avifs.push(file)
}
const jpegs = ['Landscape_1.jpg', '2569067123_aca715a2ee_o.jpg', 'flowers.jpeg'].map((f) => path.join(fixtures, f))
const inputs = [...avifs, ...jpegs]

const results = builds.map(() => [])
for (let r = 0; r < rounds; r++) {
  for (let k = 0; k < builds.length; k++) {
    const i = (k + r) % builds.length
    const run = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--trial', JSON.stringify(inputs)], {
      env: { ...process.env, NAPI_RS_NATIVE_LIBRARY_PATH: path.resolve(builds[i]) },
      encoding: 'utf8',
    })
    if (run.status !== 0) throw new Error(`trial with ${builds[i]} failed: ${run.stderr}`)
    results[i].push(JSON.parse(run.stdout))
  }
}
const median = (xs) => xs.sort((x, y) => x - y)[Math.floor(xs.length / 2)]
const names = builds.map((_, i) => String.fromCharCode(65 + i))
console.log(`median CPU ms per image over ${rounds} rounds; ${builds.map((b, i) => `${names[i]} = ${b}`).join(', ')}`)
console.log(['input', ...names.map((n) => `${n} ms`), ...names.slice(1).map((n) => `${n}/A`)].join('\t'))
for (const file of inputs) {
  const key = path.basename(file)
  const ms = results.map((trials) => median(trials.map((t) => t[key])))
  console.log([key, ...ms.map((m) => m.toFixed(2)), ...ms.slice(1).map((m) => (m / ms[0]).toFixed(2))].join('\t'))
}
fs.rmSync(dir, { recursive: true, force: true })

#!/usr/bin/env node
// Two builds of the addon side by side: AVIF and JPEG decode speed, to measure a change
// in how the binary is built or linked (e.g. the system's libdav1d.so against libdav1d
// compiled in, GCC 12 against the glibc 2.17 cross GCC).
//
//   node bench/binary.mjs A.node B.node [--rounds=N]
//
// Inputs: AVIFs made by sharp from ../shared/fixtures/images/ (8-bit 4:2:0 and 4:4:4,
// 10-bit, with alpha; full size), and the JPEG fixtures. Each trial is a fresh Node
// process that loads one build (through NAPI_RS_NATIVE_LIBRARY_PATH, which native.js
// honours), warms up and decodes each input for a time budget, one at a time: AVIF is
// decoded whole (resize to its own width, raw output); JPEG likewise (no DCT scaling).
// The builds alternate, their order swapped every round; the table gives each one's
// median ms per image over the rounds.
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
    while (Number(process.hrtime.bigint() - start) / 1e6 < 1500 || n < 3) {
      await once()
      n++
    }
    out[path.basename(file)] = Number(process.hrtime.bigint() - start) / 1e6 / n
  }
  console.log(JSON.stringify(out))
  process.exit(0)
}

const [a, b] = process.argv.slice(2).filter((x) => !x.startsWith('--'))
if (!a || !b) {
  console.error('usage: node bench/binary.mjs A.node B.node [--rounds=N]')
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

const results = { [a]: [], [b]: [] }
for (let r = 0; r < rounds; r++) {
  for (const build of r % 2 === 0 ? [a, b] : [b, a]) {
    const run = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--trial', JSON.stringify(inputs)], {
      env: { ...process.env, NAPI_RS_NATIVE_LIBRARY_PATH: path.resolve(build) },
      encoding: 'utf8',
    })
    if (run.status !== 0) throw new Error(`trial with ${build} failed: ${run.stderr}`)
    results[build].push(JSON.parse(run.stdout))
  }
}
const median = (xs) => xs.sort((x, y) => x - y)[Math.floor(xs.length / 2)]
console.log(`median ms per image over ${rounds} rounds (A = ${a}, B = ${b})`)
console.log(['input', 'A ms', 'B ms', 'B/A'].join('\t'))
for (const file of inputs) {
  const key = path.basename(file)
  const ma = median(results[a].map((t) => t[key]))
  const mb = median(results[b].map((t) => t[key]))
  console.log([key, ma.toFixed(2), mb.toFixed(2), (mb / ma).toFixed(2)].join('\t'))
}
fs.rmSync(dir, { recursive: true, force: true })

#!/usr/bin/env node
// Builds the native addon when it is missing or older than its sources, so that
// `npm install` (the `prepare` script) and `npm test` work on a fresh clone.
// `--force` builds regardless (`npm run build`), `--debug` builds without optimisation.
//
// AVIF input needs the system's libdav1d (>= 1.0) at build time: when pkg-config finds
// it, the `avif-input` feature is on; otherwise the build goes on without it and says so
// (AVIF input then fails with ERR_OFFLOAD_IMAGE_UNSUPPORTED, which says what to install).
'use strict'
const fs = require('node:fs')
const path = require('node:path')
const { spawnSync } = require('node:child_process')

const root = path.join(__dirname, '..')
const addon = fs
  .readdirSync(root)
  .filter((name) => /^offload\..*\.node$/.test(name))
  .map((name) => path.join(root, name))[0]

function newestSource(dir) {
  let newest = 0
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name)
    if (entry.isDirectory()) newest = Math.max(newest, newestSource(full))
    else newest = Math.max(newest, fs.statSync(full).mtimeMs)
  }
  return newest
}

const sources = Math.max(
  newestSource(path.join(root, 'src')),
  ...['Cargo.toml', 'Cargo.lock', 'build.rs'].map((f) => fs.statSync(path.join(root, f)).mtimeMs),
)
const force = process.argv.includes('--force')
const debug = process.argv.includes('--debug')
if (!force && addon && fs.statSync(addon).mtimeMs >= sources) process.exit(0)

const cargo = spawnSync('cargo', ['--version'], { stdio: 'ignore' })
if (cargo.error || cargo.status !== 0) {
  console.error(
    'offload: building the native addon needs a Rust toolchain (cargo); install it from https://rustup.rs and run `npm install` again.',
  )
  process.exit(1)
}
const features = []
const dav1d = spawnSync('pkg-config', ['--exists', 'dav1d >= 1.0'], { stdio: 'ignore' })
if (!dav1d.error && dav1d.status === 0) {
  features.push('avif-input')
} else {
  console.error(
    "offload: building without AVIF input (libdav1d not found by pkg-config); for it: apt-get install libdav1d-dev pkg-config, then npm run build in offload's folder",
  )
}
const napi = path.join(root, 'node_modules', '.bin', 'napi')
const args = ['build', '--platform', '--js', 'native.js', '--dts', 'native.d.ts', ...(debug ? [] : ['--release'])]
if (features.length > 0) args.push('--features', features.join(','))
const result = spawnSync(napi, args, {
  cwd: root,
  stdio: 'inherit',
})
process.exit(result.status ?? 1)

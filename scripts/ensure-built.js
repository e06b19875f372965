#!/usr/bin/env node
// Builds the native addon when it is missing or older than its sources, so that
// `npm install` (the `prepare` script) and `npm test` work on a fresh clone.
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
if (addon && fs.statSync(addon).mtimeMs >= sources) process.exit(0)

const cargo = spawnSync('cargo', ['--version'], { stdio: 'ignore' })
if (cargo.error || cargo.status !== 0) {
  console.error(
    'offload: building the native addon needs a Rust toolchain (cargo); install it from https://rustup.rs and run `npm install` again.',
  )
  process.exit(1)
}
const napi = path.join(root, 'node_modules', '.bin', 'napi')
const result = spawnSync(napi, ['build', '--platform', '--release', '--js', 'native.js', '--dts', 'native.d.ts'], {
  cwd: root,
  stdio: 'inherit',
})
process.exit(result.status ?? 1)

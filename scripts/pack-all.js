#!/usr/bin/env node
// `npm run pack:all`: every tarball a release publishes, into dist/, as `npm pack` makes
// them: the main package `offload` (JavaScript, types and the source to build from) and one
// package per target whose binary is at hand (here: the one this machine builds; in the
// release workflow: every target's, downloaded into npm/<target>/ by `napi artifacts`).
//
// The binary is the release build of scripts/ensure-built.js (self-contained: checked by
// scripts/check-binary.js before it is packed), reused when it is up to date. The main
// package gets `optionalDependencies` on every target's package at its own version, as
// `napi prepublish` writes them, in a staged copy: package.json in the repository keeps
// none, so `npm install` in a clone does not look for packages a release has not
// published. Every version must match (`npm version` keeps them in step through
// `napi version`); a mismatch stops the packing.
//
//   npm run pack:all                  build (if needed) and pack
//   npm run pack:all -- --prebuilt    pack the binaries already in npm/<target>/ (CI)
'use strict'
const fs = require('node:fs')
const path = require('node:path')
const { spawnSync } = require('node:child_process')
const { checkBinary } = require('./check-binary')
const { detectPlatform, PACKAGE_PREFIX } = require('../lib/platform')

const root = path.join(__dirname, '..')
const dist = path.join(root, 'dist')
const prebuilt = process.argv.includes('--prebuilt')
const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'))

function fail(message) {
  console.error(`pack:all: ${message}`)
  process.exit(1)
}

function run(command, args, options = {}) {
  const result = spawnSync(command, args, { cwd: root, encoding: 'utf8', ...options })
  if (result.status !== 0) fail(`${command} ${args.join(' ')} failed:\n${result.stderr || ''}${result.stdout || ''}`)
  return result.stdout
}

if (!prebuilt) {
  run(process.execPath, [path.join(__dirname, 'ensure-built.js'), '--release'], { stdio: 'inherit' })
  const { target } = detectPlatform()
  fs.copyFileSync(path.join(root, `offload.${target}.node`), path.join(root, 'npm', target, `offload.${target}.node`))
}

// Targets, from package.json `napi.targets` through their npm/<target>/ folders.
const targets = fs
  .readdirSync(path.join(root, 'npm'), { withFileTypes: true })
  .filter((entry) => entry.isDirectory())
  .map((entry) => {
    const dir = path.join(root, 'npm', entry.name)
    const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8'))
    return { name: entry.name, dir, manifest, binary: path.join(dir, manifest.main) }
  })
if (targets.length !== pkg.napi.targets.length) fail(`npm/ has ${targets.length} target folders, package.json napi.targets lists ${pkg.napi.targets.length}`)

const mismatched = targets.filter((t) => t.manifest.version !== pkg.version || t.manifest.name !== `${PACKAGE_PREFIX}-${t.name}`)
if (mismatched.length > 0) {
  fail(
    `npm/*/package.json out of step with offload@${pkg.version}: ${mismatched.map((t) => `${t.manifest.name}@${t.manifest.version}`).join(', ')} ` +
      '(bump versions with `npm version <new>`, which runs `napi version`)',
  )
}
const loader = fs.readFileSync(path.join(root, 'native.js'), 'utf8')
const expected = [...loader.matchAll(/expected ([^ ]+) but got/g)].map((m) => m[1])
if (expected.some((v) => v !== pkg.version)) fail(`native.js expects version ${expected[0]}, package.json says ${pkg.version}: rebuild it (npm run build)`)

const ready = targets.filter((t) => fs.existsSync(t.binary))
if (ready.length === 0) fail('no binary for any target in npm/<target>/')
for (const t of ready) {
  const { problems } = checkBinary(t.binary)
  if (problems.length > 0) fail(`${t.binary} is not fit to ship: ${problems.join('; ')}`)
}

fs.rmSync(dist, { recursive: true, force: true })
fs.mkdirSync(dist)

// The main package, staged: the files `npm pack` would take, plus optionalDependencies.
const stage = path.join(dist, '.stage')
const listed = JSON.parse(run('npm', ['pack', '--dry-run', '--json', '--ignore-scripts']))[0].files.map((f) => f.path)
for (const file of listed) {
  fs.mkdirSync(path.dirname(path.join(stage, file)), { recursive: true })
  fs.copyFileSync(path.join(root, file), path.join(stage, file))
}
// `prepare` builds a clone; npm 11 counts it as an install script of an installed
// package and warns about it, though it never runs there: the package has none.
const { prepare, ...scripts } = pkg.scripts
const staged = { ...pkg, scripts, optionalDependencies: Object.fromEntries(targets.map((t) => [t.manifest.name, pkg.version])) }
fs.writeFileSync(path.join(stage, 'package.json'), `${JSON.stringify(staged, null, 2)}\n`)

const packed = []
for (const dir of [...ready.map((t) => t.dir), stage]) {
  const [info] = JSON.parse(run('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', dist], { cwd: dir }))
  packed.push(info)
}
fs.rmSync(stage, { recursive: true, force: true })
for (const info of packed) {
  console.log(`dist/${info.filename}  ${info.name}@${info.version}  ${(info.size / 1048576).toFixed(1)} MiB packed, ${info.entryCount} files`)
}
const missing = targets.filter((t) => !ready.includes(t)).map((t) => t.manifest.name)
if (missing.length > 0) console.log(`not packed (no binary here; the release workflow builds them): ${missing.join(', ')}`)

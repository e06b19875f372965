#!/usr/bin/env node
// Builds the native addon from source into offload.<target>.node beside native.js, which
// the loader takes before any platform package.
//
// Three callers, one build:
// - a clone: `npm install` (the `prepare` script) and `npm test` build when the addon is
//   missing or older than its sources; `npm run build` (`--force`) always builds;
// - a release: `npm run pack:all` and the release workflow (`--release`, optionally
//   `--target linux-arm64-gnu` to cross-build) need the shipped binary self-contained: AVIF
//   input is required and, for glibc targets, it is linked by the napi-rs cross toolchain
//   (GCC 4.8 with a glibc 2.17 sysroot) whatever glibc the build machine has. A clone with
//   the tools builds the same way, so what `npm test` tests is what ships;
// - an installed copy built from source on purpose (`npm explore offload -- npm run build`):
//   no devDependencies there, so cargo is run directly with the machine's own compiler
//   and the library copied into place.
//
// AVIF input (feature `avif-input`) compiles libdav1d from the source libdav1d-sys ships,
// with meson and ninja (and nasm on x86_64 for its SIMD): when they are missing the build
// goes on without AVIF input and says so, except for a release.
'use strict'
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { spawnSync } = require('node:child_process')
const { detectPlatform, TARGETS } = require('../lib/platform')

const root = path.join(__dirname, '..')
const argv = process.argv.slice(2)
const force = argv.includes('--force')
const debug = argv.includes('--debug')
const release = argv.includes('--release')
const targetArg = argv.includes('--target') ? argv[argv.indexOf('--target') + 1] : null

// The napi-rs cross toolchains (GCC + glibc 2.17 sysroot) by build-machine arch and target,
// at the versions published on npm (napi 3.10's own choice, 1.0.5, does not exist for them).
const CROSS_TOOLCHAINS = {
  x64: {
    'x86_64-unknown-linux-gnu': '@napi-rs/cross-toolchain-x64-target-x86_64@1.0.0',
    'aarch64-unknown-linux-gnu': '@napi-rs/cross-toolchain-x64-target-aarch64@1.0.3',
  },
}

function fail(message) {
  console.error(`offload: ${message}`)
  process.exit(1)
}

const host = detectPlatform()
const target = targetArg || host.target
const triple = TARGETS[target]
if (!triple) {
  fail(
    targetArg
      ? `unknown target ${targetArg}: one of ${Object.keys(TARGETS).join(', ')}`
      : `no build of offload for ${host.description}: offload runs on Linux only (x64 or arm64).`,
  )
}
const crossBuild = target !== host.target
const addon = path.join(root, `offload.${target}.node`)

function newestSource(dir) {
  let newest = 0
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name)
    if (entry.isDirectory()) newest = Math.max(newest, newestSource(full))
    else newest = Math.max(newest, fs.statSync(full).mtimeMs)
  }
  return newest
}

function upToDate() {
  if (!fs.existsSync(addon)) return false
  const sources = Math.max(
    newestSource(path.join(root, 'src')),
    ...['Cargo.toml', 'Cargo.lock', 'build.rs'].map((f) => fs.statSync(path.join(root, f)).mtimeMs),
  )
  return fs.statSync(addon).mtimeMs >= sources
}

// A release reuses the binary only if it is what a release ships: self-contained, with
// AVIF input (an earlier build in a clone may have been made without the tools).
function shippable() {
  const { checkBinary } = require('./check-binary')
  if (checkBinary(addon).problems.length > 0) return false
  if (crossBuild) return true
  const avif = spawnSync(process.execPath, ['-e', `process.exit(require(${JSON.stringify(addon)}).avifInputSupported() ? 0 : 1)`])
  return avif.status === 0
}

function onPath(tool, env = process.env) {
  const found = spawnSync(tool, ['--version'], { stdio: 'ignore', env })
  return !found.error && found.status === 0
}

function resolveFromRoot(name) {
  try {
    return require.resolve(name, { paths: [root] })
  } catch {
    return null
  }
}

function run(command, args, options) {
  const result = spawnSync(command, args, { stdio: ['ignore', 'ignore', 'inherit'], ...options })
  if (result.error || result.status !== 0) fail(`${command} ${args.join(' ')} failed${result.error ? `: ${result.error.message}` : ''}`)
}

// Unpacks the cross toolchain for `triple` where `napi build --use-napi-cross` looks for it
// (~/.napi-rs/cross-toolchain/<its @napi-rs/cross-toolchain version>/<triple>), so napi
// uses it as it is. Returns its bin folder.
function prepareCrossToolchain(napiDir) {
  const spec = (CROSS_TOOLCHAINS[process.arch] || {})[triple]
  if (!spec) fail(`no napi-rs cross toolchain for ${triple} on a ${process.arch} machine`)
  const napiWants = require(require.resolve('@napi-rs/cross-toolchain/package.json', { paths: [napiDir] })).version
  const dir = path.join(os.homedir(), '.napi-rs', 'cross-toolchain', napiWants, triple)
  if (!fs.existsSync(path.join(dir, 'package.json'))) {
    console.error(`offload: unpacking ${spec} (GCC with a glibc 2.17 sysroot) into ${dir}`)
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'offload-toolchain-'))
    run('npm', ['pack', spec, '--pack-destination', tmp, '--loglevel=error'], { cwd: tmp })
    const tgz = fs.readdirSync(tmp).find((f) => f.endsWith('.tgz'))
    run('tar', ['-xzf', tgz], { cwd: tmp })
    fs.mkdirSync(dir, { recursive: true })
    const xz = fs.readdirSync(path.join(tmp, 'package')).find((f) => f.endsWith('.tar.xz'))
    run('tar', ['-xJf', path.join(tmp, 'package', xz), '-C', dir])
    fs.rmSync(tmp, { recursive: true, force: true })
    if (!fs.existsSync(path.join(dir, 'package.json'))) fs.writeFileSync(path.join(dir, 'package.json'), '{}\n')
  }
  return path.join(dir, 'bin')
}

if (!force && upToDate() && (!release || shippable())) process.exit(0)

if (!onPath('cargo')) {
  fail(
    'building the native addon needs a Rust toolchain (cargo, Rust >= 1.88): install it from https://rustup.rs, with a C compiler, and build again.',
  )
}

const napiPackage = resolveFromRoot('@napi-rs/cli/package.json')
const glibc = triple.endsWith('-gnu')
if ((release || crossBuild) && !napiPackage) fail('a release build needs the devDependencies: run npm install in a clone first.')

const env = { ...process.env }
const napiArgs = []
// The cross toolchain needs Linux x64 to run; elsewhere a clone builds with its own compiler.
if (napiPackage && glibc && CROSS_TOOLCHAINS[process.arch]) {
  const bin = prepareCrossToolchain(path.dirname(napiPackage))
  napiArgs.push('--use-napi-cross')
  // The C libraries (libjpeg, libwebp, libdav1d) are compiled against the toolchain's
  // glibc 2.17 headers. Its GCC 4.8 optimises them worse than a current GCC (JPEG decode
  // ~35% slower, AVIF ~10% measured with bench/binary.mjs), so for this machine's own
  // architecture its gcc compiles them (--sysroot) and only the link is the toolchain's.
  // napi points cc-rs at the toolchain unless CC_<target> is set; libdav1d's meson reads
  // CC/CXX/AR for a native build and, for a cross build, its cross file's
  // `aarch64-linux-gnu-*` names: all are pointed at the same compiler.
  const sysroot = path.join(bin, '..', triple, 'sysroot')
  const gccMajor = Number((spawnSync('gcc', ['-dumpversion'], { encoding: 'utf8' }).stdout || '').split('.')[0])
  const ownGcc = !crossBuild && gccMajor >= 8
  const triplevar = triple.replace(/-/g, '_')
  env.CC = env[`CC_${triplevar}`] = ownGcc ? 'gcc' : path.join(bin, `${triple}-gcc`)
  env.CXX = env[`CXX_${triplevar}`] = ownGcc ? 'g++' : path.join(bin, `${triple}-g++`)
  env.AR = path.join(bin, `${triple}-ar`)
  // GCC 4.8 compiles C89 by default; libwebp needs C99.
  env.CFLAGS = `${process.env.CFLAGS || ''} ${ownGcc ? `--sysroot=${sysroot}` : '-std=gnu99'}`.trim()
  if (crossBuild) {
    const aliases = path.join(bin, '..', 'meson-aliases')
    fs.mkdirSync(aliases, { recursive: true })
    const prefix = triple.replace('-unknown-', '-')
    for (const tool of ['gcc', 'g++', 'ar', 'strip']) {
      const alias = path.join(aliases, `${prefix}-${tool}`)
      if (!fs.existsSync(alias)) fs.symlinkSync(path.join(bin, `${triple}-${tool}`), alias)
    }
    env.PATH = `${aliases}${path.delimiter}${env.PATH}`
  }
} else if (release && glibc) {
  fail(`a release build for ${target} links with the napi-rs cross toolchain, which runs on Linux x64 only.`)
}

const avifTools = ['meson', 'ninja', ...(triple.startsWith('x86_64') ? ['nasm'] : [])]
const missingAvifTools = avifTools.filter((tool) => !onPath(tool, env))
const features = []
if (missingAvifTools.length === 0) {
  features.push('avif-input')
} else if (release) {
  fail(`a release build includes AVIF input, which needs ${missingAvifTools.join(', ')} (Debian/Ubuntu: apt-get install meson ninja-build nasm).`)
} else {
  console.error(
    `offload: building without AVIF input (${missingAvifTools.join(', ')} not found); for it: apt-get install meson ninja-build nasm, then npm run build in offload's folder`,
  )
}

let result
if (napiPackage) {
  const napi = path.join(root, 'node_modules', '.bin', 'napi')
  const args = ['build', '--platform', '--js', 'native.js', '--dts', 'native.d.ts', '--target', triple, ...napiArgs]
  if (!debug) args.push('--release', '--strip')
  if (features.length > 0) args.push('--features', features.join(','))
  result = spawnSync(napi, args, { cwd: root, stdio: 'inherit', env })
} else {
  const profile = debug ? 'debug' : 'release'
  const args = ['build', '--lib', ...(debug ? [] : ['--release'])]
  if (features.length > 0) args.push('--features', features.join(','))
  result = spawnSync('cargo', args, { cwd: root, stdio: 'inherit', env })
  if (result.status === 0) {
    const targetDir = process.env.CARGO_TARGET_DIR ? path.resolve(root, process.env.CARGO_TARGET_DIR) : path.join(root, 'target')
    fs.copyFileSync(path.join(targetDir, profile, 'liboffload.so'), addon)
    console.error(`offload: built ${addon}`)
  }
}
process.exit(result.status ?? 1)

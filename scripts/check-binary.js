#!/usr/bin/env node
// Whether a built addon is fit to ship: it needs no shared library beyond glibc's own
// (libc, libm, libpthread, libdl, librt, ld-linux; since glibc 2.34 libpthread, libdl and
// librt are empty stubs it still installs) or musl's libc, and libgcc_s: no libdav1d,
// libjpeg, libwebp... from the build machine. And no glibc symbol newer than
// GLIBC_CEILING, so it loads on any glibc Linux Node 20 runs on (RHEL/Rocky 8, Debian 11,
// Ubuntu 20.04, Amazon Linux 2 and later). Read with binutils' readelf, as a person would.
//
// `node scripts/check-binary.js [file.node]` prints the facts and exits 1 when one fails.
'use strict'
const { spawnSync } = require('node:child_process')

// The napi-rs cross toolchain links against glibc 2.17 (CentOS 7), below Node 20's own
// need (2.28): held there so no newer symbol creeps in.
const GLIBC_CEILING = '2.17'
const ALLOWED_NEEDED = [/^libc\.so\.6$/, /^libc\.musl-[\w]+\.so\.1$/, /^libm\.so\.6$/, /^libpthread\.so\.0$/, /^libdl\.so\.2$/, /^librt\.so\.1$/, /^ld-linux[-\w.]*\.so\.\d$/, /^libgcc_s\.so\.1$/]

function readelf(args, file) {
  const run = spawnSync('readelf', [...args, file], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 })
  if (run.error) throw new Error(`readelf is needed to check ${file} (Debian/Ubuntu: apt-get install binutils): ${run.error.message}`)
  if (run.status !== 0) throw new Error(`readelf ${args.join(' ')} ${file} failed: ${run.stderr}`)
  return run.stdout
}

function compareVersions(a, b) {
  const pa = a.split('.').map(Number)
  const pb = b.split('.').map(Number)
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] || 0) - (pb[i] || 0)
    if (d !== 0) return d
  }
  return 0
}

/**
 * @returns {{ needed: string[], unexpected: string[], glibc: string | null, problems: string[] }}
 */
function checkBinary(file) {
  const needed = [...readelf(['-d', '-W'], file).matchAll(/\(NEEDED\)\s+Shared library: \[([^\]]+)\]/g)].map((m) => m[1])
  const unexpected = needed.filter((lib) => !ALLOWED_NEEDED.some((re) => re.test(lib)))
  // The version needs (.gnu.version_r) list every GLIBC_x.y a symbol of the file asks for.
  const versions = [...new Set([...readelf(['-V', '-W'], file).matchAll(/Name: GLIBC_(\d+(?:\.\d+)+)/g)].map((m) => m[1]))]
  const glibc = versions.sort(compareVersions).at(-1) || null
  const problems = []
  if (unexpected.length > 0) problems.push(`it needs shared libraries beyond glibc and libgcc_s: ${unexpected.join(', ')}`)
  if (glibc && compareVersions(glibc, GLIBC_CEILING) > 0) problems.push(`it needs GLIBC_${glibc}, newer than GLIBC_${GLIBC_CEILING}`)
  return { needed, unexpected, glibc, problems }
}

if (require.main === module) {
  const file = process.argv[2] || require('node:path').join(__dirname, '..', 'offload.linux-x64-gnu.node')
  const { needed, glibc, problems } = checkBinary(file)
  console.log(`${file}\n  NEEDED: ${needed.join(', ')}\n  highest glibc symbol version: GLIBC_${glibc}`)
  for (const problem of problems) console.error(`  not fit to ship: ${problem}`)
  process.exit(problems.length > 0 ? 1 : 0)
}

module.exports = { checkBinary, GLIBC_CEILING, compareVersions }

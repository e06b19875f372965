'use strict'
// The platform this process runs on, named the way offload's platform packages are
// (napi-rs: `<os>-<cpu>-<abi>`), for the build script and for the error a missing binary
// raises. The C library comes from Node's own diagnostic report: it names the glibc Node
// runs against, and a musl Node has none (as on Alpine).

// The targets a release builds (package.json `napi.targets`, Rust triples), by the names
// npm gives `process.platform`/`process.arch` and the C library: `linux-x64-gnu`...
const NODE_ARCH = { x86_64: 'x64', aarch64: 'arm64' }
const TARGETS = Object.fromEntries(
  require('../package.json').napi.targets.map((triple) => {
    const [arch, , os, abi] = triple.split('-')
    return [`${os}-${NODE_ARCH[arch]}-${abi}`, triple]
  }),
)

const PACKAGE_PREFIX = '@offload/offload'

function detectLibc() {
  if (process.platform !== 'linux') return { libc: null, glibcVersion: null }
  const report = process.report.getReport()
  const glibcVersion = report.header && report.header.glibcVersionRuntime
  if (glibcVersion) return { libc: 'glibc', glibcVersion }
  const musl = (report.sharedObjects || []).some((file) => /(?:libc\.musl-|ld-musl-)/.test(file))
  return { libc: musl ? 'musl' : 'unknown', glibcVersion: null }
}

/**
 * @returns {{ os: string, cpu: string, libc: string | null, glibcVersion: string | null,
 *   target: string | null, rustTarget: string | null, packageName: string | null, description: string }}
 */
function detectPlatform() {
  const { libc, glibcVersion } = detectLibc()
  const abi = libc === 'glibc' ? 'gnu' : libc
  const name = `${process.platform}-${process.arch}${abi ? `-${abi}` : ''}`
  const rustTarget = TARGETS[name] || null
  const libcText = libc === 'glibc' ? `glibc ${glibcVersion}` : libc || 'no libc detected'
  return {
    os: process.platform,
    cpu: process.arch,
    libc,
    glibcVersion,
    target: rustTarget ? name : null,
    rustTarget,
    packageName: rustTarget ? `${PACKAGE_PREFIX}-${name}` : null,
    description: `os ${process.platform}, cpu ${process.arch}, ${libcText}`,
  }
}

module.exports = { detectPlatform, TARGETS, PACKAGE_PREFIX }

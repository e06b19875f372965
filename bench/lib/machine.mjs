// What machine and which build a benchmark ran on, for its report.

import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..')

function cpuModel() {
  try {
    const line = fs.readFileSync('/proc/cpuinfo', 'utf8').split('\n').find((l) => l.startsWith('model name'))
    if (line) return line.split(':').slice(1).join(':').trim()
  } catch {}
  return os.cpus()[0]?.model ?? 'unknown'
}

export function machineInfo() {
  return {
    date: new Date().toISOString(),
    nproc: os.availableParallelism?.() ?? os.cpus().length,
    cpu: cpuModel(),
    node: process.version,
    libuv: process.versions.uv,
    kernel: os.release(),
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    loadavg: os.loadavg().map((l) => Math.round(l * 100) / 100),
    // Launch costs grow with the environment (every library copies it per spawn).
    envVars: Object.keys(process.env).length,
  }
}

/** `abc1234` (plus ` + uncommitted changes in src/ lib/`) for the checkout in ROOT. */
export function gitRevision() {
  const git = (...args) => spawnSync('git', args, { cwd: ROOT, encoding: 'utf8' })
  const head = git('rev-parse', '--short', 'HEAD')
  if (head.status !== 0) return 'unknown'
  const dirty = git('status', '--porcelain', '--', 'src', 'lib', 'index.js', 'native.js').stdout.trim()
  return `${head.stdout.trim()}${dirty ? ' + uncommitted changes in src/ or lib/' : ''}`
}

function newestMtime(dir) {
  let newest = 0
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name)
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(full) : fs.statSync(full).mtimeMs)
  }
  return newest
}

/** The addon binary that `require('offload')` loads here, and warnings about it. */
export function addonInfo() {
  const name = fs.readdirSync(ROOT).find((n) => /^offload\..*\.node$/.test(n))
  if (!name) return { file: null, warnings: ['no offload.*.node found: run `npm run build`'] }
  const file = path.join(ROOT, name)
  const stat = fs.statSync(file)
  const warnings = []
  // A release build is ~11 MB (the image codecs are most of it); a debug build, with its
  // debug info, ~27 MB.
  if (stat.size > 20 * 2 ** 20) warnings.push(`${name} is ${Math.round(stat.size / 2 ** 20)} MB: probably a debug build; run \`npm run build\``)
  try {
    if (newestMtime(path.join(ROOT, 'src')) > stat.mtimeMs) warnings.push(`src/ is newer than ${name}: run \`npm run build\``)
  } catch {}
  return { file: name, bytes: stat.size, mtime: stat.mtime.toISOString(), warnings }
}

// Installing offload as a user does: the tarballs a release publishes (`npm run pack:all`)
// go into a project outside the repository, on a PATH whose first folder holds a fake
// cargo, rustc, C compiler and nasm that record any call and fail. Nothing may be compiled,
// no install script may run, and the installed package must work (a child, a Pool task, a
// JPEG resize, an AVIF's metadata) or, without its platform package, say what is wrong.
//
// pack:all reuses the release binary `npm test` has just built when it is up to date and
// shippable (scripts/ensure-built.js), so this file adds the packing and two installs.
// OFFLOAD_PACK_PREBUILT=1 packs the binary already in npm/<target>/ instead (release CI).
import { test, describe, before, after } from 'node:test'
import assert from 'node:assert/strict'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { createRequire } from 'node:module'
import { spawnSync } from 'node:child_process'
import sharp from 'sharp'

const require = createRequire(import.meta.url)
const repoRoot = path.resolve(fileURLToPath(new URL('.', import.meta.url)), '..')
const { checkBinary, GLIBC_CEILING, compareVersions } = require('../scripts/check-binary.js')
const { detectPlatform } = require('../lib/platform.js')
const pkg = JSON.parse(fs.readFileSync(path.join(repoRoot, 'package.json'), 'utf8'))
const platform = detectPlatform()
const TOOLS = ['cargo', 'rustc', 'cc', 'gcc', 'c++', 'g++', 'clang', 'nasm', 'make', 'meson', 'ninja']

function run(command, args, options = {}) {
  const result = spawnSync(command, args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, ...options })
  if (result.error) throw result.error
  return result
}

function tarList(tgz) {
  return run('tar', ['-tzf', tgz]).stdout.split('\n').filter(Boolean)
}

function tarJson(tgz, file) {
  return JSON.parse(run('tar', ['-xzOf', tgz, file]).stdout)
}

describe('install from the release tarballs', { skip: !platform.target && `no build of offload for ${platform.description}` }, () => {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'offload-install-'))
  const project = path.join(work, 'project')
  const fakeBin = path.join(work, 'fake-bin')
  const calls = path.join(work, 'toolchain-calls.log')
  // PATH with the fake tools first: whatever npm or a script would compile with is them.
  const env = { ...process.env, PATH: `${fakeBin}${path.delimiter}${process.env.PATH}`, npm_config_update_notifier: 'false' }
  let mainTgz
  let platformTgz
  let packSeconds

  before(() => {
    const started = process.hrtime.bigint()
    // The release workflow tests a binary built elsewhere (cross-built for arm64) as it is.
    const prebuilt = process.env.OFFLOAD_PACK_PREBUILT === '1' ? ['--prebuilt'] : []
    const pack = run(process.execPath, [path.join(repoRoot, 'scripts', 'pack-all.js'), ...prebuilt], { cwd: repoRoot })
    packSeconds = Number(process.hrtime.bigint() - started) / 1e9
    assert.equal(pack.status, 0, `npm run pack:all failed:\n${pack.stderr}\n${pack.stdout}`)
    const dist = path.join(repoRoot, 'dist')
    const tarballs = fs.readdirSync(dist).filter((f) => f.endsWith('.tgz'))
    mainTgz = path.join(dist, `offload-${pkg.version}.tgz`)
    platformTgz = path.join(dist, `offload-offload-${platform.target}-${pkg.version}.tgz`)
    assert.deepEqual(tarballs.sort(), [path.basename(mainTgz), path.basename(platformTgz)].sort())

    fs.mkdirSync(fakeBin)
    for (const tool of TOOLS) {
      fs.writeFileSync(path.join(fakeBin, tool), `#!/bin/sh\necho "${tool} $*" >> '${calls}'\nexit 1\n`, { mode: 0o755 })
    }
    fs.mkdirSync(project)
    fs.writeFileSync(path.join(project, 'package.json'), JSON.stringify({ name: 'uses-offload', version: '1.0.0', private: true }))
  })

  after(() => fs.rmSync(work, { recursive: true, force: true }))

  test('pack:all writes the main package (with the source) and the linux package (with the binary), at one version', (t) => {
    t.diagnostic(`pack:all took ${packSeconds.toFixed(1)} s`)
    const main = tarList(mainTgz)
    for (const file of ['src/lib.rs', 'Cargo.toml', 'Cargo.lock', 'build.rs', 'scripts/ensure-built.js', 'native.js', 'lib/binding.js', 'index.d.ts']) {
      assert.ok(main.includes(`package/${file}`), `the main package lacks ${file}`)
    }
    assert.deepEqual(main.filter((f) => f.endsWith('.node')), [], 'the main package carries no binary')
    const manifest = tarJson(mainTgz, 'package/package.json')
    assert.equal(manifest.name, 'offload')
    assert.deepEqual(manifest.optionalDependencies, {
      '@offload/offload-linux-x64-gnu': pkg.version,
      '@offload/offload-linux-arm64-gnu': pkg.version,
      '@offload/offload-linux-x64-musl': pkg.version,
      '@offload/offload-linux-arm64-musl': pkg.version,
    })
    for (const hook of ['preinstall', 'install', 'postinstall', 'prepare']) assert.equal(manifest.scripts[hook], undefined, `the main package has a ${hook} script`)

    const binary = `offload.${platform.target}.node`
    assert.deepEqual(tarList(platformTgz).sort(), ['package/README.md', `package/${binary}`, 'package/package.json'])
    const platformManifest = tarJson(platformTgz, 'package/package.json')
    assert.equal(platformManifest.name, `@offload/offload-${platform.target}`)
    assert.equal(platformManifest.version, pkg.version)
    assert.equal(platformManifest.main, binary)
    assert.deepEqual([platformManifest.os, platformManifest.cpu, platformManifest.libc], [['linux'], [process.arch], [platform.libc]])
    assert.equal(platformManifest.scripts, undefined)
  })

  test(`the shipped binary needs no library beyond glibc and libgcc_s, and no glibc newer than ${GLIBC_CEILING}`, (t) => {
    const unpacked = path.join(work, 'unpacked')
    fs.mkdirSync(unpacked)
    run('tar', ['-xzf', platformTgz, '-C', unpacked])
    const shipped = path.join(unpacked, 'package', `offload.${platform.target}.node`)
    // The clone's own build is made the same way (scripts/ensure-built.js), so it is held
    // to the same bar: what the suite tests is what ships.
    const dev = path.join(repoRoot, `offload.${platform.target}.node`)
    for (const file of [shipped, ...(fs.existsSync(dev) ? [dev] : [])]) {
      const { needed, unexpected, glibc } = checkBinary(file)
      t.diagnostic(`${file === shipped ? 'shipped' : 'clone build'}: ${fs.statSync(file).size} bytes, NEEDED ${needed.join(' ')}, GLIBC_${glibc}`)
      assert.deepEqual(unexpected, [], `${file} needs ${unexpected.join(', ')}`)
      if (platform.libc === 'musl') {
        // A musl build (the release workflow's Alpine jobs) links musl's one libc and has no glibc versions.
        assert.ok(needed.some((lib) => /^libc\.musl-\w+\.so\.1$/.test(lib)), `${file} links no musl libc`)
        assert.equal(glibc, null)
      } else {
        assert.ok(needed.includes('libc.so.6'))
        assert.ok(glibc && compareVersions(glibc, GLIBC_CEILING) <= 0, `${file} needs GLIBC_${glibc}`)
      }
    }
  })

  test('npm install of the tarballs compiles nothing and runs no script; a child, a Pool task, a JPEG resize and an AVIF read work', async (t) => {
    const started = process.hrtime.bigint()
    const install = run('npm', ['install', '--no-audit', '--no-fund', mainTgz, platformTgz], { cwd: project, env })
    const installSeconds = Number(process.hrtime.bigint() - started) / 1e9
    assert.equal(install.status, 0, `npm install failed:\n${install.stderr}`)
    assert.doesNotMatch(install.stderr, /install-scripts|offload@/, 'npm saw an install script')
    t.diagnostic(`npm install took ${installSeconds.toFixed(1)} s`)
    assert.ok(fs.existsSync(path.join(project, 'node_modules', '@offload', `offload-${platform.target}`, `offload.${platform.target}.node`)))
    assert.ok(!fs.existsSync(path.join(project, 'node_modules', 'offload', `offload.${platform.target}.node`)), 'nothing was built into the package')

    // Made here (not from ../shared/fixtures) so that the release workflow runs it too.
    const width = 640
    const height = 480
    const pixels = Buffer.alloc(width * height * 3)
    for (let i = 0; i < pixels.length; i++) pixels[i] = (i * 7 + Math.floor(i / (width * 3)) * 3) & 255
    const raw = { raw: { width, height, channels: 3 } }
    fs.writeFileSync(path.join(project, 'photo.jpg'), await sharp(pixels, raw).jpeg({ quality: 85 }).toBuffer())
    const avif = path.join(project, 'photo.avif')
    fs.writeFileSync(avif, await sharp(pixels, raw).avif({ quality: 50 }).toBuffer())
    fs.writeFileSync(path.join(project, 'worker.js'), "process.on('message', (n) => process.send(n * 2))\n")
    fs.writeFileSync(
      path.join(project, 'use.js'),
      `const fs = require('node:fs')
const offload = require('offload')
;(async () => {
  const child = await offload.execFile(process.execPath, ['-e', 'process.stdout.write("child " + process.pid)'])
  const pool = new offload.Pool({ script: './worker.js', size: 1 })
  const doubled = await pool.run(21)
  await pool.close()
  const thumb = await offload.resize(fs.readFileSync('photo.jpg'), { width: 64 })
  const thumbMeta = await offload.metadata(thumb)
  const avif = await offload.metadata(fs.readFileSync('photo.avif'))
  console.log(JSON.stringify({ child: child.stdout, doubled, thumb: [thumbMeta.format, thumbMeta.width], avif: [avif.format, avif.width, avif.height], avifInput: offload.formats.avif.input }))
})()
`,
    )
    const use = run(process.execPath, ['use.js'], { cwd: project, env })
    assert.equal(use.status, 0, `the script failed:\n${use.stderr}`)
    const out = JSON.parse(use.stdout)
    assert.match(out.child, /^child \d+$/)
    assert.equal(out.doubled, 42)
    assert.deepEqual(out.thumb, ['jpeg', 64])
    assert.deepEqual(out.avif, ['avif', width, height])
    assert.deepEqual([out.avifInput.file, out.avifInput.buffer], [true, true])
    assert.ok(!fs.existsSync(calls), `a toolchain was called:\n${fs.existsSync(calls) ? fs.readFileSync(calls, 'utf8') : ''}`)
  })

  test('with its platform package broken or removed, require("offload") fails with ERR_OFFLOAD_NATIVE_UNAVAILABLE, naming the platform, the package, the load error and both ways out', () => {
    const probeScript = "try { require('offload') } catch (e) { console.log(JSON.stringify({ name: e.name, code: e.code, message: e.message, packageName: e.packageName, loadErrors: e.loadErrors })) }"
    // A binary that is there but will not load (as one needing a newer glibc): its own
    // dlopen error is the one shown.
    const installed = path.join(project, 'node_modules', '@offload', `offload-${platform.target}`)
    const binary = path.join(installed, `offload.${platform.target}.node`)
    fs.writeFileSync(binary, Buffer.alloc(4096, 'not an ELF file '))
    const broken = JSON.parse(run(process.execPath, ['-e', probeScript], { cwd: project, env }).stdout)
    assert.equal(broken.code, 'ERR_OFFLOAD_NATIVE_UNAVAILABLE')
    assert.ok(broken.message.includes(`First load error: ${binary}: invalid ELF header`), broken.message)

    fs.rmSync(installed, { recursive: true })
    const probe = run(
      process.execPath,
      ['-e', probeScript],
      { cwd: project, env },
    )
    assert.equal(probe.status, 0, probe.stderr)
    const err = JSON.parse(probe.stdout)
    assert.equal(err.code, 'ERR_OFFLOAD_NATIVE_UNAVAILABLE')
    assert.equal(err.name, 'NativeUnavailableError')
    assert.equal(err.packageName, `@offload/offload-${platform.target}`)
    const libc = platform.libc === 'glibc' ? `glibc ${platform.glibcVersion}` : platform.libc
    assert.ok(err.message.includes(`(os linux, cpu ${process.arch}, ${libc})`), err.message)
    assert.ok(err.message.includes(`It looked for the package @offload/offload-${platform.target}`), err.message)
    assert.match(err.message, new RegExp(`First load error: Cannot find module '@offload/offload-${platform.target}'`))
    assert.ok(err.message.includes('linux-x64-gnu, linux-arm64-gnu, linux-x64-musl, linux-arm64-musl'), err.message)
    assert.ok(err.message.includes('npm explore offload -- npm run build'), err.message)
    assert.doesNotMatch(err.message, /npm has a bug|package-lock/)
    assert.ok(err.loadErrors.length >= 2, 'every load attempt is listed')

    // Uncaught, it is a plain exit with the message, not a crash.
    const bare = run(process.execPath, ['-e', "require('offload')"], { cwd: project, env })
    assert.equal(bare.status, 1)
    assert.equal(bare.signal, null)
    assert.match(bare.stderr, /NativeUnavailableError: offload cannot load its native addon/)
    assert.doesNotMatch(bare.stderr, /npm has a bug|package-lock/, 'the printed error, causes included, never blames npm')
    assert.ok(!fs.existsSync(calls))
  })
})

test('a version bump keeps every platform package in step (npm version runs napi version)', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'offload-version-'))
  try {
    fs.copyFileSync(path.join(repoRoot, 'package.json'), path.join(dir, 'package.json'))
    fs.cpSync(path.join(repoRoot, 'npm'), path.join(dir, 'npm'), { recursive: true, filter: (src) => !src.endsWith('.node') })
    fs.symlinkSync(path.join(repoRoot, 'node_modules'), path.join(dir, 'node_modules'))
    for (const args of [['init', '-q'], ['add', 'package.json', 'npm'], ['-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-qm', 'start']]) {
      assert.equal(run('git', args, { cwd: dir }).status, 0)
    }
    const bump = run('npm', ['version', '7.8.9', '--no-git-tag-version'], { cwd: dir })
    assert.equal(bump.status, 0, bump.stderr)
    const versions = fs.readdirSync(path.join(dir, 'npm')).map((t) => JSON.parse(fs.readFileSync(path.join(dir, 'npm', t, 'package.json'), 'utf8')).version)
    assert.equal(versions.length, pkg.napi.targets.length)
    assert.deepEqual([...new Set(versions)], ['7.8.9'])
    // The version script stages them for npm's version commit.
    const staged = run('git', ['diff', '--cached', '--name-only'], { cwd: dir }).stdout.split('\n').filter(Boolean)
    assert.ok(staged.filter((f) => f.startsWith('npm/')).length === pkg.napi.targets.length, staged.join(' '))
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
})

// The `offload` command line, run as a real subprocess on copies of the shared fixtures.
import { test, describe, before, after } from 'node:test'
import assert from 'node:assert/strict'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import childProcess from 'node:child_process'
import sharp from 'sharp'

const repoRoot = path.resolve(fileURLToPath(new URL('.', import.meta.url)), '..')
const BIN = path.join(repoRoot, 'bin', 'offload.js')
const FIXTURES = path.resolve(repoRoot, '..', 'shared', 'fixtures', 'images')
const VERSION = JSON.parse(fs.readFileSync(path.join(repoRoot, 'package.json'), 'utf8')).version
const BIG_JPEG = '2569067123_aca715a2ee_o.jpg'
/** Only a guard against a hung CLI; nothing waits for it to pass. */
const GUARD_MS = 120_000
sharp.cache(false)

let scratch
before(() => {
  scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'offload-cli-'))
})
after(() => fs.rmSync(scratch, { recursive: true, force: true }))

let folders = 0
/** A new empty folder in the scratch space. */
function folder(name = 'dir') {
  const dir = path.join(scratch, `${++folders}-${name}`)
  fs.mkdirSync(dir, { recursive: true })
  return dir
}

function copy(fixtureName, to) {
  fs.mkdirSync(path.dirname(to), { recursive: true })
  fs.copyFileSync(path.join(FIXTURES, fixtureName), to)
  return to
}

/** Starts the CLI; `done` resolves with { code, signal, stdout, stderr } once it has exited. */
function start(args, options = {}) {
  const child = childProcess.spawn(options.file ?? process.execPath, options.file ? args : [BIN, ...args], {
    cwd: options.cwd ?? scratch,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let stdout = ''
  let stderr = ''
  child.stdout.setEncoding('utf8').on('data', (d) => (stdout += d))
  child.stderr.setEncoding('utf8').on('data', (d) => (stderr += d))
  const guard = setTimeout(() => child.kill('SIGKILL'), GUARD_MS)
  const done = new Promise((resolve, reject) => {
    child.on('error', reject)
    child.on('close', (code, signal) => {
      clearTimeout(guard)
      resolve({ code, signal, stdout, stderr })
    })
  })
  return { child, done, stderr: () => stderr }
}

const run = (args, options) => start(args, options).done

/** Every file below `dir`, as paths relative to it, sorted; dot-files included. */
function listFiles(dir) {
  return fs.readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => path.relative(dir, path.join(e.parentPath ?? e.path, e.name)))
    .sort()
}

async function dimensions(file) {
  const m = await sharp(file).metadata()
  return [m.width, m.height, m.format]
}

/** The `ok in -> out WxH N bytes M ms` lines, keyed by input. */
function okLines(text) {
  const lines = new Map()
  for (const m of text.matchAll(/^ok (.+) -> (.+) (\d+)x(\d+) (\d+) bytes (\d+) ms$/gm)) {
    lines.set(m[1], { output: m[2], width: Number(m[3]), height: Number(m[4]), size: Number(m[5]) })
  }
  return lines
}

describe('help and version', () => {
  test('offload --help lists every command, and each command has a help with examples by all three spellings', async () => {
    const main = await run(['--help'])
    assert.equal(main.code, 0)
    assert.match(main.stdout, /^Usage: offload <command>/)
    assert.match(main.stdout, /Examples:\n {2}offload thumbs/)
    const commands = [...main.stdout.split('Commands:\n')[1].split('\n\n')[0].matchAll(/^ {2}(\w+)/gm)].map((m) => m[1])
    assert.deepEqual(commands, ['thumbs', 'help'])
    assert.equal((await run(['-h'])).stdout, main.stdout)
    assert.equal((await run(['help'])).stdout, main.stdout)
    for (const command of commands) {
      const spellings = await Promise.all([run(['help', command]), run([command, '--help']), run([command, '-h'])])
      for (const result of spellings) {
        assert.equal(result.code, 0, result.stderr)
        assert.equal(result.stderr, '')
        assert.equal(result.stdout, spellings[0].stdout)
      }
      assert.match(spellings[0].stdout, new RegExp(`^Usage: offload ${command}`))
      assert.match(spellings[0].stdout, new RegExp(`Examples:\\n {2}offload ${command}`))
    }
  })

  test('offload thumbs --help documents every option, the exit codes and the output names', async () => {
    const { stdout } = await run(['thumbs', '--help'])
    for (const option of ['--width', '--height', '--fit', '--format', '--quality', '--out', '--concurrency', '--suffix', '--force',
      '--skip-existing', '--no-recursive', '--without-enlargement', '--fail-on', '--quiet']) {
      assert.ok(stdout.includes(option), `help mentions ${option}`)
    }
    assert.match(stdout, /Exit status: 0 all done, 1 some image failed, 2 usage error/)
    assert.match(stdout, /130 for Ctrl-C/)
    assert.match(stdout, /Output names:/)
  })

  test('--version prints the package version; the bin runs by its shebang', async () => {
    const result = await run(['--version'], { file: BIN })
    assert.deepEqual([result.code, result.stdout, result.stderr], [0, `${VERSION}\n`, ''])
    assert.equal((await run(['-v'])).stdout, `${VERSION}\n`)
  })
})

describe('usage errors exit 2, name the bad word and point to --help', () => {
  const cases = [
    [[], /^Usage: offload <command>/, ''],
    [['thumb'], /^offload: unknown command 'thumb' \(did you mean 'thumbs'\?\)\nRun 'offload --help' for usage\.\n$/],
    [['--frobnicate'], /^offload: unknown option '--frobnicate'/],
    [['help', 'nope'], /^offload help: unknown command 'nope'\nRun 'offload help --help' for usage\.\n$/],
    [['thumbs', 'in', '--widht', '3', '-o', 'OUT'], /^offload thumbs: unknown option '--widht' \(did you mean '--width'\?\)\nRun 'offload thumbs --help' for usage\.\n$/],
    [['thumbs', 'in', '-x', '-w', '3', '-o', 'OUT'], /unknown option '-x'/],
    [['thumbs', 'in', '-o', 'OUT'], /give --width, --height or both/],
    [['thumbs', 'in', '-w', '3'], /give the output folder with --out DIR/],
    [['thumbs', '-w', '3', '-o', 'OUT'], /give at least one image file or folder/],
    [['thumbs', 'in', '-w', '0', '-o', 'OUT'], /option '--width' must be a whole number from 1 to 65535, not '0'/],
    [['thumbs', 'in', '--height', '12px', '-o', 'OUT'], /option '--height' must be a whole number from 1 to 65535, not '12px'/],
    [['thumbs', 'in', '-w', '3', '-q', '101', '-o', 'OUT'], /option '--quality' must be a whole number from 1 to 100, not '101'/],
    [['thumbs', 'in', '-w', '3', '-j', '0', '-o', 'OUT'], /option '--concurrency' must be a whole number from 1 to 1024, not '0'/],
    [['thumbs', 'in', '-w', '3', '--fit', 'covr', '-o', 'OUT'], /option '--fit' must be one of cover, contain, fill, inside, outside, not 'covr' \(did you mean 'cover'\?\)/],
    [['thumbs', 'in', '-w', '3', '-f', 'tiff', '-o', 'OUT'], /option '--format' must be one of jpeg, png, webp, avif, gif, not 'tiff'/],
    [['thumbs', 'in', '-w', '3', '--fail-on', 'never', '-o', 'OUT'], /option '--fail-on' must be one of none, truncated, error, warning/],
    [['thumbs', 'in', '--out', '--width', '3'], /option '--out' needs a value, got the option '--width'/],
    [['thumbs', 'in', '-w', '3', '-o', 'OUT', '--width'], /option '--width' needs a value/],
    [['thumbs', 'in', '-w', '3', '-o', 'OUT', '--quiet=yes'], /option '--quiet' takes no value/],
    [['thumbs', 'in', '-w', '3', '-o', 'OUT', '--force', '--skip-existing'], /'--force' and '--skip-existing' contradict each other/],
    [['thumbs', 'in', '-w', '3', '-o', 'OUT', '--suffix', 'a/b'], /option '--suffix' must not contain '\/'/],
  ]
  for (const [args, message] of cases) {
    test(`offload ${args.join(' ')}`, async () => {
      const dir = folder('usage')
      copy('320x240.jpg', path.join(dir, 'in', 'a.jpg'))
      const out = path.join(dir, 'OUT')
      const result = await run(args.map((a) => (a === 'OUT' ? out : a)), { cwd: dir })
      assert.equal(result.code, 2, result.stderr)
      assert.match(result.stderr, message)
      assert.equal(result.stdout, '')
      assert.equal(fs.existsSync(out), false, 'a usage error writes nothing')
    })
  }
})

describe('offload thumbs', () => {
  test('a folder and named files: thumbnails with the right size and name; failures reported, the batch goes on, exit 1', async () => {
    const dir = folder('batch')
    const photos = path.join(dir, 'photos')
    copy('320x240.jpg', path.join(photos, 'a-320x240.jpg'))
    copy('truncated.jpg', path.join(photos, 'b-truncated.jpg'))
    copy('4.webp', path.join(photos, 'c-lossy.webp'))
    copy('with-alpha.png', path.join(photos, 'd-alpha.png'))
    copy('flowers.jpeg', path.join(photos, '2024', 'e-flowers.jpeg'))
    copy('320x240.jpg', path.join(photos, '.hidden.jpg'))
    fs.writeFileSync(path.join(photos, 'readme.txt'), 'not picked up: not an image extension')
    // libvips' default TIFF compression is JPEG (YCbCr), which offload does not read; LZW is the common one.
    await sharp({ create: { width: 200, height: 100, channels: 3, background: '#336699' } }).tiff({ compression: 'lzw' }).toFile(path.join(photos, 'f-scan.tiff'))
    const notes = path.join(dir, 'notes.txt')
    fs.writeFileSync(notes, 'named on the command line, so it is tried')
    const out = path.join(dir, 'thumbs')

    // One lane, so the lines come in command-line order and the failure is followed by more work.
    const result = await run(['thumbs', 'photos', 'notes.txt', '--width', '100', '--out', 'thumbs', '-j', '1'], { cwd: dir })
    assert.equal(result.code, 1, result.stderr)
    assert.equal(result.stdout, '')
    const lines = result.stderr.trimEnd().split('\n')
    // Folder entries in name order, sub-folders where they sort: 2024/ first.
    assert.deepEqual(lines.map((l) => l.split(' ')[0]), ['ok', 'ok', 'FAILED', 'ok', 'ok', 'ok', 'FAILED', 'Thumbnails:', 'Bytes:'])
    assert.equal(lines[2], "FAILED photos/b-truncated.jpg: ERR_OFFLOAD_IMAGE_CORRUPT the JPEG data ends early (truncated file); pass --fail-on none to accept a partial image")
    assert.match(lines[6], /^FAILED notes\.txt: ERR_OFFLOAD_IMAGE_UNSUPPORTED \S/)
    assert.match(lines[7], /^Thumbnails: 5 ok, 2 failed, 0 skipped of 7 in \d+\.\d\d s \(\d+\.\d img\/s\)$/)

    const expected = {
      'photos/2024/e-flowers.jpeg': ['thumbs/2024/e-flowers.jpeg', 100, 56, 'jpeg'],
      'photos/a-320x240.jpg': ['thumbs/a-320x240.jpg', 100, 75, 'jpeg'],
      'photos/c-lossy.webp': ['thumbs/c-lossy.webp', 100, 75, 'webp'],
      'photos/d-alpha.png': ['thumbs/d-alpha.png', 100, 75, 'png'],
      'photos/f-scan.tiff': ['thumbs/f-scan.png', 100, 50, 'png'],
    }
    const ok = okLines(result.stderr)
    assert.deepEqual([...ok.keys()].sort(), Object.keys(expected).sort())
    let bytesIn = 0
    let bytesOut = 0
    for (const [input, [output, width, height, format]] of Object.entries(expected)) {
      const line = ok.get(input)
      assert.deepEqual([line.output, line.width, line.height], [output, width, height], input)
      assert.deepEqual(await dimensions(path.join(dir, output)), [width, height, format], output)
      assert.equal(line.size, fs.statSync(path.join(dir, output)).size)
      bytesIn += fs.statSync(path.join(dir, input)).size
      bytesOut += line.size
    }
    assert.deepEqual(listFiles(out), Object.values(expected).map(([o]) => path.relative('thumbs', o)).sort(), 'nothing else, no temporary file')
    const [, inKb, outKb, percent] = /^Bytes: ([\d.]+) kB in, ([\d.]+) kB out \(([\d.]+)% of the input\)$/.exec(lines[8])
    assert.ok(Math.abs(Number(inKb) - bytesIn / 1000) < 0.1, `${inKb} kB in, expected ${bytesIn} bytes`)
    assert.ok(Math.abs(Number(outKb) - bytesOut / 1000) < 0.1, `${outKb} kB out, expected ${bytesOut} bytes`)
    assert.equal(percent, ((bytesOut / bytesIn) * 100).toFixed(1))
  })

  test('--format, --height, --fit inside, --suffix and --quality shape every output', async () => {
    const dir = folder('format')
    copy('flowers.jpeg', path.join(dir, 'in', 'flowers.jpeg'))
    copy('Landscape_6.jpg', path.join(dir, 'in', 'portrait.jpg'))
    const args = ['thumbs', 'in', '-H', '100', '-w', '100', '--fit', 'inside', '-f', 'webp', '--suffix=-small', '-o', 'out']
    const result = await run([...args, '-q', '90'], { cwd: dir })
    assert.equal(result.code, 0, result.stderr)
    assert.deepEqual(listFiles(path.join(dir, 'out')), ['flowers-small.webp', 'portrait-small.webp'])
    assert.deepEqual(await dimensions(path.join(dir, 'out', 'flowers-small.webp')), [100, 56, 'webp'])
    // Landscape_6 is stored 450×600 with EXIF orientation 6: upright it is 600×450.
    assert.deepEqual(await dimensions(path.join(dir, 'out', 'portrait-small.webp')), [100, 75, 'webp'])
    const highQuality = fs.statSync(path.join(dir, 'out', 'flowers-small.webp')).size
    assert.equal((await run([...args, '-q', '10', '--force'], { cwd: dir })).code, 0)
    assert.ok(fs.statSync(path.join(dir, 'out', 'flowers-small.webp')).size < highQuality, '--quality reaches the encoder')
  })

  test('the same name from two places: the later one gets -2; a missing file fails alone', async () => {
    const dir = folder('collide')
    copy('320x240.jpg', path.join(dir, 'a', 'photo.jpg'))
    copy('flowers.jpeg', path.join(dir, 'b', 'photo.jpg'))
    const result = await run(['thumbs', 'a/photo.jpg', 'missing.jpg', 'b/photo.jpg', '-w', '50', '-o', 'out', '-j', '1'], { cwd: dir })
    assert.equal(result.code, 1)
    assert.match(result.stderr, /^ok a\/photo\.jpg -> out\/photo\.jpg 50x38 /m)
    assert.match(result.stderr, /^FAILED missing\.jpg: ENOENT no such file or directory, stat 'missing\.jpg'$/m)
    assert.match(result.stderr, /^ok b\/photo\.jpg -> out\/photo-2\.jpg 50x28 /m)
    assert.deepEqual(listFiles(path.join(dir, 'out')), ['photo-2.jpg', 'photo.jpg'])
  })

  test('an existing thumbnail fails untouched by default, is kept with --skip-existing, replaced with --force', async () => {
    const dir = folder('existing')
    copy('320x240.jpg', path.join(dir, 'in', 'a.jpg'))
    copy('with-alpha.png', path.join(dir, 'in', 'b.png'))
    const args = ['thumbs', 'in', '-w', '40', '-o', 'out']
    assert.equal((await run(args, { cwd: dir })).code, 0)
    fs.writeFileSync(path.join(dir, 'out', 'a.jpg'), 'mine')

    const refused = await run(args, { cwd: dir })
    assert.equal(refused.code, 1)
    assert.match(refused.stderr, /^FAILED in\/a\.jpg: EEXIST 'out\/a\.jpg' already exists; pass --force to overwrite it or --skip-existing to keep it$/m)
    assert.match(refused.stderr, /^Thumbnails: 0 ok, 2 failed, 0 skipped of 2 /m)
    assert.equal(fs.readFileSync(path.join(dir, 'out', 'a.jpg'), 'utf8'), 'mine')

    const skipped = await run([...args, '--skip-existing'], { cwd: dir })
    assert.equal(skipped.code, 0, skipped.stderr)
    assert.match(skipped.stderr, /^skipped in\/a\.jpg -> out\/a\.jpg: exists$/m)
    assert.match(skipped.stderr, /^Thumbnails: 0 ok, 0 failed, 2 skipped of 2 /m)
    assert.equal(fs.readFileSync(path.join(dir, 'out', 'a.jpg'), 'utf8'), 'mine')

    const forced = await run([...args, '--force'], { cwd: dir })
    assert.equal(forced.code, 0, forced.stderr)
    assert.match(forced.stderr, /^Thumbnails: 2 ok, 0 failed, 0 skipped of 2 /m)
    assert.deepEqual(await dimensions(path.join(dir, 'out', 'a.jpg')), [40, 30, 'jpeg'])
  })

  test('--out inside an input folder is not read back; a thumbnail never replaces its input', async () => {
    const dir = folder('nested')
    copy('320x240.jpg', path.join(dir, 'photos', 'a.jpg'))
    copy('320x240.jpg', path.join(dir, 'photos', 'sub', 'b.jpg'))
    for (let i = 0; i < 2; i++) {
      const result = await run(['thumbs', 'photos', '-w', '30', '-o', 'photos/thumbs', '--force'], { cwd: dir })
      assert.equal(result.code, 0, result.stderr)
      assert.match(result.stderr, /^Thumbnails: 2 ok, 0 failed, 0 skipped of 2 /m)
    }
    const original = fs.readFileSync(path.join(dir, 'photos', 'a.jpg'))
    const inPlace = await run(['thumbs', 'photos', '-w', '30', '-o', 'photos', '--force', '--no-recursive'], { cwd: dir })
    assert.equal(inPlace.code, 1)
    assert.match(inPlace.stderr, /^FAILED photos\/a\.jpg: ERR_OFFLOAD_OUTPUT_IS_INPUT the thumbnail would replace its own input 'photos\/a\.jpg'; choose another --out or give a --suffix$/m)
    assert.match(inPlace.stderr, /^Thumbnails: 0 ok, 1 failed, 0 skipped of 1 /m, '--no-recursive leaves sub/ out')
    assert.deepEqual(fs.readFileSync(path.join(dir, 'photos', 'a.jpg')), original)
  })

  test('symbolic links are followed, a folder reached twice is read once, a dangling image link fails alone', async () => {
    const dir = folder('links')
    copy('320x240.jpg', path.join(dir, 'photos', 'a.jpg'))
    copy('with-alpha.png', path.join(dir, 'elsewhere', 'b.png'))
    fs.symlinkSync('../elsewhere', path.join(dir, 'photos', 'linked'))
    fs.symlinkSync('..', path.join(dir, 'photos', 'linked-loop'))
    fs.symlinkSync('a.jpg', path.join(dir, 'photos', 'alias.jpg'))
    fs.symlinkSync('gone.jpg', path.join(dir, 'photos', 'dangling.jpg'))
    fs.symlinkSync('gone.txt', path.join(dir, 'photos', 'dangling.txt'))
    const result = await run(['thumbs', 'photos', '-w', '20', '-o', 'out'], { cwd: dir })
    assert.equal(result.code, 1, result.stderr)
    assert.match(result.stderr, /^FAILED photos\/dangling\.jpg: ENOENT no such file or directory, stat 'photos\/dangling\.jpg'$/m)
    assert.match(result.stderr, /^Thumbnails: 3 ok, 1 failed, 0 skipped of 4 /m)
    assert.deepEqual(listFiles(path.join(dir, 'out')), ['a.jpg', 'alias.jpg', path.join('linked', 'b.png')])
  })

  test('a folder without images: a clear message, exit 1, no output folder', async () => {
    const dir = folder('empty')
    fs.mkdirSync(path.join(dir, 'photos'))
    fs.writeFileSync(path.join(dir, 'photos', 'list.txt'), 'no image here')
    const result = await run(['thumbs', 'photos', '-w', '30', '-o', 'out'], { cwd: dir })
    assert.equal(result.code, 1)
    assert.match(result.stderr, /^offload thumbs: no images found in photos \(looked for \.jpg \.jpeg \.jpe \.png \.webp \.avif \.gif \.tif \.tiff \.bmp\)\n$/)
    assert.equal(fs.existsSync(path.join(dir, 'out')), false)
  })

  test('--quiet prints failures and the summary only', async () => {
    const dir = folder('quiet')
    copy('320x240.jpg', path.join(dir, 'in', 'a.jpg'))
    copy('corrupt-header.jpg', path.join(dir, 'in', 'b.jpg'))
    const result = await run(['thumbs', 'in', '-w', '30', '-o', 'out', '--quiet'], { cwd: dir })
    assert.equal(result.code, 1)
    const lines = result.stderr.trimEnd().split('\n')
    assert.match(lines[0], /^FAILED in\/b\.jpg: ERR_OFFLOAD_IMAGE_CORRUPT /)
    assert.match(lines[1], /^Thumbnails: 1 ok, 1 failed, 0 skipped of 2 /)
    assert.match(lines[2], /^Bytes: /)
    assert.equal(lines.length, 3)
  })
})

describe('stopping a batch', () => {
  /** A folder of `count` copies of the 2725×2225 JPEG (hard links: same bytes, no disk cost). */
  function bigBatch(count) {
    const dir = folder('big')
    const first = copy(BIG_JPEG, path.join(dir, 'in', 'p000.jpg'))
    for (let i = 1; i < count; i++) fs.linkSync(first, path.join(dir, 'in', `p${String(i).padStart(3, '0')}.jpg`))
    return dir
  }

  for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143]]) {
    test(`${signal} mid-batch: in-flight work aborted, no partial or temporary file, a summary, exit ${code}`, async () => {
      const COUNT = 150
      const dir = bigBatch(COUNT)
      // Two lanes bound the rate, so 150 large images take seconds even on a fast machine.
      const cli = start(['thumbs', 'in', '-w', '720', '-o', 'out', '-j', '2'], { cwd: dir })
      await new Promise((resolve, reject) => {
        cli.child.stderr.on('data', function onData() {
          if (!/^ok /m.test(cli.stderr())) return
          cli.child.stderr.off('data', onData)
          resolve()
        })
        cli.child.on('close', () => reject(new Error(`exited before any progress line:\n${cli.stderr()}`)))
      })
      cli.child.kill(signal)
      const result = await cli.done
      assert.deepEqual([result.code, result.signal], [code, null], result.stderr)
      assert.match(result.stderr, new RegExp(`^${signal}: stopping \\d images? in flight, starting no more`, 'm'))
      assert.match(result.stderr, new RegExp(`^Interrupted by ${signal}: \\d stopped in flight, \\d+ not started; no partial file was left behind\\.$`, 'm'))
      const [, ok, failed] = /^Thumbnails: (\d+) ok, (\d+) failed, 0 skipped of 150 /m.exec(result.stderr).map(Number)
      assert.equal(failed, 0)
      assert.ok(ok >= 1 && ok < COUNT, `stopped mid-batch (${ok} of ${COUNT} done)`)

      const written = listFiles(path.join(dir, 'out'))
      assert.equal(written.length, okLines(result.stderr).size, `only the reported thumbnails exist: ${written.join(' ')}`)
      for (const name of written) {
        assert.match(name, /^p\d{3}\.jpg$/, 'no temporary file')
        assert.deepEqual(await dimensions(path.join(dir, 'out', name)), [720, 588, 'jpeg'], `${name} is complete`)
      }
    })
  }
  test('a second SIGINT exits at once, without waiting for a long AVIF encode, and leaves no temporary file', async () => {
    const dir = folder('force')
    copy(BIG_JPEG, path.join(dir, 'big.jpg'))
    for (const n of [1, 2, 3]) copy('corrupt-header.jpg', path.join(dir, `bad${n}.jpg`))
    // Lane one takes big.jpg, a 2000-px AVIF encode that takes seconds; lane two fails the three
    // bad files, each through the same steps as big.jpg, so when bad3 is reported big.jpg is encoding.
    const cli = start(['thumbs', 'big.jpg', 'bad1.jpg', 'bad2.jpg', 'bad3.jpg', '-w', '2000', '-f', 'avif', '-o', 'out', '-j', '2'], { cwd: dir })
    const waitFor = (pattern) => new Promise((resolve, reject) => {
      const check = () => {
        if (!pattern.test(cli.stderr())) return
        cli.child.stderr.off('data', check)
        resolve()
      }
      cli.child.stderr.on('data', check)
      cli.child.on('close', () => reject(new Error(`exited before ${pattern}:\n${cli.stderr()}`)))
      check()
    })
    await waitFor(/^FAILED bad3\.jpg: /m)
    cli.child.kill('SIGINT')
    await waitFor(/^SIGINT: stopping 1 image in flight/m)
    cli.child.kill('SIGINT')
    const result = await cli.done
    assert.equal(result.code, 130, result.stderr)
    assert.match(result.stderr, /\nSIGINT while stopping: exiting without waiting for 1 image in flight\n$/)
    assert.doesNotMatch(result.stderr, /^Thumbnails:/m, 'it did not wait for the summary')
    assert.deepEqual(listFiles(path.join(dir, 'out')), [])
  })
})

const hasScript = childProcess.spawnSync('script', ['--version'], { stdio: 'ignore' }).status === 0
describe('on a terminal', { skip: !hasScript && 'needs script(1) from util-linux to run the CLI on a pseudo-terminal' }, () => {
  test('one progress line redrawn with \\r (done/total, percent, rate, ETA, failures); failures above it; the summary', async () => {
    const dir = folder('tty')
    for (let i = 0; i < 6; i++) copy('320x240.jpg', path.join(dir, 'in', `a${i}.jpg`))
    copy('truncated.png', path.join(dir, 'in', 'bad.png'))
    const command = [process.execPath, BIN, 'thumbs', 'in', '-w', '64', '-o', 'out'].map((word) => `'${word}'`).join(' ')
    // script -e returns the command's exit code; -q leaves out script's own banner.
    const result = await run(['-qec', command, '/dev/null'], { file: 'script', cwd: dir })
    assert.equal(result.code, 1, result.stdout)
    // The pseudo-terminal turns each \n into \r\n; what is left of \r is the redraws.
    const screen = result.stdout.replaceAll('\r\n', '\n')
    const frames = [...screen.matchAll(/\r\[([#-]+)\] +(\d+)\/7 +(\d+)%  (\d+\.\d) img\/s  ETA (\d+:\d\d|--:--)( {2}1 failed)?\x1b\[K/g)]
    assert.ok(frames.length >= 2, `at least the first and the last frame:\n${JSON.stringify(screen)}`)
    assert.deepEqual([frames[0][2], frames[0][5]], ['0', '--:--'])
    const last = frames.at(-1)
    assert.deepEqual([last[1], last[2], last[3], last[6]], ['#'.repeat(30), '7', '100', '  1 failed'])
    assert.match(screen, /\r\x1b\[KFAILED in\/bad\.png: ERR_OFFLOAD_IMAGE_CORRUPT [^\n]+\n/)
    assert.doesNotMatch(screen, /^ok /m, 'no plain line per image on a terminal')
    assert.match(screen, /\x1b\[K\nThumbnails: 6 ok, 1 failed, 0 skipped of 7 in [^\n]+\nBytes: [^\n]+\n$/)
    assert.equal(listFiles(path.join(dir, 'out')).length, 6)
  })
})

// The scenarios in examples/scenarios/, run as users run them (a real `node`
// subprocess, started with node:child_process so offload cannot hide its own
// bugs) and through the functions they export, with real processes, images and
// files. Leftover processes are looked for in /proc.
import { test, describe } from 'node:test'
import assert from 'node:assert/strict'
import { once } from 'node:events'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { randomUUID } from 'node:crypto'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import childProcess from 'node:child_process'
import { procStat, alive, childrenOf, pollUntil } from './lib/proc.mjs'

const require = createRequire(import.meta.url)
const NODE = process.execPath
const SCENARIOS = fileURLToPath(new URL('../examples/scenarios/', import.meta.url))
const scenario = (name) => path.join(SCENARIOS, name)
const cpExecFile = promisify(childProcess.execFile)

/** Runs `node examples/scenarios/<name> ...args` to its end; rejects on a non-zero exit. */
function runScenario(name, args = [], options = {}) {
  return cpExecFile(NODE, [scenario(name), ...args], { timeout: 120_000, killSignal: 'SIGKILL', ...options })
}

/**
 * Starts a scenario and resolves once a stdout line matches `pattern`, with that match. It is
 * killed when test `t` ends, so a failed assertion leaves nothing running.
 */
async function startScenario(t, name, args, pattern) {
  const child = childProcess.spawn(NODE, [scenario(name), ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
  t.after(() => child.kill('SIGKILL'))
  let stdout = ''
  let stderr = ''
  child.stderr.on('data', (d) => (stderr += d))
  const match = await new Promise((resolve, reject) => {
    child.stdout.on('data', (d) => {
      stdout += d
      const found = pattern.exec(stdout)
      if (found) resolve(found)
    })
    child.once('exit', (code, signal) => reject(new Error(`${name} exited (${code ?? signal}) before printing ${pattern}:\n${stdout}\n${stderr}`)))
  })
  return { child, match, output: () => stdout }
}

/** Polls /proc (there is no event for another process's death) until every pid is gone. */
function waitAllDead(pids) {
  return pollUntil(() => !pids.some(alive), { what: () => `${pids.filter(alive).join(', ')} to die` })
}

function tempDir(t, prefix) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix))
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }))
  return dir
}

describe('ps aux | grep node as a pipeline', () => {
  const { findProcesses } = require(scenario('ps-grep.js'))

  test('the example finds this test process, and leaves grep itself out', async () => {
    const { stdout } = await runScenario('ps-grep.js')
    const pids = stdout.split('\n').slice(1).map((line) => Number(line.trim().split(/\s+/)[0]))
    assert.ok(pids.includes(process.pid), `pid ${process.pid} of this test is not listed:\n${stdout}`)
    assert.doesNotMatch(stdout, /\bgrep -- node\b/)
    assert.match(stdout.split('\n')[0], /^ps aux \| grep -- "node": \d+ process\(es\) in [\d.]+ ms/)
  })

  test('findProcesses: this process by its pid and command, grep not among them', async () => {
    const found = await findProcesses('node')
    const self = found.find((proc) => proc.pid === process.pid)
    assert.ok(self, 'this test process was not found')
    assert.match(self.command, /node/)
    assert.ok(found.every((proc) => !proc.command.startsWith('grep ')), JSON.stringify(found))
  })

  test('no match (grep exits 1) is an empty list, not an error', async () => {
    const nothing = `no-such-process-${randomUUID()}`
    assert.deepEqual(await findProcesses(nothing), [])
  })

  test('the pattern is one argument: shell syntax and a leading dash are not interpreted', async (t) => {
    const marker = path.join(tempDir(t, 'offload-psgrep-'), 'injected')
    assert.deepEqual(await findProcesses(`x$(touch ${marker}); touch ${marker}`), [])
    assert.equal(fs.existsSync(marker), false, 'the pattern ran as a shell command')
    assert.deepEqual(await findProcesses(`--no-such-option-${randomUUID()}`), [])
  })

  test('a real grep failure (bad regex) still rejects, naming the stage', async () => {
    await assert.rejects(findProcesses('a['), (err) => err.code === 'ERR_OFFLOAD_EXIT_CODE' && err.stage === 1 && err.exitCode === 2)
  })
})

describe('background e-mail job handed to a forked worker', () => {
  const { MailQueue } = require(scenario('email-job/mail-queue.js'))
  const mails = (n) => Array.from({ length: n }, (_, i) => ({ id: `welcome-${i + 1}`, to: `user${i + 1}@example.com`, name: `User ${i + 1}` }))

  /** Every file in the outbox: delivered mails by id, and anything else (drafts). */
  function outboxContents(outbox) {
    const names = fs.readdirSync(outbox)
    const delivered = new Map(names.filter((n) => n.endsWith('.eml')).map((n) => [n.slice(0, -4), fs.readFileSync(path.join(outbox, n), 'utf8')]))
    return { delivered, other: names.filter((n) => !n.endsWith('.eml')) }
  }

  test('the example delivers every mail once, across the crash it causes, and exits 0', async (t) => {
    const outbox = tempDir(t, 'offload-outbox-')
    const { stdout } = await runScenario('email-job', ['8', outbox])
    assert.match(stdout, /welcome-4: killing the mailer \(pid \d+\) mid-job with SIGKILL/)
    // The kill lands during the simulated SMTP round trip unless this machine
    // delayed the 'started' message past it; either way the mail arrives once.
    const retried = /welcome-4: the mailer \(pid \d+\) exited with SIGKILL; retrying on a fresh worker/.test(stdout)
    assert.match(stdout, new RegExp(`welcome-4 → user4@example.com: (sent|already in the outbox, not sent again) \\(attempt ${retried ? 2 : 1},`))
    assert.match(stdout, /^8 jobs acknowledged, 8 mails in /m)
    const { delivered, other } = outboxContents(outbox)
    assert.deepEqual([...delivered.keys()].sort(), mails(8).map((m) => m.id).sort())
    assert.deepEqual(other, [])
  })

  test('workers killed mid-job, the first job included: every mail delivered exactly once, each acknowledged once', async (t) => {
    const outbox = tempDir(t, 'offload-outbox-')
    // The SMTP round trip is long enough that each kill lands inside it.
    const queue = new MailQueue({ outbox, smtpLatency: 300 })
    const victims = ['welcome-1', 'welcome-3', 'welcome-6']
    const pending = new Set(victims)
    const killed = []
    queue.on('started', (mail, pid) => {
      if (pending.delete(mail.id)) {
        killed.push(pid)
        process.kill(pid, 'SIGKILL')
      }
    })
    const retried = []
    queue.on('retry', (mail, reason) => retried.push([mail.id, reason]))
    const all = mails(6)
    const acks = await Promise.all(all.map((mail) => queue.send(mail)))
    await queue.close()

    assert.deepEqual(acks.map((ack) => ack.id), all.map((mail) => mail.id))
    assert.deepEqual(retried.map(([id]) => id), victims)
    for (const [, reason] of retried) assert.match(reason, /^the mailer \(pid \d+\) exited with SIGKILL$/)
    for (const ack of acks) assert.equal(ack.attempts, victims.includes(ack.id) ? 2 : 1, ack.id)
    const { delivered, other } = outboxContents(outbox)
    assert.equal(delivered.size, 6)
    for (const mail of all) assert.match(delivered.get(mail.id), new RegExp(`^To: ${mail.to}\r$`, 'm'))
    assert.deepEqual(other, [], 'a draft was left behind')
    assert.equal(queue.workerPid, undefined)
    await waitAllDead(killed)
  })

  test('a mail a crashed attempt already delivered is acknowledged, not sent again', async (t) => {
    const outbox = tempDir(t, 'offload-outbox-')
    const earlier = 'delivered by an attempt whose worker died before it could acknowledge'
    fs.writeFileSync(path.join(outbox, 'welcome-2.eml'), earlier)
    const queue = new MailQueue({ outbox, smtpLatency: 1 })
    const [first, second] = await Promise.all(mails(2).map((mail) => queue.send(mail)))
    await queue.close()
    assert.deepEqual(first, { id: 'welcome-1', attempts: 1, duplicate: false })
    assert.deepEqual(second, { id: 'welcome-2', attempts: 1, duplicate: true })
    assert.equal(fs.readFileSync(path.join(outbox, 'welcome-2.eml'), 'utf8'), earlier)
    assert.deepEqual(outboxContents(outbox).other, [])
  })

  test('a hung worker is killed at the job timeout and the job fails after maxAttempts with ERR_MAIL_FAILED', async (t) => {
    const outbox = tempDir(t, 'offload-outbox-')
    const queue = new MailQueue({ outbox, smtpLatency: 600_000, jobTimeout: 300, maxAttempts: 2 })
    const timedOut = []
    queue.on('timeout', (mail, pid) => timedOut.push(pid))
    await assert.rejects(queue.send(mails(1)[0]), (err) => {
      assert.equal(err.code, 'ERR_MAIL_FAILED')
      assert.match(err.message, /welcome-1 failed 2 times; last: the mailer \(pid \d+\) exited with SIGTERM/)
      return true
    })
    await queue.close()
    assert.equal(timedOut.length, 2)
    await waitAllDead(timedOut)
    assert.deepEqual(fs.readdirSync(outbox), [])
  })

  test('kill -9 of the app: its mailer dies with it', async (t) => {
    // An outbox of the test's own: the killed app cannot remove a temporary one.
    const { child } = await startScenario(t, 'email-job', ['1000', tempDir(t, 'offload-outbox-')], /welcome-1 → /)
    const workers = childrenOf(child.pid)
    assert.equal(workers.length, 1, `expected one mailer under pid ${child.pid}, found ${workers}`)
    child.kill('SIGKILL')
    await once(child, 'exit')
    await waitAllDead(workers)
  })
})

describe('graceful shutdown for containers', () => {
  const RUNNING = /app pid (\d+) running with tail -f \/dev\/null \(pid (\d+)\), sleep that ignores SIGTERM \(pid (\d+)\) and 2 pool workers/

  /** Starts the app and waits until its four children (two commands, two pool workers) exist. */
  async function startApp(t) {
    const app = await startScenario(t, 'graceful-shutdown', [], RUNNING)
    assert.equal(Number(app.match[1]), app.child.pid)
    const commands = [Number(app.match[2]), Number(app.match[3])]
    const children = await pollUntil(() => {
      const found = childrenOf(app.child.pid)
      return found.length >= 4 && found
    }, { deadlineMs: 20_000, what: () => `the app's 4 children:\n${app.output()}` })
    assert.equal(children.length, 4, `children: ${children}`)
    for (const pid of commands) assert.ok(children.includes(pid), `pid ${pid} is not a child of the app`)
    return { ...app, children, commands }
  }

  test('SIGTERM: every child stopped (SIGKILL after the grace period for the one ignoring SIGTERM), tasks in flight finished, exit code 0', async (t) => {
    const { child: app, children, commands, output } = await startApp(t)
    app.kill('SIGTERM')
    const [code, signal] = await once(app, 'exit')
    const stdout = output()
    assert.deepEqual([code, signal], [0, null], stdout)
    // The app waited for each child, so none is left, not even as a zombie.
    assert.deepEqual(children.filter((pid) => procStat(pid) !== null), [], stdout)
    assert.match(stdout, new RegExp(`tail -f /dev/null \\(pid ${commands[0]}\\): ended by SIGTERM after`))
    const killed = new RegExp(`sleep that ignores SIGTERM \\(pid ${commands[1]}\\): ended by SIGKILL after (\\d+) ms`).exec(stdout)
    assert.ok(killed, stdout)
    assert.ok(Number(killed[1]) >= 2000, `SIGKILL came before the 2000 ms grace period: ${killed[1]} ms`)
    const inFlight = Number(/SIGTERM: stopping; (\d+) task\(s\) in flight/.exec(stdout)[1])
    assert.match(stdout, new RegExp(`pool: ${inFlight} task\\(s\\) in flight finished, workers stopped`))
    assert.match(stdout, /all children gone after \d+ ms; \d+ passwords hashed in all; exiting with code 0/)
  })

  test('kill -9 of the app: no child survives it', async (t) => {
    const { child: app, children } = await startApp(t)
    app.kill('SIGKILL')
    await once(app, 'exit')
    await waitAllDead(children)
  })
})

describe('ImageMagick child process versus resizeFile()', () => {
  const { compare, findConvert, BOX } = require(scenario('imagemagick-vs-resize.js'))
  const { metadata } = require('../index.js')
  const IMAGES = fileURLToPath(new URL('../../shared/fixtures/images/', import.meta.url))
  const inputs = ['2569067123_aca715a2ee_o.jpg', 'Landscape_6.jpg', 'with-alpha.png', '4.webp', 'corrupt-header.jpg'].map((name) => path.join(IMAGES, name))

  /** What a batch wrote, checked against what it reported: every success is a real image of the reported size. */
  async function checkOutputs(batch, outDir) {
    const byName = new Map(batch.rows.map((row) => [path.basename(row.input), row]))
    for (const row of batch.rows.filter((r) => !r.error)) {
      const files = fs.readdirSync(outDir).filter((f) => path.parse(f).name === path.parse(row.input).name)
      assert.equal(files.length, 1, `${path.basename(row.input)}: ${files}`)
      const meta = await metadata(path.join(outDir, files[0]))
      assert.deepEqual([meta.width, meta.height, meta.size], [row.width, row.height, row.size])
      assert.ok(row.width <= BOX.width && row.height <= BOX.height, `${files[0]} is ${row.width}×${row.height}`)
      assert.ok(row.width === BOX.width || row.height === BOX.height, `${files[0]} does not fill the box: ${row.width}×${row.height}`)
    }
    return byName
  }

  test('offload half: thumbnails inside the box, upright, alpha kept; a corrupt file fails with its code and leaves no file', async (t) => {
    const outDir = tempDir(t, 'offload-thumbs-')
    const { imagemagick, offload } = await compare({ inputs, outDir, convert: { missing: 'not under test' } })
    assert.equal(imagemagick, null)
    const rows = await checkOutputs(offload, path.join(outDir, 'offload'))
    assert.deepEqual([rows.get('Landscape_6.jpg').width, rows.get('Landscape_6.jpg').height], [320, 240])
    assert.deepEqual([rows.get('2569067123_aca715a2ee_o.jpg').height, rows.get('4.webp').height], [240, 240])
    assert.equal((await metadata(path.join(outDir, 'offload', 'with-alpha.png'))).hasAlpha, true)
    assert.equal(rows.get('corrupt-header.jpg').error, 'ERR_OFFLOAD_IMAGE_CORRUPT')
    assert.equal(rows.get('corrupt-header.jpg').leftover, null)
    assert.deepEqual(fs.readdirSync(path.join(outDir, 'offload')).sort(), ['2569067123_aca715a2ee_o.jpg', '4.jpg', 'Landscape_6.jpg', 'with-alpha.png'])
  })

  test('ImageMagick half: the same thumbnails as offload, within a pixel', async (t) => {
    const convert = await findConvert()
    if (convert.missing) return t.skip(`ImageMagick is not installed (${convert.missing}); apt-get install imagemagick`)
    const outDir = tempDir(t, 'offload-thumbs-')
    const { imagemagick, offload } = await compare({ inputs, outDir, convert })
    const magickRows = await checkOutputs(imagemagick, path.join(outDir, 'imagemagick'))
    const offloadRows = await checkOutputs(offload, path.join(outDir, 'offload'))
    for (const [name, row] of offloadRows) {
      const other = magickRows.get(name)
      assert.equal(Boolean(other.error), Boolean(row.error), `${name}: ImageMagick ${other.error ?? 'succeeded'}, offload ${row.error ?? 'succeeded'}`)
      if (row.error) continue
      assert.ok(Math.abs(other.width - row.width) <= 1 && Math.abs(other.height - row.height) <= 1, `${name}: ${other.width}×${other.height} vs ${row.width}×${row.height}`)
    }
    assert.match(magickRows.get('corrupt-header.jpg').error, /\S/)
  })

  test('the example runs as a script and prints both halves side by side, or says why ImageMagick is left out', async () => {
    const files = inputs.slice(0, 2)
    const convert = await findConvert()
    const { stdout } = await runScenario('imagemagick-vs-resize.js', files)
    assert.match(stdout, /^2 images → at most 320×240/)
    const header = convert.missing ? /ImageMagick \(not run\)\s+offload resizeFile/ : new RegExp(`ImageMagick ${convert.version.replace(/\./g, '\\.')}\\s+offload resizeFile`)
    assert.match(stdout, header)
    assert.match(stdout, /^2569067123_aca715a2ee_o\.jpg\s.*\d+×240\s+[\d.]+ KiB\s+\d+ ms\s*$/m)
    assert.match(stdout, /^total\s.*2 done, \d+ KiB, [\d.]+ s; event-loop p99 [\d.]+ ms\s*$/m)
  })

  test('without ImageMagick the example says so, runs the offload half and exits 0', async () => {
    const { stdout } = await runScenario('imagemagick-vs-resize.js', [inputs[1]], { env: { ...process.env, CONVERT: '/nonexistent/convert' } })
    assert.match(stdout, /^ImageMagick: `\/nonexistent\/convert` could not be run \(ENOENT\); running only the offload half/)
    assert.match(stdout, /^Landscape_6\.jpg\s+320×240\s+[\d.]+ KiB\s+\d+ ms$/m)
  })
})

describe('near-duplicate images with a Pool', () => {
  const { findNearDuplicates, hammingDistance } = require(scenario('near-duplicates/index.js'))
  const { resize } = require('../index.js')
  const IMAGES = fileURLToPath(new URL('../../shared/fixtures/images/', import.meta.url))

  test('hammingDistance counts differing bits', () => {
    assert.equal(hammingDistance('0000000000000000', '0000000000000000'), 0)
    assert.equal(hammingDistance('ffffffffffffffff', '0000000000000000'), 64)
    assert.equal(hammingDistance('8000000000000001', '0000000000000000'), 2)
  })

  test('a photo, its smaller recompressed copy and a WebP of it group together; unrelated, plain and corrupt images do not', async (t) => {
    const folder = tempDir(t, 'offload-near-dups-')
    const photo = path.join(IMAGES, 'flowers.jpeg')
    fs.copyFileSync(photo, path.join(folder, 'flowers.jpeg'))
    fs.writeFileSync(path.join(folder, 'flowers-small.jpg'), await resize(photo, { width: 480, quality: 40 }))
    fs.writeFileSync(path.join(folder, 'flowers-copy.webp'), await resize(photo, { width: 800, format: 'webp' }))
    const unrelated = ['2569067123_aca715a2ee_o.jpg', 'alpha-premultiply-2048x1536-paper.png', 'Channel_digital_image_CMYK_color.jpg', '4.webp', 'grey-8bit-alpha.png']
    for (const name of [...unrelated, 'with-alpha.png', 'truncated.png']) fs.copyFileSync(path.join(IMAGES, name), path.join(folder, name))

    const { hashed, groups } = await findNearDuplicates(folder)
    assert.deepEqual(groups.map((g) => g.map((f) => path.basename(f)).sort()), [['flowers-copy.webp', 'flowers-small.jpg', 'flowers.jpeg']])
    assert.equal(hashed.length, 10)
    const failures = hashed.filter((h) => h.error).map((h) => [path.basename(h.file), h.error])
    // The corrupt file fails in offload's decoder, the plain one in the worker's own code: both codes cross back.
    assert.deepEqual(failures, [['truncated.png', 'ERR_OFFLOAD_IMAGE_CORRUPT'], ['with-alpha.png', 'ERR_IMAGE_TOO_PLAIN']])
    for (const h of hashed.filter((h) => !h.error)) assert.match(h.hash, /^[0-9a-f]{32}$/, path.basename(h.file))
    assert.deepEqual(childrenOf(process.pid), [], 'a pool worker outlived the call')
  })

  test('the example finds the eight EXIF orientations of one photo as one group and exits 0', async () => {
    const { stdout } = await runScenario('near-duplicates')
    assert.match(stdout, /^\d+ images hashed in .* on a pool of worker processes in \d+ ms$/m)
    const group = /^group 1: 8 near-duplicates \(at most 12 of 128 bits apart\)\n((?: {2}.*\n){8})/m.exec(stdout)
    assert.ok(group, stdout)
    const names = group[1].trim().split('\n').map((line) => line.trim().split(/\s+/)[1])
    assert.deepEqual(names, Array.from({ length: 8 }, (_, i) => `Landscape_${i + 1}.jpg`))
    assert.match(stdout, /^not hashed: corrupt-header\.jpg \(ERR_OFFLOAD_IMAGE_CORRUPT\)$/m)
    assert.match(stdout, /^not hashed: with-alpha\.png \(ERR_IMAGE_TOO_PLAIN\)$/m)
    assert.doesNotMatch(stdout, /^group 2:/m)
  })
})

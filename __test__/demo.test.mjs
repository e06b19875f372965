// `npm run demo`: it runs on a fresh clone with no input, and makes what it says it made.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import childProcess from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

import { metadata, resize } from '../index.js'

const DEMO = fileURLToPath(new URL('../examples/demo.js', import.meta.url))

function runDemo(args) {
  return childProcess.spawnSync(process.execPath, [DEMO, ...args], { encoding: 'utf8', timeout: 120000 })
}

test('the demo renders photos in a pool, makes every thumbnail, and says where they are', async (t) => {
  const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'offload-demo-')), 'output')
  t.after(() => fs.rmSync(path.dirname(out), { recursive: true, force: true }))
  // A stale photo of an earlier, larger run goes; the user's own files in --out stay.
  fs.mkdirSync(path.join(out, 'photos'), { recursive: true })
  fs.writeFileSync(path.join(out, 'photos', 'landscape-09.jpg'), 'stale')
  fs.writeFileSync(path.join(out, 'photos', 'mine.txt'), 'keep me')
  fs.writeFileSync(path.join(out, 'notes.txt'), 'keep me too')
  const run = runDemo(['--out', out, '--photos', '3'])
  assert.equal(run.status, 0, run.stderr)
  assert.match(run.stdout, /1\. rendered 3 photos of 1600×1067 in a pool of \d+ worker processes/)
  // The sizes that came out, not the 640×640 box asked for (it printed 'medium 640×640' for 640×427 files).
  assert.match(run.stdout, /2\. made 9 thumbnails \(square 200×200 webp, medium 640×427 jpeg, icon 64×64 png\)/)
  assert.match(run.stdout, /ERR_OFFLOAD_TIMEOUT/)
  assert.ok(run.stdout.includes(`Output: ${out}`), run.stdout)

  const expected = {
    photos: ['jpg', 'jpeg', 1600, 1067],
    square: ['webp', 'webp', 200, 200],
    medium: ['jpg', 'jpeg', 640, 427],
    icon: ['png', 'png', 64, 64],
  }
  const html = fs.readFileSync(path.join(out, 'index.html'), 'utf8')
  for (const [dir, [ext, format, width, height]] of Object.entries(expected)) {
    const files = fs.readdirSync(path.join(out, dir)).filter((f) => f !== 'mine.txt').sort()
    assert.deepEqual(files, [1, 2, 3].map((i) => `landscape-0${i}.${ext}`), dir)
    for (const file of files) {
      const m = await metadata(path.join(out, dir, file))
      assert.deepEqual([m.format, m.width, m.height], [format, width, height], `${dir}/${file}`)
      assert.ok(html.includes(`${dir}/${file}`), `index.html shows ${dir}/${file}`)
    }
  }
  await assertPageShowsWhatHappened(out, run.stdout, html, Object.keys(expected).length - 1)

  // The icon is contained on a transparent canvas: its top and bottom bands are see-through.
  const icon = await resize(path.join(out, 'icon', 'landscape-01.png'), { format: 'raw', resolveWithObject: true })
  assert.equal(icon.info.channels, 4)
  const alpha = (x, y) => icon.data[(y * 64 + x) * 4 + 3]
  assert.deepEqual([alpha(0, 0), alpha(32, 32), alpha(63, 63)], [0, 255, 0])
  assert.equal(fs.readFileSync(path.join(out, 'photos', 'mine.txt'), 'utf8'), 'keep me')
  assert.equal(fs.readFileSync(path.join(out, 'notes.txt'), 'utf8'), 'keep me too')
})

/** The text of the element with `id` in `html`, tags removed and entities decoded. */
function textOf(html, id) {
  const m = new RegExp(`<(\\w+) id="${id}">(.*?)</\\1>`, 's').exec(html)
  assert.ok(m, `index.html has #${id}`)
  return decode(m[2].replace(/<br>/g, '\n').replace(/<[^>]+>/g, ''))
}

const decode = (text) => text.replace(/&(lt|gt|quot|amp);/g, (_, e) => ({ lt: '<', gt: '>', quot: '"', amp: '&' })[e])

/**
 * index.html said nothing but the pictures: every thumbnail must carry its real size, format
 * and bytes, and the top the figures the terminal printed.
 */
async function assertPageShowsWhatHappened(out, stdout, html, kinds) {
  const figures = [...html.matchAll(/<figure class="thumb"><img src="([^"]+)"[^>]*width="(\d+)" height="(\d+)"[^>]*><figcaption>(.*?)<\/figcaption><\/figure>/g)]
  assert.equal(figures.length, 3 * kinds, 'every thumbnail is on the page, captioned')
  assert.equal((html.match(/<img /g) ?? []).length, figures.length, 'no image without a caption')
  for (const [, src, width, height, caption] of figures) {
    const file = path.join(out, src)
    const m = await metadata(file)
    assert.equal(caption, `${m.width}×${m.height} ${m.format}, ${fs.statSync(file).size} bytes`, src)
    assert.deepEqual([Number(width), Number(height)], [m.width, m.height], `${src}: the img's own size`)
  }
  for (const photo of fs.readdirSync(path.join(out, 'photos')).filter((f) => f.startsWith('landscape-'))) {
    const size = fs.statSync(path.join(out, 'photos', photo)).size
    assert.ok(html.includes(`<a href="photos/${photo}">${photo}</a> <small>1600×1067 jpeg, ${size} bytes`), photo)
  }

  // The summary at the top: the very figures the terminal printed.
  const printed = (re) => {
    const m = re.exec(stdout)
    assert.ok(m, `the terminal printed ${re}`)
    return m.slice(1)
  }
  const [renderMs, medianMs] = printed(/^1\. rendered .*: (\d+) ms \((\d+) ms each, median\)/m)
  const [thumbsMs, perSecond] = printed(/^2\. made .*: (\d+) ms, (\d+) thumbnails\/s/m)
  const [total, p99, max] = printed(/^All done in ([\d.]+ s)\. Event-loop delay meanwhile: p99 ([\d.]+) ms, max ([\d.]+) ms\.$/m)
  assert.match(textOf(html, 'render'), new RegExp(`: ${renderMs} ms \\(${medianMs} ms each, median\\)`))
  assert.match(textOf(html, 'thumbnails'), new RegExp(`: ${thumbsMs} ms, ${perSecond} thumbnails/s`))
  assert.equal(textOf(html, 'total'), total)
  assert.match(textOf(html, 'event-loop'), new RegExp(`^p99 ${p99} ms, max ${max} ms`))
  // Word for word, apart from the terminal's numbering and column padding.
  const lines = stdout.split('\n').filter((l) => /^[1-5]\. /.test(l)).map((l) => l.slice(3).replace(/ {2,}/g, ' '))
  assert.deepEqual([textOf(html, 'render'), textOf(html, 'thumbnails'), ...textOf(html, 'subprocesses').split('\n')], lines)
}

test('a bad --photos is refused with the reason', () => {
  const run = runDemo(['--photos', 'many', '--out', path.join(os.tmpdir(), 'offload-demo-unused')])
  assert.equal(run.status, 1)
  assert.match(run.stderr, /--photos must be a whole number from 1 to 500, not 'many'/)
  assert.equal(fs.existsSync(path.join(os.tmpdir(), 'offload-demo-unused')), false)
})

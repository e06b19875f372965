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
  assert.match(run.stdout, /2\. made 9 thumbnails/)
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
  // The icon is contained on a transparent canvas: its top and bottom bands are see-through.
  const icon = await resize(path.join(out, 'icon', 'landscape-01.png'), { format: 'raw', resolveWithObject: true })
  assert.equal(icon.info.channels, 4)
  const alpha = (x, y) => icon.data[(y * 64 + x) * 4 + 3]
  assert.deepEqual([alpha(0, 0), alpha(32, 32), alpha(63, 63)], [0, 255, 0])
  assert.equal(fs.readFileSync(path.join(out, 'photos', 'mine.txt'), 'utf8'), 'keep me')
  assert.equal(fs.readFileSync(path.join(out, 'notes.txt'), 'utf8'), 'keep me too')
})

test('a bad --photos is refused with the reason', () => {
  const run = runDemo(['--photos', 'many', '--out', path.join(os.tmpdir(), 'offload-demo-unused')])
  assert.equal(run.status, 1)
  assert.match(run.stderr, /--photos must be a whole number from 1 to 500, not 'many'/)
  assert.equal(fs.existsSync(path.join(os.tmpdir(), 'offload-demo-unused')), false)
})

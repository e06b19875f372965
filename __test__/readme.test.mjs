// README.md's examples run as written: every fenced `js`/`mjs` block is run for real, the way a
// user who pastes it would run it.
//
// The convention, by the fence's info string:
// - ```js (or ```mjs): a complete program. It is written as main.mjs into a fresh folder that
//   is a git checkout with one commit, holds photo.jpg (a 1920×1080 JPEG), and has a package.json
//   with "type": "module" and node_modules/offload → this checkout (other packages it imports,
//   such as sharp or piscina, → this checkout's node_modules). It must exit 0 within the timeout.
// - ```js file=NAME (any language: ```python file=score.py): a file the programs of its section
//   (the text up to the next heading) use, such as a pool's worker. Its first line is a comment
//   that starts with NAME, so a reader sees the name too. It is written next to every program of
//   its section; where a section has two files of one name, a program gets the nearest one above
//   it (or, when there is none above, the first below).
// - ```js fragment: a piece of a larger program (it uses names it does not define), or one that
//   needs a service this test does not start (offload/bullmq's Worker needs a Redis); it is only
//   parsed, as a module. Prefer making an example runnable.
// A program whose first line is `// before` and the next one, `// after` (a migration), must
// print the same thing. EXPECTED below checks what the other programs print.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import childProcess from 'node:child_process'
import crypto from 'node:crypto'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { builtinModules, createRequire } from 'node:module'
import { once } from 'node:events'

import { metadata, formats } from '../index.js'

const require = createRequire(import.meta.url)
const ROOT = fileURLToPath(new URL('..', import.meta.url))
const README = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8')
const PHOTO = path.join(ROOT, '..', 'shared', 'fixtures', 'images', 'flowers.jpeg')
const TIMEOUT_MS = 60_000
const GIT_IDENTITY = {
  GIT_AUTHOR_NAME: 'README test', GIT_AUTHOR_EMAIL: 'readme@example.invalid',
  GIT_COMMITTER_NAME: 'README test', GIT_COMMITTER_EMAIL: 'readme@example.invalid',
  // One date for every commit: the same files then give the same commit in every project.
  GIT_AUTHOR_DATE: '2026-01-01T00:00:00Z', GIT_COMMITTER_DATE: '2026-01-01T00:00:00Z',
}

/** Every fenced block of `markdown`: `{ line, heading, lang, attrs, code }` (indented fences, as in lists, dedented). */
function fencedBlocks(markdown) {
  const blocks = []
  const lines = markdown.split('\n')
  let heading = '(top)'
  for (let i = 0; i < lines.length; i++) {
    const open = /^( *)```(\S*)(.*)$/.exec(lines[i])
    if (!open) {
      if (/^#+ /.test(lines[i])) heading = lines[i]
      continue
    }
    const [, indent, lang, rest] = open
    const body = []
    let j = i + 1
    for (; j < lines.length && lines[j] !== `${indent}\`\`\``; j++) body.push(lines[j].slice(indent.length))
    assert.ok(j < lines.length, `README.md:${i + 1}: the fence is never closed`)
    const attrs = Object.fromEntries(rest.trim().split(/\s+/).filter(Boolean).map((a) => {
      const [key, value = true] = a.split('=')
      return [key, value]
    }))
    blocks.push({ line: i + 1, heading, lang, attrs, code: `${body.join('\n')}\n` })
    i = j
  }
  return blocks
}

const blocks = fencedBlocks(README)
const isJs = (b) => b.lang === 'js' || b.lang === 'mjs'
const programs = blocks.filter((b) => isJs(b) && !b.attrs.file && !b.attrs.fragment)
const files = blocks.filter((b) => b.attrs.file)
const fragments = blocks.filter((b) => isJs(b) && b.attrs.fragment)

/** What some programs print, found by a piece of their code. Each must match exactly one program. */
const EXPECTED = [
  { code: "await pool.run({ job: 42 })", stdout: (out, dir) => {
    assert.match(out, new RegExp(`^${git(dir, 'rev-parse', 'HEAD')} \\{ job: 42, doubled: 84 \\} \\d+$`, 'm'))
    assert.match(out, /my photo \(1\)\.jpg$/m)
  } },
  { code: "spawn('gzip'", stdout: (out, dir) => assert.equal(out, `0 ${fs.statSync(path.join(dir, 'photo.jpg.gz')).size}\n`) },
  { code: "execFile('tar', ['czf'", stdout: (out, dir) => assert.match(out, new RegExp(`^${git(dir, 'rev-parse', 'HEAD')} \\d+\n$`)) },
  { code: "exec('du -sh . | cut -f1')", stdout: /^\d+(\.\d+)?[KM]\n$/ },
  { code: 'holiday photo; rm -rf ~.jpg', stdout: 'photo.jpg\nholiday photo; rm -rf ~.jpg\n' },
  { code: "pipeline(['ps', 'aux'], ['grep', 'node'])", stdout: /^\[ 0, 0 \] true\n\S+\n$/ },
  { code: "fork('./resize-worker.js'", stdout: /file: '800w-photo\.jpg'.*format: 'jpeg'.*width: 800.*height: 450/s },
  { code: "from 'offload/child_process'", stdout: /child process exited with code 0/ },
  { code: "script: './hash-worker.js'", stdout: (out) => {
    const sha = crypto.createHash('sha256').update(fs.readFileSync(PHOTO)).digest('hex')
    assert.ok(out.startsWith(`${sha} {`), out)
    assert.match(out, /^\{ words: 4 \} \{ score: 7 \}$/m)
  } },
  { code: "resizeFile('photo.jpg', 'thumb.webp'", stdout: new RegExp(`^\\d+ 1920 1080 1 \\d+ ${formats.avif.input.buffer}\n$`), check: async (dir) => {
    const thumb = await metadata(path.join(dir, 'thumb.webp'))
    assert.deepEqual([thumb.format, thumb.width, thumb.height], ['webp', 320, 180])
  } },
  { code: "execFile('gzip', ['--best', '--keep'", check: (dir) => assert.ok(fs.statSync(path.join(dir, 'photo.jpg.gz')).size > 0) },
  { code: "toFile('large.webp')", check: (dir) => assertLargeWebp(dir) },
  { code: "resizeFile(upload, 'large.webp'", check: (dir) => assertLargeWebp(dir) },
]

async function assertLargeWebp(dir) {
  const large = await metadata(path.join(dir, 'large.webp'))
  assert.deepEqual([large.format, large.width, large.height], ['webp', 1200, 675])
}

function git(dir, ...args) {
  return childProcess.execFileSync('git', args, { cwd: dir, env: { ...process.env, ...GIT_IDENTITY }, encoding: 'utf8' }).trim()
}

/** The packages a program imports by a bare name (not node: built-ins). */
function bareImports(code) {
  const names = new Set()
  for (const [, spec] of code.matchAll(/\bfrom\s+'([^'./][^']*)'/g)) {
    if (spec.startsWith('node:') || builtinModules.includes(spec)) continue
    const parts = spec.split('/')
    names.add(spec.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0])
  }
  return names
}

/** The files of `program`'s section, by name: the nearest above it, or else the first below. */
function filesFor(program) {
  const chosen = new Map()
  const section = files.filter((f) => f.heading === program.heading)
  for (const f of section.filter((f) => f.line < program.line)) chosen.set(f.attrs.file, f)
  for (const f of section.filter((f) => f.line > program.line)) if (!chosen.has(f.attrs.file)) chosen.set(f.attrs.file, f)
  return [...chosen.values()]
}

/** A fresh folder laid out as the convention above says, for `program`. */
function project(program, t) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'offload-readme-'))
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }))
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'readme-example', private: true, type: 'module' }))
  fs.mkdirSync(path.join(dir, 'node_modules'))
  const used = new Set([program, ...filesFor(program)].flatMap((b) => [...bareImports(b.code)]))
  for (const name of used) {
    const link = path.join(dir, 'node_modules', name)
    fs.mkdirSync(path.dirname(link), { recursive: true })
    fs.symlinkSync(name === 'offload' ? ROOT : path.join(ROOT, 'node_modules', name), link)
  }
  fs.copyFileSync(PHOTO, path.join(dir, 'photo.jpg'))
  for (const f of filesFor(program)) fs.writeFileSync(path.join(dir, f.attrs.file), f.code)
  fs.writeFileSync(path.join(dir, '.gitignore'), 'node_modules\n')
  git(dir, 'init', '--quiet')
  git(dir, 'add', '.')
  git(dir, 'commit', '--quiet', '-m', 'the example project')
  fs.writeFileSync(path.join(dir, 'main.mjs'), program.code)
  return dir
}

/** Runs main.mjs in `dir` as a user would (`node main.mjs < /dev/null`), killed past the timeout. */
async function runProgram(dir) {
  const child = childProcess.spawn(process.execPath, ['main.mjs'], {
    cwd: dir, env: { ...process.env, ...GIT_IDENTITY }, stdio: ['ignore', 'pipe', 'pipe'], timeout: TIMEOUT_MS, killSignal: 'SIGKILL',
  })
  let stdout = ''
  let stderr = ''
  child.stdout.setEncoding('utf8').on('data', (s) => { stdout += s })
  child.stderr.setEncoding('utf8').on('data', (s) => { stderr += s })
  const [code, signal] = await once(child, 'close')
  return { status: signal ?? code, stdout, stderr }
}

function label(block) {
  return `README.md:${block.line} (${block.heading.replace(/^#+ /, '')})`
}

test('the README has runnable examples and every block follows the convention', () => {
  assert.ok(programs.length >= 15, `found ${programs.length} programs`)
  for (const b of blocks) {
    if (!isJs(b) && !b.attrs.file) continue
    for (const key of Object.keys(b.attrs)) assert.ok(['file', 'fragment'].includes(key), `${label(b)}: unknown fence attribute '${key}'`)
    if (isJs(b)) assert.doesNotMatch(b.code, /\brequire\(/, `${label(b)}: one style throughout: import, not require`)
  }
  for (const f of files) {
    const comment = f.lang === 'python' || f.lang === 'sh' ? '#' : '//'
    assert.ok(f.code.startsWith(`${comment} ${f.attrs.file}`), `${label(f)}: the first line names the file: '${comment} ${f.attrs.file}'`)
    assert.ok(programs.some((p) => filesFor(p).includes(f)), `${label(f)}: no program of its section uses ${f.attrs.file}`)
  }
  for (const e of EXPECTED) {
    const matching = programs.filter((p) => p.code.includes(e.code))
    assert.equal(matching.length, 1, `EXPECTED '${e.code}' matches ${matching.length} programs`)
  }
})

test('fragments and example files parse as modules', () => {
  for (const b of [...fragments, ...files.filter(isJs)]) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'offload-readme-check-'))
    try {
      fs.writeFileSync(path.join(dir, 'block.mjs'), b.code)
      const check = childProcess.spawnSync(process.execPath, ['--check', path.join(dir, 'block.mjs')], { encoding: 'utf8' })
      assert.equal(check.status, 0, `${label(b)}:\n${check.stderr}`)
    } finally {
      fs.rmSync(dir, { recursive: true, force: true })
    }
  }
})

const printed = new Map()
for (const program of programs) {
  test(`${label(program)} runs as written`, async (t) => {
    const dir = project(program, t)
    const run = await runProgram(dir)
    assert.equal(run.status, 0, `${label(program)} exited with ${run.status}\n--- code\n${program.code}--- stderr\n${run.stderr}--- stdout\n${run.stdout}`)
    printed.set(program, run.stdout)
    for (const e of EXPECTED.filter((x) => program.code.includes(x.code))) {
      if (typeof e.stdout === 'string') assert.equal(run.stdout, e.stdout, label(program))
      else if (e.stdout instanceof RegExp) assert.match(run.stdout, e.stdout, label(program))
      else if (e.stdout) e.stdout(run.stdout, dir)
      if (e.check) await e.check(dir)
    }
    const before = programs[programs.indexOf(program) - 1]
    if (program.code.startsWith('// after') && before?.code.startsWith('// before') && printed.has(before)) {
      assert.equal(run.stdout, printed.get(before), `${label(program)} prints what ${label(before)} printed`)
    }
  })
}

test("the CLI table names the options of `thumbs --help`, with the values the CLI takes (--fail-on's differed)", () => {
  const help = childProcess.execFileSync(process.execPath, [path.join(ROOT, 'bin', 'offload.js'), 'thumbs', '--help'], { encoding: 'utf8' })
  const section = README.slice(README.indexOf('## Command line: `offload thumbs`'), README.indexOf('**Output names.**'))
  const rows = section.split('\n').filter((l) => /^\| `-/.test(l))
  const optionsIn = (text) => new Set([...text.matchAll(/(?:^|[\s`])--([a-z][a-z-]+)/gm)].map((m) => m[1]))
  const helpOptions = new Set([...help.matchAll(/^ {2}(?:-\w, | {4})--([a-z-]+)/gm)].map((m) => m[1]))
  helpOptions.delete('help')   // the README says how to get help in its own sentence
  assert.deepEqual(new Set(rows.flatMap((r) => [...optionsIn(r.split(' | ')[0])])), helpOptions)
  const { FAIL_ON, FITS } = require('../lib/image.js')
  const values = {
    'fail-on': FAIL_ON,
    fit: FITS,
    format: [...Object.keys(formats).filter((id) => formats[id].output.file && id !== 'raw'), 'jpg'],
  }
  for (const [option, list] of Object.entries(values)) {
    const row = rows.find((r) => r.includes(`--${option} `))
    const meaning = row.split(' | ')[2].split(/[;.] /)[0]   // the values come first: `a`, `b` or `c`; then what they do
    assert.deepEqual(new Set([...meaning.matchAll(/`([a-z]+)`/g)].map((m) => m[1])), new Set(list), `README --${option}`)
    const paragraph = help.slice(help.indexOf(`--${option} `)).split(/\n {2}(?:-\w, | {4})--/)[0]
    for (const value of list) assert.match(paragraph, new RegExp(`\\b${value}\\b`), `thumbs --help --${option} names ${value}`)
  }
})

test("package.json's license: MIT is backed by a LICENSE file that ships in the package (it was missing)", () => {
  const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'))
  assert.equal(pkg.license, 'MIT')
  assert.ok(pkg.files.includes('LICENSE'))
  const license = fs.readFileSync(path.join(ROOT, 'LICENSE'), 'utf8')
  assert.match(license, /^MIT License\n\nCopyright \(c\) 2026 the offload authors\n/)
  assert.match(license, /THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND/)
})

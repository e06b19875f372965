// The package's JavaScript has no import cycles. A cycle makes the order in which modules
// are first required decide what `require()` returns (a half-built `module.exports`), so a
// module that works alone can break when another entry point loads it first.
//
// The graph is read from the source, not from a run: every `require('./x')`, `import … from
// './x'`, `import './x'` and `import('./x')` with a relative specifier is an edge, wherever it
// is, so a lazy `require` inside a function counts (it only hides the cycle from a reader).
// The files are index.js, everything under lib/ and bin/, and every entry point package.json
// names (main, bin, exports).
import { test } from 'node:test'
import assert from 'node:assert/strict'
import fs from 'node:fs'
import path from 'node:path'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const JS = /\.(c|m)?js$/

// After these words a `/` starts a regular expression, not a division.
const BEFORE_EXPRESSION = new Set(['return', 'typeof', 'case', 'do', 'else', 'in', 'of', 'new', 'delete', 'void', 'throw', 'instanceof', 'yield', 'await'])
const CLOSERS = { ')': '(', ']': '[', '}': '{' }

/**
 * The tokens of a JavaScript source that matter for imports: identifiers, punctuation and
 * string literals (with their value); comments, template text and regular expressions are
 * skipped. Throws when the brackets do not balance, which is how a misread regex or template
 * would show.
 */
function tokenize(source) {
  const tokens = []
  const stack = [] // '(' '[' '{', or '${' for a template's substitution
  let i = source.startsWith('#!') ? source.indexOf('\n') : 0
  if (i === -1) i = source.length
  const last = () => tokens[tokens.length - 1]
  const skipTemplate = () => {
    // From just after a backtick or a substitution's `}`, to the end of the template or its next `${`.
    while (i < source.length) {
      const ch = source[i]
      if (ch === '\\') i += 2
      else if (ch === '`') return void (i += 1)
      else if (ch === '$' && source[i + 1] === '{') {
        stack.push('${')
        return void (i += 2)
      } else i += 1
    }
    throw new Error('unterminated template literal')
  }
  while (i < source.length) {
    const ch = source[i]
    if (/\s/.test(ch)) {
      i += 1
    } else if (ch === '/' && source[i + 1] === '/') {
      const end = source.indexOf('\n', i)
      i = end === -1 ? source.length : end
    } else if (ch === '/' && source[i + 1] === '*') {
      const end = source.indexOf('*/', i + 2)
      if (end === -1) throw new Error('unterminated comment')
      i = end + 2
    } else if (ch === '"' || ch === "'") {
      let value = ''
      let j = i + 1
      while (source[j] !== ch) {
        if (j >= source.length || source[j] === '\n') throw new Error(`unterminated string at ${i}`)
        if (source[j] === '\\') j += 1
        value += source[j]
        j += 1
      }
      tokens.push({ type: 'string', value })
      i = j + 1
    } else if (ch === '`') {
      i += 1
      skipTemplate()
      tokens.push({ type: 'template' })
    } else if (/[\p{ID_Start}$_\d\\]/u.test(ch)) {
      const match = /^[\p{ID_Continue}$\u200c\u200d\\]+/u.exec(source.slice(i, i + 256))
      tokens.push({ type: 'word', value: match[0] })
      i += match[0].length
    } else if (ch === '/') {
      const prev = last()
      const division = prev !== undefined && (prev.type === 'string' || prev.type === 'template' || (prev.type === 'word' && !BEFORE_EXPRESSION.has(prev.value)) || [')', ']', '}'].includes(prev.value))
      if (division) {
        tokens.push({ type: 'punct', value: '/' })
        i += 1
        continue
      }
      let j = i + 1
      let inClass = false
      while (inClass || source[j] !== '/') {
        if (j >= source.length || source[j] === '\n') throw new Error(`unterminated regular expression at ${i}`)
        if (source[j] === '\\') j += 1
        else if (source[j] === '[') inClass = true
        else if (source[j] === ']') inClass = false
        j += 1
      }
      i = j + 1
      while (/[a-z]/.test(source[i] ?? '')) i += 1
      tokens.push({ type: 'regex' })
    } else if (ch === '(' || ch === '[' || ch === '{') {
      stack.push(ch)
      tokens.push({ type: 'punct', value: ch })
      i += 1
    } else if (ch in CLOSERS) {
      const open = stack.pop()
      i += 1
      if (ch === '}' && open === '${') {
        skipTemplate()
        continue
      }
      if (open !== CLOSERS[ch]) throw new Error(`unbalanced '${ch}' at ${i - 1}`)
      tokens.push({ type: 'punct', value: ch })
    } else {
      tokens.push({ type: 'punct', value: ch })
      i += 1
    }
  }
  if (stack.length > 0) throw new Error(`unclosed '${stack.at(-1)}'`)
  return tokens
}

/** The specifiers a source imports: `require(s)`, `import(s)`, `import s`, `from s`. */
function specifiers(source) {
  const tokens = tokenize(source)
  const found = []
  tokens.forEach((t, k) => {
    const next = tokens[k + 1]
    const after = tokens[k + 2]
    if (t.type !== 'word') return
    const prev = tokens[k - 1]
    if (prev?.value === '.') return // obj.require(…) is not the module loader
    if ((t.value === 'require' || t.value === 'import') && next?.value === '(' && after?.type === 'string') found.push(after.value)
    else if ((t.value === 'import' || t.value === 'from') && next?.type === 'string') found.push(next.value)
  })
  return found
}

/** Every file of the package's JS graph, with the in-repo files each one imports. */
function importGraph() {
  const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'))
  const entries = [pkg.main, ...Object.values(pkg.bin ?? {})]
  for (const target of Object.values(pkg.exports)) {
    if (typeof target === 'string') entries.push(target)
    else entries.push(...Object.entries(target).filter(([condition]) => condition !== 'types').map(([, file]) => file))
  }
  const walk = (dir) => fs.readdirSync(path.join(ROOT, dir), { withFileTypes: true }).flatMap((e) => {
    const rel = path.join(dir, e.name)
    if (e.isDirectory()) return walk(rel)
    return JS.test(e.name) ? [rel] : []
  })
  const pending = [...new Set([...entries, ...walk('lib'), ...walk('bin')].map((f) => path.normalize(f)))]
  const graph = new Map()
  while (pending.length > 0) {
    const file = pending.pop()
    if (graph.has(file)) continue
    const edges = []
    graph.set(file, edges)
    if (!JS.test(file)) continue // package.json
    const absolute = path.join(ROOT, file)
    const resolve = createRequire(absolute).resolve
    let found
    try {
      found = specifiers(fs.readFileSync(absolute, 'utf8'))
    } catch (err) {
      throw new Error(`${file}: cannot read its imports: ${err.message}`)
    }
    for (const spec of found) {
      if (!spec.startsWith('./') && !spec.startsWith('../')) continue
      let target
      try {
        target = path.relative(ROOT, resolve(spec))
      } catch {
        // The native addon is built (or downloaded) per platform; the loader tries each name.
        if (spec.endsWith('.node') || file === 'native.js') continue
        throw new Error(`${file} imports '${spec}', which does not exist`)
      }
      if (target.startsWith('..') || target.split(path.sep).includes('node_modules')) continue
      edges.push(target)
      pending.push(target)
    }
  }
  return graph
}

/**
 * One cycle per strongly connected component of more than one file (or a file that imports
 * itself), followed by the component's other files.
 */
function cycles(graph) {
  let counter = 0
  const index = new Map()
  const low = new Map()
  const stack = []
  const onStack = new Set()
  const components = []
  const connect = (v) => {
    index.set(v, counter)
    low.set(v, counter)
    counter += 1
    stack.push(v)
    onStack.add(v)
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        connect(w)
        low.set(v, Math.min(low.get(v), low.get(w)))
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v), index.get(w)))
      }
    }
    if (low.get(v) !== index.get(v)) return
    const component = []
    let w
    do {
      w = stack.pop()
      onStack.delete(w)
      component.push(w)
    } while (w !== v)
    if (component.length > 1 || (graph.get(v) ?? []).includes(v)) components.push(new Set(component))
  }
  for (const v of [...graph.keys()].sort()) if (!index.has(v)) connect(v)
  // A path that shows the cycle: from the component's first file (by name) back to it.
  return components.map((component) => {
    const start = [...component].sort()[0]
    const previous = new Map([[start, null]])
    const queue = [start]
    while (queue.length > 0) {
      const v = queue.shift()
      for (const w of graph.get(v)) {
        if (w === start) {
          const route = [start]
          for (let u = v; u !== start; u = previous.get(u)) route.splice(1, 0, u)
          const others = [...component].filter((f) => !route.includes(f)).sort()
          return [...route, start].join(' → ') + (others.length > 0 ? ` (with ${others.join(', ')})` : '')
        }
        if (component.has(w) && !previous.has(w)) {
          previous.set(w, v)
          queue.push(w)
        }
      }
    }
    throw new Error(`no cycle through ${start}`)
  })
}

test('the package has no import cycle (lazy requires count)', () => {
  const graph = importGraph()
  for (const file of ['index.js', 'lib/pipeline.js', 'lib/subprocess.js', 'lib/child_process.js', 'lib/bullmq/index.js', 'lib/worker.js', 'bin/offload.js']) {
    assert.ok(graph.has(file), `${file} is in the graph`)
  }
  assert.ok(graph.get('index.js').includes('lib/exec.js'), 'index.js → lib/exec.js is seen')
  assert.deepEqual(cycles(graph), [])
})

test('the import reader sees lazy requires and dynamic imports, not comments, strings or methods', () => {
  const source = [
    '#!/usr/bin/env node',
    "import a from './a.js'",
    "import './b.js'",
    "export { c } from './c.js'",
    "// require('./commented')",
    "/* import('./block') */",
    "const text = \"require('./quoted')\"",
    "const t = `${require('./in-template')} require('./template-text')`",
    "const r = /['\"`]/g, q = x / 2 / y",
    "loader.require('./method')",
    "function later() { return require('./lazy').thing }",
    "async function dynamic() { return import('./dynamic.mjs') }",
  ].join('\n')
  assert.deepEqual(specifiers(source), ['./a.js', './b.js', './c.js', './in-template', './lazy', './dynamic.mjs'])
  assert.throws(() => tokenize('const x = (1'), /unclosed/)
})

test('a cycle through a lazy require is found and shown', () => {
  const graph = new Map([
    ['index.js', ['lib/a.js']],
    ['lib/a.js', ['lib/b.js', 'lib/c.js']],
    ['lib/b.js', ['lib/a.js']],
    ['lib/c.js', ['lib/c.js']],
    ['lib/d.js', []],
  ])
  assert.deepEqual(cycles(graph).sort(), ['lib/a.js → lib/b.js → lib/a.js', 'lib/c.js → lib/c.js'])
})

// The Rust engines' modules depend on each other one way (ARCHITECTURE.md, "Dependencies
// point one way"): pool → process → runtime, image alone, and only src/js/ knows napi. A
// cycle between two files of an engine means neither can be read, changed or tested without
// the other; an edge the other way round means an engine reaches into what sits on top of it.
//
// The graph is read from the source: a file's module is its path (src/process/handle.rs is
// crate::process::handle, a mod.rs is its directory's module), and every path in its code
// that starts with `crate::`, `super::`, `self::` or the name of a module it declares (`use`
// trees included, expanded) is an edge to the longest prefix of that path that is a file.
// Comments, strings and `#[cfg(test)]` code are left out: tests may use anything, nothing
// uses them. A parent's `mod x;` alone is no edge; a parent that uses a child's item
// (`pub use handle::ChildHandle`) depends on it like any other file.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const SRC = path.join(ROOT, 'src')

const ENGINES = ['process', 'pool', 'image']

// Cycles that still exist, each the files of one strongly connected component (none now:
// issue 15 broke the last ones). Were one let in for a while, an entry that no longer matches
// a cycle fails the test too, so that the list cannot go stale.
const KNOWN_CYCLES = []

// `from` may not use `to` (both are module paths; a prefix covers the modules under it).
const FORBIDDEN = [
  ['crate::image', 'crate::process', 'the image engine stands alone'],
  ['crate::image', 'crate::pool', 'the image engine stands alone'],
  ['crate::image', 'crate::runtime', 'the image engine has its own threads'],
  ['crate::process', 'crate::pool', 'the pool is built on the process engine, not the other way'],
  ['crate::errno', 'crate', 'crate::errno is a leaf every engine may use'],
  ...['process', 'pool', 'image', 'runtime', 'errno'].map((m) => [`crate::${m}`, 'crate::js', 'only src/js/ touches napi']),
]

/** `source` without comments, string, byte-string and char literals (lifetimes stay). */
function stripRust(source) {
  let out = ''
  let i = 0
  while (i < source.length) {
    const ch = source[i]
    const next = source[i + 1]
    if (ch === '/' && next === '/') {
      const end = source.indexOf('\n', i)
      i = end === -1 ? source.length : end
    } else if (ch === '/' && next === '*') {
      let depth = 1
      i += 2
      while (i < source.length && depth > 0) {
        if (source.startsWith('/*', i)) (depth += 1), (i += 2)
        else if (source.startsWith('*/', i)) (depth -= 1), (i += 2)
        else i += 1
      }
      out += ' '
    } else if (/[rb]/.test(ch) && /^(br|r|b)?#*"/.test(source.slice(i, i + 3)) && !/\w/.test(source[i - 1] ?? '')) {
      const [, prefix] = /^(br|r|b)?/.exec(source.slice(i))
      let j = i + (prefix?.length ?? 0)
      const hashes = /^#*/.exec(source.slice(j))[0]
      j += hashes.length + 1
      if (prefix?.includes('r')) {
        const end = source.indexOf(`"${hashes}`, j)
        i = end + 1 + hashes.length
      } else {
        while (source[j] !== '"') j += source[j] === '\\' ? 2 : 1
        i = j + 1
      }
      out += '""'
    } else if (ch === '"') {
      let j = i + 1
      while (source[j] !== '"') j += source[j] === '\\' ? 2 : 1
      i = j + 1
      out += '""'
    } else if (ch === "'" && (next === '\\' || source[i + 2] === "'" || /[\uD800-\uDBFF]/.test(next ?? ''))) {
      // A char literal ('a', '\n', '\u{0}'); a lifetime ('a) has no closing quote.
      let j = i + 1
      if (source[j] === '\\') j += 2
      while (source[j] !== "'") j += 1
      i = j + 1
      out += "' '"
    } else {
      out += ch
      i += 1
    }
  }
  return out
}

function tokenize(text) {
  return text.match(/[A-Za-z_][A-Za-z0-9_]*|::|#\[cfg\(test\)\]|[{}();,*]|\S/g) ?? []
}

/** The tokens with every `#[cfg(test)]` item taken out; `testChildren` gets the `mod x;` ones. */
function withoutTestCode(tokens, testChildren) {
  const out = []
  for (let i = 0; i < tokens.length; i++) {
    if (tokens[i] !== '#[cfg(test)]') {
      out.push(tokens[i])
      continue
    }
    let j = i + 1
    while (j < tokens.length && tokens[j] !== ';' && tokens[j] !== '{') j++
    const header = tokens.slice(i + 1, j)
    if (tokens[j] === ';') {
      const at = header.indexOf('mod')
      if (at !== -1) testChildren.add(header[at + 1])
    } else {
      let depth = 0
      do {
        if (tokens[j] === '{') depth++
        else if (tokens[j] === '}') depth--
        j++
      } while (depth > 0 && j < tokens.length)
      j--
    }
    i = j
  }
  return out
}

/** The paths of a `use` tree (tokens after `use`, up to `;`), each a list of segments. */
function useTreePaths(tokens) {
  let i = 0
  const tree = (prefix) => {
    const segments = [...prefix]
    for (;;) {
      const token = tokens[i++]
      if (token === '{') {
        const paths = []
        while (tokens[i] !== '}') {
          paths.push(...tree(segments))
          if (tokens[i] === ',') i++
        }
        i++
        return paths
      }
      if (token === '*') return [segments]
      // `self` inside braces is the prefix itself.
      if (!(token === 'self' && segments.length > 0)) segments.push(token)
      if (tokens[i] === '::') i++
      else break
    }
    if (tokens[i] === 'as') i += 2
    return [segments]
  }
  return tree([])
}

function moduleOf(file) {
  const rel = path.relative(SRC, file).replace(/\.rs$/, '').split(path.sep)
  if (rel.at(-1) === 'mod' || rel.at(-1) === 'lib') rel.pop()
  return ['crate', ...rel].join('::')
}

function rustFiles(dir = SRC) {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name)
    if (entry.isDirectory()) return rustFiles(full)
    return entry.name.endsWith('.rs') ? [full] : []
  })
}

/** `{ nodes, edges }`: nodes by module path, edges as `from -> Set(to)` between module paths. */
function moduleGraph() {
  const files = new Map(rustFiles().map((file) => [moduleOf(file), path.relative(ROOT, file)]))
  const testModules = new Set()
  const partOf = new Map()
  const edges = new Map()
  const resolve = (segments) => {
    for (let n = segments.length; n > 0; n--) {
      const candidate = segments.slice(0, n).join('::')
      if (files.has(candidate)) return candidate
    }
    return null
  }
  for (const [module, file] of files) {
    const testChildren = new Set()
    const tokens = withoutTestCode(tokenize(stripRust(fs.readFileSync(path.join(ROOT, file), 'utf8'))), testChildren)
    for (const child of testChildren) testModules.add(`${module}::${child}`)
    const children = new Set()
    for (let i = 0; i + 2 < tokens.length; i++) {
      if (tokens[i] === 'mod' && tokens[i + 2] === ';') {
        children.add(tokens[i + 1])
        // A private child of a file that is not a directory's mod.rs (dispatch.rs's
        // dispatch/news.rs) is that module's own code split over files (more `impl`
        // blocks of its types): it counts as part of it, its edges as the module's.
        const isPrivate = tokens[i - 1] !== 'pub' && tokens[i - 1] !== ')'
        if (isPrivate && !/(^|[\\/])(mod|lib)\.rs$/.test(file)) partOf.set(`${module}::${tokens[i + 1]}`, module)
      }
    }
    const out = new Set()
    edges.set(module, out)
    // The module at each point: the file's, plus the inline `mod x { … }` blocks around it.
    const inline = []
    let depth = 0
    const here = () => [...module.split('::'), ...inline.map((m) => m.name)]
    const absolute = (segments) => {
      let base = here()
      let rest = segments
      if (rest[0] === 'crate') (base = ['crate']), (rest = rest.slice(1))
      else if (rest[0] === 'self') rest = rest.slice(1)
      else if (rest[0] === 'super') {
        while (rest[0] === 'super') (base = base.slice(0, -1)), (rest = rest.slice(1))
      } else if (!(inline.length === 0 && children.has(rest[0]))) return null
      return [...base, ...rest]
    }
    const addEdge = (segments) => {
      const full = absolute(segments)
      const target = full && resolve(full)
      if (target && target !== module) out.add(target)
    }
    for (let i = 0; i < tokens.length; i++) {
      const token = tokens[i]
      if (token === '{') depth++
      else if (token === '}') {
        depth--
        if (inline.length > 0 && inline.at(-1).depth === depth) inline.pop()
      } else if (token === 'mod' && tokens[i + 2] === '{') {
        inline.push({ name: tokens[i + 1], depth })
      } else if (token === 'use' && tokens[i - 1] !== '::') {
        const end = tokens.indexOf(';', i)
        for (const segments of useTreePaths(tokens.slice(i + 1, end))) addEdge(segments)
        i = end
      } else if (/^[A-Za-z_]/.test(token) && tokens[i + 1] === '::' && tokens[i - 1] !== '::') {
        const segments = [token]
        let j = i + 1
        while (tokens[j] === '::' && /^[A-Za-z_]/.test(tokens[j + 1] ?? '')) {
          segments.push(tokens[j + 1])
          j += 2
        }
        addEdge(segments)
        i = j - 1
      }
    }
  }
  for (const module of testModules) edges.delete(module)
  for (const targets of edges.values()) for (const module of testModules) targets.delete(module)
  const whole = (module) => (partOf.has(module) ? whole(partOf.get(module)) : module)
  const folded = new Map()
  for (const [from, targets] of edges) {
    const out = folded.get(whole(from)) ?? new Set()
    folded.set(whole(from), out)
    for (const to of targets) if (whole(to) !== whole(from)) out.add(whole(to))
  }
  return { files, edges: folded }
}

/** The strongly connected components with more than one module (Tarjan). */
function cycles(edges) {
  let index = 0
  const state = new Map()
  const stack = []
  const found = []
  const visit = (v) => {
    const s = { index, low: index, onStack: true }
    index++
    state.set(v, s)
    stack.push(v)
    for (const w of edges.get(v) ?? []) {
      if (!state.has(w)) {
        visit(w)
        s.low = Math.min(s.low, state.get(w).low)
      } else if (state.get(w).onStack) s.low = Math.min(s.low, state.get(w).index)
    }
    if (s.low === s.index) {
      const component = []
      let w
      do {
        w = stack.pop()
        state.get(w).onStack = false
        component.push(w)
      } while (w !== v)
      if (component.length > 1) found.push(component)
    }
  }
  for (const v of edges.keys()) if (!state.has(v)) visit(v)
  return found
}

const within = (module, prefix) => module === prefix || module.startsWith(`${prefix}::`)

test('the graph is read: known edges are found, test code and comments are not edges', () => {
  const { edges } = moduleGraph()
  assert.ok(edges.get('crate::pool::worker_io').has('crate::process'), 'the pool launches through crate::process')
  assert.ok(edges.get('crate::process::supervisor').has('crate::process::output'), 'use super::{output, …} is expanded')
  assert.ok(edges.get('crate::js::spawn').has('crate::process'))
  assert.ok(!edges.has('crate::process::tests'), 'a #[cfg(test)] module file is left out')
  assert.ok(!edges.get('crate::process').has('crate::process::tests'))
})

test('no module cycle in the engines (beyond the known ones listed in KNOWN_CYCLES)', () => {
  const { files, edges } = moduleGraph()
  const found = cycles(edges).map((component) => component.map((m) => files.get(m)).sort())
  const key = (component) => component.join(' ')
  const known = new Set(KNOWN_CYCLES.map(key))
  const unexpected = found.filter((component) => !known.has(key(component)))
  assert.deepEqual(unexpected, [], 'module cycles (each line: the files of one cycle)')
  const foundKeys = new Set(found.map(key))
  const stale = KNOWN_CYCLES.filter((component) => !foundKeys.has(key(component)))
  assert.deepEqual(stale, [], 'KNOWN_CYCLES lists a cycle that is gone or changed: update the list')
  for (const component of found) {
    const engine = ENGINES.find((e) => component.every((f) => f.startsWith(`src/${e}/`)))
    assert.ok(engine, `a known cycle stays within one engine: ${component.join(', ')}`)
  }
})

test('no engine uses what sits on top of it, and only src/js/ touches napi', () => {
  const { files, edges } = moduleGraph()
  const wrong = []
  for (const [from, targets] of edges) {
    for (const to of targets) {
      for (const [a, b, why] of FORBIDDEN) {
        if (within(from, a) && within(to, b) && !within(to, a)) wrong.push(`${files.get(from)} uses ${to}: ${why}`)
      }
    }
  }
  assert.deepEqual(wrong, [])
  const napi = [...files.values()].filter((file) => !file.startsWith(`src${path.sep}js${path.sep}`) && /\bnapi(_derive)?::/.test(stripRust(fs.readFileSync(path.join(ROOT, file), 'utf8'))))
  assert.deepEqual(napi, [], 'files outside src/js/ that use napi')
})

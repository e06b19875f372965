'use strict'
// Command-line parsing on top of node:util parseArgs. parseArgs' strict mode reports a bad
// option in a wording meant for programmers ("To specify a positional argument starting
// with a '-' ..."), so it runs non-strict here and the tokens are checked one by one, to
// name the exact option, say what is wrong with it and suggest the likely intended one.

const { parseArgs } = require('node:util')
const { UsageError } = require('../errors')

/** Edits (insert, delete, replace, swap two neighbours) that turn `a` into `b`. */
function editDistance(a, b) {
  const d = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)))
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1))
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1)
    }
  }
  return d[a.length][b.length]
}

/** The candidate `word` was most likely meant as, or undefined when none is close. */
function closest(word, candidates) {
  let best
  let bestDistance = Infinity
  for (const candidate of candidates) {
    const distance = candidate.startsWith(word) && word.length >= 2 ? 0.5 : editDistance(word, candidate)
    if (distance < bestDistance) {
      best = candidate
      bestDistance = distance
    }
  }
  return bestDistance <= (word.length >= 4 ? 2 : 1) ? best : undefined
}

function didYouMean(word, candidates, prefix = '') {
  const guess = closest(word, candidates)
  return guess === undefined ? '' : ` (did you mean '${prefix}${guess}'?)`
}

/**
 * Parses `argv` against `options` (parseArgs' format). Returns `{ values, positionals }`.
 * Throws UsageError for an unknown option, a value-taking option without a value, or a
 * flag given a value.
 */
function parse(argv, options) {
  const { values, positionals, tokens } = parseArgs({ args: argv, options, strict: false, allowPositionals: true, tokens: true })
  const longNames = Object.keys(options)
  for (const token of tokens) {
    if (token.kind !== 'option') continue
    const spec = options[token.name]
    if (spec === undefined) {
      const hint = token.rawName.startsWith('--') ? didYouMean(token.name, longNames, '--') : ''
      throw new UsageError(`unknown option '${token.rawName}'${hint}`)
    }
    const shown = `--${token.name}`
    if (spec.type === 'boolean' && token.value !== undefined) {
      throw new UsageError(`option '${shown}' takes no value (got '${token.rawName}=${token.value}')`)
    }
    if (spec.type === 'string') {
      if (token.value === undefined) throw new UsageError(`option '${shown}' needs a value`)
      // Non-strict parseArgs takes the next word whatever it is: `--width --out x` would make
      // '--out' the width. A value starting with '-' must be glued on: --suffix=-small.
      if (!token.inlineValue && token.value.startsWith('-') && token.value.length > 1) {
        throw new UsageError(`option '${shown}' needs a value, got the option '${token.value}' (write ${shown}=${token.value} if that is the value)`)
      }
    }
  }
  return { values, positionals }
}

/** `text` as an integer from `min` to `max`, or a UsageError naming `option`. */
function integer(text, option, min, max) {
  if (!/^[0-9]+$/.test(text) || Number(text) < min || Number(text) > max) {
    throw new UsageError(`option '--${option}' must be a whole number from ${min} to ${max}, not '${text}'`)
  }
  return Number(text)
}

/** `text` if it is one of `choices`, or a UsageError naming `option` and the choices. */
function choice(text, option, choices) {
  if (choices.includes(text)) return text
  throw new UsageError(`option '--${option}' must be one of ${choices.join(', ')}, not '${text}'${didYouMean(text, choices)}`)
}

module.exports = { parse, integer, choice, didYouMean }

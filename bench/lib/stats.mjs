// Small statistics and table helpers shared by the benchmarks in bench/.

/** A sorted copy of `values` (numbers), ascending. */
export function sorted(values) {
  return Float64Array.from(values).sort()
}

/** Nearest-rank percentile (p in 0..100) of `values`; NaN when empty. */
export function percentile(values, p) {
  if (values.length === 0) return NaN
  const s = sorted(values)
  const rank = Math.ceil((p / 100) * s.length)
  return s[Math.min(s.length - 1, Math.max(0, rank - 1))]
}

/** The median (mean of the two middle values for an even count); NaN when empty. */
export function median(values) {
  if (values.length === 0) return NaN
  const s = sorted(values)
  const mid = s.length >> 1
  return s.length % 2 === 1 ? s[mid] : (s[mid - 1] + s[mid]) / 2
}

export function min(values) {
  return values.length === 0 ? NaN : Math.min(...values)
}

export function max(values) {
  return values.length === 0 ? NaN : Math.max(...values)
}

/** Rotates `items` left by `n`, so round-robin rounds start with a different contender. */
export function rotate(items, n) {
  const k = ((n % items.length) + items.length) % items.length
  return [...items.slice(k), ...items.slice(0, k)]
}

/** A number with about three significant digits, for tables. */
export function fmt(value, digits = 3) {
  if (value === undefined || value === null || Number.isNaN(value)) return 'n/a'
  if (!Number.isFinite(value)) return String(value)
  const abs = Math.abs(value)
  if (abs === 0) return '0'
  if (abs >= 1000) return Math.round(value).toLocaleString('en-US')
  const decimals = Math.max(0, digits - 1 - Math.floor(Math.log10(abs)))
  return value.toFixed(Math.min(decimals, 4))
}

/** `value / base` formatted as a ratio such as `0.02×` or `3.4×`. */
export function ratio(value, base) {
  if (!Number.isFinite(value) || !Number.isFinite(base) || base === 0) return 'n/a'
  return `${fmt(value / base, 2)}×`
}

/**
 * A Markdown table (also readable in a terminal): `header` is an array of column
 * titles, `rows` an array of arrays of strings. Columns after the first are
 * right-aligned.
 */
export function table(header, rows) {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i] ?? '').length)))
  const line = (cells) =>
    `| ${cells.map((c, i) => (i === 0 ? String(c).padEnd(widths[i]) : String(c).padStart(widths[i]))).join(' | ')} |`
  const rule = `|${widths.map((w, i) => (i === 0 ? `${'-'.repeat(w + 2)}` : `${'-'.repeat(w + 1)}:`)).join('|')}|`
  return [line(header), rule, ...rows.map(line)].join('\n')
}

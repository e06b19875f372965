'use strict'
// Task values on their way to and from `serve()` workers: JSON text, except
// that every Buffer/Uint8Array travels as raw bytes beside it and appears in
// the text as {"$offload:bytes": index}. Used by both sides (lib/pool.js,
// lib/worker.js).

/**
 * The key of that placeholder. The addon's (BYTES_KEY, which the engine inlines for
 * workers that read plain JSON); a worker does not load the addon, so this is a copy,
 * and __test__/contracts.test.mjs fails if the two differ.
 */
const BYTES_KEY = '$offload:bytes'
/** Deeper than this, values go to JSON.stringify as they are (it reports cycles). */
const MAX_DEPTH = 64

/** `value` with its byte arrays swapped for placeholders; the same object when it has none. */
function swap(value, buffers, depth) {
  if (typeof value !== 'object' || value === null) return value
  if (value instanceof Uint8Array) {
    buffers.push(value)
    return { [BYTES_KEY]: buffers.length - 1 }
  }
  if (depth > MAX_DEPTH || typeof value.toJSON === 'function' || ArrayBuffer.isView(value)) return value
  let out = value
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const v = value[i]
      if (typeof v !== 'object' || v === null) continue
      const s = swap(v, buffers, depth + 1)
      if (s !== v) {
        if (out === value) out = value.slice()
        out[i] = s
      }
    }
    return out
  }
  for (const key of Object.keys(value)) {
    const v = value[key]
    if (typeof v !== 'object' || v === null) continue
    const s = swap(v, buffers, depth + 1)
    if (s !== v) {
      if (out === value) out = { ...value }
      out[key] = s
    }
  }
  return out
}

/**
 * `{ json, buffers }` for a value: `json` is `undefined` for a value JSON
 * cannot hold (undefined, a function, a symbol); `buffers` is `null` when
 * there are none. Throws what JSON.stringify throws (cycles, BigInt).
 */
function encodeValue(value) {
  if (typeof value !== 'object' || value === null) return { json: JSON.stringify(value), buffers: null }
  const buffers = []
  const json = JSON.stringify(swap(value, buffers, 0))
  return { json, buffers: buffers.length === 0 ? null : buffers }
}

/** The value `encodeValue` was given, with Buffers for its byte arrays; '' is `undefined`. */
function decodeValue(json, buffers) {
  if (json === '') return undefined
  if (!buffers || buffers.length === 0) return JSON.parse(json)
  return JSON.parse(json, (key, v) => {
    if (v !== null && typeof v === 'object' && typeof v[BYTES_KEY] === 'number' && buffers[v[BYTES_KEY]] !== undefined) {
      return buffers[v[BYTES_KEY]]
    }
    return v
  })
}

module.exports = { encodeValue, decodeValue, BYTES_KEY }

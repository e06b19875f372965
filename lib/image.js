'use strict'
// Images: resize, resizeFile and metadata. This file checks the options (every mistake
// throws synchronously at the call with code ERR_INVALID_ARG_VALUE), fills the defaults, and hands the
// work to the image pool in src/image/ (Rust threads, never libuv's threadpool).

const { Buffer } = require('node:buffer')
const path = require('node:path')
const { fileURLToPath } = require('node:url')
const native = require('./binding')
const { invalidArgValue, offloadError, abortError, fsError } = require('./errors')

const FITS = ['cover', 'contain', 'fill', 'inside', 'outside']
const POSITIONS = [
  'centre', 'center', 'north', 'northeast', 'east', 'southeast', 'south', 'southwest', 'west', 'northwest',
  'top', 'right top', 'right', 'right bottom', 'bottom', 'left bottom', 'left', 'left top',
]
const KERNELS = ['nearest', 'linear', 'cubic', 'mitchell', 'lanczos2', 'lanczos3']
/** Every format this build knows: whether it reads and writes it, and its file name extensions. */
const FORMAT_TABLE = {
  jpeg: { reads: true, writes: true, suffixes: ['.jpg', '.jpeg', '.jpe'] },
  png: { reads: true, writes: true, suffixes: ['.png'] },
  webp: { reads: true, writes: true, suffixes: ['.webp'] },
  avif: { reads: native.avifInputSupported(), writes: true, suffixes: ['.avif'] },
  gif: { reads: true, writes: true, suffixes: ['.gif'] },
  tiff: { reads: true, writes: false, suffixes: ['.tif', '.tiff'] },
  bmp: { reads: true, writes: false, suffixes: ['.bmp'] },
  raw: { reads: true, writes: true, suffixes: ['.raw'] },
}
/** The output formats. */
const FORMATS = Object.keys(FORMAT_TABLE).filter((id) => FORMAT_TABLE[id].writes)
/** The output format of each extension `resizeFile` knows. */
const EXTENSIONS = Object.fromEntries(
  Object.entries(FORMAT_TABLE).flatMap(([id, f]) => (f.writes ? f.suffixes.map((ext) => [ext, id]) : [])),
)
const FAIL_ON = ['none', 'truncated', 'error', 'warning']
const KNOWN = new Set([
  'width', 'height', 'fit', 'position', 'kernel', 'withoutEnlargement', 'background', 'format', 'quality', 'jpeg', 'png',
  'webp', 'avif', 'autoOrient', 'keepMetadata', 'composite', 'limitInputPixels', 'signal', 'animated', 'failOn',
  'raw', 'resolveWithObject',
])
/** sharp's default: 0x3FFF × 0x3FFF pixels. */
const DEFAULT_LIMIT_INPUT_PIXELS = 268402689
const COLOURS = { black: [0, 0, 0, 255], white: [255, 255, 255, 255], transparent: [0, 0, 0, 0] }

function bad(name, value, reason, ErrorClass = TypeError) {
  return invalidArgValue(name, value, reason, ErrorClass)
}

function oneOf(value, name, list) {
  if (!list.includes(value)) throw bad(name, value, `must be one of ${list.map((v) => `'${v}'`).join(', ')}`)
  return value
}

function bool(value, name) {
  if (typeof value !== 'boolean') throw bad(name, value, 'must be a boolean')
  return value
}

function int(value, name, min, max) {
  if (typeof value !== 'number' || !Number.isInteger(value)) throw bad(name, value, 'must be an integer')
  if (value < min || value > max) throw bad(name, value, `must be an integer from ${min} to ${max}`, RangeError)
  return value
}

function object(value, name) {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw bad(name, value, 'must be an object')
  return value
}

/** `[r, g, b, alpha]` from a CSS-like colour: '#rgb', '#rrggbb', '#rrggbbaa', a name, or { r, g, b, alpha }. */
function colour(value, name) {
  if (typeof value === 'string') {
    const named = COLOURS[value.toLowerCase()]
    if (named) return named
    const hex = /^#([0-9a-f]{3}|[0-9a-f]{6}|[0-9a-f]{8})$/i.exec(value)
    if (hex) {
      let digits = hex[1]
      if (digits.length === 3) digits = [...digits].map((d) => d + d).join('')
      const n = (i) => parseInt(digits.slice(i, i + 2), 16)
      return [n(0), n(2), n(4), digits.length === 8 ? n(6) : 255]
    }
    throw bad(name, value, "must be a colour: '#rrggbb', '#rgb', '#rrggbbaa', 'white', 'black', 'transparent' or { r, g, b, alpha }")
  }
  object(value, name)
  const channel = (c) => int(value[c] ?? 0, `${name}.${c}`, 0, 255)
  const alpha = value.alpha ?? 1
  if (typeof alpha !== 'number' || !(alpha >= 0 && alpha <= 1)) throw bad(`${name}.alpha`, alpha, 'must be a number from 0 to 1', RangeError)
  return [channel('r'), channel('g'), channel('b'), Math.round(alpha * 255)]
}

function dimension(value, name) {
  if (value === undefined || value === null) return undefined
  return int(value, name, 1, 65535)
}

/** `{ input }` or `{ file }` for the native call, without copying a Buffer. */
function source(input, name = 'input') {
  if (Buffer.isBuffer(input)) return { input }
  if (input instanceof Uint8Array) return { input: Buffer.from(input.buffer, input.byteOffset, input.byteLength) }
  if (input instanceof URL) return { file: fileURLToPath(input) }
  if (typeof input === 'string' && input.length > 0 && !input.includes('\0')) return { file: input }
  throw bad(name, input, 'must be a Buffer, a Uint8Array or a file path')
}

function overlay(entry, i) {
  const name = `options.composite[${i}]`
  object(entry, name)
  for (const key of Object.keys(entry)) {
    if (!['input', 'gravity', 'top', 'left', 'opacity'].includes(key)) throw bad(name, entry, `has an unknown option '${key}'`)
  }
  const { input, file } = source(entry.input, `${name}.input`)
  if ((entry.top === undefined) !== (entry.left === undefined)) throw bad(name, entry, 'needs both top and left, or neither')
  const offset = (v, n) => (v === undefined ? undefined : int(v, n, -65535, 65535))
  const opacity = entry.opacity ?? 1
  if (typeof opacity !== 'number' || !(opacity >= 0 && opacity <= 1)) throw bad(`${name}.opacity`, opacity, 'must be a number from 0 to 1', RangeError)
  return {
    input,
    file,
    gravity: oneOf(entry.gravity ?? 'centre', `${name}.gravity`, POSITIONS),
    top: offset(entry.top, `${name}.top`),
    left: offset(entry.left, `${name}.left`),
    opacity,
  }
}

function subOptions(options, key, allowed) {
  if (options[key] === undefined) return {}
  const sub = object(options[key], `options.${key}`)
  for (const k of Object.keys(sub)) {
    if (!allowed.includes(k)) throw bad(`options.${key}`, sub, `has an unknown option '${k}' (known: ${allowed.join(', ')})`)
  }
  return sub
}

/**
 * The geometry of raw pixel input (`options.raw`), checked against the Buffer's length when
 * the input is in memory, so a mismatch throws at the call.
 */
function rawInput(value, src) {
  if (value === undefined) return undefined
  const raw = object(value, 'options.raw')
  for (const k of Object.keys(raw)) {
    if (!['width', 'height', 'channels'].includes(k)) throw bad('options.raw', raw, `has an unknown option '${k}' (known: width, height, channels)`)
  }
  const width = int(raw.width, 'options.raw.width', 1, 0x3fffffff)
  const height = int(raw.height, 'options.raw.height', 1, 0x3fffffff)
  const channels = int(raw.channels, 'options.raw.channels', 1, 4)
  const bytes = width * height * channels
  if (src.input !== undefined && src.input.byteLength !== bytes) {
    throw bad('options.raw', raw, `describes ${bytes} bytes (${width}×${height}×${channels}), but the input has ${src.input.byteLength}`, RangeError)
  }
  return { width, height, channels }
}

/** Checks `options` and returns `[nativeOptions, signal]`. */
function nativeOptions(options, formatFromPath, src) {
  if (options === undefined) options = {}
  object(options, 'options')
  for (const key of Object.keys(options)) {
    if (!KNOWN.has(key)) throw bad('options', options, `has an unknown option '${key}' (known: ${[...KNOWN].join(', ')})`)
  }
  const o = options
  const jpeg = subOptions(o, 'jpeg', ['progressive', 'chromaSubsampling'])
  const png = subOptions(o, 'png', ['compressionLevel'])
  const webp = subOptions(o, 'webp', ['lossless', 'effort'])
  const avif = subOptions(o, 'avif', ['effort'])
  let limit = DEFAULT_LIMIT_INPUT_PIXELS
  if (o.limitInputPixels !== undefined) {
    if (o.limitInputPixels === false || o.limitInputPixels === 0) limit = undefined
    else if (o.limitInputPixels === true) limit = DEFAULT_LIMIT_INPUT_PIXELS
    else limit = int(o.limitInputPixels, 'options.limitInputPixels', 1, Number.MAX_SAFE_INTEGER)
  }
  const signal = o.signal
  if (signal !== undefined && (signal === null || typeof signal !== 'object' || typeof signal.aborted !== 'boolean')) {
    throw bad('options.signal', signal, 'must be an AbortSignal')
  }
  if (o.composite !== undefined && !Array.isArray(o.composite)) throw bad('options.composite', o.composite, 'must be an array')
  const chroma = jpeg.chromaSubsampling ?? '4:2:0'
  oneOf(chroma, 'options.jpeg.chromaSubsampling', ['4:2:0', '4:4:4'])
  const format = o.format === undefined ? formatFromPath : oneOf(o.format === 'jpg' ? 'jpeg' : o.format, 'options.format', FORMATS)
  return [
    {
      width: dimension(o.width, 'options.width'),
      height: dimension(o.height, 'options.height'),
      fit: oneOf(o.fit ?? 'cover', 'options.fit', FITS),
      position: oneOf(o.position ?? 'centre', 'options.position', POSITIONS),
      kernel: oneOf(o.kernel ?? 'lanczos3', 'options.kernel', KERNELS),
      withoutEnlargement: bool(o.withoutEnlargement ?? false, 'options.withoutEnlargement'),
      background: colour(o.background ?? { r: 0, g: 0, b: 0, alpha: 1 }, 'options.background'),
      format,
      quality: int(o.quality ?? 80, 'options.quality', 1, 100),
      jpegProgressive: bool(jpeg.progressive ?? false, 'options.jpeg.progressive'),
      jpegChroma444: chroma === '4:4:4',
      pngCompressionLevel: int(png.compressionLevel ?? 6, 'options.png.compressionLevel', 0, 9),
      webpLossless: bool(webp.lossless ?? false, 'options.webp.lossless'),
      webpEffort: int(webp.effort ?? 4, 'options.webp.effort', 0, 6),
      avifEffort: int(avif.effort ?? 4, 'options.avif.effort', 0, 9),
      autoOrient: bool(o.autoOrient ?? true, 'options.autoOrient'),
      keepMetadata: bool(o.keepMetadata ?? false, 'options.keepMetadata'),
      composite: (o.composite ?? []).map(overlay),
      limitInputPixels: limit,
      animated: bool(o.animated ?? false, 'options.animated'),
      allowPartial: oneOf(o.failOn ?? 'warning', 'options.failOn', FAIL_ON) === 'none',
      raw: rawInput(o.raw, src),
    },
    signal,
  ]
}

/** src/image/metadata.rs's NOT_AN_IMAGE: the engine leaves the list of readable formats to `formats`. */
const NOT_AN_IMAGE = 'the input is not an image offload can read'

/** The Error of a failed native job: `fs`'s own for a file error, else one with our code. */
function jobError(result) {
  const os = result.errorOs
  if (os) return fsError(-os.errno, os.syscall, os.path ?? undefined)
  let message = result.errorMessage
  if (result.errorCode === 'ERR_OFFLOAD_IMAGE_UNSUPPORTED' && message === NOT_AN_IMAGE) message += ` (${READABLE})`
  return offloadError(result.errorCode, message)
}

/** Runs one native job; settles when the job has stopped (so no file appears after an abort). */
async function run(src, options, outputPath, signal) {
  if (signal?.aborted) throw abortError(signal)
  const flag = new native.ImageAbort()
  const onAbort = () => flag.abort()
  signal?.addEventListener('abort', onAbort, { once: true })
  try {
    const result = await native.imageResize(src.input, src.file, options, outputPath, flag)
    if (result.errorCode === 'ERR_OFFLOAD_ABORTED') throw abortError(signal)
    if (result.errorCode) throw jobError(result)
    if (signal?.aborted && outputPath === undefined) throw abortError(signal)
    return result
  } finally {
    signal?.removeEventListener('abort', onAbort)
  }
}

function info(result) {
  return { format: result.format, width: result.width, height: result.height, channels: result.channels, size: result.size }
}

/**
 * Resizes `input` (a Buffer, Uint8Array or file path) and resolves with the encoded Buffer,
 * or with `{ data, info }` when `options.resolveWithObject` is true.
 */
function resize(input, options) {
  const src = source(input)
  const [opts, signal] = nativeOptions(options, undefined, src)
  const withInfo = options?.resolveWithObject === undefined ? false : bool(options.resolveWithObject, 'options.resolveWithObject')
  return run(src, opts, undefined, signal).then((result) => (withInfo ? { data: result.data, info: info(result) } : result.data))
}

/** Resizes `input` into the file `outputPath`; the format follows its extension unless `options.format` is given. */
function resizeFile(input, outputPath, options) {
  const src = source(input)
  if (outputPath instanceof URL) outputPath = fileURLToPath(outputPath)
  if (typeof outputPath !== 'string' || outputPath.length === 0 || outputPath.includes('\0')) {
    throw bad('outputPath', outputPath, 'must be a file path')
  }
  const fromExtension = EXTENSIONS[path.extname(outputPath).toLowerCase()]
  if (fromExtension === undefined && (options === undefined || options.format === undefined)) {
    throw bad('outputPath', outputPath, `must end in ${Object.keys(EXTENSIONS).join(', ')}, or give options.format`)
  }
  const [opts, signal] = nativeOptions(options, fromExtension, src)
  return run(src, opts, outputPath, signal).then(info)
}

/** The header of `input`, read without decoding pixels. */
function metadata(input) {
  const src = source(input)
  return native.imageMetadata(src.input, src.file).then(shapeMetadata)
}

function shapeMetadata(m) {
  if (m.errorCode) throw jobError(m)
  const out = {
    format: m.format,
    width: m.width,
    height: m.height,
    orientation: m.orientation,
    channels: m.channels,
    hasAlpha: m.hasAlpha,
    space: m.space,
    density: m.density ?? undefined,
    pages: m.pages,
    depth: m.bitsPerSample === 16 ? 'ushort' : 'uchar',
    isProgressive: m.isProgressive,
    hasProfile: m.hasProfile,
    size: m.size,
  }
  if (out.density === undefined) delete out.density
  return out
}

/** Sets the number of image threads (at least 1). */
function setConcurrency(threads) {
  native.imageSetConcurrency(int(threads, 'threads', 1, 1024))
}

/** The number of image threads. */
function getConcurrency() {
  return native.imageGetConcurrency()
}

/**
 * What this build reads and writes, per format id, shaped as sharp's `sharp.format`:
 * `{ id, input: { file, buffer, stream, fileSuffix }, output: { file, buffer, stream, alias } }`.
 * `formats.avif.input.buffer` is false when offload was built without libdav1d. offload takes
 * no streams. Raw pixels are read only as `options.raw` describes them, so no suffix names them.
 */
const formats = Object.freeze(Object.fromEntries(
  Object.entries(FORMAT_TABLE).map(([id, { reads, writes, suffixes }]) => {
    const input = { file: reads, buffer: reads, stream: false }
    if (reads && id !== 'raw') input.fileSuffix = suffixes
    const output = { file: writes, buffer: writes, stream: false }
    if (id === 'jpeg') output.alias = ['jpg']
    return [id, Object.freeze({ id, input: Object.freeze(input), output: Object.freeze(output) })]
  }),
))

/** The formats this build decodes, as people write them: the list an unreadable input's message gives. */
const READABLE = Object.keys(formats)
  .filter((id) => formats[id].input.buffer && id !== 'raw')
  .map((id) => ({ jpeg: 'JPEG', webp: 'WebP' })[id] ?? id.toUpperCase())
  .join(', ')

module.exports = { resize, resizeFile, metadata, setConcurrency, getConcurrency, formats, FITS, FAIL_ON, EXTENSIONS }

'use strict'
// Images: resize, resizeFile and metadata. This file checks the options (every mistake
// throws synchronously at the call with code ERR_INVALID_ARG_VALUE: validate.js's
// imageChecks), fills the defaults and packs the options as src/js/image.rs reads them:
// numbers in one Float64Array at the addon's ImageSlot positions (reused: the native call
// reads it before returning), names as indices into its ImageName lists. The names,
// defaults and ranges are the addon's (ImageName, ImageDefault, ImageRange); the work runs
// on the image threads of src/image/ (Rust threads, never libuv's threadpool).

const { Buffer } = require('node:buffer')
const path = require('node:path')
const native = require('./binding')
const { invalidArgValue, offloadError, abortError, fsError } = require('./errors')
const { validateOneOf, checkKnownKeys, imageChecks } = require('./validate')

const { checkObject, checkBoolean, checkInteger, checkNumber, checkArray, checkFilePath, checkAbortSignal } = imageChecks
const {
  ImageSlot: AT,
  ImageOverlaySlot: OVERLAY_AT,
  ImageFlag: FLAG,
  ImageName: NAMES,
  ImageDefault: DEFAULT,
  ImageRange: RANGE,
  NOT_SET,
} = native

/** Each name of `lists` (in order) to its index in its list: what the addon takes for a name. */
function indices(...lists) {
  const index = new Map()
  for (const list of lists) list.forEach((name, i) => index.set(name, i))
  return index
}

const FIT = indices(NAMES.FITS)
const POSITION = indices(NAMES.POSITIONS, NAMES.POSITION_ALIASES)
const KERNEL = indices(NAMES.KERNELS)
const FORMAT = indices(NAMES.FORMATS)
/** The output formats by name, and 'jpg' (sharp's alias), to their index in NAMES.FORMATS. */
const OUTPUT = new Map([...NAMES.OUTPUT_FORMATS, 'jpg'].map((name) => [name, FORMAT.get(name === 'jpg' ? 'jpeg' : name)]))

/** The file name extensions of each format: what resizeFile and `formats` go by. */
const SUFFIXES = {
  jpeg: ['.jpg', '.jpeg', '.jpe'],
  png: ['.png'],
  webp: ['.webp'],
  avif: ['.avif'],
  gif: ['.gif'],
  tiff: ['.tif', '.tiff'],
  bmp: ['.bmp'],
  raw: ['.raw'],
}
/** The output format of each extension `resizeFile` knows. */
const EXTENSIONS = Object.fromEntries(NAMES.OUTPUT_FORMATS.flatMap((id) => SUFFIXES[id].map((ext) => [ext, id])))
const FAIL_ON = ['none', 'truncated', 'error', 'warning']
const KNOWN = new Set([
  'width', 'height', 'fit', 'position', 'kernel', 'withoutEnlargement', 'background', 'format', 'quality', 'jpeg', 'png',
  'webp', 'avif', 'autoOrient', 'keepMetadata', 'composite', 'limitInputPixels', 'signal', 'animated', 'failOn',
  'raw', 'resolveWithObject',
])
const OVERLAY_KEYS = ['input', 'gravity', 'top', 'left', 'opacity']
const COLOURS = { black: [0, 0, 0, 255], white: [255, 255, 255, 255], transparent: [0, 0, 0, 0] }
const NO_OVERLAYS = []

/** The index of the name `value` in `index`, or Node's "must be one of" error. */
function pick(index, value, name) {
  const at = index.get(value)
  if (at === undefined) validateOneOf(value, name, [...index.keys()])
  return at
}

function flag(value, name, fallback, bit) {
  return (value === undefined ? fallback : checkBoolean(value, name)) ? bit : 0
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
    throw invalidArgValue(name, value, "must be a colour: '#rrggbb', '#rgb', '#rrggbbaa', 'white', 'black', 'transparent' or { r, g, b, alpha }")
  }
  checkObject(value, name)
  const channel = (c) => checkInteger(value[c] ?? 0, `${name}.${c}`, 0, 255)
  const alpha = checkNumber(value.alpha ?? 1, `${name}.alpha`, 0, 1)
  return [channel('r'), channel('g'), channel('b'), Math.round(alpha * 255)]
}

/** `[r, g, b, alpha]` as the one number `0xRRGGBBAA`. */
function packColour([r, g, b, alpha]) {
  return ((r << 24) | (g << 16) | (b << 8) | alpha) >>> 0
}

/** A width or height, NOT_SET when absent. */
function side(value, name) {
  return value === undefined || value === null ? NOT_SET : checkInteger(value, name, ...RANGE.SIDE)
}

/** A Buffer (a Uint8Array's bytes, not copied) or a file path, as the addon takes an input. */
function source(input, name) {
  if (Buffer.isBuffer(input)) return input
  if (input instanceof Uint8Array) return Buffer.from(input.buffer, input.byteOffset, input.byteLength)
  return checkFilePath(input, name, ['Buffer', 'Uint8Array', 'string', 'URL'])
}

/** Checks `options.composite[i]`, writes its numbers into `numbers` from `at`, and returns its input. */
function overlay(entry, i, numbers, at) {
  const name = `options.composite[${i}]`
  checkObject(entry, name)
  checkKnownKeys(entry, name, OVERLAY_KEYS)
  const input = source(entry.input, `${name}.input`)
  if ((entry.top === undefined) !== (entry.left === undefined)) throw invalidArgValue(name, entry, 'needs both top and left, or neither')
  const offset = (value, n) => (value === undefined ? Number.NaN : checkInteger(value, n, ...RANGE.OVERLAY_OFFSET))
  // sharp places an overlay as it positions a crop: at the centre unless told.
  numbers[at + OVERLAY_AT.GRAVITY] = pick(POSITION, entry.gravity ?? DEFAULT.POSITION, `${name}.gravity`)
  numbers[at + OVERLAY_AT.TOP] = offset(entry.top, `${name}.top`)
  numbers[at + OVERLAY_AT.LEFT] = offset(entry.left, `${name}.left`)
  numbers[at + OVERLAY_AT.OPACITY] = entry.opacity === undefined ? 1 : checkNumber(entry.opacity, `${name}.opacity`, 0, 1)
  return input
}

function subOptions(options, key, allowed) {
  if (options[key] === undefined) return {}
  const sub = checkObject(options[key], `options.${key}`)
  checkKnownKeys(sub, `options.${key}`, allowed)
  return sub
}

/**
 * The geometry of raw pixel input (`options.raw`), checked against the Buffer's length when
 * the input is in memory, so a mismatch throws at the call.
 */
function rawInput(value, input) {
  const raw = checkObject(value, 'options.raw')
  checkKnownKeys(raw, 'options.raw', ['width', 'height', 'channels'])
  const width = checkInteger(raw.width, 'options.raw.width', ...RANGE.RAW_SIDE)
  const height = checkInteger(raw.height, 'options.raw.height', ...RANGE.RAW_SIDE)
  const channels = checkInteger(raw.channels, 'options.raw.channels', ...RANGE.RAW_CHANNELS)
  const bytes = width * height * channels
  if (typeof input !== 'string' && input.byteLength !== bytes) {
    throw invalidArgValue('options.raw', raw, `describes ${bytes} bytes (${width}×${height}×${channels}), but the input has ${input.byteLength}`, RangeError)
  }
  return [width, height, channels]
}

const numbers = new Float64Array(AT.LEN)

function limitInputPixels(value) {
  if (value === undefined || value === true) return DEFAULT.LIMIT_INPUT_PIXELS
  if (value === false || value === 0) return 0
  return checkInteger(value, 'options.limitInputPixels', 1, Number.MAX_SAFE_INTEGER)
}

/**
 * Checks `options` (for `input`, as `source` gave it) and returns `[numbers, overlays, signal]`
 * for the addon: `format` is the output format the path asks for, when it does.
 */
function nativeOptions(options, format, input) {
  const o = options === undefined ? {} : checkObject(options, 'options')
  checkKnownKeys(o, 'options', KNOWN)
  const jpeg = subOptions(o, 'jpeg', ['progressive', 'chromaSubsampling'])
  const png = subOptions(o, 'png', ['compressionLevel'])
  const webp = subOptions(o, 'webp', ['lossless', 'effort'])
  const avif = subOptions(o, 'avif', ['effort'])
  const signal = checkAbortSignal(o.signal, 'options.signal')
  const composite = o.composite === undefined ? NO_OVERLAYS : checkArray(o.composite, 'options.composite')
  const s = composite.length === 0 ? numbers : new Float64Array(AT.LEN + composite.length * OVERLAY_AT.LEN)
  s[AT.LIMIT_INPUT_PIXELS] = limitInputPixels(o.limitInputPixels)
  s[AT.WIDTH] = side(o.width, 'options.width')
  s[AT.HEIGHT] = side(o.height, 'options.height')
  s[AT.FIT] = pick(FIT, o.fit ?? DEFAULT.FIT, 'options.fit')
  s[AT.POSITION] = pick(POSITION, o.position ?? DEFAULT.POSITION, 'options.position')
  s[AT.KERNEL] = pick(KERNEL, o.kernel ?? DEFAULT.KERNEL, 'options.kernel')
  s[AT.BACKGROUND] = packColour(o.background === undefined ? DEFAULT.BACKGROUND : colour(o.background, 'options.background'))
  s[AT.FORMAT] = o.format === undefined ? (format === undefined ? NOT_SET : FORMAT.get(format)) : pick(OUTPUT, o.format, 'options.format')
  s[AT.QUALITY] = o.quality === undefined ? DEFAULT.QUALITY : checkInteger(o.quality, 'options.quality', ...RANGE.QUALITY)
  const level = png.compressionLevel
  s[AT.PNG_COMPRESSION_LEVEL] = level === undefined ? DEFAULT.PNG_COMPRESSION_LEVEL : checkInteger(level, 'options.png.compressionLevel', ...RANGE.PNG_COMPRESSION_LEVEL)
  s[AT.WEBP_EFFORT] = webp.effort === undefined ? DEFAULT.WEBP_EFFORT : checkInteger(webp.effort, 'options.webp.effort', ...RANGE.WEBP_EFFORT)
  s[AT.AVIF_EFFORT] = avif.effort === undefined ? DEFAULT.AVIF_EFFORT : checkInteger(avif.effort, 'options.avif.effort', ...RANGE.AVIF_EFFORT)
  const chroma = jpeg.chromaSubsampling ?? '4:2:0'
  validateOneOf(chroma, 'options.jpeg.chromaSubsampling', ['4:2:0', '4:4:4'])
  const failOn = o.failOn ?? 'warning'
  validateOneOf(failOn, 'options.failOn', FAIL_ON)
  s[AT.FLAGS] =
    flag(o.withoutEnlargement, 'options.withoutEnlargement', false, FLAG.WITHOUT_ENLARGEMENT) |
    flag(jpeg.progressive, 'options.jpeg.progressive', false, FLAG.JPEG_PROGRESSIVE) |
    (chroma === '4:4:4' ? FLAG.JPEG_CHROMA_444 : 0) |
    flag(webp.lossless, 'options.webp.lossless', false, FLAG.WEBP_LOSSLESS) |
    flag(o.autoOrient, 'options.autoOrient', DEFAULT.AUTO_ORIENT, FLAG.AUTO_ORIENT) |
    flag(o.keepMetadata, 'options.keepMetadata', false, FLAG.KEEP_METADATA) |
    flag(o.animated, 'options.animated', false, FLAG.ANIMATED) |
    (failOn === 'none' ? FLAG.ALLOW_PARTIAL : 0)
  const overlays = composite.length === 0 ? undefined : composite.map((entry, i) => overlay(entry, i, s, AT.LEN + i * OVERLAY_AT.LEN))
  const [width, height, channels] = o.raw === undefined ? [NOT_SET, NOT_SET, NOT_SET] : rawInput(o.raw, input)
  s[AT.RAW_WIDTH] = width
  s[AT.RAW_HEIGHT] = height
  s[AT.RAW_CHANNELS] = channels
  return [s, overlays, signal]
}

/** The Error of a failed native job: `fs`'s own for a file error, else one with our code. */
function jobError(result) {
  const os = result.errorOs
  if (os) return fsError(-os.errno, os.syscall, os.path ?? undefined)
  return offloadError(result.errorCode, result.errorMessage)
}

/** Runs one native job; settles when the job has stopped (so no file appears after an abort). */
async function run(input, [s, overlays, signal], outputPath) {
  if (signal?.aborted) throw abortError(signal)
  // Only a signal can abort a job: without one, no flag is made for it.
  const abort = signal === undefined ? undefined : new native.ImageAbort()
  const onAbort = () => abort.abort()
  signal?.addEventListener('abort', onAbort, { once: true })
  try {
    const result = await native.imageResize(input, s, overlays, outputPath, abort)
    if (result.errorCode === 'ERR_OFFLOAD_ABORTED') throw abortError(signal)
    if (result.errorCode) throw jobError(result)
    if (signal?.aborted && outputPath === undefined) throw abortError(signal)
    return result
  } finally {
    signal?.removeEventListener('abort', onAbort)
  }
}

function info(result) {
  return { format: NAMES.FORMATS[result.format], width: result.width, height: result.height, channels: result.channels, size: result.size }
}

/**
 * Resizes `input` (a Buffer, Uint8Array or file path) and resolves with the encoded Buffer,
 * or with `{ data, info }` when `options.resolveWithObject` is true.
 */
function resize(input, options) {
  input = source(input, 'input')
  const packed = nativeOptions(options, undefined, input)
  const withInfo = options?.resolveWithObject === undefined ? false : checkBoolean(options.resolveWithObject, 'options.resolveWithObject')
  return run(input, packed, undefined).then((result) => (withInfo ? { data: result.data, info: info(result) } : result.data))
}

/** Resizes `input` into the file `outputPath`; the format follows its extension unless `options.format` is given. */
function resizeFile(input, outputPath, options) {
  input = source(input, 'input')
  outputPath = checkFilePath(outputPath, 'outputPath')
  const fromExtension = EXTENSIONS[path.extname(outputPath).toLowerCase()]
  if (fromExtension === undefined && (options === undefined || options.format === undefined)) {
    throw invalidArgValue('outputPath', outputPath, `must end in ${Object.keys(EXTENSIONS).join(', ')}, or give options.format`)
  }
  return run(input, nativeOptions(options, fromExtension, input), outputPath).then(info)
}

/** The header of `input`, read without decoding pixels. */
function metadata(input) {
  return native.imageMetadata(source(input, 'input')).then(shapeMetadata)
}

function shapeMetadata(m) {
  if (m.errorCode) throw jobError(m)
  const out = {
    format: NAMES.FORMATS[m.format],
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

/** Sets the number of image threads. */
function setConcurrency(threads) {
  native.imageSetConcurrency(checkInteger(threads, 'threads', ...RANGE.THREADS))
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
  NAMES.FORMATS.map((id) => {
    const reads = NAMES.INPUT_FORMATS.includes(id)
    const writes = NAMES.OUTPUT_FORMATS.includes(id)
    const input = { file: reads, buffer: reads, stream: false }
    if (reads && id !== 'raw') input.fileSuffix = SUFFIXES[id]
    const output = { file: writes, buffer: writes, stream: false }
    if (id === 'jpeg') output.alias = ['jpg']
    return [id, Object.freeze({ id, input: Object.freeze(input), output: Object.freeze(output) })]
  }),
))

const FITS = NAMES.FITS

module.exports = { resize, resizeFile, metadata, setConcurrency, getConcurrency, formats, FITS, FAIL_ON, EXTENSIONS, SUFFIXES }

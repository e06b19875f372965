'use strict'
// `offload thumbs`: every image given becomes a thumbnail in --out, on offload's image threads.
// A bounded number of images is in flight; a failed image is reported and the batch goes on;
// SIGINT/SIGTERM/SIGHUP abort the images in flight (resizeFile then leaves no file behind) and
// start no more.

const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { resizeFile, metadata, setConcurrency, getConcurrency, FITS, FAIL_ON } = require('../image')
const { ImageDefault, ImageRange } = require('../binding')
const { UsageError, codedError } = require('../errors')
const { parse, integer, choice } = require('./args')
const { planBatch, IMAGE_EXTENSIONS, FORMAT_EXTENSIONS } = require('./inputs')
const { createTally, createReporter } = require('./progress')

const OPTIONS = {
  out: { type: 'string', short: 'o' },
  width: { type: 'string', short: 'w' },
  height: { type: 'string', short: 'H' },
  fit: { type: 'string' },
  'without-enlargement': { type: 'boolean' },
  'fail-on': { type: 'string' },
  format: { type: 'string', short: 'f' },
  quality: { type: 'string', short: 'q' },
  suffix: { type: 'string' },
  force: { type: 'boolean' },
  'skip-existing': { type: 'boolean' },
  recursive: { type: 'boolean', short: 'r' },
  'no-recursive': { type: 'boolean' },
  concurrency: { type: 'string', short: 'j' },
  quiet: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
}
const STOP_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP']

/** The settings of a batch from its command line, or `{ help: true }`. Throws UsageError. */
function parseThumbs(argv) {
  const { values: v, positionals } = parse(argv, OPTIONS)
  if (v.help) return { help: true }
  if (positionals.length === 0) throw new UsageError('give at least one image file or folder')
  if (v.out === undefined) throw new UsageError("give the output folder with --out DIR")
  if (v.width === undefined && v.height === undefined) throw new UsageError('give --width, --height or both')
  if (v.recursive && v['no-recursive']) throw new UsageError("'--recursive' and '--no-recursive' contradict each other")
  if (v.force && v['skip-existing']) throw new UsageError("'--force' and '--skip-existing' contradict each other")
  const suffix = v.suffix ?? ''
  if (suffix.includes('/') || suffix.includes('\0')) throw new UsageError(`option '--suffix' must not contain '/' (got '${suffix}')`)
  let format
  // Thumbnails are files people open: every encoded format, not headerless raw pixels.
  if (v.format !== undefined) format = choice(v.format === 'jpg' ? 'jpeg' : v.format, 'format', Object.keys(FORMAT_EXTENSIONS))
  return {
    help: false,
    paths: positionals,
    out: v.out,
    width: v.width === undefined ? undefined : integer(v.width, 'width', ...ImageRange.SIDE),
    height: v.height === undefined ? undefined : integer(v.height, 'height', ...ImageRange.SIDE),
    fit: choice(v.fit ?? ImageDefault.FIT, 'fit', FITS),
    withoutEnlargement: v['without-enlargement'] ?? false,
    failOn: choice(v['fail-on'] ?? 'warning', 'fail-on', FAIL_ON),
    format,
    quality: v.quality === undefined ? ImageDefault.QUALITY : integer(v.quality, 'quality', ...ImageRange.QUALITY),
    suffix,
    force: v.force ?? false,
    skipExisting: v['skip-existing'] ?? false,
    recursive: !v['no-recursive'],
    concurrency: v.concurrency === undefined ? undefined : integer(v.concurrency, 'concurrency', ...ImageRange.THREADS),
    quiet: v.quiet ?? false,
  }
}

async function exists(file) {
  try {
    await fs.promises.lstat(file)
    return true
  } catch (err) {
    if (err.code === 'ENOENT') return false
    throw err
  }
}

/**
 * Removes the temporary files resizeFile may have open for `outputs` (named
 * `.NAME.offload-PID-*.tmp` beside the output). Used only when a second signal forces an
 * exit without waiting for the images in flight to stop.
 */
function removeTemporaries(outputs) {
  for (const output of outputs) {
    const prefix = `.${path.basename(output)}.offload-${process.pid}-`
    try {
      for (const name of fs.readdirSync(path.dirname(output))) {
        if (name.startsWith(prefix) && name.endsWith('.tmp')) fs.rmSync(path.join(path.dirname(output), name), { force: true })
      }
    } catch {
      // Best effort on the way out: the folder may be gone or unreadable.
    }
  }
}

/** Runs a batch; resolves with the exit code. Progress and results go to `stream`. */
async function runThumbs(settings, stream) {
  const controller = new AbortController()
  const { signal } = controller
  const inFlight = new Set()
  let stoppedBy
  let reporter
  const onSignal = (name) => {
    if (stoppedBy === undefined) {
      stoppedBy = name
      controller.abort()
      reporter?.stopping(name, inFlight.size)
      return
    }
    // A second signal: the user will not wait for the current decode or encode to finish.
    removeTemporaries([...inFlight].map((entry) => entry.output))
    stream.write(`\n${name} while stopping: exiting without waiting for ${inFlight.size} image${inFlight.size === 1 ? '' : 's'} in flight\n`)
    process.exit(128 + os.constants.signals[stoppedBy])
  }
  const handlers = STOP_SIGNALS.map((name) => [name, () => onSignal(name)])
  for (const [name, handler] of handlers) process.on(name, handler)
  try {
    const batch = await planBatch({
      paths: settings.paths,
      out: settings.out,
      format: settings.format,
      suffix: settings.suffix,
      recursive: settings.recursive,
      signal,
      sniff: async (file) => (await metadata(file)).format,
    })
    if (stoppedBy !== undefined) {
      stream.write(`Interrupted by ${stoppedBy} while listing the inputs; nothing was written.\n`)
      return 128 + os.constants.signals[stoppedBy]
    }
    if (batch.length === 0) {
      stream.write(`offload thumbs: no images found in ${settings.paths.join(', ')} (looked for ${IMAGE_EXTENSIONS.join(' ')}${settings.recursive ? '' : ', not in sub-folders'})\n`)
      return 1
    }
    try {
      await fs.promises.mkdir(settings.out, { recursive: true })
    } catch (err) {
      stream.write(`offload thumbs: cannot create the output folder '${settings.out}': ${err.message}\n`)
      return 1
    }

    if (settings.concurrency !== undefined) setConcurrency(settings.concurrency)
    const lanes = Math.min(getConcurrency(), batch.length)
    const tally = createTally(batch.length)
    reporter = createReporter(stream, tally, { quiet: settings.quiet })
    const folders = new Map()
    const makeFolder = (dir) => {
      if (!folders.has(dir)) folders.set(dir, fs.promises.mkdir(dir, { recursive: true }))
      return folders.get(dir)
    }
    const options = {
      width: settings.width,
      height: settings.height,
      fit: settings.fit,
      withoutEnlargement: settings.withoutEnlargement,
      failOn: settings.failOn,
      format: settings.format,
      quality: settings.quality,
      signal,
    }

    const thumbnail = async (entry) => {
      if (entry.error) {
        tally.failed++
        reporter.failed(entry, entry.error)
        return
      }
      const started = performance.now()
      inFlight.add(entry)
      try {
        const input = await fs.promises.stat(entry.input)
        if (!settings.force && (await exists(entry.output))) {
          if (settings.skipExisting) {
            tally.skipped++
            reporter.skipped(entry)
            return
          }
          throw codedError(Error, 'EEXIST', `'${entry.output}' already exists; pass --force to overwrite it or --skip-existing to keep it`)
        }
        await makeFolder(path.dirname(entry.output))
        const info = await resizeFile(entry.input, entry.output, options)
        tally.ok++
        tally.bytesIn += input.size
        tally.bytesOut += info.size
        reporter.ok(entry, info, performance.now() - started)
      } catch (err) {
        if (err.code === 'ERR_OFFLOAD_ABORTED') {
          tally.stopped++
          return
        }
        tally.failed++
        // The library's advice names its option; on the command line it is spelled differently.
        err.message = err.message.replace("failOn: 'none'", '--fail-on none')
        reporter.failed(entry, err)
      } finally {
        inFlight.delete(entry)
      }
    }

    let next = 0
    const lane = async () => {
      while (!signal.aborted && next < batch.length) await thumbnail(batch[next++])
    }
    await Promise.all(Array.from({ length: lanes }, lane))
    reporter.finish(stoppedBy)
    if (stoppedBy !== undefined) return 128 + os.constants.signals[stoppedBy]
    return tally.failed > 0 ? 1 : 0
  } finally {
    for (const [name, handler] of handlers) process.off(name, handler)
  }
}

module.exports = { parseThumbs, runThumbs }

'use strict'
// Which files a batch reads and the file each one becomes. Everything is decided before the
// first image starts, so the total is known for the progress bar and two inputs can never
// race for one output name.

const fs = require('node:fs')
const path = require('node:path')
const { EXTENSIONS, SUFFIXES } = require('../image')

/** Extensions picked up when walking a folder (files named on the command line are always tried): every encoded format's. */
const IMAGE_EXTENSIONS = Object.entries(SUFFIXES).flatMap(([format, suffixes]) => (format === 'raw' ? [] : suffixes))
/** Input extensions that name an encoded format offload writes, kept as spelled; the others become PNG. */
const WRITABLE_EXTENSIONS = Object.keys(EXTENSIONS).filter((ext) => EXTENSIONS[ext] !== 'raw')
/** The output extension of each format thumbnails can take: the first the library lists for it (.jpg for JPEG). */
const FORMAT_EXTENSIONS = {}
for (const ext of WRITABLE_EXTENSIONS) FORMAT_EXTENSIONS[EXTENSIONS[ext]] ??= ext

function isImageName(name) {
  return IMAGE_EXTENSIONS.includes(path.extname(name).toLowerCase())
}

/** The output extension for an input named `name`, or undefined when its extension says nothing. */
function outputExtension(name, format) {
  if (format !== undefined) return FORMAT_EXTENSIONS[format]
  const ext = path.extname(name)
  if (WRITABLE_EXTENSIONS.includes(ext.toLowerCase())) return ext
  if (IMAGE_EXTENSIONS.includes(ext.toLowerCase())) return FORMAT_EXTENSIONS.png
  return undefined
}

function failure(err) {
  return { code: err.code ?? 'ERR_OFFLOAD_CLI', message: err.message }
}

/**
 * The images under `dir`, sorted by name, as `{ input, relative }` (relative to the folder
 * given). Dot-files and dot-folders are left out, symbolic links are followed (a folder
 * reached twice is read once), and `skip` (the output folder's identity) is not entered
 * below `dir`, so thumbnails written into a sub-folder are not read back on the next run.
 * A folder that cannot be read becomes an entry with `error`.
 */
async function walk(dir, recursive, skip, signal) {
  const found = []
  const seen = new Set()
  async function visit(folder, relative, stat) {
    const id = `${stat.dev}:${stat.ino}`
    if (seen.has(id) || (id === skip && folder !== dir) || signal.aborted) return
    seen.add(id)
    let entries
    try {
      entries = await fs.promises.readdir(folder, { withFileTypes: true })
    } catch (err) {
      found.push({ input: folder, relative, error: failure(err) })
      return
    }
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    for (const entry of entries) {
      if (entry.name.startsWith('.')) continue
      const full = path.join(folder, entry.name)
      const below = path.join(relative, entry.name)
      // A plain file is judged by its name alone: no stat per file in a folder of thousands.
      if (entry.isFile()) {
        if (isImageName(entry.name)) found.push({ input: full, relative: below })
        continue
      }
      if (entry.isDirectory() && !recursive) continue
      let target
      try {
        target = await fs.promises.stat(full)
      } catch (err) {
        // A dangling symbolic link is not worth a failure unless it looks like an image.
        if (isImageName(entry.name)) found.push({ input: full, relative: below, error: failure(err) })
        continue
      }
      if (target.isDirectory()) {
        if (recursive) await visit(full, below, target)
      } else if (target.isFile() && isImageName(entry.name)) {
        found.push({ input: full, relative: below })
      }
    }
  }
  await visit(dir, '', await fs.promises.stat(dir))
  return found
}

/**
 * The batch: one `{ input, output, error? }` per image, in command-line order. Files named
 * on the command line land at the top of `out`; images found in a folder keep their path
 * below that folder. `sniff(file)` finds the format of a named file whose extension does not
 * tell it (resolves to 'jpeg', 'png', ..., or rejects with the reason it is not an image).
 * A name taken twice gets '-2', '-3', ... before its extension.
 */
async function planBatch({ paths, out, format, suffix, recursive, signal, sniff }) {
  let skip
  try {
    const stat = await fs.promises.stat(out)
    skip = `${stat.dev}:${stat.ino}`
  } catch {
    // The output folder does not exist yet, so no walk can enter it.
  }
  const sources = []
  const inputsSeen = new Set()
  const add = (entry) => {
    const key = path.resolve(entry.input)
    if (inputsSeen.has(key)) return
    inputsSeen.add(key)
    sources.push(entry)
  }
  for (const given of paths) {
    if (signal.aborted) break
    let stat
    try {
      stat = await fs.promises.stat(given)
    } catch (err) {
      add({ input: given, relative: path.basename(given), error: failure(err) })
      continue
    }
    if (stat.isDirectory()) {
      for (const entry of await walk(given, recursive, skip, signal)) add(entry)
    } else {
      add({ input: given, relative: path.basename(given) })
    }
  }

  const outputsTaken = new Set()
  const batch = []
  for (const source of sources) {
    if (signal.aborted) break
    const entry = { input: source.input, output: undefined, error: source.error }
    batch.push(entry)
    if (entry.error) continue
    let ext = outputExtension(source.relative, format)
    if (ext === undefined) {
      try {
        ext = FORMAT_EXTENSIONS[await sniff(source.input)] ?? FORMAT_EXTENSIONS.png
      } catch (err) {
        entry.error = failure(err)
        continue
      }
    }
    const stem = path.join(out, source.relative.slice(0, source.relative.length - path.extname(source.relative).length)) + suffix
    let output = stem + ext
    for (let n = 2; outputsTaken.has(output); n++) output = `${stem}-${n}${ext}`
    outputsTaken.add(output)
    entry.output = output
    if (path.resolve(output) === path.resolve(source.input)) {
      entry.error = {
        code: 'ERR_OFFLOAD_OUTPUT_IS_INPUT',
        message: `the thumbnail would replace its own input '${output}'; choose another --out or give a --suffix`,
      }
    }
  }
  return batch
}

module.exports = { planBatch, IMAGE_EXTENSIONS, FORMAT_EXTENSIONS }

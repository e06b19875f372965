// ImageMagick for the benchmarks: which command answers, and the arguments of a
// `convert` that does what sharp's fit 'cover' does, stdin to stdout.

import { spawnSync } from 'node:child_process'

/** `{ cmd, version, time }` for the ImageMagick found, or `{ cmd: null, note }` saying why it is skipped. */
export function findMagick() {
  // `magick` is ImageMagick 7; `convert` is 6 (and 7's compatibility name). A
  // `convert` earlier on PATH may be something else: ask each for its version.
  for (const cmd of ['magick', 'convert', '/usr/bin/magick', '/usr/bin/convert']) {
    const r = spawnSync(cmd, ['-version'], { encoding: 'utf8', timeout: 10_000 })
    const m = /^Version: ImageMagick (\S+)/m.exec(r.stdout ?? '')
    if (r.status === 0 && m) {
      const time = spawnSync('/usr/bin/time', ['-f', '%M', 'true'], { encoding: 'utf8' })
      const hasTime = time.status === 0 && /^\d+\s*$/m.test(time.stderr ?? '')
      return { cmd, version: m[1], time: hasTime ? '/usr/bin/time' : null }
    }
  }
  return { cmd: null, note: 'ImageMagick not found (no `magick` or `convert` answering `-version` with "Version: ImageMagick"): skipped; `apt-get install -y imagemagick` adds it' }
}

/** sharp's fit 'cover' (resize to cover both dimensions, crop the centre), as ImageMagick says it; JPEG q80 or PNG compression 6. */
export function magickArgs(img) {
  const geometry = `${img.width}x${img.height}`
  const out = img.format === 'jpeg' ? ['-quality', '80', 'jpg:-'] : ['-quality', '60', 'png:-'] // PNG: tens digit zlib level 6, ones digit filter 0 (none, as libvips' default)
  // -background none: -extent composites onto the background colour (opaque white by default).
  return ['-', '-filter', 'Lanczos', '-resize', `${geometry}^`, '-background', 'none', '-gravity', 'center', '-extent', geometry, '-strip', ...out]
}

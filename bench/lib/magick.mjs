// ImageMagick for the benchmarks: which command answers, and the arguments of a
// `convert` that does what sharp's fit 'cover' does, stdin to stdout.

import { spawn, spawnSync } from 'node:child_process'

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

/**
 * One `convert` of `input` (stdin) to the thumbnail `img` describes (stdout), with
 * `node:child_process` as the classic way does it. `withTime` runs it under /usr/bin/time
 * and sets `peakKb` on the result. SIGKILL on abort: ImageMagick 6 catches SIGTERM, and
 * its handler can deadlock on a lock the interrupted thread holds, asleep forever.
 */
export function runMagick(magick, img, input, { withTime = false, signal } = {}) {
  return new Promise((resolve, reject) => {
    const args = magickArgs(img)
    const options = { signal, killSignal: 'SIGKILL' }
    const child = withTime ? spawn(magick.time, ['-f', '%M', magick.cmd, ...args], options) : spawn(magick.cmd, args, options)
    const out = []
    const err = []
    child.stdout.on('data', (b) => out.push(b))
    child.stderr.on('data', (b) => err.push(b))
    child.stdin.on('error', () => {}) // an early exit shows in the exit code
    child.on('error', reject)
    child.on('close', (code, sig) => {
      const stderr = Buffer.concat(err).toString('utf8').trim()
      if (code !== 0) return reject(new Error(`${magick.cmd} exited with ${code ?? sig}: ${stderr.slice(0, 200)}`))
      const result = Buffer.concat(out)
      if (withTime) result.peakKb = Number(stderr.split('\n').at(-1))
      resolve(result)
    })
    child.stdin.end(input)
  })
}

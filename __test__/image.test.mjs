// Images: resize, resizeFile and metadata against sharp (the oracle), on the shared fixtures.
import { test, describe } from 'node:test'
import assert from 'node:assert/strict'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import childProcess from 'node:child_process'
import sharp from 'sharp'

import { resize, resizeFile, metadata, setConcurrency, getConcurrency, formats } from '../index.js'

const repoRoot = path.resolve(fileURLToPath(new URL('.', import.meta.url)), '..')
const FIXTURES = path.resolve(repoRoot, '..', 'shared', 'fixtures', 'images')
const fixture = (name) => path.join(FIXTURES, name)
const read = (name) => fs.readFileSync(fixture(name))
sharp.cache(false)

/** Raw RGB(A) pixels of an encoded image, decoded by sharp. */
async function raw(buffer, channels = 3) {
  let s = sharp(buffer)
  s = channels === 4 ? s.ensureAlpha() : s.removeAlpha().toColourspace('srgb')
  const { data, info } = await s.raw().toBuffer({ resolveWithObject: true })
  return { data, info }
}

/** RGBA with each colour multiplied by its alpha: the colour of a nearly transparent
 * pixel is noise in any resizer's output, so alpha images are compared this way. */
const premultiplied = (rgba) => rgba.map((v, i) => (i % 4 === 3 ? v : Math.round((v * rgba[i - (i % 4) + 3]) / 255)))

/** Mean absolute difference per channel, in 0..255 units. */
function meanAbsDiff(a, b) {
  assert.equal(a.length, b.length, 'same number of samples')
  let sum = 0
  for (let i = 0; i < a.length; i++) sum += Math.abs(a[i] - b[i])
  return sum / a.length
}

async function assertClose(ours, theirs, limit = 2, channels = 3) {
  const [a, b] = await Promise.all([raw(ours, channels), raw(theirs, channels)])
  assert.deepEqual([a.info.width, a.info.height], [b.info.width, b.info.height])
  const diff = meanAbsDiff(a.data, b.data)
  assert.ok(diff <= limit, `mean absolute difference ${diff.toFixed(3)} > ${limit}`)
  return diff
}

describe('the sharp oracle', () => {
  const fits = ['cover', 'contain', 'fill', 'inside', 'outside']
  // Input 2725×2225 (landscape) and 320×240; targets downscale, upscale, mixed, one dimension.
  const targets = [
    [720, 588], [300, 500], [500, 300], [4000, 3000], [100, 1000], [720, undefined], [undefined, 588], [3000, undefined], [1, 1],
  ]
  for (const input of ['2569067123_aca715a2ee_o.jpg', '320x240.jpg', 'Landscape_6.jpg']) {
    test(`dimensions equal sharp's for every fit × withoutEnlargement × target (${input})`, async () => {
      const bytes = read(input)
      for (const fit of fits) {
        for (const withoutEnlargement of [false, true]) {
          for (const [width, height] of targets) {
            const options = { width, height, fit, withoutEnlargement }
            const [ours, theirs] = await Promise.all([
              resize(bytes, { ...options, format: 'png', png: { compressionLevel: 0 } }).then((b) => sharp(b).metadata()),
              sharp(bytes).rotate().resize({ width, height, fit, withoutEnlargement }).png({ compressionLevel: 0 }).toBuffer({ resolveWithObject: true }).then((r) => r.info),
            ])
            assert.deepEqual([ours.width, ours.height], [theirs.width, theirs.height], JSON.stringify(options))
          }
        }
      }
    })
  }

  test('shrink-on-load keeps sharp\'s dimensions (regression: 600×450 inside 60×60 gave 60×46; libvips counts the partial 1/8 row out)', async () => {
    for (const input of ['Landscape_1.jpg', 'Landscape_6.jpg', '2569067123_aca715a2ee_o.jpg']) {
      const bytes = read(input)
      for (const fit of ['inside', 'cover', 'contain', 'outside', 'fill']) {
        for (const [width, height] of [[60, 60], [60, undefined], [undefined, 37], [75, 57], [149, 111], [33, 250]]) {
          const options = { width, height, fit }
          const [ours, theirs] = await Promise.all([
            resize(bytes, { ...options, format: 'raw', resolveWithObject: true }).then((r) => r.info),
            sharp(bytes).rotate().resize(options).raw().toBuffer({ resolveWithObject: true }).then((r) => r.info),
          ])
          assert.deepEqual([ours.width, ours.height], [theirs.width, theirs.height], `${input} ${JSON.stringify(options)}`)
        }
      }
    }
  })

  // One input per decode path: JPEG at 1/2 (the benchmark photo), JPEG at 1/8 (600×450
  // photos to thumbnails, one stored rotated), full-scale JPEG enlarged and mixed
  // (320×240), WebP through libwebp's scaling decoder, CMYK, and RGBA.
  const pixelInputs = [
    '2569067123_aca715a2ee_o.jpg', 'Landscape_1.jpg', 'Landscape_6.jpg', '320x240.jpg', '4.webp',
    'Channel_digital_image_CMYK_color.jpg', 'alpha-premultiply-2048x1536-paper.png',
  ]
  const pixelTargets = [[720, 588], [300, 500], [60, 60], [33, 250], [undefined, 37], [1000, 200]]
  for (const input of pixelInputs) {
    test(`pixels match sharp's after the same resize (mean abs diff ≤ 2/255) for every fit (${input})`, async () => {
      const bytes = read(input)
      for (const fit of fits) {
        for (const [width, height] of pixelTargets) {
          const options = { width, height, fit }
          const what = `${fit} ${width}×${height}`
          const [ours, theirs] = await Promise.all([
            resize(bytes, { ...options, format: 'raw', resolveWithObject: true }),
            sharp(bytes).rotate().resize(options).raw().toBuffer({ resolveWithObject: true }),
          ])
          const size = (info) => [info.width, info.height, info.channels]
          assert.deepEqual(size(ours.info), size(theirs.info), what)
          const diff = ours.info.channels === 4
            ? meanAbsDiff(premultiplied(ours.data), premultiplied(theirs.data))
            : meanAbsDiff(ours.data, theirs.data)
          assert.ok(diff <= 2, `${what}: mean absolute difference ${diff.toFixed(3)} > 2`)
        }
      }
    })
  }

  test('regression: thumbnails of JPEGs decoded at 1/8 differed from sharp by up to 8/255 (libvips reduces over a window centred on the floored 1/8 size)', async () => {
    const bytes = read('Landscape_1.jpg')
    for (const options of [{ width: 60, height: 45, fit: 'fill' }, { width: 60, height: 60 }, { height: 37 }]) {
      const ours = await resize(bytes, { ...options, format: 'raw' })
      const theirs = await sharp(bytes).resize(options).raw().toBuffer()
      const diff = meanAbsDiff(ours, theirs)
      assert.ok(diff <= 0.5, `${JSON.stringify(options)}: mean absolute difference ${diff.toFixed(3)} > 0.5`)
    }
  })

  test('regression: enlarging one axis only (320×240 → 320×250 fill) differed from sharp by 12/255 (libvips moves the other axis by half a pixel too)', async () => {
    const bytes = read('320x240.jpg')
    for (const [width, height] of [[320, 250], [33, 250], [400, 240]]) {
      const options = { width, height, fit: 'fill' }
      const ours = await resize(bytes, { ...options, format: 'raw' })
      const theirs = await sharp(bytes).resize(options).raw().toBuffer()
      const diff = meanAbsDiff(ours, theirs)
      assert.ok(diff <= 1.5, `${width}×${height}: mean absolute difference ${diff.toFixed(3)} > 1.5`)
    }
  })

  test('JPEG output of the benchmark resize: close to sharp and no larger than 1.1× its size', async () => {
    const bytes = read('2569067123_aca715a2ee_o.jpg')
    const ours = await resize(bytes, { width: 720, height: 588, quality: 80 })
    const theirs = await sharp(bytes).resize(720, 588).jpeg({ quality: 80 }).toBuffer()
    assert.equal((await sharp(ours).metadata()).format, 'jpeg')
    assert.ok(ours.length <= theirs.length * 1.1, `${ours.length} vs sharp's ${theirs.length}`)
    // Both sides are JPEG-compressed here, so both carry compression noise; the resize
    // itself is held to 2/255 in the PNG comparisons above.
    await assertClose(ours, theirs, 2.5)
  })

  test('upscaling a small JPEG matches sharp', async () => {
    const bytes = read('320x240.jpg')
    const ours = await resize(bytes, { width: 640, height: 480, format: 'png' })
    const theirs = await sharp(bytes).resize(640, 480).png().toBuffer()
    await assertClose(ours, theirs, 2)
  })

  test('PNG benchmark resize (RGBA, premultiplied) matches sharp, alpha included', async () => {
    const bytes = read('alpha-premultiply-2048x1536-paper.png')
    const ours = await resize(bytes, { width: 720, height: 540, png: { compressionLevel: 6 } })
    const theirs = await sharp(bytes).resize(720, 540).png({ compressionLevel: 6 }).toBuffer()
    await assertClose(ours, theirs, 2, 4)
  })

  test('every kernel gives sharp-like pixels', async () => {
    const bytes = read('flowers.jpeg')
    for (const kernel of ['nearest', 'linear', 'cubic', 'mitchell', 'lanczos2', 'lanczos3']) {
      const ours = await resize(bytes, { width: 480, kernel, format: 'png' })
      const theirs = await sharp(bytes).resize({ width: 480, kernel }).png().toBuffer()
      await assertClose(ours, theirs, 1)
    }
  })

  test('contain fills with the background; position moves the crop and the image', async () => {
    const bytes = read('flowers.jpeg')
    for (const position of ['centre', 'north', 'east', 'southwest', 'northwest']) {
      for (const fit of ['cover', 'contain']) {
        const options = { width: 300, height: 300, fit, position, background: '#ff0000' }
        const ours = await resize(bytes, { ...options, format: 'png' })
        const theirs = await sharp(bytes).resize(options).png().toBuffer()
        await assertClose(ours, theirs, 2)
      }
    }
  })
})

describe('inputs', () => {
  test('Landscape_1…8 all come out upright, 600×450, with the same pixels', async () => {
    const reference = await raw(await resize(read('Landscape_1.jpg'), { width: 600, format: 'png' }))
    for (let n = 1; n <= 8; n++) {
      const out = await resize(read(`Landscape_${n}.jpg`), { width: 600, format: 'png' })
      const { data, info } = await raw(out)
      assert.deepEqual([info.width, info.height], [600, 450], `Landscape_${n}`)
      // 2…8 carry an ICC profile that 1 lacks, hence a small colour difference; a mirrored
      // or rotated scene differs by far more.
      const diff = meanAbsDiff(data, reference.data)
      assert.ok(diff < 8, `Landscape_${n} differs from Landscape_1 by ${diff.toFixed(2)}: not upright`)
      const theirs = await sharp(read(`Landscape_${n}.jpg`)).rotate().resize({ width: 600 }).png().toBuffer()
      await assertClose(out, theirs, 2)
    }
  })

  test('orientation is applied after a resize too, and autoOrient: false keeps the stored layout', async () => {
    const out = await resize(read('Landscape_6.jpg'), { width: 300, format: 'png' })
    const theirs = await sharp(read('Landscape_6.jpg')).rotate().resize({ width: 300 }).png().toBuffer()
    await assertClose(out, theirs, 2)
    const stored = await metadata(await resize(read('Landscape_6.jpg'), { autoOrient: false, format: 'png' }))
    assert.deepEqual([stored.width, stored.height], [450, 600])
  })

  test('CMYK comes out as sRGB close to sharp (not inverted)', async () => {
    const bytes = read('Channel_digital_image_CMYK_color.jpg')
    const ours = await resize(bytes, { width: 250, format: 'png' })
    const theirs = await sharp(bytes).resize({ width: 250 }).png().toBuffer()
    assert.equal((await metadata(ours)).space, 'srgb')
    // sharp converts through a CMYK ICC profile; offload uses the plain formula (see README).
    await assertClose(ours, theirs, 20)
  })

  test('alpha survives resizing without dark fringes', async () => {
    const bytes = read('with-alpha.png')
    const ours = await resize(bytes, { width: 128 })
    const meta = await metadata(ours)
    assert.equal(meta.hasAlpha, true)
    const theirs = await sharp(bytes).resize({ width: 128 }).png().toBuffer()
    await assertClose(ours, theirs, 2, 4)
    // Where alpha is partial, colour must stay close to sharp's premultiplied result (a dark
    // fringe is colour pulled towards the transparent pixels' black).
    const [a, b] = await Promise.all([raw(ours, 4), raw(theirs, 4)])
    let worst = 0
    for (let i = 0; i < a.data.length; i += 4) {
      if (a.data[i + 3] > 16 && a.data[i + 3] < 240) {
        for (let c = 0; c < 3; c++) worst = Math.max(worst, b.data[i + c] - a.data[i + c])
      }
    }
    assert.ok(worst <= 24, `edge pixels darker than sharp's by up to ${worst}`)
  })

  test('16-bit PNG', async () => {
    const out = await resize(read('Flag_of_the_Netherlands-16bit.png'), { width: 90 })
    const { data, info } = await raw(out)
    assert.deepEqual([info.width, info.height], [90, 60])
    const px = (x, y) => [...data.subarray((y * 90 + x) * 3, (y * 90 + x) * 3 + 3)]
    const near = (p, q) => p.every((v, i) => Math.abs(v - q[i]) <= 8)
    assert.ok(near(px(45, 5), [174, 28, 40]), `red band: ${px(45, 5)}`)
    assert.ok(near(px(45, 30), [255, 255, 255]), `white band: ${px(45, 30)}`)
    assert.ok(near(px(45, 55), [33, 70, 139]), `blue band: ${px(45, 55)}`)
  })

  test('grey + alpha stays grey + alpha and matches sharp', async () => {
    const bytes = read('grey-8bit-alpha.png')
    const ours = await resize(bytes, { width: 200 })
    const meta = await metadata(ours)
    assert.deepEqual([meta.channels, meta.hasAlpha, meta.space], [2, true, 'b-w'])
    const theirs = await sharp(bytes).resize({ width: 200 }).png().toBuffer()
    await assertClose(ours, theirs, 2, 4)
  })

  test('JPEG-compressed TIFF (sharp\'s and libvips\' default TIFF), in strips or tiles, grey or colour', async () => {
    const photo = read('2569067123_aca715a2ee_o.jpg')
    const variants = {
      strips: (s) => s.tiff(),
      tiles: (s) => s.tiff({ compression: 'jpeg', tile: true, tileWidth: 64, tileHeight: 64 }),
      grey: (s) => s.toColourspace('b-w').tiff({ compression: 'jpeg' }),
    }
    for (const [name, make] of Object.entries(variants)) {
      // 2725×2225 is no multiple of 64: the last tiles are padded past the image's edges.
      const tiff = await make(sharp(photo)).toBuffer()
      const [meta, theirMeta] = await Promise.all([metadata(tiff), sharp(tiff).metadata()])
      assert.deepEqual([meta.format, meta.width, meta.height, meta.channels], ['tiff', 2725, 2225, theirMeta.channels], name)
      const theirs = await sharp(tiff).resize({ width: 300 }).raw().toBuffer({ resolveWithObject: true })
      const ours = await resize(tiff, { width: 300, format: 'raw', resolveWithObject: true })
      assert.deepEqual([ours.info.width, ours.info.height, ours.info.channels], [theirs.info.width, theirs.info.height, theirs.info.channels], name)
      const diff = meanAbsDiff(ours.data, theirs.data)
      assert.ok(diff <= 1, `${name}: mean absolute difference ${diff.toFixed(3)} > 1`)
    }
    // A strip cut off is an error, not grey rows.
    const tiff = await sharp(photo).tiff().toBuffer()
    await assert.rejects(resize(tiff.subarray(0, tiff.length >> 1), { width: 100 }), { code: 'ERR_OFFLOAD_IMAGE_CORRUPT' })
  })

  test('AVIF input (libdav1d): 4:4:4, 4:2:0, 10-bit and alpha decode as sharp decodes them; a cut-off file is an error', async () => {
    const photo = fixture('flowers.jpeg')
    const variants = [
      ['4:4:4', photo, { quality: 60 }],
      ['4:2:0', photo, { quality: 60, chromaSubsampling: '4:2:0' }],
      ['10-bit', fixture('320x240.jpg'), { bitdepth: 10 }],
      ['alpha', fixture('with-alpha.png'), { quality: 70 }],
    ]
    for (const [name, file, options] of variants) {
      const avif = await sharp(file).resize({ width: 400, withoutEnlargement: true }).avif(options).toBuffer()
      if (!formats.avif.input.buffer) {
        // A build without libdav1d says what to install.
        await assert.rejects(metadata(avif), { code: 'ERR_OFFLOAD_IMAGE_UNSUPPORTED', message: /meson/ })
        continue
      }
      const [meta, theirMeta] = await Promise.all([metadata(avif), sharp(avif).metadata()])
      assert.deepEqual(
        [meta.format, meta.width, meta.height, meta.hasAlpha],
        ['avif', theirMeta.width, theirMeta.height, theirMeta.hasAlpha], name)
      for (const width of [undefined, 150]) {
        const ours = await resize(avif, { width, format: 'raw', resolveWithObject: true })
        const theirs = await sharp(avif).resize({ width }).raw().toBuffer({ resolveWithObject: true })
        assert.deepEqual([ours.info.width, ours.info.height, ours.info.channels], [theirs.info.width, theirs.info.height, theirs.info.channels], name)
        const diff = ours.info.channels === 4
          ? meanAbsDiff(premultiplied(ours.data), premultiplied(theirs.data))
          : meanAbsDiff(ours.data, theirs.data)
        assert.ok(diff <= 1, `${name} ${width ?? 'full size'}: mean absolute difference ${diff.toFixed(3)} > 1`)
      }
      await assert.rejects(resize(avif.subarray(0, avif.length >> 1), { width: 50 }), { code: 'ERR_OFFLOAD_IMAGE_CORRUPT' })
    }
  })

  test('AVIF rotation and mirror (irot, imir) come out as sharp shows them, and metadata() names the orientation', { skip: !formats.avif.input.buffer && 'no libdav1d in this build' }, async () => {
    const avif = await sharp(fixture('320x240.jpg')).resize(64, 48).avif({ quality: 90 }).toBuffer()
    // sharp writes no irot/imir: the file's pixi property (16 bytes) becomes one.
    const withProperty = (kind, byte) => {
      const copy = Buffer.from(avif)
      const at = copy.indexOf('pixi') - 4
      assert.ok(at > 0 && copy.readUInt32BE(at) === 16, 'the AVIF sharp wrote has a 16-byte pixi property')
      copy.write(kind, at + 4, 'latin1')
      copy.fill(0, at + 8, at + 16)
      copy[at + 8] = byte
      return copy
    }
    for (const [kind, byte, orientation] of [['irot', 1, 8], ['irot', 2, 3], ['irot', 3, 6], ['imir', 0, 4], ['imir', 1, 2]]) {
      const input = withProperty(kind, byte)
      const meta = await metadata(input)
      assert.deepEqual([meta.width, meta.height, meta.orientation], [64, 48, orientation], `${kind} ${byte}`)
      for (const options of [{}, { width: 32 }]) {
        const ours = await resize(input, { ...options, format: 'raw', resolveWithObject: true })
        const theirs = await sharp(input).resize(options).raw().toBuffer({ resolveWithObject: true })
        assert.deepEqual([ours.info.width, ours.info.height], [theirs.info.width, theirs.info.height], `${kind} ${byte}`)
        const diff = meanAbsDiff(ours.data, theirs.data)
        assert.ok(diff <= 1, `${kind} ${byte} ${JSON.stringify(options)}: mean absolute difference ${diff.toFixed(3)}`)
      }
      // autoOrient: false keeps the stored layout.
      const stored = await resize(input, { autoOrient: false, format: 'raw', resolveWithObject: true })
      assert.deepEqual([stored.info.width, stored.info.height], [64, 48])
    }
  })

  test('an AVIF with an ICC profile (Display P3) comes out in sRGB as sharp converts it', { skip: !formats.avif.input.buffer && 'no libdav1d in this build' }, async () => {
    // Saturated colours, where Display P3 and sRGB part: every hue, grey to full.
    const [width, height] = [64, 48]
    const raw = Buffer.alloc(width * height * 3)
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const hue = (x / width) * 6, k = Math.floor(hue), f = hue - k, s = y / (height - 1)
        const [p, q, t] = [255 * (1 - s), 255 * (1 - s * f), 255 * (1 - s * (1 - f))]
        const rgb = [[255, t, p], [q, 255, p], [p, 255, t], [p, q, 255], [t, p, 255], [255, p, q]][k]
        raw.set(rgb.map(Math.round), (y * width + x) * 3)
      }
    }
    const image = () => sharp(raw, { raw: { width, height, channels: 3 } })
    const p3 = await image().withIccProfile('p3').avif({ quality: 95, chromaSubsampling: '4:4:4' }).toBuffer()
    assert.equal((await metadata(p3)).hasProfile, true)
    assert.equal((await metadata(await image().avif().toBuffer())).hasProfile, false)
    const ours = await resize(p3, { format: 'raw' })
    const theirs = await sharp(p3).raw().toBuffer()
    const diff = meanAbsDiff(ours, theirs)
    assert.ok(diff <= 1, `mean absolute difference ${diff.toFixed(3)}`)
    // The profile matters: read as sRGB (its colr property renamed away), the file is off.
    const untagged = Buffer.from(p3)
    untagged.write('xxxx', untagged.indexOf('colr'), 'latin1')
    const off = meanAbsDiff(await resize(untagged, { format: 'raw' }), theirs)
    assert.ok(off > 5, `the test image shows the conversion (${off.toFixed(3)} apart unconverted, ${diff.toFixed(3)} converted)`)
  })

  test('an AVIF whose boxes claim more bytes than the file holds is corrupt, in every build (fuzzer regression: a 4 GiB ftyp)', async () => {
    const avif = await sharp(fixture('320x240.jpg')).avif({ quality: 50 }).toBuffer()
    const claiming = (box, size) => {
      const copy = Buffer.from(avif)
      copy.writeUInt32BE(size, copy.indexOf(box) - 4)
      return copy
    }
    for (const [what, bad] of [['ftyp', claiming('ftyp', 0xff07001c)], ['ispe inside meta', claiming('ispe', 0x10000)], ['meta', claiming('meta', avif.length)]]) {
      await assert.rejects(metadata(bad), { code: 'ERR_OFFLOAD_IMAGE_CORRUPT', message: /AVIF.*larger than what holds it/ }, what)
      await assert.rejects(resize(bad, { width: 50 }), { code: 'ERR_OFFLOAD_IMAGE_CORRUPT' }, what)
    }
  })

  test('WebP input', async () => {
    const bytes = read('4.webp')
    const full = await resize(bytes, { format: 'png' })
    await assertClose(full, await sharp(bytes).png().toBuffer(), 0.5)
    // Shrunk inside libwebp's decoder, as sharp does (a lanczos3 resize of the full decode
    // differed by 4.2/255 on average).
    const ours = await resize(bytes, { width: 512, format: 'png' })
    const theirs = await sharp(bytes).resize({ width: 512 }).png().toBuffer()
    await assertClose(ours, theirs, 0.5)
  })

  test('GIF: the first frame, or every frame with animated: true', async () => {
    const bytes = read('animated-loop-3.gif')
    const first = await resize(bytes, { width: 185, format: 'png' })
    const theirs = await sharp(bytes).resize({ width: 185 }).png().toBuffer()
    await assertClose(first, theirs, 1, 4)
    const all = await resize(bytes, { width: 185, animated: true })
    const meta = await metadata(all)
    assert.deepEqual([meta.format, meta.pages, meta.width], ['gif', 10, 185])
  })

  test('animated: true keeps every frame and its delay in WebP output too, and back from WebP', async () => {
    const bytes = read('animated-loop-3.gif')
    const source = await sharp(bytes, { animated: true }).metadata()
    const webp = await resize(bytes, { width: 185, animated: true, format: 'webp' })
    const meta = await sharp(webp, { animated: true }).metadata()
    assert.deepEqual([meta.format, meta.pages, meta.width, meta.loop], ['webp', source.pages, 185, 0])
    assert.deepEqual(meta.delay, source.delay)
    // Each frame close to sharp's own animated resize (sizing its frames as ours: sharp
    // rounds an animation's 142.5-row page down, a still image's up).
    const ours = await sharp(webp, { animated: true }).raw().toBuffer()
    const theirs = await sharp(bytes, { animated: true }).resize({ width: 185, height: meta.pageHeight, fit: 'fill' }).webp().toBuffer().then((b) => sharp(b, { animated: true }).raw().toBuffer())
    const diff = meanAbsDiff(ours, theirs)
    assert.ok(diff <= 6, `mean absolute difference over every frame ${diff.toFixed(3)} > 6`)
    // WebP in, animated GIF out.
    const gif = await metadata(await resize(webp, { width: 100, animated: true, format: 'gif' }))
    assert.deepEqual([gif.format, gif.pages, gif.width], ['gif', source.pages, 100])
  })

  test('a file path and a Uint8Array work like a Buffer', async () => {
    const bytes = read('320x240.jpg')
    const a = await resize(fixture('320x240.jpg'), { width: 100 })
    const b = await resize(new Uint8Array(bytes), { width: 100 })
    const c = await resize(bytes, { width: 100 })
    assert.deepEqual(a, c)
    assert.deepEqual(b, c)
  })
})

describe('outputs', () => {
  test('every output format round-trips through sharp', async () => {
    const bytes = read('with-alpha.png')
    for (const format of ['jpeg', 'png', 'webp', 'gif']) {
      const out = await resize(bytes, { width: 100, format })
      const meta = await sharp(out).metadata()
      assert.deepEqual([meta.format, meta.width, meta.height], [format, 100, 75], format)
    }
    const lossless = await resize(bytes, { width: 100, format: 'webp', webp: { lossless: true, effort: 6 } })
    assert.equal((await sharp(lossless).metadata()).format, 'webp')
    const progressive = await resize(bytes, { width: 100, format: 'jpeg', jpeg: { progressive: true, chromaSubsampling: '4:4:4' } })
    assert.equal((await sharp(progressive).metadata()).isProgressive, true)
  })

  test('regression: a JPEG made from an image with alpha reported 4 channels (JPEG has no alpha; sharp reports 3)', async () => {
    for (const [input, options] of [[read('with-alpha.png'), {}], [read('320x240.jpg'), { fit: 'contain', height: 100, background: '#ff000080' }]]) {
      const ours = await resize(input, { width: 100, format: 'jpeg', resolveWithObject: true, ...options })
      const theirs = await sharp(input).resize({ width: 100, ...options }).jpeg().toBuffer({ resolveWithObject: true })
      assert.equal(ours.info.channels, 3)
      assert.equal(ours.info.channels, theirs.info.channels)
      assert.equal((await sharp(ours.data).metadata()).channels, 3)
    }
  })

  test('AVIF output: sharp reads it as HEIF/AV1 and decodes pixels close to the same resize', async () => {
    const bytes = read('2569067123_aca715a2ee_o.jpg')
    const out = await resize(bytes, { width: 200, format: 'avif' })
    assert.ok(Buffer.isBuffer(out))
    const meta = await sharp(out).metadata()
    assert.deepEqual([meta.format, meta.compression, meta.width, meta.height], ['heif', 'av1', 200, 164])
    // The reference is offload's same resize written losslessly (PNG). AVIF at quality 80 is
    // lossy: measured 3.3/255 here, as JPEG q80 (3.5) and WebP q80 (3.3) of the same resize;
    // 5 leaves room for encoder changes while a colour, channel-order or geometry error
    // (tens of units) still fails.
    const reference = await resize(bytes, { width: 200, format: 'png' })
    await assertClose(out, reference, 5)
    // Alpha is kept, and effort changes the work done, not the result's validity.
    const alpha = await resize(read('with-alpha.png'), { width: 64, format: 'avif', quality: 50, avif: { effort: 9 } })
    const alphaMeta = await sharp(alpha).metadata()
    assert.deepEqual([alphaMeta.format, alphaMeta.hasAlpha, alphaMeta.width], ['heif', true, 64])
  })

  test('a bad avif.effort throws at the call', () => {
    const bytes = read('320x240.jpg')
    for (const effort of [-1, 10, 2.5, '4']) {
      assert.throws(() => resize(bytes, { format: 'avif', avif: { effort } }), { code: 'ERR_INVALID_ARG_VALUE' }, String(effort))
    }
    assert.throws(() => resize(bytes, { format: 'avif', avif: { effort: 10 } }), RangeError)
    assert.throws(() => resize(bytes, { format: 'avif', avif: { speed: 5 } }), { code: 'ERR_INVALID_ARG_VALUE' })
  })

  test('JPEG output of an alpha image is flattened onto the background', async () => {
    const out = await resize(read('with-alpha.png'), { width: 64, format: 'jpeg', background: '#ffffff' })
    const theirs = await sharp(read('with-alpha.png')).resize({ width: 64 }).flatten({ background: '#ffffff' }).jpeg().toBuffer()
    await assertClose(out, theirs, 3)
  })

  test('keepMetadata carries EXIF into JPEG, PNG and WebP, orientation reset to 1 (the pixels are upright and sRGB)', async () => {
    const input = read('Landscape_6.jpg')
    const source = await sharp(input).metadata()
    for (const format of ['jpeg', 'png', 'webp']) {
      for (const extra of [{}, { background: 'transparent', fit: 'contain', height: 300 }]) {
        const out = await resize(input, { width: 300, keepMetadata: true, format, ...extra })
        const meta = await sharp(out).metadata()
        const label = `${format} ${JSON.stringify(extra)}`
        assert.equal(meta.format, format, label)
        assert.equal(meta.orientation, 1, label)
        assert.ok(meta.exif, label)
        // The input's EXIF (the same TIFF structure; JPEG's APP1 adds an "Exif\0\0" header).
        const tiff = (exif) => (exif.subarray(0, 6).toString('latin1') === 'Exif\0\0' ? exif.subarray(6) : exif)
        assert.equal(tiff(meta.exif).length, tiff(source.exif).length, label)
        // The pixels survive the container change (sharp decodes them) and are upright.
        assert.equal(meta.width, 300, label)
        const { info } = await sharp(out).raw().toBuffer({ resolveWithObject: true })
        assert.equal(info.width, 300, label)
      }
      const plain = await sharp(await resize(input, { width: 300, format })).metadata()
      assert.equal(plain.exif, undefined, format)
    }
  })

  test('composite draws a watermark with gravity, offsets and opacity', async () => {
    const base = read('flowers.jpeg')
    const mark = await sharp({ create: { width: 50, height: 50, channels: 4, background: { r: 255, g: 0, b: 0, alpha: 1 } } }).png().toBuffer()
    const out = await resize(base, { width: 400, format: 'png', composite: [{ input: mark, gravity: 'southeast' }, { input: mark, top: 10, left: 10, opacity: 0.5 }] })
    const theirs = await sharp(base).resize({ width: 400 }).composite([{ input: mark, gravity: 'southeast' }]).png().toBuffer()
    const { data, info } = await raw(out)
    const px = (x, y) => [...data.subarray((y * info.width + x) * 3, (y * info.width + x) * 3 + 3)]
    assert.deepEqual(px(info.width - 10, info.height - 10), [255, 0, 0])
    const half = px(20, 20)
    assert.ok(half[0] > 120 && half[1] < 200, `half-opaque red over the photo: ${half}`)
    const sharpPx = (await raw(theirs)).data
    assert.deepEqual([...sharpPx.subarray(((info.height - 10) * info.width + info.width - 10) * 3, ((info.height - 10) * info.width + info.width - 10) * 3 + 3)], [255, 0, 0])
  })
})

describe('raw pixels', () => {
  test("format: 'raw' gives sharp's pixels: exact without a resize, close after one", async () => {
    const whole = await resize(fixture('with-alpha.png'), { format: 'raw', resolveWithObject: true })
    const theirs = await sharp(fixture('with-alpha.png')).raw().toBuffer({ resolveWithObject: true })
    assert.deepEqual(whole.info, { format: 'raw', width: theirs.info.width, height: theirs.info.height, channels: 4, size: theirs.data.length })
    assert.ok(whole.data.equals(theirs.data), 'a decode with no resize is lossless')

    const options = { width: 9, height: 8, fit: 'fill' }
    const small = await resize(fixture('2569067123_aca715a2ee_o.jpg'), { ...options, format: 'raw', resolveWithObject: true })
    assert.deepEqual(small.info, { format: 'raw', width: 9, height: 8, channels: 3, size: 9 * 8 * 3 })
    const reference = await sharp(fixture('2569067123_aca715a2ee_o.jpg')).resize(options).raw().toBuffer()
    const diff = meanAbsDiff(small.data, reference)
    assert.ok(diff <= 1.5, `mean absolute difference ${diff.toFixed(3)} > 1.5 on a 9×8 thumbnail`)
  })

  test('grey + alpha comes out RGBA, as from sharp', async () => {
    const ours = await resize(fixture('grey-8bit-alpha.png'), { width: 40, format: 'raw', resolveWithObject: true })
    const theirs = await sharp(fixture('grey-8bit-alpha.png')).resize({ width: 40 }).raw().toBuffer({ resolveWithObject: true })
    assert.deepEqual([ours.info.width, ours.info.height, ours.info.channels], [theirs.info.width, theirs.info.height, 4])
    assert.equal(ours.info.size, 40 * 30 * 4)
    const diff = meanAbsDiff(premultiplied(ours.data), premultiplied(theirs.data))
    assert.ok(diff <= 1, `mean absolute difference ${diff.toFixed(3)} > 1`)
  })

  test('raw input: pixels made in JavaScript become a PNG with exactly those pixels, or are resized', async () => {
    const [width, height] = [64, 48]
    const pixels = Buffer.alloc(width * height * 3)
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) pixels.set([x * 4, y * 5, (x ^ y) & 255], (y * width + x) * 3)
    }
    const raw = { width, height, channels: 3 }
    const png = await resize(pixels, { raw, format: 'png' })
    const decoded = await sharp(png).raw().toBuffer({ resolveWithObject: true })
    assert.deepEqual([decoded.info.width, decoded.info.height, decoded.info.channels], [width, height, 3])
    assert.ok(decoded.data.equals(pixels))

    const half = await resize(pixels, { raw, width: 32, resolveWithObject: true })
    assert.deepEqual(half.info, { format: 'raw', width: 32, height: 24, channels: 3, size: 32 * 24 * 3 })
    const theirs = await sharp(pixels, { raw }).resize({ width: 32 }).raw().toBuffer()
    assert.ok(meanAbsDiff(half.data, theirs) <= 1)
  })

  test('raw input that does not match its Buffer throws at the call', () => {
    const pixels = Buffer.alloc(10 * 10 * 3)
    assert.throws(() => resize(pixels, { raw: { width: 10, height: 11, channels: 3 } }), { name: 'RangeError', code: 'ERR_INVALID_ARG_VALUE', message: /330 bytes.*300/ })
    assert.throws(() => resize(pixels, { raw: { width: 10, height: 10, channels: 5 } }), { name: 'RangeError', code: 'ERR_INVALID_ARG_VALUE' })
    assert.throws(() => resize(pixels, { raw: { width: 10, height: 10 } }), { name: 'TypeError', code: 'ERR_INVALID_ARG_VALUE' })
    assert.throws(() => resize(pixels, { raw: { width: 10, height: 10, channels: 3, depth: 8 } }), { code: 'ERR_INVALID_ARG_VALUE', message: /unknown option 'depth'/ })
    assert.throws(() => resize(pixels, { resolveWithObject: 'yes' }), { code: 'ERR_INVALID_ARG_VALUE' })
  })

  test('a raw file whose size does not match rejects with ERR_INVALID_ARG_VALUE, and raw bytes without options.raw are unsupported', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'offload-raw-'))
    const file = path.join(dir, 'pixels.raw')
    fs.writeFileSync(file, Buffer.alloc(299))
    await assert.rejects(resize(file, { raw: { width: 10, height: 10, channels: 3 } }), { code: 'ERR_INVALID_ARG_VALUE', message: /needs 300 bytes, the buffer has 299/ })
    await assert.rejects(resize(Buffer.alloc(300)), { code: 'ERR_OFFLOAD_IMAGE_UNSUPPORTED' })
    const info = await resizeFile(fixture('320x240.jpg'), path.join(dir, 'thumb.raw'), { width: 32 })
    assert.deepEqual(info, { format: 'raw', width: 32, height: 24, channels: 3, size: 32 * 24 * 3 })
    fs.rmSync(dir, { recursive: true })
  })
})

describe('formats', () => {
  test('formats is shaped like sharp.format (it was { input, output } booleans although the README said so)', () => {
    const shape = (entry) => ({
      id: typeof entry.id,
      input: Object.fromEntries(['file', 'buffer', 'stream'].map((k) => [k, typeof entry.input[k]])),
      output: Object.fromEntries(['file', 'buffer', 'stream'].map((k) => [k, typeof entry.output[k]])),
    })
    // sharp calls its AVIF reader and writer heif and reads BMP through ImageMagick; the rest have the same ids.
    const sharpId = { avif: 'heif', bmp: 'magick' }
    for (const [id, entry] of Object.entries(formats)) {
      assert.equal(entry.id, id)
      assert.deepEqual(shape(entry), shape(sharp.format[sharpId[id] ?? id]), id)
      for (const key of Object.keys(entry.input)) assert.ok(['file', 'buffer', 'stream', 'fileSuffix'].includes(key), `${id}.input.${key}`)
      for (const key of Object.keys(entry.output)) assert.ok(['file', 'buffer', 'stream', 'alias'].includes(key), `${id}.output.${key}`)
    }
    for (const id of ['jpeg', 'png', 'webp', 'gif', 'tiff']) {
      assert.deepEqual(formats[id].input.fileSuffix.filter((s) => !sharp.format[id].input.fileSuffix.includes(s)), [], id)
    }
    assert.deepEqual(formats.avif.input.fileSuffix, formats.avif.input.buffer ? ['.avif'] : undefined)
    assert.deepEqual(formats.jpeg.output.alias, ['jpg'])
    assert.ok(Object.isFrozen(formats) && Object.isFrozen(formats.png.input))
  })

  test('formats says truthfully what this build writes and reads', async () => {
    const photo = read('320x240.jpg')
    for (const [id, entry] of Object.entries(formats)) {
      if (id === 'raw') continue
      if (entry.output.buffer) assert.equal((await metadata(await resize(photo, { width: 8, format: id }))).format, id)
      else assert.throws(() => resize(photo, { width: 8, format: id }), { code: 'ERR_INVALID_ARG_VALUE' })
    }
    const avif = await resize(photo, { width: 8, format: 'avif' })
    if (formats.avif.input.buffer) assert.equal((await metadata(avif)).format, 'avif')
    else await assert.rejects(metadata(avif), { code: 'ERR_OFFLOAD_IMAGE_UNSUPPORTED' })
  })
})

describe('metadata', () => {
  const files = [
    '2569067123_aca715a2ee_o.jpg', '320x240.jpg', 'Landscape_6.jpg', 'Channel_digital_image_CMYK_color.jpg', 'flowers.jpeg',
    'gamma_dalai_lama_gray.jpg', 'grey-8bit-alpha.png', 'with-alpha.png', 'Flag_of_the_Netherlands-16bit.png', '4.webp',
    'animated-loop-3.gif', 'alpha-premultiply-2048x1536-paper.png',
  ]
  test("fields equal sharp's metadata()", async () => {
    for (const name of files) {
      const [ours, theirs] = await Promise.all([metadata(fixture(name)), sharp(fixture(name)).metadata()])
      for (const key of ['format', 'width', 'height', 'channels', 'hasAlpha', 'space']) {
        assert.equal(ours[key], theirs[key], `${name}: ${key}`)
      }
      assert.equal(ours.size, fs.statSync(fixture(name)).size, `${name}: size`)
      assert.equal(ours.orientation, theirs.orientation ?? 1, `${name}: orientation`)
      assert.equal(ours.pages, theirs.pages ?? 1, `${name}: pages`)
      // Stated in the file, EXIF included (regression: the CMYK JPEG said none, sharp 180);
      // where the file says nothing, sharp reports libvips' default of 72 and offload nothing.
      if (ours.density !== undefined || /CMYK|Landscape/.test(name)) assert.equal(ours.density, theirs.density, `${name}: density`)
    }
  })

  test('reads only the header: a 280-megapixel claim answers at once', async () => {
    const meta = await metadata(read('giant-image.jpg'))
    assert.deepEqual([meta.width, meta.height], [20000, 14000])
  })
})

describe('bad input', () => {
  for (const [name, code] of [
    ['truncated.jpg', 'ERR_OFFLOAD_IMAGE_CORRUPT'],
    ['truncated.png', 'ERR_OFFLOAD_IMAGE_CORRUPT'],
    ['corrupt-header.jpg', 'ERR_OFFLOAD_IMAGE_CORRUPT'],
    ['giant-image.jpg', 'ERR_OFFLOAD_IMAGE_TOO_LARGE'],
    ['65536-uint32-limit.png', 'ERR_OFFLOAD_IMAGE_TOO_LARGE'],
  ]) {
    test(`${name} → ${code}`, async () => {
      const err = await resize(read(name), { width: 100 }).catch((e) => e)
      assert.ok(err instanceof Error)
      assert.equal(err.code, code, err.message)
    })
  }

  test("truncated.jpg decodes partially with failOn: 'none'", async () => {
    const out = await resize(read('truncated.jpg'), { width: 100, failOn: 'none' })
    assert.equal((await metadata(out)).width, 100)
  })

  test('random bytes → ERR_OFFLOAD_IMAGE_UNSUPPORTED', async () => {
    const bytes = Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919 + 13) % 251))
    await assert.rejects(resize(bytes, { width: 10 }), { code: 'ERR_OFFLOAD_IMAGE_UNSUPPORTED' })
    await assert.rejects(metadata(bytes), { code: 'ERR_OFFLOAD_IMAGE_UNSUPPORTED' })
  })

  test('the resize error message for unreadable input lists AVIF when this build reads it (it left AVIF out)', async () => {
    const err = await resize(Buffer.from('{"this is": "not an image"}\n'.repeat(20)), { width: 10 }).catch((e) => e)
    const readable = ['JPEG', 'PNG', 'WebP', ...(formats.avif.input.buffer ? ['AVIF'] : []), 'GIF', 'TIFF', 'BMP']
    assert.equal(err.message, `the input is not an image offload can read (${readable.join(', ')})`)
    assert.equal((await metadata(Buffer.alloc(64, 1)).catch((e) => e)).message, err.message)
  })

  test('a missing file rejects with ENOENT', async () => {
    await assert.rejects(resize('/nonexistent/photo.jpg', { width: 10 }), { code: 'ENOENT' })
  })

  test('decompression bombs are refused before any large allocation (peak RSS stays small)', () => {
    const script = `
      const { resize } = require(${JSON.stringify(path.join(repoRoot, 'index.js'))})
      const fs = require('fs')
      const files = ['giant-image.jpg', '65536-uint32-limit.png'].map((f) => fs.readFileSync(${JSON.stringify(FIXTURES)} + '/' + f))
      const before = process.resourceUsage().maxRSS
      Promise.all(files.map((b) => resize(b, { width: 100 }).then(() => 'ok', (e) => e.code)))
        .then((codes) => console.log(JSON.stringify({ codes, grewKiB: process.resourceUsage().maxRSS - before })))
    `
    const out = JSON.parse(childProcess.execFileSync(process.execPath, ['-e', script], { encoding: 'utf8' }))
    assert.deepEqual(out.codes, ['ERR_OFFLOAD_IMAGE_TOO_LARGE', 'ERR_OFFLOAD_IMAGE_TOO_LARGE'])
    assert.ok(out.grewKiB < 64 * 1024, `peak RSS grew by ${out.grewKiB} KiB`)
  })

  test('limitInputPixels: a lower limit refuses, false lifts it', async () => {
    await assert.rejects(resize(read('320x240.jpg'), { width: 10, limitInputPixels: 1000 }), { code: 'ERR_OFFLOAD_IMAGE_TOO_LARGE' })
    const out = await resize(read('320x240.jpg'), { width: 10, limitInputPixels: false })
    assert.equal((await metadata(out)).width, 10)
  })
})

describe('options are checked at the call', () => {
  const bytes = Buffer.alloc(10)
  for (const [what, args] of [
    ['width 0', [bytes, { width: 0 }]],
    ['width 1.5', [bytes, { width: 1.5 }]],
    ['width as a string', [bytes, { width: '100' }]],
    ['an unknown fit', [bytes, { fit: 'squash' }]],
    ['an unknown position', [bytes, { position: 'middle' }]],
    ['an unknown kernel', [bytes, { kernel: 'bicubic' }]],
    ['quality 0', [bytes, { quality: 0 }]],
    ['quality 101', [bytes, { quality: 101 }]],
    ['an unknown format', [bytes, { format: 'heic' }]],
    ['a bad background', [bytes, { background: 'reddish' }]],
    ['png.compressionLevel 10', [bytes, { png: { compressionLevel: 10 } }]],
    ['webp.effort 7', [bytes, { webp: { effort: 7 } }]],
    ['an unknown option', [bytes, { widht: 100 }]],
    ['a non-boolean withoutEnlargement', [bytes, { withoutEnlargement: 'yes' }]],
    ['a bad signal', [bytes, { signal: {} }]],
    ['a number as input', [42, {}]],
    ['composite without input', [bytes, { composite: [{ gravity: 'north' }] }]],
    ['composite not an array', [bytes, { composite: { input: bytes } }]],
    ['a composite entry with an unknown key', [bytes, { composite: [{ input: bytes, blend: 'over' }] }]],
    ['a composite entry with top but no left', [bytes, { composite: [{ input: bytes, top: 1 }] }]],
    ['a composite offset past 65535', [bytes, { composite: [{ input: bytes, top: 1, left: 65536 }] }]],
    ['a composite opacity of 2', [bytes, { composite: [{ input: bytes, opacity: 2 }] }]],
    ['an unknown composite gravity', [bytes, { composite: [{ input: bytes, gravity: 'middle' }] }]],
    ['a background alpha of 2', [bytes, { background: { r: 1, g: 2, b: 3, alpha: 2 } }]],
    ['a background channel of 256', [bytes, { background: { r: 256 } }]],
    ['a format offload reads but does not write', [bytes, { format: 'tiff' }]],
    ['limitInputPixels as a string', [bytes, { limitInputPixels: '1000' }]],
    ['an empty file path', ['', {}]],
    ['a file path with a NUL byte', ['a\0.jpg', {}]],
    ['an unknown jpeg option', [bytes, { jpeg: { quality: 5 } }]],
    ['a bad chromaSubsampling', [bytes, { jpeg: { chromaSubsampling: '4:2:2' } }]],
    ['a bad failOn', [bytes, { failOn: 'sometimes' }]],
  ]) {
    test(`${what} → ERR_INVALID_ARG_VALUE`, () => {
      let thrown
      try {
        resize(...args).catch(() => {})
      } catch (e) {
        thrown = e
      }
      assert.ok(thrown instanceof TypeError || thrown instanceof RangeError, `${what}: thrown synchronously? ${thrown}`)
      assert.equal(thrown.code, 'ERR_INVALID_ARG_VALUE')
    })
  }

  test('resizeFile needs a known extension or a format', () => {
    assert.throws(() => resizeFile(bytes, '/tmp/out.xyz', {}), { code: 'ERR_INVALID_ARG_VALUE' })
    assert.throws(() => resizeFile(bytes, 42, {}), { name: 'TypeError', code: 'ERR_INVALID_ARG_VALUE', message: /"outputPath" argument must be of type string or an instance of URL/ })
  })

  test("messages read as the rest of offload's (Node's words), with the addon's names and ranges", () => {
    const thrown = (fn) => {
      try {
        fn()?.catch(() => {})
      } catch (e) {
        return e
      }
      assert.fail('did not throw')
    }
    const cases = [
      [{ fit: 'squash' }, TypeError, "The property 'options.fit' must be one of: 'cover', 'contain', 'fill', 'inside', 'outside'. Received 'squash'"],
      [{ quality: 101 }, RangeError, "The property 'options.quality' must be an integer from 1 to 100. Received 101"],
      [{ width: 1.5 }, RangeError, "The property 'options.width' must be an integer from 1 to 65535. Received 1.5"],
      [{ width: '100' }, TypeError, `The "options.width" property must be of type number. Received type string ('100')`],
      [{ withoutEnlargement: 'yes' }, TypeError, `The "options.withoutEnlargement" property must be of type boolean. Received type string ('yes')`],
      [{ signal: {} }, TypeError, 'The "options.signal" property must be an instance of AbortSignal. Received an instance of Object'],
      [{ widht: 100 }, TypeError, /^The argument 'options' has an unknown option 'widht' \(known: width, height, /],
      [{ format: 'heic' }, TypeError, /^The property 'options.format' must be one of: 'jpeg', 'png', 'webp', 'avif', 'gif', 'raw', 'jpg'. Received 'heic'/],
      [{ position: 'middle' }, TypeError, /must be one of: 'centre', 'north', .*'northwest', 'center', 'top', 'right top', .*'left top'. Received 'middle'/],
    ]
    for (const [options, ErrorClass, message] of cases) {
      const err = thrown(() => resize(bytes, options))
      assert.ok(err instanceof ErrorClass, `${JSON.stringify(options)}: ${err}`)
      assert.equal(err.code, 'ERR_INVALID_ARG_VALUE')
      if (typeof message === 'string') assert.equal(err.message, message)
      else assert.match(err.message, message)
    }
    assert.match(thrown(() => resize(42)).message, /^The "input" argument must be of type string or an instance of Buffer, Uint8Array, or URL. Received type number \(42\)$/)
    assert.throws(() => setConcurrency(1025), { name: 'RangeError', code: 'ERR_INVALID_ARG_VALUE', message: /must be an integer from 1 to 1024/ })
    assert.throws(() => setConcurrency('2'), { name: 'TypeError', code: 'ERR_INVALID_ARG_VALUE' })
  })
})

describe('resizeFile', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'offload-image-'))

  test('writes the file in the format of its extension and reports it', async () => {
    for (const [ext, format, sharpFormat] of [['jpg', 'jpeg'], ['png', 'png'], ['webp', 'webp'], ['gif', 'gif'], ['avif', 'avif', 'heif']]) {
      const out = path.join(dir, `out.${ext}`)
      const info = await resizeFile(fixture('flowers.jpeg'), out, { width: 320 })
      assert.deepEqual(info, { format, width: 320, height: 180, channels: 3, size: fs.statSync(out).size })
      assert.equal((await sharp(out).metadata()).format, sharpFormat ?? format)
    }
    const forced = await resizeFile(read('flowers.jpeg'), path.join(dir, 'forced.jpg'), { width: 100, format: 'png' })
    assert.equal(forced.format, 'png')
  })

  test('a failure leaves no file, not even a temporary one', async () => {
    const out = path.join(dir, 'never.jpg')
    await assert.rejects(resizeFile(read('truncated.jpg'), out, { width: 100 }), { code: 'ERR_OFFLOAD_IMAGE_CORRUPT' })
    assert.equal(fs.existsSync(out), false)
    assert.deepEqual(fs.readdirSync(dir).filter((f) => f.includes('never')), [])
    await assert.rejects(resizeFile(read('flowers.jpeg'), path.join(dir, 'no-such-dir', 'x.jpg'), { width: 10 }), { code: 'ENOENT' })
  })

  test('an existing file is replaced whole', async () => {
    const out = path.join(dir, 'replace.png')
    fs.writeFileSync(out, 'old contents')
    await resizeFile(fixture('320x240.jpg'), out, { width: 32 })
    assert.equal((await sharp(out).metadata()).width, 32)
  })
})

describe('abort', () => {
  test('an AbortSignal rejects with ERR_OFFLOAD_ABORTED, before or during the work', async () => {
    const bytes = read('2569067123_aca715a2ee_o.jpg')
    await assert.rejects(resize(bytes, { width: 100, signal: AbortSignal.abort() }), { code: 'ERR_OFFLOAD_ABORTED', name: 'AbortError' })
    const controller = new AbortController()
    const running = resize(bytes, { width: 720, signal: controller.signal })
    controller.abort()
    await assert.rejects(running, { code: 'ERR_OFFLOAD_ABORTED' })
  })

  test('an aborted resizeFile leaves no file', async () => {
    const out = path.join(os.tmpdir(), `offload-aborted-${process.pid}.jpg`)
    const controller = new AbortController()
    const running = resizeFile(read('2569067123_aca715a2ee_o.jpg'), out, { width: 720, signal: controller.signal })
    controller.abort()
    await assert.rejects(running, { code: 'ERR_OFFLOAD_ABORTED' })
    assert.equal(fs.existsSync(out), false)
  })

  test('work after an abort still succeeds', async () => {
    const out = await resize(read('320x240.jpg'), { width: 10 })
    assert.equal((await metadata(out)).width, 10)
  })
})

describe('the image threads', () => {
  test('getConcurrency defaults to the CPUs this process may use; setConcurrency changes it', async () => {
    const initial = getConcurrency()
    assert.ok(initial >= 1 && initial <= os.availableParallelism())
    setConcurrency(1)
    assert.equal(getConcurrency(), 1)
    const outs = await Promise.all(Array.from({ length: 4 }, () => resize(read('320x240.jpg'), { width: 50 })))
    assert.equal(outs.length, 4)
    setConcurrency(3)
    assert.equal(getConcurrency(), 3)
    await Promise.all(Array.from({ length: 6 }, () => resize(read('320x240.jpg'), { width: 50 })))
    setConcurrency(initial)
    assert.throws(() => setConcurrency(0), { code: 'ERR_INVALID_ARG_VALUE' })
  })

  test('the event loop keeps turning while images are processed', async () => {
    const bytes = read('2569067123_aca715a2ee_o.jpg')
    const gaps = []
    let last = performance.now()
    let ticking = true
    const tick = () => {
      const now = performance.now()
      gaps.push(now - last)
      last = now
      if (ticking) setImmediate(tick)
    }
    setImmediate(tick)
    await Promise.all(Array.from({ length: 8 }, () => resize(bytes, { width: 720, height: 588 })))
    ticking = false
    gaps.sort((a, b) => a - b)
    const p99 = gaps[Math.floor(gaps.length * 0.99)]
    assert.ok(gaps.length > 50, `only ${gaps.length} turns of the loop`)
    assert.ok(p99 < 20, `event-loop p99 gap ${p99.toFixed(1)} ms`)
  })

  test("fs is not starved: libuv's threadpool stays free while 8 resizes run", async () => {
    const bytes = read('2569067123_aca715a2ee_o.jpg')
    const reads = () => Promise.all(Array.from({ length: 4 }, () => fs.promises.readFile(fixture('320x240.jpg'))))
    // libuv starts its threads on first use: that start-up is not what is measured (it once took a
    // quarter of a 98 ms run).
    await reads()
    const started = performance.now()
    const work = Promise.all(Array.from({ length: 8 }, () => resize(bytes, { width: 720, height: 588 })))
    // Four reads at once would queue behind the resizes if they shared libuv's 4 threads: they
    // would end after the first four resizes, half-way through.
    await reads()
    const readMs = performance.now() - started
    const results = await work
    const allMs = performance.now() - started
    assert.equal(results.length, 8)
    assert.ok(readMs < allMs / 3, `the reads took ${readMs.toFixed(1)} ms of ${allMs.toFixed(1)} ms`)
  })
})

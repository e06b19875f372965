// Photo-like sample images, made from nothing: a sky with a sun, three mountain ridges
// fading into haze, and a lake that mirrors them with ripples. Each seed gives a
// different landscape and time of day. The result is raw RGB pixels; offload encodes it.
//
// Why not a flat test card: JPEG size and resize speed depend on content, and a
// gradient compresses to nothing. Ridges, haze, noise and ripples give real photos'
// mix of smooth areas and detail, so the demo's timings mean something.
'use strict'

/** A small deterministic generator (mulberry32), so a seed always draws the same scene. */
function random(seed) {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** Smooth 1-D value noise summed over octaves (fractal Brownian motion), in about -1..1. */
function ridge(rand, octaves) {
  const tables = Array.from({ length: octaves }, () => Float64Array.from({ length: 257 }, () => rand() * 2 - 1))
  return (x) => {
    let sum = 0
    let amplitude = 0.5
    let frequency = 1
    for (const table of tables) {
      const p = x * frequency * 8
      const i = Math.floor(p)
      const f = p - i
      const s = f * f * (3 - 2 * f)
      sum += amplitude * (table[i & 255] * (1 - s) + table[(i + 1) & 255] * s)
      amplitude /= 2
      frequency *= 2
    }
    return sum
  }
}

const TIMES_OF_DAY = [
  { zenith: [38, 92, 170], horizon: [170, 205, 235], sun: [255, 250, 225], haze: [190, 210, 230] }, // noon
  { zenith: [40, 50, 110], horizon: [250, 160, 90], sun: [255, 220, 150], haze: [230, 150, 110] }, // sunset
  { zenith: [20, 40, 80], horizon: [120, 170, 200], sun: [240, 245, 255], haze: [140, 160, 185] }, // dawn
  { zenith: [90, 120, 150], horizon: [200, 210, 215], sun: [255, 255, 245], haze: [200, 205, 210] }, // overcast
]

const mix = (a, b, t) => a + (b - a) * t

/**
 * Renders one landscape.
 * @param {{ seed: number, width: number, height: number }} scene
 * @returns {Buffer} width × height × 3 bytes, RGB
 */
function renderScene({ seed, width, height }) {
  const rand = random(seed)
  const light = TIMES_OF_DAY[seed % TIMES_OF_DAY.length]
  const horizon = Math.round(height * (0.55 + rand() * 0.1))
  const sun = { x: width * (0.15 + rand() * 0.7), y: horizon * (0.25 + rand() * 0.5), r: height * 0.04 }
  // Ridges from far (high, pale) to near (low, dark); heights are fractions of the horizon.
  const ridges = [0.35, 0.6, 0.85].map((depth, i) => ({
    line: ridge(rand, 6),
    base: horizon * (0.45 + depth * 0.45),
    lift: horizon * (0.35 - i * 0.08),
    shade: [40 + rand() * 30, 60 + rand() * 40, 50 + rand() * 30].map((c) => c * (1 - i * 0.25)),
    haze: 0.7 - i * 0.3,
    offset: rand() * 64,
    top: new Float64Array(width),
  }))
  // A ridge's skyline depends on x alone: computed once per column, not per pixel.
  for (const r of ridges) {
    for (let x = 0; x < width; x++) r.top[x] = r.base - r.lift * (0.5 + 0.5 * r.line(x / width + r.offset))
  }
  const grain = random(seed ^ 0x5bd1e995)
  const ripple = ridge(rand, 4)
  const pixels = Buffer.allocUnsafe(width * height * 3)

  // The colour of the scene above the horizon at (x, y), before the lake mirrors it.
  const land = (x, y, out) => {
    const t = y / horizon
    for (let c = 0; c < 3; c++) out[c] = mix(light.zenith[c], light.horizon[c], t * t)
    const d = Math.hypot(x - sun.x, y - sun.y)
    const glow = Math.exp(-d / (sun.r * 4)) * 0.6 + (d < sun.r ? 1 : 0)
    for (let c = 0; c < 3; c++) out[c] = mix(out[c], light.sun[c], Math.min(1, glow))
    for (const r of ridges) {
      const top = r.top[x]
      if (y >= top) {
        // Slopes get darker towards the foot, and hazier with distance.
        const depthInRock = Math.min(1, (y - top) / (horizon - top + 1))
        for (let c = 0; c < 3; c++) {
          const rock = r.shade[c] * (1 - 0.35 * depthInRock)
          out[c] = mix(rock, light.haze[c], r.haze)
        }
      }
    }
    return out
  }

  const colour = [0, 0, 0]
  for (let y = 0; y < height; y++) {
    const below = y >= horizon
    // The lake: the land mirrored about the horizon, displaced by ripples that grow nearer.
    const depth = below ? (y - horizon) / (height - horizon) : 0
    for (let x = 0; x < width; x++) {
      if (below) {
        const wave = ripple(x / width * 3 + y * 0.37) * (2 + depth * 18)
        const my = Math.max(0, Math.min(horizon - 1, 2 * horizon - y + wave))
        land(x, my, colour)
        for (let c = 0; c < 3; c++) colour[c] = mix(colour[c], light.zenith[c] * 0.6, 0.25 + depth * 0.35)
      } else {
        land(x, y, colour)
      }
      const i = (y * width + x) * 3
      const noise = (grain() - 0.5) * 6
      for (let c = 0; c < 3; c++) pixels[i + c] = Math.max(0, Math.min(255, Math.round(colour[c] + noise)))
    }
  }
  return pixels
}

module.exports = { renderScene }

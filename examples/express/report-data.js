'use strict'
// The data behind a sales report: a deterministic order book per account id
// (so the same id always gives the same report, and tests can recompute it) and
// its monthly aggregation. Aggregating tens of thousands of orders per month is
// CPU work that would stall the event loop, so the service runs it in a Pool
// worker (report-worker.js).

const REGIONS = ['North', 'South', 'East', 'West']
const PRODUCTS = 40
const FIRST_YEAR = 2024
const TOP_PRODUCTS = 5

/** 32-bit FNV-1a of a string: the seed of an account's order book. */
function hash(text) {
  let h = 0x811c9dc5
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i)
    h = Math.imul(h, 0x01000193)
  }
  return h >>> 0
}

/** mulberry32: a small seeded PRNG, so the orders are reproducible. */
function random(seed) {
  let a = seed
  return () => {
    a = (a + 0x6d2b79f5) | 0
    let t = Math.imul(a ^ (a >>> 15), 1 | a)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

function monthLabel(index) {
  const year = FIRST_YEAR + Math.floor(index / 12)
  return `${year}-${String((index % 12) + 1).padStart(2, '0')}`
}

/**
 * Orders of `id` for `months` months from January 2024, aggregated month by
 * month (yielded one at a time, so a caller can stop between months): order
 * and unit counts, revenue (integer cents), revenue per region and the
 * best-selling products.
 */
function* monthlyTotals({ id, months }) {
  const next = random(hash(id))
  const unitPriceCents = Array.from({ length: PRODUCTS }, () => 500 + Math.floor(next() * 19_500))
  for (let m = 0; m < months; m++) {
    const orders = 15_000 + Math.floor(next() * 10_000)
    const regionCents = new Array(REGIONS.length).fill(0)
    const productUnits = new Array(PRODUCTS).fill(0)
    const productCents = new Array(PRODUCTS).fill(0)
    let units = 0
    let revenueCents = 0
    for (let o = 0; o < orders; o++) {
      // Skewed picks: a few products and the first regions sell most, as real sales do.
      const product = Math.floor(next() ** 2 * PRODUCTS)
      const region = Math.floor(next() ** 1.5 * REGIONS.length)
      const quantity = 1 + Math.floor(next() * 5)
      const cents = quantity * unitPriceCents[product]
      units += quantity
      revenueCents += cents
      regionCents[region] += cents
      productUnits[product] += quantity
      productCents[product] += cents
    }
    const top = productUnits
      .map((u, p) => ({ sku: `SKU-${String(p + 1).padStart(3, '0')}`, units: u, revenueCents: productCents[p] }))
      .sort((a, b) => b.revenueCents - a.revenueCents || a.sku.localeCompare(b.sku))
      .slice(0, TOP_PRODUCTS)
    yield {
      month: monthLabel(m),
      orders,
      units,
      revenueCents,
      regions: Object.fromEntries(REGIONS.map((name, r) => [name, regionCents[r]])),
      topProducts: top,
    }
  }
}

/** The report data: the months of `monthlyTotals` and the totals over the period. */
function summarize(id, months) {
  const totals = {
    orders: months.reduce((sum, m) => sum + m.orders, 0),
    units: months.reduce((sum, m) => sum + m.units, 0),
    revenueCents: months.reduce((sum, m) => sum + m.revenueCents, 0),
  }
  return { id, from: months[0].month, to: months.at(-1).month, months, totals }
}

/** The whole report data of `{ id, months }` in one call. */
function aggregate(task) {
  return summarize(task.id, [...monthlyTotals(task)])
}

module.exports = { aggregate, monthlyTotals, summarize }

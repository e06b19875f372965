#!/usr/bin/env node
'use strict'
// The report renderer, run as a subprocess per report the way a service runs
// wkhtmltopdf or LaTeX: aggregated report data as JSON on stdin, a PDF on stdout,
// written page by page as each page is laid out, so the first bytes reach the
// client long before the last page exists.
//
//   node report-renderer.js [--page-delay-ms=N] < data.json > report.pdf
//
// --page-delay-ms stands in for the layout cost of a real renderer (charts,
// fonts, templates): it pauses that long after each page. Output waits for the
// reader (backpressure), so a slow client slows the renderer instead of piling
// the PDF up in memory.

const { once } = require('node:events')

const PAGE_WIDTH = 595 // A4, in points
const PAGE_HEIGHT = 842
const FONT_SIZE = 10
const LINE_HEIGHT = 14

function option(name, fallback) {
  const arg = process.argv.find((a) => a.startsWith(`--${name}=`))
  if (arg === undefined) return fallback
  const value = Number(arg.slice(name.length + 3))
  if (!Number.isFinite(value) || value < 0) {
    console.error(`--${name} must be a number of milliseconds >= 0, got ${arg}`)
    process.exit(2)
  }
  return value
}

const money = (cents) => `${(cents / 100).toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 })} USD`
const count = (n) => n.toLocaleString('en-US')

/** The text lines of each page: a summary, then one page per month. */
function pages(report) {
  const summary = [
    `Sales report for account ${report.id}`,
    `Period: ${report.from} to ${report.to} (${report.months.length} months)`,
    '',
    `Orders: ${count(report.totals.orders)}`,
    `Units sold: ${count(report.totals.units)}`,
    `Revenue: ${money(report.totals.revenueCents)}`,
    '',
    'Month      Orders      Revenue',
    ...report.months.map((m) => `${m.month}    ${count(m.orders).padStart(7)}    ${money(m.revenueCents).padStart(20)}`),
  ]
  const monthly = report.months.map((m) => [
    `${m.month}: ${count(m.orders)} orders, ${count(m.units)} units, ${money(m.revenueCents)}`,
    '',
    'Revenue by region',
    ...Object.entries(m.regions).map(([region, cents]) => `  ${region.padEnd(8)} ${money(cents).padStart(20)}`),
    '',
    'Best-selling products',
    ...m.topProducts.map((p) => `  ${p.sku}  ${count(p.units).padStart(7)} units  ${money(p.revenueCents).padStart(20)}`),
  ])
  return [summary, ...monthly]
}

/** PDF string literal: backslash, parentheses escaped; printable ASCII only. */
function pdfText(line) {
  return line.replace(/[^\x20-\x7e]/g, '?').replace(/[\\()]/g, (c) => `\\${c}`)
}

function contentStream(lines, pageNumber, pageCount) {
  const top = PAGE_HEIGHT - 60
  const body = lines
    .slice(0, Math.floor((top - 60) / LINE_HEIGHT))
    .map((line, i) => `BT /F1 ${FONT_SIZE} Tf 50 ${top - i * LINE_HEIGHT} Td (${pdfText(line)}) Tj ET`)
  body.push(`BT /F1 8 Tf 50 30 Td (Page ${pageNumber} of ${pageCount}) Tj ET`)
  return body.join('\n')
}

/**
 * Writes a PDF 1.4 file object by object, keeping the byte offset of each for the
 * cross-reference table at the end. Object numbers: 1 catalog, 2 page tree,
 * 3 font, then a page object and its content stream for each page.
 */
class PdfWriter {
  constructor(out, pageCount) {
    this.out = out
    this.offset = 0
    this.offsets = []
    this.pageCount = pageCount
  }

  async write(text) {
    const bytes = Buffer.from(text, 'latin1')
    this.offset += bytes.length
    if (!this.out.write(bytes)) await once(this.out, 'drain')
  }

  async object(number, body) {
    this.offsets[number] = this.offset
    await this.write(`${number} 0 obj\n${body}\nendobj\n`)
  }

  async begin() {
    const kids = Array.from({ length: this.pageCount }, (_, i) => `${4 + 2 * i} 0 R`).join(' ')
    // The binary comment tells transfer tools the file is not plain text.
    await this.write('%PDF-1.4\n%\xe2\xe3\xcf\xd3\n')
    await this.object(1, '<< /Type /Catalog /Pages 2 0 R >>')
    await this.object(2, `<< /Type /Pages /Kids [${kids}] /Count ${this.pageCount} >>`)
    await this.object(3, '<< /Type /Font /Subtype /Type1 /BaseFont /Courier >>')
  }

  async page(index, content) {
    const pageObject = 4 + 2 * index
    await this.object(
      pageObject,
      `<< /Type /Page /Parent 2 0 R /MediaBox [0 0 ${PAGE_WIDTH} ${PAGE_HEIGHT}] /Resources << /Font << /F1 3 0 R >> >> /Contents ${pageObject + 1} 0 R >>`,
    )
    await this.object(pageObject + 1, `<< /Length ${Buffer.byteLength(content, 'latin1')} >>\nstream\n${content}\nendstream`)
  }

  async end() {
    const xref = this.offset
    const size = this.offsets.length
    const entries = this.offsets.slice(1).map((o) => `${String(o).padStart(10, '0')} 00000 n \n`)
    await this.write(`xref\n0 ${size}\n0000000000 65535 f \n${entries.join('')}`)
    await this.write(`trailer\n<< /Size ${size} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`)
  }
}

async function main() {
  const pageDelayMs = option('page-delay-ms', 0)
  const chunks = []
  for await (const chunk of process.stdin) chunks.push(chunk)
  const report = JSON.parse(Buffer.concat(chunks).toString('utf8'))
  const texts = pages(report)
  const pdf = new PdfWriter(process.stdout, texts.length)
  await pdf.begin()
  for (let i = 0; i < texts.length; i++) {
    await pdf.page(i, contentStream(texts[i], i + 1, texts.length))
    if (pageDelayMs > 0) await new Promise((resolve) => setTimeout(resolve, pageDelayMs))
  }
  await pdf.end()
}

// A reader that went away (the client disconnected) is not the renderer's failure.
process.stdout.on('error', (err) => process.exit(err.code === 'EPIPE' ? 0 : 1))
main().catch((err) => {
  console.error(`report-renderer: ${err.stack}`)
  process.exit(1)
})

// The Express example service (examples/express/): real HTTP requests on
// 127.0.0.1 against the service started in this process, and a SIGTERM test
// against the service run as its own process (`node examples/express/server.js`).
import { test, describe, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { once } from 'node:events'
import fs from 'node:fs'
import http from 'node:http'
import net from 'node:net'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import childProcess from 'node:child_process'

import { formats, metadata } from '../index.js'
import { start } from '../examples/express/server.js'
import { aggregate } from '../examples/express/report-data.js'
import { alive, childrenOf, pollUntil } from './lib/proc.mjs'

const repoRoot = path.resolve(fileURLToPath(new URL('.', import.meta.url)), '..')
const SERVER = path.join(repoRoot, 'examples', 'express', 'server.js')
const FIXTURES = path.resolve(repoRoot, '..', 'shared', 'fixtures', 'images')
const read = (name) => fs.readFileSync(path.join(FIXTURES, name))

/**
 * One HTTP request on a fresh connection. `body` is a Buffer (sent with a
 * Content-Length) or an array of Buffers (sent chunked). Resolves with
 * `{ status, headers, body }`, `json` when the response is JSON.
 */
function request(url, { method = 'GET', body, headers = {} } = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers, agent: false }, (res) => {
      const chunks = []
      res.on('data', (c) => chunks.push(c))
      res.on('error', reject)
      res.on('end', () => {
        const bytes = Buffer.concat(chunks)
        const json = /application\/json/.test(res.headers['content-type'] ?? '') ? JSON.parse(bytes.toString('utf8')) : undefined
        resolve({ status: res.statusCode, headers: res.headers, body: bytes, json })
      })
    })
    req.on('error', reject)
    if (Array.isArray(body)) {
      for (const part of body) req.write(part)
      req.end()
    } else {
      req.end(body)
    }
  })
}

const thumbnail = (base, query, body) => request(`${base}/thumbnail?${query}`, { method: 'POST', body, headers: { 'Content-Type': 'application/octet-stream' } })

/** Asserts the stable error shape `{ error: { code, message } }`. */
function assertError(response, status, code) {
  assert.equal(response.status, status, `status ${response.status}: ${response.body.toString('utf8').slice(0, 300)}`)
  assert.match(response.headers['content-type'], /^application\/json/)
  assert.equal(response.json.error.code, code)
  assert.equal(typeof response.json.error.message, 'string')
  assert.ok(response.json.error.message.length > 10, 'the message says what to do')
}

const health = async (base) => (await request(`${base}/health`)).json

/** Checks a PDF's structure: header, every xref offset landing on its object, trailer, page count. */
function assertPdf(bytes, pages) {
  const text = bytes.toString('latin1')
  assert.ok(text.startsWith('%PDF-1.4\n'), 'PDF header')
  assert.ok(text.endsWith('%%EOF\n'), 'complete: ends with %%EOF')
  const startxref = Number(/startxref\n(\d+)\n%%EOF\n$/.exec(text)[1])
  assert.ok(text.startsWith('xref\n', startxref), 'startxref points at the xref table')
  const offsets = [...text.slice(startxref).matchAll(/(\d{10}) 00000 n /g)].map((m) => Number(m[1]))
  assert.equal(offsets.length, 3 + 2 * pages, 'catalog, page tree, font, and a page and a content stream per page')
  offsets.forEach((offset, i) => assert.ok(text.startsWith(`${i + 1} 0 obj\n`, offset), `object ${i + 1} at ${offset}`))
  assert.match(text, new RegExp(`/Type /Pages /Kids \\[[^\\]]*\\] /Count ${pages} `))
  return text
}

const money = (cents) => (cents / 100).toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 })

describe('the service, started in this process', () => {
  let service
  let base

  before(async () => {
    service = await start({ port: 0, maxBodyBytes: 300_000, reportPageDelayMs: 100 })
    base = service.url
  })

  after(async () => {
    await service.shutdown()
    // Pool workers and renderers are this process's only children: none may be left.
    await pollUntil(() => childrenOf(process.pid).length === 0, { deadlineMs: 20_000, what: () => `no children left (found ${childrenOf(process.pid)})` })
  })

  test('POST /thumbnail resizes a JPEG to the asked size, as JPEG by default', async () => {
    const response = await thumbnail(base, 'width=160&height=100', read('320x240.jpg'))
    assert.equal(response.status, 200)
    assert.equal(response.headers['content-type'], 'image/jpeg')
    const info = await metadata(response.body)
    assert.deepEqual([info.format, info.width, info.height], ['jpeg', 160, 100])
    assert.equal(Number(response.headers['content-length']), response.body.length)
  })

  test('POST /thumbnail converts: format= sets the output and its Content-Type; one side keeps the aspect ratio', async () => {
    const cases = [
      ['with-alpha.png', 'width=128', 'image/png', 'png', 128, 96],
      ['with-alpha.png', 'height=48&format=webp', 'image/webp', 'webp', 64, 48],
      ['flowers.jpeg', 'width=192&format=png', 'image/png', 'png', 192, 108],
      ['4.webp', 'width=256&format=jpeg', 'image/jpeg', 'jpeg', 256, 193],
      ['animated-loop-3.gif', 'width=100&height=100&format=gif', 'image/gif', 'gif', 100, 100],
    ]
    for (const [file, query, type, format, width, height] of cases) {
      const response = await thumbnail(base, query, read(file))
      assert.equal(response.status, 200, `${file} ${query}: ${response.body.toString('utf8').slice(0, 200)}`)
      assert.equal(response.headers['content-type'], type, `${file} ${query}`)
      const info = await metadata(response.body)
      assert.deepEqual([info.format, info.width, info.height], [format, width, height], `${file} ${query}`)
    }
  })

  test('POST /thumbnail: bad parameters are 400 INVALID_PARAMETER naming the parameter', async () => {
    const body = read('320x240.jpg')
    for (const [query, named] of [
      ['', 'width, height'],
      ['width=0', 'width'],
      ['width=-5', 'width'],
      ['width=12.5', 'width'],
      ['width=abc', 'width'],
      ['height=4097', 'height'],
      ['width=10&width=20', 'width'],
      ['width=10&format=bmp', 'format'],
    ]) {
      const response = await thumbnail(base, query, body)
      assertError(response, 400, 'INVALID_PARAMETER')
      assert.ok(named.split(', ').every((n) => response.json.error.message.includes(n)), `${query}: ${response.json.error.message}`)
    }
    assertError(await thumbnail(base, 'width=10', Buffer.alloc(0)), 400, 'EMPTY_BODY')
  })

  test('POST /thumbnail: damaged, non-image and oversized images are 4xx JSON errors, and the service keeps serving', async () => {
    const before = (await health(base)).images
    assertError(await thumbnail(base, 'width=100', read('truncated.jpg')), 422, 'IMAGE_CORRUPT')
    assertError(await thumbnail(base, 'width=100', read('truncated.png')), 422, 'IMAGE_CORRUPT')
    assertError(await thumbnail(base, 'width=100', read('corrupt-header.jpg')), 422, 'IMAGE_CORRUPT')
    const unsupported = await thumbnail(base, 'width=100', Buffer.from('{"this is": "not an image"}\n'.repeat(20)))
    assertError(unsupported, 415, 'IMAGE_UNSUPPORTED')
    // The 415 named every readable format but AVIF: the list now comes from this build's formats.
    const readable = ['jpeg', 'png', 'webp', ...(formats.avif.input.buffer ? ['avif'] : []), 'gif', 'tiff', 'bmp']
    assert.equal(unsupported.json.error.message, `the body is not an image this service reads (${readable.join(', ')}); send one of those`)
    // The first 250 KB hold the header (20000×14000) and fit under this service's body limit.
    const giant = await thumbnail(base, 'width=100', read('giant-image.jpg').subarray(0, 250_000))
    assertError(giant, 413, 'IMAGE_TOO_LARGE')
    assert.match(giant.json.error.message, /100000000 pixels/)
    assertError(await thumbnail(base, 'width=100', read('65536-uint32-limit.png').subarray(0, 100_000)), 413, 'IMAGE_TOO_LARGE')
    const after = (await health(base)).images
    assert.equal(after.failed - before.failed, 6)
    assert.equal(after.inFlight, 0)
    const ok = await thumbnail(base, 'width=32', read('320x240.jpg'))
    assert.equal(ok.status, 200)
  })

  test('POST /thumbnail: a body over the limit is 413 BODY_TOO_LARGE, with a Content-Length or chunked', async () => {
    const big = read('2569067123_aca715a2ee_o.jpg') // 829 KB; the limit here is 300,000 bytes
    const declared = await thumbnail(base, 'width=100', big)
    assertError(declared, 413, 'BODY_TOO_LARGE')
    assert.match(declared.json.error.message, /300000 bytes/)
    const parts = []
    for (let i = 0; i < big.length; i += 64 * 1024) parts.push(big.subarray(i, i + 64 * 1024))
    assertError(await thumbnail(base, 'width=100', parts), 413, 'BODY_TOO_LARGE')
    // Under the limit, chunked works.
    const small = read('flowers.jpeg')
    const chunked = await thumbnail(base, 'width=100', [small.subarray(0, 1000), small.subarray(1000)])
    assert.equal(chunked.status, 200)
    assert.equal((await metadata(chunked.body)).width, 100)
  })

  test('POST /thumbnail: a client that disconnects cancels its resize', async () => {
    const before = (await health(base)).images
    // An AVIF encode of this size takes seconds: long enough to hang up midway.
    const body = read('flowers.jpeg')
    const req = http.request(`${base}/thumbnail?width=1920&height=1080&format=avif`, { method: 'POST', agent: false, headers: { 'Content-Length': body.length } })
    const failed = once(req, 'error')
    req.end(body)
    await pollUntil(async () => (await health(base)).images.inFlight === 1, { deadlineMs: 20_000, what: 'the resize to start' })
    req.destroy()
    await failed
    const after = await pollUntil(async () => {
      const images = (await health(base)).images
      return images.inFlight === 0 && images
    }, { deadlineMs: 20_000, what: 'the resize to be dropped' })
    assert.equal(after.canceled - before.canceled, 1)
    assert.equal(after.completed, before.completed)
  })

  test('GET /report/:id streams a complete PDF whose numbers come from the pool', async () => {
    const poolBefore = (await health(base)).pool
    const response = await request(`${base}/report/acme-corp?months=3`)
    assert.equal(response.status, 200)
    assert.equal(response.headers['content-type'], 'application/pdf')
    assert.equal(response.headers['transfer-encoding'], 'chunked')
    assert.equal(response.headers['content-disposition'], 'inline; filename="report-acme-corp.pdf"')
    const text = assertPdf(response.body, 4)
    const expected = aggregate({ id: 'acme-corp', months: 3 })
    assert.ok(text.includes(`(Sales report for account acme-corp)`))
    assert.ok(text.includes(`Revenue: ${money(expected.totals.revenueCents)} USD`), 'the total the pool computed')
    assert.ok(text.includes(`(Page 4 of 4)`))
    const after = await health(base)
    assert.equal(after.pool.completed - poolBefore.completed, 1)
    assert.ok(after.pool.size >= 1)
    const pid = Number(response.headers['x-report-pid'])
    assert.ok(pid > 0)
    await pollUntil(() => !alive(pid), { deadlineMs: 20_000, what: `renderer ${pid} to be reaped` })
    const { subprocesses } = await health(base)
    assert.deepEqual([subprocesses.count, subprocesses.running], [0, []])
    assert.equal(subprocesses.killed, 0)
  })

  test('GET /report/:id: a bad id or months is 400 INVALID_PARAMETER, and nothing runs', async () => {
    const poolBefore = (await health(base)).pool
    for (const url of ['/report/a%20b', '/report/..%2F..%2Fetc', '/report/-x', `/report/${'x'.repeat(65)}`, '/report/%C3%A9t%C3%A9']) {
      assertError(await request(base + url), 400, 'INVALID_PARAMETER')
    }
    for (const months of ['0', '121', 'twelve', '3.5']) {
      const response = await request(`${base}/report/acme?months=${months}`)
      assertError(response, 400, 'INVALID_PARAMETER')
      assert.match(response.json.error.message, /months/)
    }
    const after = await health(base)
    assert.equal(after.pool.completed + after.pool.failed, poolBefore.completed + poolBefore.failed)
    assert.equal(after.subprocesses.count, 0)
  })

  test('GET /report/:id: bytes arrive while the renderer runs; a client that disconnects kills it', async () => {
    // 120 months: 121 pages at 100 ms each, about 12 s of rendering; it must die well before.
    const req = http.get(`${base}/report/slow-reader?months=120`, { agent: false })
    const [res] = await once(req, 'response')
    const pid = Number(res.headers['x-report-pid'])
    const [first] = await once(res, 'data')
    assert.ok(first.toString('latin1').startsWith('%PDF-1.4'))
    assert.ok(alive(pid), 'the renderer is still running')
    const running = (await health(base)).subprocesses
    assert.deepEqual(running.running.map((c) => c.pid), [pid])
    assert.match(running.running[0].what, /slow-reader/)

    req.destroy()
    await pollUntil(() => !alive(pid), { deadlineMs: 5000, what: `renderer ${pid} to die after the disconnect` })
    const after = await pollUntil(async () => {
      const { subprocesses } = await health(base)
      return subprocesses.count === 0 && subprocesses
    }, { deadlineMs: 20_000, what: 'the renderer to leave /health' })
    // Killed by the service, not merely stopped by a broken pipe on its next write.
    assert.equal(after.killed - running.killed, 1)
  })

  test('start() on a port in use rejects with EADDRINUSE and starts no pool worker that outlives it', async () => {
    const port = Number(new URL(base).port)
    await assert.rejects(start({ port }), { code: 'EADDRINUSE' })
    // The after hook checks that no child of this process is left.
  })

  test('unknown routes are 404 NOT_FOUND; GET /health reports the event loop, the pool, subprocesses and images', async () => {
    assertError(await request(`${base}/nope`), 404, 'NOT_FOUND')
    // Express's own client errors keep their status (regression: a malformed URL was a logged 500).
    assertError(await request(`${base}/report/%E0%A4%A`), 400, 'BAD_REQUEST')
    assertError(await request(`${base}/thumbnail`), 404, 'NOT_FOUND')
    const response = await request(`${base}/health`)
    assert.equal(response.status, 200)
    assert.equal(response.headers['cache-control'], 'no-store')
    const report = response.json
    assert.equal(report.status, 'ok')
    const loop = report.eventLoopDelayMs
    assert.equal(loop.resolutionMs, 1)
    assert.ok(loop.samples > 0 && loop.p99 >= loop.p50 && loop.max >= loop.p99 && loop.p50 >= 0.5, JSON.stringify(loop))
    for (const key of ['size', 'busy', 'idle', 'queued', 'completed', 'failed', 'crashed', 'restarted']) assert.equal(typeof report.pool[key], 'number', key)
    assert.equal(report.subprocesses.count, 0)
    assert.ok(report.images.threads >= 1)
  })
})

describe('a report over its time limit', () => {
  test('is 504 REPORT_TIMEOUT, and its pool task is withdrawn', async () => {
    const service = await start({ port: 0, reportTimeoutMs: 150 })
    try {
      // 120 months is about 2.4 million orders to aggregate: far beyond 150 ms.
      const response = await request(`${service.url}/report/acme?months=120`)
      assertError(response, 504, 'REPORT_TIMEOUT')
      // Once the worker is idle again, the task must have stopped, not run to its end.
      const { pool, subprocesses } = await pollUntil(async () => {
        const now = await health(service.url)
        return now.pool.busy === 0 && now.pool.queued === 0 && now
      }, { deadlineMs: 20_000, what: 'the pool to be idle' })
      assert.equal(pool.completed, 0)
      assert.equal(subprocesses.finished, 0, 'no renderer started')
    } finally {
      await service.shutdown()
    }
  })
})

describe('the service as its own process', () => {
  test('SIGTERM: stops accepting, finishes the in-flight report, leaves no process behind, exits 0', async () => {
    const server = childProcess.spawn(process.execPath, [SERVER], {
      env: { ...process.env, PORT: '0', REPORT_PAGE_DELAY_MS: '100' },
      stdio: ['ignore', 'pipe', 'inherit'],
    })
    const exited = once(server, 'exit')
    let output = ''
    server.stdout.setEncoding('utf8')
    server.stdout.on('data', (chunk) => {
      output += chunk
    })
    /** Resolves with the match once the server printed `pattern`. */
    const waitFor = (pattern) =>
      new Promise((resolve, reject) => {
        const check = () => {
          const m = pattern.exec(output)
          if (!m) return
          server.stdout.off('data', check)
          server.off('exit', onExit)
          resolve(m)
        }
        const onExit = (code) => reject(new Error(`server exited (${code}) before printing ${pattern}: ${output}`))
        server.stdout.on('data', check)
        server.on('exit', onExit)
        check()
      })
    try {
      const [, base, port] = await waitFor(/listening on (http:\/\/127\.0\.0\.1:(\d+))/)

      // Keep-alive connections, as browsers and proxies hold them: the shutdown must not
      // wait for them to time out (the server's keep-alive timeout is 65 s).
      const agent = new http.Agent({ keepAlive: true })
      // 10 months: 11 pages at 100 ms each, so the report is in flight across the SIGTERM.
      const req = http.get(`${base}/report/acme?months=10`, { agent })
      const [res] = await once(req, 'response')
      assert.equal(res.statusCode, 200)
      const chunks = []
      let firstArrived
      const firstChunk = new Promise((resolve) => {
        firstArrived = resolve
      })
      res.on('data', (chunk) => {
        chunks.push(chunk)
        firstArrived()
      })
      const ended = once(res, 'end')
      await firstChunk
      const idle = http.get(`${base}/health`, { agent })
      const [healthResponse] = await once(idle, 'response')
      healthResponse.resume()
      await once(healthResponse, 'end')
      const idleSocketClosed = once(idle.socket, 'close')
      const children = childrenOf(server.pid)
      const renderer = Number(res.headers['x-report-pid'])
      assert.ok(children.includes(renderer), `renderer ${renderer} among ${children}`)
      assert.ok(children.length >= 2, 'a pool worker and the renderer')

      server.kill('SIGTERM')
      await waitFor(/SIGTERM: no longer accepting/)
      const refused = await new Promise((resolve) => {
        const socket = net.connect(Number(port), '127.0.0.1')
        socket.on('connect', () => {
          socket.destroy()
          resolve('connected')
        })
        socket.on('error', (err) => resolve(err.code))
      })
      assert.equal(refused, 'ECONNREFUSED')

      await idleSocketClosed
      await ended
      assertPdf(Buffer.concat(chunks), 11)
      const [code, signal] = await Promise.race([
        exited,
        new Promise((resolve, reject) => setTimeout(() => reject(new Error(`no exit 20 s after the report ended: ${output}`)), 20_000).unref()),
      ])
      assert.deepEqual([code, signal], [0, null], output)
      assert.match(output, /shut down/)
      for (const pid of children) await pollUntil(() => !alive(pid), { deadlineMs: 5000, what: `child ${pid} of the server to be gone` })
    } finally {
      if (server.exitCode === null && server.signalCode === null) server.kill('SIGKILL')
    }
  })
})

#!/usr/bin/env node
// A background e-mail job handed to a forked worker.
//
// The version people copy:
//
//   const worker = child_process.fork('./mailer.js')
//   app.post('/signup', (req, res) => {
//     worker.send({ to: req.body.email })     // fire and forget
//     res.sendStatus(202)
//   })
//
// What goes wrong: nothing says a mail was sent, so a mail in flight when the
// worker crashes is lost silently, and every later send() goes to a dead worker;
// a worker stuck on a hung SMTP connection blocks the queue forever; restarting
// naively sends some mails twice; and when the app is killed (deploy, OOM, kill
// -9) the worker is orphaned and keeps running. Each fork() also stalls the event
// loop while it copies the parent's page tables.
//
// What offload does instead: `fork()` speaks Node's IPC format, so mailer.js is an
// ordinary worker; mail-queue.js makes each job wait for the worker's
// acknowledgement, retries it on a fresh worker after a crash or a timeout, and
// the worker delivers idempotently, so every mail arrives exactly once. The
// worker dies with this process even on kill -9 (offload's `cleanup`), a kill
// escalates to SIGKILL if ignored, and `limits` caps its memory.
//
//   node examples/scenarios/email-job [count] [outbox folder]   (default: 12 mails, a temporary folder)
//
// To show the retry, this demo kills its worker once, mid-job.
'use strict'
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { MailQueue } = require('./mail-queue')

const ms = (since) => `${(Number(process.hrtime.bigint() - since) / 1e6).toFixed(0)} ms`

async function main() {
  const count = Number(process.argv[2] ?? 12)
  if (!Number.isInteger(count) || count < 1) throw new Error(`count must be a positive integer, got ${process.argv[2]}`)
  const keep = process.argv[3] !== undefined
  const outbox = keep ? path.resolve(process.argv[3]) : fs.mkdtempSync(path.join(os.tmpdir(), 'offload-outbox-'))
  fs.mkdirSync(outbox, { recursive: true })

  const queue = new MailQueue({ outbox, jobTimeout: 5000 })
  const crashAt = `welcome-${Math.ceil(count / 2)}`
  let crashed = false
  queue.on('started', (mail, pid) => {
    if (mail.id === crashAt && !crashed) {
      crashed = true
      console.log(`  ${mail.id}: killing the mailer (pid ${pid}) mid-job with SIGKILL`)
      process.kill(pid, 'SIGKILL')
    }
  })
  queue.on('retry', (mail, reason) => console.log(`  ${mail.id}: ${reason}; retrying on a fresh worker`))

  const started = process.hrtime.bigint()
  const signups = Array.from({ length: count }, (_, i) => ({ id: `welcome-${i + 1}`, to: `user${i + 1}@example.com`, name: `User ${i + 1}` }))
  const results = await Promise.all(
    signups.map(async (mail) => {
      const sent = await queue.send(mail)
      const how = sent.duplicate ? 'already in the outbox, not sent again' : 'sent'
      console.log(`  ${sent.id} → ${mail.to}: ${how} (attempt ${sent.attempts}, ${ms(started)})`)
      return sent
    }),
  )
  await queue.close()

  const delivered = fs.readdirSync(outbox).filter((name) => name.endsWith('.eml'))
  const where = keep ? outbox : 'the outbox (a temporary folder, now removed)'
  console.log(`${results.length} jobs acknowledged, ${delivered.length} mails in ${where}, in ${ms(started)}`)
  if (!keep) fs.rmSync(outbox, { recursive: true })
}

main().catch((err) => {
  console.error(err.message)
  process.exitCode = 1
})

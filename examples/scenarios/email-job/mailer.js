// The forked worker: an ordinary Node IPC worker, as with child_process.fork().
// It "sends" each welcome e-mail by putting it in the outbox folder, which plays
// the mail provider here: a mail with a given id is accepted once (a real
// provider does this with an idempotency key or the Message-ID), so a job retried
// after a crash is never delivered twice.
//
// Protocol: the parent sends { id, to, name }; this worker answers
// { type: 'started', id } at once and { type: 'sent', id, duplicate } once the
// mail is in the outbox.
'use strict'
const fs = require('node:fs/promises')
const path = require('node:path')

const [outbox, smtpLatency = '20'] = process.argv.slice(2)

function render({ id, to, name }) {
  return [
    `Message-ID: <${id}@offload.example>`,
    `To: ${to}`,
    'Subject: Welcome!',
    '',
    `Hello ${name}, thanks for signing up.`,
    '',
  ].join('\r\n')
}

/** Delivers the mail unless the outbox already holds it; says which. */
async function deliver(mail) {
  // Written aside, then linked into place: the outbox never shows a half-written
  // mail, and link() refuses to replace one that a crashed attempt delivered.
  const draft = path.join(outbox, `.${mail.id}.${process.pid}.draft`)
  await fs.writeFile(draft, render(mail))
  try {
    await fs.link(draft, path.join(outbox, `${mail.id}.eml`))
    return { duplicate: false }
  } catch (err) {
    if (err.code !== 'EEXIST') throw err
    return { duplicate: true }
  } finally {
    await fs.unlink(draft)
  }
}

process.on('message', async (mail) => {
  process.send({ type: 'started', id: mail.id })
  // Stands in for the SMTP round trip.
  await new Promise((resolve) => setTimeout(resolve, Number(smtpLatency)))
  const { duplicate } = await deliver(mail)
  process.send({ type: 'sent', id: mail.id, duplicate })
})

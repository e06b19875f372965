// A pool worker doing the app's CPU-heavy background work: hashing passwords.
'use strict'
const { pbkdf2Sync, randomBytes } = require('node:crypto')
const { serve } = require('offload/worker')

serve(({ password }) => {
  const salt = randomBytes(16)
  const hash = pbkdf2Sync(password, salt, 200_000, 32, 'sha256')
  return `pbkdf2-sha256$200000$${salt.toString('base64')}$${hash.toString('base64')}`
})

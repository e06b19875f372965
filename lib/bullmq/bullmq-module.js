'use strict'
// bullmq is an optional peer dependency, loaded only by offload/bullmq.
const { offloadError } = require('../errors')

try {
  module.exports = require('bullmq')
} catch (err) {
  if (err.code !== 'MODULE_NOT_FOUND' || !String(err.message).includes("'bullmq'")) throw err
  throw offloadError('ERR_OFFLOAD_BULLMQ_MISSING', "offload/bullmq needs the 'bullmq' package (6.x): npm install bullmq", undefined, { cause: err })
}

'use strict'
// bullmq is an optional peer dependency, loaded only by offload/bullmq.
try {
  module.exports = require('bullmq')
} catch (err) {
  if (err.code !== 'MODULE_NOT_FOUND' || !String(err.message).includes("'bullmq'")) throw err
  throw Object.assign(new Error("offload/bullmq needs the 'bullmq' package (6.x): npm install bullmq"), { code: 'ERR_OFFLOAD_BULLMQ_MISSING', cause: err })
}

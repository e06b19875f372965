'use strict'
// Signal names <-> numbers, from Node's own table.

const { constants } = require('node:os')
const { invalidArgType, invalidArgValue, codedError } = require('./errors')

const byNumber = new Map()
for (const [name, number] of Object.entries(constants.signals)) {
  if (!byNumber.has(number)) byNumber.set(number, name)
}

/** The number of a signal given by name (`'SIGTERM'`) or number; throws on unknown ones. */
function signalNumber(signal, name = 'signal') {
  if (typeof signal === 'number') {
    if (Number.isInteger(signal) && (signal === 0 || byNumber.has(signal))) return signal
    throw invalidArgValue(name, signal, 'must be a known signal number')
  }
  if (typeof signal === 'string') {
    const n = constants.signals[signal]
    if (n !== undefined) return n
    throw codedError(TypeError, 'ERR_UNKNOWN_SIGNAL', `Unknown signal: ${signal}`)
  }
  throw invalidArgType(name, 'of type string or number', signal)
}

function signalName(number) {
  return number == null ? null : byNumber.get(number) ?? `SIG${number}`
}

module.exports = { signalNumber, signalName }

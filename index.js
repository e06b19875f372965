'use strict'
// offload: take heavy work off the Node.js event loop.

const { spawn, execFile, exec, $, fork } = require('./lib/exec')
const { pipeline } = require('./lib/pipeline')
const { Subprocess } = require('./lib/subprocess')
const { SubprocessError } = require('./lib/errors')
const { Pool } = require('./lib/pool')
const { resize, resizeFile, metadata, setConcurrency, getConcurrency, formats } = require('./lib/image')

module.exports = { spawn, execFile, exec, $, fork, pipeline, Subprocess, SubprocessError, Pool, resize, resizeFile, metadata, setConcurrency, getConcurrency, formats }

'use strict'
// piscina: the exported function runs each task (in a worker thread).
module.exports = (task) => task

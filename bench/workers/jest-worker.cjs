'use strict'
// jest-worker: every exported function is a method callable from the parent.
exports.echo = (task) => task

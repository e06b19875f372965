'use strict'
// The one event channel of this JS environment: routes native events to their
// Subprocess, and keeps Node alive exactly while a referenced child is running.

const native = require('./binding')

const children = new Map()
let nextId = 1
let referenced = 0
let channel = null

function dispatch(id, type, a, b) {
  const child = children.get(id)
  if (child !== undefined) child._onNativeEvent(type, a, b)
}

function getChannel() {
  if (channel === null) channel = new native.EventChannel(dispatch)
  return channel
}

/** Registers a child that will receive events; returns its id. */
function register(child) {
  const id = nextId++
  if (nextId > 0xffffffff) nextId = 1
  children.set(id, child)
  return id
}

function unregister(id) {
  children.delete(id)
}

/** One more referenced child: the event loop stays alive. */
function hold() {
  if (referenced++ === 0) getChannel().ref()
}

function release() {
  if (--referenced === 0) getChannel().unref()
}

module.exports = { native, getChannel, register, unregister, hold, release }

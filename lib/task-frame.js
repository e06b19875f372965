'use strict'
// The frames of a `serve()` worker's task channel, the worker's side of
// src/pool/task_frame.rs (which documents the layout). The numbers are the addon's
// (exported as TaskFrame); a worker does not load the addon, so this file keeps a
// copy, and __test__/contracts.test.mjs fails if the two differ.

const { offloadError } = require('./errors')

const TaskFrame = Object.freeze({
  TASK: 1,
  CANCEL: 2,
  HELLO: 16,
  RESULT: 17,
  ERROR: 18,
  KIND_AT: 4,
  ID_AT: 5,
  COUNT_AT: 9,
  NAME_LEN_AT: 11,
  LENGTHS_AT: 13,
})
const { KIND_AT, ID_AT, COUNT_AT, NAME_LEN_AT, LENGTHS_AT } = TaskFrame

/** The chunks of one frame, ready for `socket.write`: a header, then each buffer as it is. */
function encodeFrame(kind, id, name, json, buffers) {
  const nameLen = name ? Buffer.byteLength(name) : 0
  const jsonLen = json ? Buffer.byteLength(json) : 0
  const count = buffers ? buffers.length : 0
  let bytes = 0
  for (let i = 0; i < count; i++) bytes += buffers[i].byteLength
  const headLen = LENGTHS_AT + 4 * count
  const head = Buffer.allocUnsafe(headLen + nameLen + jsonLen)
  head.writeUInt32LE(headLen - 4 + nameLen + jsonLen + bytes, 0)
  head.writeUInt8(kind, KIND_AT)
  head.writeUInt32LE(id, ID_AT)
  head.writeUInt16LE(count, COUNT_AT)
  head.writeUInt16LE(nameLen, NAME_LEN_AT)
  for (let i = 0; i < count; i++) head.writeUInt32LE(buffers[i].byteLength, LENGTHS_AT + 4 * i)
  if (nameLen) head.write(name, headLen, 'utf8')
  if (jsonLen) head.write(json, headLen + nameLen, 'utf8')
  if (count === 0) return [head]
  const chunks = [head]
  for (let i = 0; i < count; i++) chunks.push(buffers[i])
  return chunks
}

/** Frames up to this size are read into one reused buffer; a larger one gets its own. */
const SCRATCH = 64 * 1024

function malformed() {
  return offloadError('ERR_OFFLOAD_WORKER_PROTOCOL', 'offload: a malformed frame on the task channel')
}

/**
 * Splits a byte stream into frames, reading in place: `target()` is where the
 * next read should land (net.Socket's `onread.buffer`), `filled(n)` says `n`
 * bytes arrived there and calls `onFrame(kind, id, name, json, buffers)` for
 * each whole frame. Small frames share one reused buffer, so their byte
 * buffers are copied out; a large frame is read straight into an allocation
 * of its own, whose buffers then reach the handler without a copy.
 */
class TaskFrameReader {
  #scratch = Buffer.allocUnsafeSlow(SCRATCH)
  /** The scratch buffer, or the large frame being read. */
  #buf = this.#scratch
  /** Bytes of `#buf` that hold data. */
  #end = 0
  #onFrame

  constructor(onFrame) {
    this.#onFrame = onFrame
  }

  target() {
    return this.#buf.subarray(this.#end)
  }

  filled(n) {
    this.#end += n
    if (this.#buf !== this.#scratch) {
      if (this.#end < this.#buf.length) return
      const frame = this.#buf
      this.#buf = this.#scratch
      this.#end = 0
      return this.#decode(frame, 0, frame.length, false)
    }
    const data = this.#scratch
    let at = 0
    while (this.#end - at >= 4) {
      const size = 4 + data.readUInt32LE(at)
      if (size < LENGTHS_AT) throw malformed()
      if (this.#end - at < size) break
      this.#decode(data, at, size, true)
      at += size
    }
    const left = this.#end - at
    if (left >= 4 && 4 + data.readUInt32LE(at) > SCRATCH) {
      const own = Buffer.allocUnsafe(4 + data.readUInt32LE(at))
      data.copy(own, 0, at, this.#end)
      this.#buf = own
    } else if (left > 0 && at > 0) {
      data.copy(data, 0, at, this.#end)
    }
    this.#end = left
  }

  #decode(data, at, size, shared) {
    const kind = data.readUInt8(at + KIND_AT)
    const id = data.readUInt32LE(at + ID_AT)
    const count = data.readUInt16LE(at + COUNT_AT)
    const nameLen = data.readUInt16LE(at + NAME_LEN_AT)
    let pos = at + LENGTHS_AT
    const lengths = new Array(count)
    let bytes = 0
    for (let i = 0; i < count; i++) {
      lengths[i] = data.readUInt32LE(pos)
      bytes += lengths[i]
      pos += 4
    }
    const jsonEnd = at + size - bytes
    if (pos + nameLen > jsonEnd) throw malformed()
    const name = nameLen ? data.toString('utf8', pos, pos + nameLen) : ''
    pos += nameLen
    const json = data.toString('utf8', pos, jsonEnd)
    let buffers = null
    if (count > 0) {
      buffers = new Array(count)
      pos = jsonEnd
      for (let i = 0; i < count; i++) {
        const view = data.subarray(pos, pos + lengths[i])
        // The scratch buffer is read into again as soon as this returns.
        buffers[i] = shared ? Buffer.from(view) : view
        pos += lengths[i]
      }
    }
    this.#onFrame(kind, id, name, json, buffers)
  }
}

module.exports = { TaskFrame, encodeFrame, TaskFrameReader }

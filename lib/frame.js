'use strict'
// The frames of a `serve()` worker's task channel, the worker's side of
// src/pool/frame.rs (which documents the layout). Keep the two in step.

const TASK = 1
const CANCEL = 2
const HELLO = 16
const RESULT = 17
const ERROR = 18
const FIXED = 1 + 4 + 2 + 2

/** The chunks of one frame, ready for `socket.write`: a header, then each buffer as it is. */
function encodeFrame(kind, id, name, json, buffers) {
  const nameLen = name ? Buffer.byteLength(name) : 0
  const jsonLen = json ? Buffer.byteLength(json) : 0
  const count = buffers ? buffers.length : 0
  let bytes = 0
  for (let i = 0; i < count; i++) bytes += buffers[i].byteLength
  const headLen = 4 + FIXED + 4 * count
  const head = Buffer.allocUnsafe(headLen + nameLen + jsonLen)
  head.writeUInt32LE(headLen - 4 + nameLen + jsonLen + bytes, 0)
  head.writeUInt8(kind, 4)
  head.writeUInt32LE(id, 5)
  head.writeUInt16LE(count, 9)
  head.writeUInt16LE(nameLen, 11)
  for (let i = 0; i < count; i++) head.writeUInt32LE(buffers[i].byteLength, 13 + 4 * i)
  if (nameLen) head.write(name, headLen, 'utf8')
  if (jsonLen) head.write(json, headLen + nameLen, 'utf8')
  if (count === 0) return [head]
  const chunks = [head]
  for (let i = 0; i < count; i++) chunks.push(buffers[i])
  return chunks
}

/** Splits a byte stream into frames: `push(chunk)` calls `onFrame(kind, id, name, json, buffers)`. */
class FrameReader {
  #chunks = []
  #length = 0
  /** Bytes the frame at the front needs, once its header is in: no concat before. */
  #need = 4
  #onFrame

  constructor(onFrame) {
    this.#onFrame = onFrame
  }

  push(chunk) {
    this.#chunks.push(chunk)
    this.#length += chunk.length
    if (this.#length < this.#need) return
    let data = this.#chunks.length === 1 ? this.#chunks[0] : Buffer.concat(this.#chunks, this.#length)
    let at = 0
    while (data.length - at >= 4) {
      const size = 4 + data.readUInt32LE(at)
      if (size - 4 < FIXED) throw Object.assign(new Error('offload: a malformed frame on the task channel'), { code: 'ERR_OFFLOAD_WORKER_PROTOCOL' })
      if (data.length - at < size) {
        this.#need = size
        break
      }
      this.#need = 4
      this.#decode(data, at, size)
      at += size
    }
    if (at === data.length) {
      this.#chunks = []
      this.#length = 0
    } else {
      data = data.subarray(at)
      this.#chunks = [data]
      this.#length = data.length
    }
  }

  #decode(data, at, size) {
    const kind = data.readUInt8(at + 4)
    const id = data.readUInt32LE(at + 5)
    const count = data.readUInt16LE(at + 9)
    const nameLen = data.readUInt16LE(at + 11)
    let pos = at + 13
    const lengths = new Array(count)
    let bytes = 0
    for (let i = 0; i < count; i++) {
      lengths[i] = data.readUInt32LE(pos)
      bytes += lengths[i]
      pos += 4
    }
    const name = nameLen ? data.toString('utf8', pos, pos + nameLen) : ''
    pos += nameLen
    const jsonEnd = at + size - bytes
    const json = data.toString('utf8', pos, jsonEnd)
    let buffers = null
    if (count > 0) {
      buffers = new Array(count)
      pos = jsonEnd
      for (let i = 0; i < count; i++) {
        buffers[i] = data.subarray(pos, pos + lengths[i])
        pos += lengths[i]
      }
    }
    this.#onFrame(kind, id, name, json, buffers)
  }
}

module.exports = { TASK, CANCEL, HELLO, RESULT, ERROR, encodeFrame, FrameReader }

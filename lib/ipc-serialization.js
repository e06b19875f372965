'use strict'
// Node's 'advanced' IPC serialization, the `serialization` option of fork():
// each message is V8's structured clone of the value (header included), so
// Buffers, typed arrays, Map, Set, Date, BigInt, RegExp and errors cross as
// themselves. On the wire a message is its length as a big-endian uint32,
// then the serialized bytes; the engine cuts the frames (src/process/ipc.rs)
// and this file writes and reads the values, the way a Node child does, so
// that an unmodified child on either end understands them.
//
// Node's serializer is v8.DefaultSerializer (array buffer views as host
// objects: their type, then only the bytes they view) with one more word in
// front of every host object: 0 for an array buffer view, 1 for another
// native object, sent as a plain copy of its own properties. Ours writes and
// reads the same words.

const v8 = require('node:v8')
const { isArrayBufferView } = require('node:util').types
const VIEW = 0
const OTHER_HOST_OBJECT = 1
const LENGTH_BYTES = 4

class MessageSerializer extends v8.DefaultSerializer {
  _writeHostObject(object) {
    if (isArrayBufferView(object)) {
      this.writeUint32(VIEW)
      return super._writeHostObject(object)
    }
    this.writeUint32(OTHER_HOST_OBJECT)
    this.writeValue({ ...object })
  }
}

class MessageDeserializer extends v8.DefaultDeserializer {
  _readHostObject() {
    const tag = this.readUint32()
    if (tag === VIEW) return super._readHostObject()
    // Node asserts here; the readers of a message treat a throw as a message not understood.
    if (tag !== OTHER_HOST_OBJECT) throw new Error(`an IPC message holds a host object of unknown tag ${tag}`)
    return this.readValue()
  }
}

/** `value` as one frame of the channel: the length, then V8's serialization. Throws V8's DataCloneError for what it cannot clone (functions, symbols). */
function serializeFrame(value) {
  const serializer = new MessageSerializer()
  serializer.writeRawBytes(Buffer.allocUnsafe(LENGTH_BYTES))
  serializer.writeHeader()
  serializer.writeValue(value)
  const frame = serializer.releaseBuffer()
  frame.writeUInt32BE(frame.length - LENGTH_BYTES, 0)
  return frame
}

/** V8's serialization of `value`, header included, without the length (what a pool task carries). */
function serializeValue(value) {
  return serializeFrame(value).subarray(LENGTH_BYTES)
}

/** The value one whole frame (the length, then V8's serialization) holds, as the engine hands frames on. */
function deserializeFrame(frame) {
  const deserializer = new MessageDeserializer(frame.subarray(LENGTH_BYTES))
  deserializer.readHeader()
  return deserializer.readValue()
}

module.exports = { serializeFrame, serializeValue, deserializeFrame }

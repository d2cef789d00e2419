import t from 'tap'
import { toHex } from '../../../shared/bytes/bytes.js'
import {
  createFrameReader,
  encodeFrame,
  FRAME_HEADER_BYTES,
  MAX_FRAME_BYTES,
  type FrameReader,
} from '../../../shared/protocol/frame.js'
import { caughtCode } from '../../helpers/caught-code.js'
import { exactCode } from '../../helpers/exact-code.js'
import { hexBytes } from '../../helpers/hex-bytes.js'

/** Every frame `reader` yields for `chunks`, as hex. */
function readAll(reader: FrameReader, chunks: readonly Uint8Array[]): string[] {
  return chunks.flatMap((chunk) => reader.push(chunk)).map(toHex)
}

/** `bytes` cut at each of `cuts` (increasing offsets strictly inside `bytes`). */
function cut(bytes: Uint8Array, cuts: readonly number[]): Uint8Array[] {
  const bounds = [0, ...cuts, bytes.byteLength]
  return bounds.slice(1).map((end, index) => bytes.subarray(bounds[index], end))
}

/** A message of `length` bytes whose bytes differ from one position to the next. */
function patterned(length: number, seed: number): Uint8Array {
  return Uint8Array.from({ length }, (_, index) => (index * 7 + seed) & 0xff)
}

t.test('the protocol facts: a 4-byte header and a 1 MiB limit', (t) => {
  t.equal(FRAME_HEADER_BYTES, 4)
  t.equal(MAX_FRAME_BYTES, 1048576)
  t.end()
})

t.test('encodeFrame writes a big-endian length, then the message', (t) => {
  t.equal(toHex(encodeFrame(hexBytes('a0'))), '00000001a0')
  t.equal(toHex(encodeFrame(hexBytes('a16161f5'))), '00000004a16161f5')
  const message = patterned(0x0102, 1)
  const frame = encodeFrame(message)
  t.equal(toHex(frame.subarray(0, 4)), '00000102', '258 bytes: 00 00 01 02')
  t.equal(toHex(frame.subarray(4)), toHex(message))
  t.equal(frame.byteLength, 4 + 0x0102)
  t.end()
})

t.test('encodeFrame copies the message into a frame of its own', (t) => {
  const message = hexBytes('0102')
  const frame = encodeFrame(message)
  message[0] = 0xff
  t.equal(toHex(frame), '000000020102')
  t.end()
})

t.test('encodeFrame accepts exactly maxBytes and refuses one byte more', (t) => {
  const largest = encodeFrame(new Uint8Array(MAX_FRAME_BYTES))
  t.equal(toHex(largest.subarray(0, 4)), '00100000')
  t.equal(largest.byteLength, MAX_FRAME_BYTES + 4)
  t.equal(
    caughtCode(() => encodeFrame(new Uint8Array(MAX_FRAME_BYTES + 1))),
    'ERR_FRAME_TOO_LARGE',
  )
  t.throws(() => encodeFrame(new Uint8Array(MAX_FRAME_BYTES + 1)), {
    code: exactCode('ERR_FRAME_TOO_LARGE'),
  })
  t.equal(toHex(encodeFrame(hexBytes('0102'), 2)), '000000020102', 'a custom limit, reached')
  t.equal(
    caughtCode(() => encodeFrame(hexBytes('010203'), 2)),
    'ERR_FRAME_TOO_LARGE',
  )
  t.end()
})

/** Frames whose messages cover 1 byte, a 1-byte CBOR map and a longer message. */
const SMALL_MESSAGES = ['a0', '0102', '030405'].map(hexBytes)
const SMALL_STREAM = hexBytes('00000001a0' + '000000020102' + '00000003030405')

t.test('the reader yields the same frames for every chunking of a small stream', (t) => {
  const expected = SMALL_MESSAGES.map(toHex)
  const cutPoints = SMALL_STREAM.byteLength - 1 // 17 places to cut: 2^17 chunkings
  let chunkings = 0
  const failures: string[] = []
  for (let mask = 0; mask < 1 << cutPoints; mask += 1) {
    const cuts: number[] = []
    for (let bit = 0; bit < cutPoints; bit += 1) if (mask & (1 << bit)) cuts.push(bit + 1)
    const reader = createFrameReader()
    const frames = readAll(reader, cut(SMALL_STREAM, cuts))
    if (frames.join(',') !== expected.join(',') || reader.buffered !== 0) {
      failures.push(cuts.join(' '))
    }
    chunkings += 1
  }
  t.equal(chunkings, 131072)
  t.same(failures, [], 'no chunking loses, splits or reorders a frame')
  t.end()
})

t.test('the reader yields the same frames when a larger stream is cut at any one offset', (t) => {
  const messages = [patterned(1, 3), patterned(300, 5), patterned(2, 9), patterned(600, 11)]
  const stream = Buffer.concat(messages.map((message) => encodeFrame(message)))
  const expected = messages.map(toHex).join(',')
  const failures: number[] = []
  for (let offset = 0; offset <= stream.byteLength; offset += 1) {
    const reader = createFrameReader()
    const first = reader.push(stream.subarray(0, offset))
    const second = reader.push(stream.subarray(offset))
    if ([...first, ...second].map(toHex).join(',') !== expected || reader.buffered !== 0) {
      failures.push(offset)
    }
  }
  t.same(failures, [], 'every one of the offsets')
  t.end()
})

t.test('the reader yields frames fed one byte at a time', (t) => {
  const reader = createFrameReader()
  const frames: string[] = []
  for (const byte of SMALL_STREAM) frames.push(...reader.push(Uint8Array.of(byte)).map(toHex))
  t.same(frames, SMALL_MESSAGES.map(toHex))
  t.end()
})

t.test('the reader yields many frames from one chunk, in order', (t) => {
  const messages = Array.from({ length: 1000 }, (_, index) => patterned((index % 17) + 1, index))
  const reader = createFrameReader()
  const frames = reader.push(Buffer.concat(messages.map((message) => encodeFrame(message))))
  t.equal(frames.length, 1000)
  t.same(frames.map(toHex), messages.map(toHex))
  t.equal(reader.buffered, 0)
  t.end()
})

t.test('an empty chunk yields nothing and changes nothing', (t) => {
  const reader = createFrameReader()
  t.same(reader.push(new Uint8Array(0)), [])
  t.equal(reader.buffered, 0)
  t.same(reader.push(hexBytes('0000')), [])
  t.same(reader.push(new Uint8Array(0)), [])
  t.equal(reader.buffered, 2)
  t.same(reader.push(hexBytes('0001a0')).map(toHex), ['a0'])
  t.end()
})

t.test('buffered counts the bytes received that do not yet make a whole frame', (t) => {
  const reader = createFrameReader()
  t.equal(reader.buffered, 0, 'nothing received')
  t.same(reader.push(hexBytes('0000')), [])
  t.equal(reader.buffered, 2, 'half a header')
  t.same(reader.push(hexBytes('0003')), [])
  t.equal(reader.buffered, 4, 'a whole header, no body')
  t.same(reader.push(hexBytes('0102')), [])
  t.equal(reader.buffered, 6, 'a header and part of its body')
  t.same(reader.push(hexBytes('03' + '000000')).map(toHex), ['010203'])
  t.equal(reader.buffered, 3, 'the next header, begun')
  t.same(reader.push(hexBytes('01ff' + '00000002aa')).map(toHex), ['ff'])
  t.equal(reader.buffered, 5, 'a header and one byte of a 2-byte body')
  t.same(reader.push(hexBytes('bb')).map(toHex), ['aabb'])
  t.equal(reader.buffered, 0, 'everything delivered')
  t.end()
})

t.test('a header over the limit is refused as soon as its 4 bytes arrive', (t) => {
  const reader = createFrameReader()
  t.same(reader.push(hexBytes('ffffff')), [], 'three bytes are not yet a header')
  t.equal(reader.buffered, 3)
  // No body byte has arrived: the refusal cannot have waited for (or allocated) 4 GiB.
  t.equal(
    caughtCode(() => reader.push(hexBytes('ff'))),
    'ERR_FRAME_TOO_LARGE',
  )
  t.throws(() => createFrameReader().push(hexBytes('ffffffff')), {
    code: exactCode('ERR_FRAME_TOO_LARGE'),
  })
  t.end()
})

t.test('the default limit: 1 MiB announced is awaited, 1 MiB + 1 refused', (t) => {
  const reader = createFrameReader()
  t.same(reader.push(hexBytes('00100000')), [])
  t.equal(reader.buffered, 4)
  t.equal(
    caughtCode(() => createFrameReader().push(hexBytes('00100001'))),
    'ERR_FRAME_TOO_LARGE',
  )
  t.end()
})

t.test('a frame after complete ones is refused even when they share a chunk', (t) => {
  const reader = createFrameReader()
  t.equal(
    caughtCode(() => reader.push(hexBytes('00000001a0' + '7fffffff'))),
    'ERR_FRAME_TOO_LARGE',
  )
  t.end()
})

t.test('a custom maxBytes is the limit for the reader', (t) => {
  const reader = createFrameReader(3)
  t.same(reader.push(hexBytes('00000003010203')).map(toHex), ['010203'], 'exactly the limit')
  t.equal(
    caughtCode(() => reader.push(hexBytes('00000004'))),
    'ERR_FRAME_TOO_LARGE',
  )
  t.equal(
    caughtCode(() => createFrameReader(0).push(hexBytes('00000001'))),
    'ERR_FRAME_TOO_LARGE',
  )
  t.end()
})

t.test('an empty frame is malformed', (t) => {
  t.equal(
    caughtCode(() => createFrameReader().push(hexBytes('00000000'))),
    'ERR_FRAME_MALFORMED',
  )
  const reader = createFrameReader()
  t.same(reader.push(hexBytes('000000')), [])
  t.throws(() => reader.push(hexBytes('00' + 'a0')), { code: exactCode('ERR_FRAME_MALFORMED') })
  t.end()
})

t.test('frames are copies: later changes to a pushed chunk do not reach them', (t) => {
  const reader = createFrameReader()
  const whole = hexBytes('000000020102' + '00000001a0')
  const frames = reader.push(whole)
  whole.fill(0xee)
  t.same(frames.map(toHex), ['0102', 'a0'])
  const firstHalf = hexBytes('000000030a0b')
  t.same(reader.push(firstHalf), [])
  const [frame] = reader.push(hexBytes('0c'))
  firstHalf.fill(0xee)
  t.equal(frame && toHex(frame), '0a0b0c', 'a frame joined from two chunks')
  t.equal(frame?.byteOffset, 0, 'a frame owns its buffer')
  t.equal(frame?.buffer.byteLength, 3)
  t.end()
})

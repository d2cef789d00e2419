/** Length-prefixed frames: a 4-byte big-endian length, then that many bytes of one message. */

import { concatBytes } from '../bytes/bytes.js'
import { CloisterError } from '../errors/cloister-error.js'

export const FRAME_HEADER_BYTES = 4 // uint32, big-endian
export const MAX_FRAME_BYTES = 1 << 20 // 1 MiB: the largest message either side accepts

/**
 * The frame carrying `message`.
 *
 * @throws {CloisterError} `ERR_FRAME_TOO_LARGE` when `message` exceeds `maxBytes`.
 */
export function encodeFrame(message: Uint8Array, maxBytes = MAX_FRAME_BYTES): Uint8Array {
  if (message.byteLength > maxBytes) throw new CloisterError('ERR_FRAME_TOO_LARGE')
  const frame = new Uint8Array(FRAME_HEADER_BYTES + message.byteLength)
  new DataView(frame.buffer).setUint32(0, message.byteLength)
  frame.set(message, FRAME_HEADER_BYTES)
  return frame
}

/** Splits a byte stream into frames, whatever the chunking. */
export interface FrameReader {
  /**
   * Adds `chunk` and returns every frame it completes, in order.
   *
   * @throws {CloisterError} `ERR_FRAME_TOO_LARGE` as soon as a header announces more than the
   *   limit (before anything is allocated for it), `ERR_FRAME_MALFORMED` for an empty frame. The
   *   stream cannot be resynchronised after either: the caller closes the connection.
   */
  push(chunk: Uint8Array): Uint8Array[]
  /** Bytes received that do not yet make a whole frame. */
  readonly buffered: number
}

/** A reader that accepts frames of at most `maxBytes`. */
export function createFrameReader(maxBytes = MAX_FRAME_BYTES): FrameReader {
  let chunks: Uint8Array[] = []
  let buffered = 0
  /** The first `count` buffered bytes, removed from the buffer. */
  const take = (count: number): Uint8Array => {
    const joined = chunks.length === 1 ? (chunks[0] as Uint8Array) : concatBytes(chunks)
    chunks = joined.byteLength > count ? [joined.subarray(count)] : []
    buffered -= count
    return joined.subarray(0, count)
  }
  let expected: number | undefined
  return {
    push(chunk) {
      if (chunk.byteLength > 0) {
        chunks.push(chunk)
        buffered += chunk.byteLength
      }
      const frames: Uint8Array[] = []
      for (;;) {
        if (expected === undefined) {
          if (buffered < FRAME_HEADER_BYTES) return frames
          const header = take(FRAME_HEADER_BYTES)
          const length = new DataView(header.buffer, header.byteOffset, 4).getUint32(0)
          if (length > maxBytes) throw new CloisterError('ERR_FRAME_TOO_LARGE')
          if (length === 0) throw new CloisterError('ERR_FRAME_MALFORMED')
          expected = length
        }
        if (buffered < expected) return frames
        frames.push(take(expected).slice()) // a copy: the frame outlives the stream buffers
        expected = undefined
      }
    },
    get buffered() {
      // A header already read still belongs to the incomplete frame.
      return expected === undefined ? buffered : FRAME_HEADER_BYTES + buffered
    },
  }
}

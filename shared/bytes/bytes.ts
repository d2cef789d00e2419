/** Byte helpers over `Uint8Array`: hex, base64, comparison and concatenation. */

import { timingSafeEqual } from 'node:crypto'

const HEX_PATTERN = /^(?:[0-9a-fA-F]{2})*$/

/** Lower-case hex of `bytes`. */
export function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex')
}

/** Bytes of an even-length hex string (either case); `undefined` when it is not hex. */
export function fromHex(text: string): Uint8Array | undefined {
  if (!HEX_PATTERN.test(text)) return undefined
  return new Uint8Array(Buffer.from(text, 'hex'))
}

/** Standard base64 of `bytes`. */
export function toBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64')
}

/** A plain `Uint8Array` view of a Node `Buffer` (or any byte view), without copying. */
export function asBytes(view: ArrayBufferView): Uint8Array {
  return new Uint8Array(view.buffer, view.byteOffset, view.byteLength)
}

/** Whether two byte strings are equal, in time independent of where they differ. */
export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.byteLength === b.byteLength && timingSafeEqual(a, b)
}

/** Whether every byte of `bytes` is zero. */
export function isAllZero(bytes: Uint8Array): boolean {
  for (const byte of bytes) if (byte !== 0) return false
  return true
}

/** The concatenation of `parts` as one new array. */
export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  let length = 0
  for (const part of parts) length += part.byteLength
  const out = new Uint8Array(length)
  let offset = 0
  for (const part of parts) {
    out.set(part, offset)
    offset += part.byteLength
  }
  return out
}

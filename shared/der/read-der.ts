/** A minimal DER reader (ITU-T X.690 §8.1, §10.1): splits bytes into tag-length-value elements. */

import { CloisterError } from '../errors/cloister-error.js'
import type { ErrorCode } from '../errors/catalog.js'

/** One DER element: its identifier octet and its content bytes (a view, not a copy). */
export interface DerElement {
  readonly tag: number
  readonly content: Uint8Array
}

// X.690 §8.1.2.4: identifier octets with all five low bits set continue in further octets.
const HIGH_TAG_NUMBER = 0x1f
// X.690 §10.1: DER uses the definite form; 0x80 would be the indefinite form.
const LONG_LENGTH = 0x80
const MAX_LENGTH_OCTETS = 4

/**
 * Reads consecutive DER elements that exactly fill `bytes`. Only single-octet tags and definite
 * lengths of at most four octets are accepted: X.509 needs nothing more.
 *
 * @throws {CloisterError} `errorCode` for anything else, or when a length runs past the input.
 */
export function readDerElements(bytes: Uint8Array, errorCode: ErrorCode): DerElement[] {
  const elements: DerElement[] = []
  let position = 0
  const next = (): number => {
    const byte = bytes[position]
    if (byte === undefined) throw new CloisterError(errorCode)
    position += 1
    return byte
  }
  while (position < bytes.byteLength) {
    const tag = next()
    if ((tag & HIGH_TAG_NUMBER) === HIGH_TAG_NUMBER) throw new CloisterError(errorCode)
    let length = next()
    if (length & LONG_LENGTH) {
      const octets = length & ~LONG_LENGTH
      if (octets === 0 || octets > MAX_LENGTH_OCTETS) throw new CloisterError(errorCode)
      length = 0
      for (let index = 0; index < octets; index += 1) length = length * 256 + next()
      // X.690 §10.1: DER uses the fewest length octets, so no leading zero and no long form below 128.
      if (length < LONG_LENGTH || length < 2 ** (8 * (octets - 1)))
        throw new CloisterError(errorCode)
    }
    if (length > bytes.byteLength - position) throw new CloisterError(errorCode)
    elements.push({ tag, content: bytes.subarray(position, position + length) })
    position += length
  }
  return elements
}

/** The single DER element that fills `bytes`. */
export function readDerElement(bytes: Uint8Array, errorCode: ErrorCode): DerElement {
  const elements = readDerElements(bytes, errorCode)
  const [only] = elements
  if (only === undefined || elements.length !== 1) throw new CloisterError(errorCode)
  return only
}

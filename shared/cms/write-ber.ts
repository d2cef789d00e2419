/** Encodes BER elements in the definite and indefinite length forms (ITU-T X.690 §8.1.3). */

import { concatBytes } from '../bytes/bytes.js'

/** X.690 §8.1.3.6.1: the length octet of the indefinite form. */
const INDEFINITE_LENGTH = 0x80
/** X.690 §8.1.5: the end-of-contents octets that close an indefinite form. */
const END_OF_CONTENTS = Uint8Array.of(0x00, 0x00)

/**
 * One element with a definite length in the fewest octets (X.690 §8.1.3.4 short form below 128,
 * §8.1.3.5 long form above), as AWS writes every element that is not indefinite.
 *
 * @example
 * ```ts
 * writeDefinite(0x02, Uint8Array.of(2)) // 02 01 02
 * ```
 */
export function writeDefinite(identifier: number, content: Uint8Array): Uint8Array {
  return concatBytes([Uint8Array.of(identifier, ...definiteLength(content.byteLength)), content])
}

/**
 * One constructed element of indefinite length: the identifier, 0x80, the children, then the two
 * end-of-contents octets (X.690 §8.1.3.6).
 */
export function writeIndefinite(identifier: number, children: readonly Uint8Array[]): Uint8Array {
  return concatBytes([Uint8Array.of(identifier, INDEFINITE_LENGTH), ...children, END_OF_CONTENTS])
}

function definiteLength(length: number): number[] {
  if (length < INDEFINITE_LENGTH) return [length]
  const octets: number[] = []
  for (let rest = length; rest > 0; rest = Math.floor(rest / 256)) octets.unshift(rest % 256)
  return [INDEFINITE_LENGTH | octets.length, ...octets]
}

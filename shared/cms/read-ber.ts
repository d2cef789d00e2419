/** A bounded BER reader (ITU-T X.690 §8) that splits untrusted bytes into a tree of elements. */

import { concatBytes } from '../bytes/bytes.js'
import { CloisterError } from '../errors/cloister-error.js'
import { CONSTRUCTED, OCTET_STRING } from './ber-identifiers.js'

/** One BER element: its identifier octet, its content (a view into the input) and its children. */
export interface BerElement {
  /** X.690 §8.1.2: the identifier octet (class, constructed bit, tag number below 31). */
  readonly identifier: number
  /** X.690 §8.1.2.5: whether the element uses the constructed form. */
  readonly constructed: boolean
  /** X.690 §8.1.3.6: whether the length was indefinite, ended by end-of-contents octets. */
  readonly indefinite: boolean
  /** The content octets, without the end-of-contents octets of the indefinite form. */
  readonly content: Uint8Array
  /** The elements inside a constructed element, in order; empty for a primitive one. */
  readonly children: readonly BerElement[]
}

/** The largest input read, in bytes. */
export const MAX_BER_BYTES = 1 << 20 // 1 MiB: 229 times the largest real KMS response (4,573 B)
/** The deepest nesting below the outermost element: AWS's envelope uses 10; each is a stack frame. */
export const MAX_BER_DEPTH = 32
/** The most elements in one input: 1 MiB of content in 64-byte segments (AWS cuts 1,000 bytes). */
export const MAX_BER_ELEMENTS = 16_384

/** X.690 §8.1.2.4: a tag number of 31 or more continues in further identifier octets. */
const HIGH_TAG_NUMBER = 0x1f
/** X.690 §8.1.3.6.1: the single length octet 0x80 announces the indefinite form. */
const INDEFINITE_LENGTH = 0x80
/** Four length octets reach 2^32 - 1, past {@link MAX_BER_BYTES}; 0xff is reserved (§8.1.3.5 c). */
const MAX_LENGTH_OCTETS = 4

interface Budget {
  elements: number
}

/** An element read from the start of some bytes, with the number of bytes it took. */
interface Read {
  /** `undefined` for end-of-contents octets. */
  readonly element: BerElement | undefined
  readonly size: number
}

function malformed(): CloisterError {
  return new CloisterError('ERR_CMS_MALFORMED')
}

/**
 * Reads the one BER element that fills `bytes` (X.690 §8.1): definite and indefinite lengths,
 * primitive and constructed forms. Lengths are checked against the bytes present before anything
 * is taken, and contents are views into `bytes`, never allocations of a declared size.
 *
 * @throws {CloisterError} `ERR_CMS_TOO_LARGE` past {@link MAX_BER_BYTES}, {@link MAX_BER_DEPTH} or
 *   {@link MAX_BER_ELEMENTS}; `ERR_CMS_UNSUPPORTED` for a tag number of 31 or more;
 *   `ERR_CMS_MALFORMED` for anything else that is not BER. No other exception escapes.
 * @example
 * ```ts
 * const contentInfo = readBer(bytes)
 * const [contentType, content] = contentInfo.children
 * ```
 */
export function readBer(bytes: Uint8Array): BerElement {
  if (bytes.byteLength > MAX_BER_BYTES) throw new CloisterError('ERR_CMS_TOO_LARGE')
  const { element, size } = readElement(bytes, 0, { elements: 0 }, false)
  if (element === undefined || size !== bytes.byteLength) throw malformed()
  return element
}

/**
 * The octets of an OCTET STRING, or of a type implicitly tagged from it, in either form: the
 * content of the primitive form (a view), or the segments of the constructed form joined into a
 * new array (X.690 §8.7.3.2: each segment is itself an OCTET STRING, primitive or constructed).
 *
 * @throws {CloisterError} `ERR_CMS_MALFORMED` when a segment is not an OCTET STRING.
 */
export function readBerOctets(element: BerElement): Uint8Array {
  if (!element.constructed) return element.content
  const segments: Uint8Array[] = []
  collectSegments(element, segments)
  // The segments are views into the input, so their total is already bounded by MAX_BER_BYTES.
  return concatBytes(segments)
}

function collectSegments(element: BerElement, segments: Uint8Array[]): void {
  for (const segment of element.children) {
    if ((segment.identifier & ~CONSTRUCTED) !== OCTET_STRING) throw malformed()
    if (segment.constructed) collectSegments(segment, segments)
    else segments.push(segment.content)
  }
}

function readElement(
  bytes: Uint8Array,
  depth: number,
  budget: Budget,
  inIndefinite: boolean,
): Read {
  let position = 0
  const next = (): number => {
    const byte = bytes[position]
    if (byte === undefined) throw malformed()
    position += 1
    return byte
  }
  const identifier = next()
  if ((identifier & HIGH_TAG_NUMBER) === HIGH_TAG_NUMBER) {
    throw new CloisterError('ERR_CMS_UNSUPPORTED')
  }
  const constructed = (identifier & CONSTRUCTED) !== 0
  const first = next()
  // X.690 §8.1.5: end-of-contents is exactly two zero octets, and only inside an indefinite form;
  // universal tag number 0 is reserved for it (X.680 §8.6, Table 1).
  if ((identifier & ~CONSTRUCTED) === 0) {
    if (identifier === 0 && first === 0 && inIndefinite) return { element: undefined, size: 2 }
    throw malformed()
  }
  budget.elements += 1
  if (depth > MAX_BER_DEPTH || budget.elements > MAX_BER_ELEMENTS) {
    throw new CloisterError('ERR_CMS_TOO_LARGE')
  }
  if (first === INDEFINITE_LENGTH) {
    // X.690 §8.1.3.2 a: only the constructed form may use the indefinite length.
    if (!constructed) throw malformed()
    return readIndefinite(bytes, position, identifier, depth, budget)
  }
  let length = first
  if (first > INDEFINITE_LENGTH) {
    const octets = first & ~INDEFINITE_LENGTH
    if (octets > MAX_LENGTH_OCTETS) throw malformed()
    length = 0
    // X.690 §8.1.3.5: BER, unlike DER, lets the long form carry leading zero octets.
    for (let index = 0; index < octets; index += 1) length = length * 256 + next()
  }
  if (length > bytes.byteLength - position) throw malformed()
  const content = bytes.subarray(position, position + length)
  const children = constructed ? readChildren(content, depth + 1, budget) : []
  return {
    element: { identifier, constructed, indefinite: false, content, children },
    size: position + length,
  }
}

/** X.690 §8.1.1 c: the elements of a definite constructed content, which they fill exactly. */
function readChildren(content: Uint8Array, depth: number, budget: Budget): BerElement[] {
  const children: BerElement[] = []
  let offset = 0
  while (offset < content.byteLength) {
    const { element, size } = readElement(content.subarray(offset), depth, budget, false)
    // readElement returns end-of-contents only inside an indefinite form.
    children.push(element as BerElement)
    offset += size
  }
  return children
}

/** X.690 §8.1.3.6: elements up to the end-of-contents octets that close an indefinite form. */
function readIndefinite(
  bytes: Uint8Array,
  start: number,
  identifier: number,
  depth: number,
  budget: Budget,
): Read {
  const rest = bytes.subarray(start)
  const children: BerElement[] = []
  let offset = 0
  for (;;) {
    const { element, size } = readElement(rest.subarray(offset), depth + 1, budget, true)
    offset += size
    if (element === undefined) {
      const content = rest.subarray(0, offset - 2)
      return {
        element: { identifier, constructed: true, indefinite: true, content, children },
        size: start + offset,
      }
    }
    children.push(element)
  }
}

/** The Concat KDF that turns an ECDH-ES shared secret into a content-encryption key (RFC 7518 §4.6.2). */

import { createHash } from 'node:crypto'

/** The inputs of one {@link concatKdf} derivation. */
export interface ConcatKdfOptions {
  /** Z: the ECDH shared secret, the x-coordinate as a fixed-length octet string. */
  readonly sharedSecret: Uint8Array
  /** keydatalen: the length of the derived key in bits, a positive multiple of 8. */
  readonly keyDataLengthBits: number
  /** AlgorithmID: the `enc` value for direct agreement, the `alg` value with key wrapping. */
  readonly algorithmId: string
  /** PartyUInfo: the decoded `apu`; empty when absent. */
  readonly partyUInfo?: Uint8Array
  /** PartyVInfo: the decoded `apv`; empty when absent. */
  readonly partyVInfo?: Uint8Array
}

const HASH_BYTES = 32 // SHA-256, the hash RFC 7518 §4.6.2 fixes
/** A 32-bit round counter would allow more; no JOSE algorithm needs more than 512 bits. */
export const MAX_KEY_DATA_LENGTH_BITS = 8 * 1024

const textEncoder = new TextEncoder()

/**
 * NIST SP 800-56A Rev. 2 §5.8.1 single-step KDF with SHA-256, as RFC 7518 §4.6.2 profiles it:
 * `K(i) = SHA-256(counter_i ‖ Z ‖ OtherInfo)` for i = 1, 2, … with a 32-bit big-endian counter,
 * where `OtherInfo = AlgorithmID ‖ PartyUInfo ‖ PartyVInfo ‖ SuppPubInfo` and the first three are
 * each prefixed with their 32-bit big-endian length, SuppPubInfo is keydatalen as 32 bits and
 * SuppPrivInfo is empty. The key is the leftmost keydatalen bits of `K(1) ‖ K(2) ‖ …`.
 *
 * @throws {RangeError} for a key length that is not a positive multiple of 8 up to
 *   {@link MAX_KEY_DATA_LENGTH_BITS} (a programming error).
 * @example
 * ```ts
 * const cek = concatKdf({ sharedSecret: z, keyDataLengthBits: 256, algorithmId: 'A256GCM' })
 * ```
 */
export function concatKdf(options: ConcatKdfOptions): Uint8Array {
  const bits = options.keyDataLengthBits
  if (!Number.isInteger(bits) || bits <= 0 || bits % 8 !== 0 || bits > MAX_KEY_DATA_LENGTH_BITS) {
    throw new RangeError('keyDataLengthBits must be a positive multiple of 8')
  }
  const otherInfo = Buffer.concat([
    lengthPrefixed(textEncoder.encode(options.algorithmId)),
    lengthPrefixed(options.partyUInfo ?? new Uint8Array(0)),
    lengthPrefixed(options.partyVInfo ?? new Uint8Array(0)),
    uint32(bits), // SuppPubInfo: keydatalen, in bits
  ])
  const keyBytes = bits / 8
  const out = new Uint8Array(keyBytes)
  for (let round = 1, offset = 0; offset < keyBytes; round += 1, offset += HASH_BYTES) {
    const digest = createHash('sha256')
      .update(uint32(round))
      .update(options.sharedSecret)
      .update(otherInfo)
      .digest()
    out.set(digest.subarray(0, Math.min(HASH_BYTES, keyBytes - offset)), offset)
    digest.fill(0) // key material: keep no copy beyond the output
  }
  return out
}

function uint32(value: number): Uint8Array {
  const bytes = new Uint8Array(4)
  new DataView(bytes.buffer).setUint32(0, value)
  return bytes
}

/** RFC 7518 §4.6.2: each of AlgorithmID, PartyUInfo and PartyVInfo is `Datalen ‖ Data`. */
function lengthPrefixed(data: Uint8Array): Uint8Array {
  return Buffer.concat([uint32(data.byteLength), data])
}

/** Raw (r‖s) ECDSA signature verification that answers true or false and never throws. */

import { verify, type KeyObject } from 'node:crypto'
import type { CoseEcdsaAlgorithm } from './algorithms.js'

/**
 * Whether `signature` (raw r‖s, RFC 9053 §2.1) is a valid `algorithm` signature of `data` under
 * `publicKey`. High-S signatures are valid: Nitro does not normalise s (SOURCES.md), so low-S is
 * never enforced. A key on another curve, a wrong-size signature or any OpenSSL error is `false`.
 */
export function verifyEcdsaRaw(
  algorithm: CoseEcdsaAlgorithm,
  publicKey: KeyObject,
  data: Uint8Array,
  signature: Uint8Array,
): boolean {
  if (signature.byteLength !== algorithm.signatureBytes) return false
  if (publicKey.asymmetricKeyDetails?.namedCurve !== algorithm.curve) return false
  try {
    return verify(algorithm.hash, data, { key: publicKey, dsaEncoding: 'ieee-p1363' }, signature)
  } catch {
    // OpenSSL rejects some malformed values by throwing rather than returning false.
    return false
  }
}

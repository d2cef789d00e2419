/** Raw (r‖s) ECDSA signature verification that answers true or false and never throws. */

import { verify, type KeyObject } from 'node:crypto'
import type { CoseEcdsaAlgorithm } from './algorithms.js'

/** The curve of each public key already probed, so the probe costs once per `KeyObject`. */
const probedCurves = new WeakMap<KeyObject, string | undefined>()

/**
 * Whether `signature` (raw r‖s, RFC 9053 §2.1) is a valid `algorithm` signature of `data` under
 * `publicKey`. High-S signatures are valid: Nitro does not normalise s (SOURCES.md), so low-S is
 * never enforced. A key on another curve or not public, a wrong-size signature or any OpenSSL error
 * is `false`.
 */
export function verifyEcdsaRaw(
  algorithm: CoseEcdsaAlgorithm,
  publicKey: KeyObject,
  data: Uint8Array,
  signature: Uint8Array,
): boolean {
  if (signature.byteLength !== algorithm.signatureBytes) return false
  try {
    if (curveOf(publicKey) !== algorithm.curve) return false
    return verify(algorithm.hash, data, { key: publicKey, dsaEncoding: 'ieee-p1363' }, signature)
  } catch {
    // The probe below throws for keys OpenSSL cannot use; verify itself may throw for others.
    return false
  }
}

/**
 * The named curve of a public EC key. Node 20 aborts the whole process when it reads the details
 * of an EC key at the point at infinity (which an unverified certificate may carry) and crashes
 * verifying with it; exporting such a key throws instead, so export first. Private and secret keys
 * throw here too. Only keys that pass are remembered.
 */
function curveOf(publicKey: KeyObject): string | undefined {
  if (probedCurves.has(publicKey)) return probedCurves.get(publicKey)
  publicKey.export({ format: 'der', type: 'spki' })
  const curve = publicKey.asymmetricKeyDetails?.namedCurve
  probedCurves.set(publicKey, curve)
  return curve
}

/**
 * Records the curve of `publicKey` for a caller that has already seen its encoding: an uncompressed
 * point of exactly that curve's size (SEC 1 §2.3.3), which cannot be the point at infinity. Spares
 * the export probe in {@link verifyEcdsaRaw}.
 */
export function vouchForCurve(publicKey: KeyObject, curve: string): void {
  probedCurves.set(publicKey, curve)
}

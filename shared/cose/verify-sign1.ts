/** Verifies a decoded COSE_Sign1 signature under a given public key. */

import type { KeyObject } from 'node:crypto'
import { CloisterError } from '../errors/cloister-error.js'
import type { Sign1 } from './decode-sign1.js'
import { buildSigStructure } from './sig-structure.js'
import { verifyEcdsaRaw } from './verify-ecdsa.js'

/**
 * Checks `sign1.signature` over the RFC 9052 §4.4 Sig_structure built from the bytes as received.
 * The unprotected header is not signed and plays no part.
 *
 * @throws {CloisterError} `ERR_COSE_SIGNATURE` when the signature does not verify (including a key
 *   on another curve than the algorithm's).
 * @example
 * ```ts
 * verifySign1(decodeSign1(bytes), publicKey)
 * ```
 */
export function verifySign1(
  sign1: Sign1,
  publicKey: KeyObject,
  externalAad: Uint8Array = new Uint8Array(0),
): void {
  const toBeSigned = buildSigStructure(sign1.protectedBytes, sign1.payload, externalAad)
  if (!verifyEcdsaRaw(sign1.algorithm, publicKey, toBeSigned, sign1.signature)) {
    throw new CloisterError('ERR_COSE_SIGNATURE')
  }
}

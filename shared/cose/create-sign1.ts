/** Creates a COSE_Sign1 message, as an NSM does when it signs an attestation document. */

import { sign, type KeyObject } from 'node:crypto'
import { CborTagged, type CborKey, type CborValue } from '../cbor/cbor-value.js'
import { encodeCbor } from '../cbor/encode.js'
import { asBytes } from '../bytes/bytes.js'
import { COSE_ALG_ES384, findCoseAlgorithm } from './algorithms.js'
import { buildSigStructure } from './sig-structure.js'

export interface CreateSign1Options {
  readonly payload: Uint8Array
  readonly privateKey: KeyObject
  /** COSE `alg`; ES384 by default. */
  readonly alg?: number
  /** Unprotected header; empty by default, as the NSM writes it. */
  readonly unprotectedHeader?: ReadonlyMap<CborKey, CborValue>
  /** Wrap in tag 18; the NSM does not (nsm-api issue #7), so untagged by default. */
  readonly tagged?: boolean
}

/**
 * Signs `payload` into `[h'a1 01 38 22', {}, payload, r‖s]` (for ES384), the exact shape of a real
 * NSM attestation document, which starts `84 44 a1 01 38 22 a0 59`.
 *
 * @throws {TypeError} for an algorithm Cloister does not implement (a programming error).
 */
export function createSign1(options: CreateSign1Options): Uint8Array {
  const alg = options.alg ?? COSE_ALG_ES384
  const algorithm = findCoseAlgorithm(alg)
  if (algorithm === undefined) throw new TypeError(`unsupported COSE algorithm ${String(alg)}`)
  const protectedBytes = encodeCbor(new Map([[1, alg]]))
  const toBeSigned = buildSigStructure(protectedBytes, options.payload)
  const signature = asBytes(
    sign(algorithm.hash, toBeSigned, { key: options.privateKey, dsaEncoding: 'ieee-p1363' }),
  )
  const message: CborValue = [
    protectedBytes,
    options.unprotectedHeader ?? new Map(),
    options.payload,
    signature,
  ]
  return encodeCbor(options.tagged === true ? new CborTagged(18, message) : message)
}

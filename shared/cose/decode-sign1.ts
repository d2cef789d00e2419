/** Decodes an untrusted COSE_Sign1 message (RFC 9052 §4.2) into its parts without verifying it. */

import { decodeStrict } from '../cbor/decode-strict.js'
import {
  CborTagged,
  isCborArray,
  isCborBytes,
  isCborMap,
  type CborMap,
} from '../cbor/cbor-value.js'
import { CloisterError } from '../errors/cloister-error.js'
import { findCoseAlgorithm, type CoseEcdsaAlgorithm } from './algorithms.js'

/** A decoded COSE_Sign1, keeping the protected header and payload bytes as received. */
export interface Sign1 {
  /** Whether the message came wrapped in tag 18. */
  readonly tagged: boolean
  /** The protected header bstr's content, exactly as received: the Sig_structure signs these bytes. */
  readonly protectedBytes: Uint8Array
  readonly protectedHeader: CborMap
  readonly unprotectedHeader: CborMap
  readonly payload: Uint8Array
  readonly signature: Uint8Array
  readonly algorithm: CoseEcdsaAlgorithm
  /** The COSE `alg` value from the protected header. */
  readonly alg: number
}

export interface DecodeSign1Options {
  /** Largest message accepted, in bytes. */
  readonly maxBytes?: number
  /** Refuse any `alg` but this one (checked before the signature size, so it names the cause). */
  readonly requiredAlgorithm?: number
}

const COSE_SIGN1_TAG = 18 // RFC 9052 §2
const HEADER_ALG = 1 // RFC 9052 §3.1
const HEADER_CRIT = 2

/**
 * Decodes `bytes` as a COSE_Sign1 `[protected, unprotected, payload, signature]`, untagged or in
 * tag 18. The algorithm must sit in the protected header (a verifier must not trust an unsigned
 * `alg`), `crit` is refused (Cloister understands no extension header), and the signature must be
 * the raw r‖s size of the algorithm (so DER signatures are refused, RFC 9053 §2.1).
 *
 * @throws {CloisterError} `ERR_CBOR_*`, `ERR_COSE_MALFORMED`, `ERR_COSE_TAG`, `ERR_COSE_ALGORITHM`,
 *   `ERR_COSE_HEADER` or `ERR_COSE_SIGNATURE_FORMAT`.
 */
export function decodeSign1(bytes: Uint8Array, options: DecodeSign1Options = {}): Sign1 {
  let message = decodeStrict(bytes, {
    allowTopLevelTag: true,
    ...(options.maxBytes === undefined ? {} : { maxBytes: options.maxBytes }),
  })
  const tagged = message instanceof CborTagged
  if (message instanceof CborTagged) {
    if (message.tag !== COSE_SIGN1_TAG) throw new CloisterError('ERR_COSE_TAG')
    message = message.value
  }
  if (!isCborArray(message) || message.length !== 4) throw new CloisterError('ERR_COSE_MALFORMED')
  const [protectedBytes, unprotected, payload, signature] = message
  if (
    !isCborBytes(protectedBytes) ||
    unprotected === undefined ||
    !isCborMap(unprotected) ||
    !isCborBytes(payload) ||
    !isCborBytes(signature)
  ) {
    throw new CloisterError('ERR_COSE_MALFORMED')
  }
  const protectedHeader = decodeProtectedHeader(protectedBytes)
  for (const label of protectedHeader.keys()) {
    // RFC 9052 §3: a label must not appear in both buckets.
    if (unprotected.has(label)) throw new CloisterError('ERR_COSE_HEADER')
  }
  if (protectedHeader.has(HEADER_CRIT) || unprotected.has(HEADER_CRIT)) {
    throw new CloisterError('ERR_COSE_HEADER')
  }
  const alg = protectedHeader.get(HEADER_ALG)
  const algorithm = findCoseAlgorithm(alg)
  if (algorithm === undefined || typeof alg !== 'number') {
    throw new CloisterError('ERR_COSE_ALGORITHM')
  }
  if (options.requiredAlgorithm !== undefined && alg !== options.requiredAlgorithm) {
    throw new CloisterError('ERR_COSE_ALGORITHM')
  }
  if (signature.byteLength !== algorithm.signatureBytes) {
    throw new CloisterError('ERR_COSE_SIGNATURE_FORMAT')
  }
  return {
    tagged,
    protectedBytes,
    protectedHeader,
    unprotectedHeader: unprotected,
    payload,
    signature,
    algorithm,
    alg,
  }
}

/** RFC 9052 §3: a zero-length protected bstr stands for the empty map. */
function decodeProtectedHeader(bytes: Uint8Array): CborMap {
  if (bytes.byteLength === 0) return new Map()
  const header = decodeStrict(bytes, { maxBytes: bytes.byteLength })
  if (!isCborMap(header)) throw new CloisterError('ERR_COSE_MALFORMED')
  return header
}

/** The COSE_Sign1 Sig_structure: the exact bytes a Sign1 signature covers. */

import { encodeCbor } from '../cbor/encode.js'

const EMPTY = new Uint8Array(0)

/**
 * RFC 9052 §4.4: `Sig_structure = ["Signature1", body_protected, external_aad, payload]`, built from
 * the protected header and payload bytes exactly as received, never re-encoded.
 */
export function buildSigStructure(
  protectedBytes: Uint8Array,
  payload: Uint8Array,
  externalAad: Uint8Array = EMPTY,
): Uint8Array {
  return encodeCbor(['Signature1', protectedBytes, externalAad, payload])
}

/** The COSE ECDSA algorithms Cloister understands, with their hash, curve and raw signature size. */

/** One COSE ECDSA algorithm (RFC 9053 §2.1). */
export interface CoseEcdsaAlgorithm {
  readonly name: 'ES256' | 'ES384' | 'ES512'
  /** Node's name for the hash. */
  readonly hash: 'sha256' | 'sha384' | 'sha512'
  /** Node's `namedCurve` for the key. */
  readonly curve: 'prime256v1' | 'secp384r1' | 'secp521r1'
  /** Length of r‖s: twice the curve's byte size (RFC 9053 §2.1). */
  readonly signatureBytes: number
}

/** COSE algorithm identifier for ES384, the only one Nitro uses (attestation_process.md §3.1). */
export const COSE_ALG_ES384 = -35

const ALGORITHMS: ReadonlyMap<number, CoseEcdsaAlgorithm> = new Map([
  [-7, { name: 'ES256', hash: 'sha256', curve: 'prime256v1', signatureBytes: 64 }],
  [COSE_ALG_ES384, { name: 'ES384', hash: 'sha384', curve: 'secp384r1', signatureBytes: 96 }],
  [-36, { name: 'ES512', hash: 'sha512', curve: 'secp521r1', signatureBytes: 132 }], // 2 × 66
])

/** The algorithm for a COSE `alg` value, or `undefined` when Cloister does not support it. */
export function findCoseAlgorithm(alg: unknown): CoseEcdsaAlgorithm | undefined {
  return typeof alg === 'number' ? ALGORITHMS.get(alg) : undefined
}

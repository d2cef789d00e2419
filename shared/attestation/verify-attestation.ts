/** Verifies that bytes are an authentic Nitro attestation document, signed by a pinned chain. */

import { COSE_ALG_ES384 } from '../cose/algorithms.js'
import { buildSigStructure } from '../cose/sig-structure.js'
import { decodeSign1 } from '../cose/decode-sign1.js'
import { verifyEcdsaRaw } from '../cose/verify-ecdsa.js'
import { CloisterError } from '../errors/cloister-error.js'
import { parseAttestationPayload, type AttestationDocument } from './attestation-document.js'
import type { CertificateCache } from './certificate-cache.js'
import { assertInstant } from './instant.js'
import { AWS_NITRO_ROOTS, type TrustedRoots } from './trusted-roots.js'
import { inspectChain, verifyChainLinks, type ChainLink } from './verify-certificate-chain.js'

export const MAX_ATTESTATION_BYTES = 64 * 1024 // 64 KiB; real documents are 4–6 KiB

export interface VerifyAttestationOptions {
  /** The instant, ms since the epoch, at which every certificate must be valid. */
  readonly now: number
  /** Root pins; the AWS Nitro root G1 by default. */
  readonly trustedRoots?: TrustedRoots
  /** Certificates already verified; without one, every call verifies all five signatures. */
  readonly cache?: CertificateCache
}

/**
 * Checks authenticity only (attestation_process.md §3.2): strict COSE_Sign1 with exactly
 * `{1: -35}` protected and nothing unprotected, the payload schema, the chain to a pinned root at
 * `now`, and the ES384 signature by the leaf. Whether the document is *acceptable* (PCRs, debug,
 * age, nonce, key) is {@link checkAttestationPolicy}'s decision, made separately.
 *
 * The document signature is checked before the chain's: a forged document costs one ECDSA
 * verification, not five. Cached and uncached calls run the same checks in the same order.
 *
 * @throws {CloisterError} an `ERR_CBOR_*`, `ERR_COSE_*` or `ERR_ATTESTATION_*` code.
 * @example
 * ```ts
 * const document = verifyAttestation(bytes, { now: Date.now(), cache })
 * checkAttestationPolicy(document, { pcrs: [{ 0: pcr0 }] }, Date.now())
 * ```
 */
export function verifyAttestation(
  bytes: Uint8Array,
  options: VerifyAttestationOptions,
): AttestationDocument {
  assertInstant(options.now)
  if (bytes.byteLength > MAX_ATTESTATION_BYTES) throw new CloisterError('ERR_ATTESTATION_TOO_LARGE')
  const sign1 = decodeSign1(bytes, {
    maxBytes: MAX_ATTESTATION_BYTES,
    requiredAlgorithm: COSE_ALG_ES384,
  })
  // attestation_process.md §3.2.1: protected is exactly {1: -35}; unprotected is empty.
  if (sign1.protectedHeader.size !== 1 || sign1.unprotectedHeader.size !== 0) {
    throw new CloisterError('ERR_COSE_HEADER')
  }
  const document = parseAttestationPayload(sign1.payload)
  const links = inspectChain(document.cabundle, document.certificate, {
    now: options.now,
    trustedRoots: options.trustedRoots ?? AWS_NITRO_ROOTS,
    cache: options.cache,
  })
  // The schema guarantees a non-empty cabundle, so the chain has a root and a leaf.
  const leaf = links[links.length - 1] as ChainLink
  const toBeSigned = buildSigStructure(sign1.protectedBytes, sign1.payload)
  if (!verifyEcdsaRaw(sign1.algorithm, leaf.facts.publicKey, toBeSigned, sign1.signature)) {
    throw new CloisterError('ERR_ATTESTATION_SIGNATURE')
  }
  verifyChainLinks(links, options.cache)
  return document
}

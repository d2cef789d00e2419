/** Attestation policy: whether an authentic document is acceptable, decided fail-closed. */

import { createPublicKey } from 'node:crypto'
import { equalBytes } from '../bytes/bytes.js'
import { CloisterError } from '../errors/cloister-error.js'
import { assertInstant } from './instant.js'
import {
  isDebugDocument,
  MAX_PCR_INDEX,
  PCR_BYTES,
  type AttestationDocument,
} from './attestation-document.js'

/** Expected values for some PCR indexes; a document matches when every listed PCR is equal. */
export type PcrSet = ReadonlyMap<number, Uint8Array>

/** The kind of `public_key` a document must carry. */
export type PublicKeyRequirement =
  /** A DER SubjectPublicKeyInfo of an RSA key of at least 2048 bits (the KMS `Recipient` kind). */
  | 'rsa-spki'
  /** A DER SubjectPublicKeyInfo of an EC key. */
  | 'ec-spki'
  /** Any non-empty value (real documents carry raw keys that are not DER). */
  | 'present'

export interface AttestationPolicy {
  /**
   * Allowed measurements: the document must match at least one set. `'any'` accepts every
   * measurement and is refused by {@link assertReleasePolicy}; an empty list accepts nothing.
   */
  readonly pcrs: readonly PcrSet[] | 'any'
  /** Accept documents from enclaves in debug mode (PCR0–2 zero). Refused unless `true`. */
  readonly allowDebug?: boolean
  /** Largest accepted `now - timestamp`, in ms; no age limit when absent. */
  readonly maxAgeMs?: number
  /** Largest accepted `timestamp - now`, in ms (clock skew); {@link DEFAULT_MAX_FUTURE_SKEW_MS}. */
  readonly maxFutureSkewMs?: number
  /** The nonce the document must carry, byte for byte. */
  readonly nonce?: Uint8Array
  readonly publicKey?: PublicKeyRequirement
}

/** One minute: the NSM and the verifier normally share a clock, so skew should be small. */
export const DEFAULT_MAX_FUTURE_SKEW_MS = 60_000
const MIN_RSA_BITS = 2048

/**
 * Checks an authentic document (see `verifyAttestation`) against `policy` at instant `now` (ms).
 * Checks run in a fixed order: debug, PCRs, age, skew, nonce, public key.
 *
 * @throws {CloisterError} `ERR_ATTESTATION_DEBUG`, `…_PCR_MISMATCH`, `…_STALE`, `…_FUTURE`,
 *   `…_NONCE_MISMATCH`, `…_PUBLIC_KEY`, or `ERR_POLICY_INVALID` for an unusable policy.
 * @example
 * ```ts
 * checkAttestationPolicy(document, { pcrs: [new Map([[0, pcr0]])], maxAgeMs: 300_000 }, Date.now())
 * ```
 */
export function checkAttestationPolicy(
  document: AttestationDocument,
  policy: AttestationPolicy,
  now: number,
): void {
  assertInstant(now)
  assertPolicyWellFormed(policy)
  if (policy.allowDebug !== true && isDebugDocument(document)) {
    throw new CloisterError('ERR_ATTESTATION_DEBUG')
  }
  if (policy.pcrs !== 'any' && !policy.pcrs.some((set) => matchesPcrSet(document, set))) {
    throw new CloisterError('ERR_ATTESTATION_PCR_MISMATCH')
  }
  if (policy.maxAgeMs !== undefined && now - document.timestamp > policy.maxAgeMs) {
    throw new CloisterError('ERR_ATTESTATION_STALE')
  }
  if (document.timestamp - now > (policy.maxFutureSkewMs ?? DEFAULT_MAX_FUTURE_SKEW_MS)) {
    throw new CloisterError('ERR_ATTESTATION_FUTURE')
  }
  if (
    policy.nonce !== undefined &&
    (document.nonce === null || !equalBytes(document.nonce, policy.nonce))
  ) {
    throw new CloisterError('ERR_ATTESTATION_NONCE_MISMATCH')
  }
  if (policy.publicKey !== undefined && !hasPublicKeyOfKind(document, policy.publicKey)) {
    throw new CloisterError('ERR_ATTESTATION_PUBLIC_KEY')
  }
}

/**
 * A policy fit to decide a release of data or keys: it pins measurements (a non-empty list of
 * non-empty sets), refuses debug enclaves and bounds the document's age. "No PCRs configured"
 * never means "accept".
 *
 * @throws {CloisterError} `ERR_POLICY_INVALID` otherwise.
 */
export function assertReleasePolicy(policy: AttestationPolicy): void {
  assertPolicyWellFormed(policy)
  if (
    policy.pcrs === 'any' ||
    policy.pcrs.length === 0 ||
    policy.allowDebug === true ||
    policy.maxAgeMs === undefined
  ) {
    throw new CloisterError('ERR_POLICY_INVALID')
  }
}

function assertPolicyWellFormed(policy: AttestationPolicy): void {
  const sets = policy.pcrs === 'any' ? [] : policy.pcrs
  for (const set of sets) {
    // An empty set would match every document: refuse it rather than accept everything.
    if (set.size === 0) throw new CloisterError('ERR_POLICY_INVALID')
    for (const [index, value] of set) {
      if (!Number.isInteger(index) || index < 0 || index > MAX_PCR_INDEX) {
        throw new CloisterError('ERR_POLICY_INVALID')
      }
      if (value.byteLength !== PCR_BYTES) throw new CloisterError('ERR_POLICY_INVALID')
    }
  }
  // An empty expected nonce would match every document that carries an empty one: no freshness.
  if (policy.nonce?.byteLength === 0) throw new CloisterError('ERR_POLICY_INVALID')
  for (const bound of [policy.maxAgeMs, policy.maxFutureSkewMs]) {
    if (bound !== undefined && !(Number.isFinite(bound) && bound >= 0)) {
      throw new CloisterError('ERR_POLICY_INVALID')
    }
  }
}

function matchesPcrSet(document: AttestationDocument, set: PcrSet): boolean {
  for (const [index, expected] of set) {
    const actual = document.pcrs.get(index)
    if (actual === undefined || !equalBytes(actual, expected)) return false
  }
  return true
}

function hasPublicKeyOfKind(document: AttestationDocument, kind: PublicKeyRequirement): boolean {
  const bytes = document.publicKey
  if (bytes === null || bytes.byteLength === 0) return false
  if (kind === 'present') return true
  try {
    const key = createPublicKey({ key: Buffer.from(bytes), format: 'der', type: 'spki' })
    // Re-export before any use: OpenSSL accepts an EC point at infinity on import, and Node 20
    // aborts the process when such a key is used; the export throws for it instead.
    key.export({ format: 'der', type: 'spki' })
    if (kind === 'ec-spki') return key.asymmetricKeyType === 'ec'
    // Node reports modulusLength and publicExponent for every RSA key. An even or tiny exponent
    // (e = 1 leaves the "ciphertext" equal to the plaintext) is not a usable encryption key.
    const details = key.asymmetricKeyDetails as { modulusLength: number; publicExponent: bigint }
    return (
      key.asymmetricKeyType === 'rsa' &&
      details.modulusLength >= MIN_RSA_BITS &&
      details.publicExponent >= 3n &&
      details.publicExponent % 2n === 1n
    )
  } catch {
    return false // not DER SPKI: real documents carry raw keys (SOURCES.md), which are not this kind
  }
}

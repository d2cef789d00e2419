/** The release policy of a brokered key, with its one canonical CBOR encoding. */

import { MAX_RELEASE_POLICY_BYTES } from '../../shared/protocol/ops.js'
import type { PcrSet } from '../../shared/attestation/attestation-policy.js'
import { MAX_PCR_INDEX, PCR_BYTES } from '../../shared/attestation/attestation-document.js'
import { equalBytes, isAllZero } from '../../shared/bytes/bytes.js'
import { isCborMap, type CborValue } from '../../shared/cbor/cbor-value.js'
import { decodeStrict } from '../../shared/cbor/decode-strict.js'
import { encodeCbor } from '../../shared/cbor/encode.js'
import { CloisterError } from '../../shared/errors/cloister-error.js'
import {
  boolField,
  bytesField,
  listField,
  pcrMapField,
  readBody,
  uintField,
} from '../../shared/protocol/body-fields.js'

/** Who may receive a key: the measurements, signer, freshness and nonce its release requires. */
export interface ReleasePolicy {
  /** Allowed measurements: the document must match every PCR of at least one set. */
  readonly pcrs: readonly PcrSet[]
  /** The image signer's PCR8 (SHA-384 of the signing certificate, nitro-cli), when required. */
  readonly signerPcr8?: Uint8Array
  /** Largest accepted age of the document, `now - timestamp`, in ms. */
  readonly maxAgeMs: number
  /** Release only against a nonce this enclave issued (see `createChallenges`). */
  readonly requireNonce: boolean
}

export const MAX_PCR_SETS = 16
/** A set holds at most one value per PCR index, 0 to 31. */
export const MAX_PCRS_PER_SET = MAX_PCR_INDEX + 1
export const MAX_RELEASE_AGE_MS = 3_600_000 // 1 hour
/** The protocol's limit on an encoded policy (`keys.create`, `keys.load`). */
export { MAX_RELEASE_POLICY_BYTES }
const MAX_POLICY_DEPTH = 3 // map → pcrs array → PCR map

/** PCR0–2 all zero is how the NSM reports an enclave in debug mode (nitro-cli `--debug-mode`). */
const DEBUG_PCR_INDEXES = [0, 1, 2]

function invalid(): never {
  throw new CloisterError('ERR_RELEASE_POLICY_INVALID')
}

/**
 * Checks that `policy` can decide a release: 1 to {@link MAX_PCR_SETS} sets of 1 to
 * {@link MAX_PCRS_PER_SET} PCRs each (index 0–31, 48-byte values), no set that pins PCR0, PCR1 or
 * PCR2 to zeros (that would admit debug enclaves, whose memory the parent can read), a 48-byte
 * non-zero `signerPcr8` when present (zero is an unsigned image, not a signer), and an integer
 * `maxAgeMs` from 1 to {@link MAX_RELEASE_AGE_MS}.
 *
 * @throws {CloisterError} `ERR_RELEASE_POLICY_INVALID`.
 */
export function assertValidReleasePolicy(policy: ReleasePolicy): void {
  const { pcrs, signerPcr8, maxAgeMs } = policy
  if (pcrs.length === 0 || pcrs.length > MAX_PCR_SETS) invalid()
  for (const set of pcrs) assertValidPcrSet(set)
  if (signerPcr8 !== undefined && (signerPcr8.byteLength !== PCR_BYTES || isAllZero(signerPcr8))) {
    invalid()
  }
  if (!Number.isSafeInteger(maxAgeMs) || maxAgeMs < 1 || maxAgeMs > MAX_RELEASE_AGE_MS) invalid()
}

function assertValidPcrSet(set: PcrSet): void {
  // An empty set would match every document: refuse it rather than accept everything. A Map holds
  // each index once, so the index range also bounds the size by MAX_PCRS_PER_SET.
  if (set.size === 0) invalid()
  for (const [index, value] of set) {
    if (!Number.isInteger(index) || index < 0 || index > MAX_PCR_INDEX) invalid()
    if (value.byteLength !== PCR_BYTES) invalid()
    if (DEBUG_PCR_INDEXES.includes(index) && isAllZero(value)) invalid()
  }
}

/**
 * The canonical bytes of `policy`, so that their SHA-256 can bind the policy into a KMS
 * EncryptionContext: a CBOR map in RFC 8949 §4.2.1 core deterministic encoding (shortest heads,
 * definite lengths, keys in bytewise order of their encodings), that is
 * `{"pcrs": [{index: bstr(48), …}, …], "max_age_ms": uint, "signer_pcr8": bstr(48),
 * "require_nonce": bool}` with `signer_pcr8` left out when not required, and each set's PCRs in
 * ascending index order. The sets keep their order: it is part of the policy as written.
 *
 * @throws {CloisterError} `ERR_RELEASE_POLICY_INVALID` for a policy that
 *   {@link assertValidReleasePolicy} refuses: an invalid policy never gets bytes to be trusted by.
 * @example
 * ```ts
 * const bytes = encodeReleasePolicy({ pcrs: [new Map([[0, pcr0]])], maxAgeMs: 300_000, requireNonce: true })
 * const context = { policy: createHash('sha256').update(bytes).digest('hex') }
 * ```
 */
export function encodeReleasePolicy(policy: ReleasePolicy): Uint8Array {
  assertValidReleasePolicy(policy)
  const sets = policy.pcrs.map((set) => new Map([...set].sort(([a], [b]) => a - b)))
  const fields = new Map<string, CborValue>([
    ['pcrs', sets],
    ['max_age_ms', policy.maxAgeMs],
  ])
  if (policy.signerPcr8 !== undefined) fields.set('signer_pcr8', policy.signerPcr8)
  fields.set('require_nonce', policy.requireNonce)
  return encodeCbor(fields)
}

/**
 * Reads bytes that {@link encodeReleasePolicy} wrote: strict CBOR, exactly the four fields with
 * their types, a policy {@link assertValidReleasePolicy} accepts, and the canonical encoding byte
 * for byte (re-encoding must give the same bytes), so one policy has one digest.
 *
 * @throws {CloisterError} `ERR_RELEASE_POLICY_INVALID` for any problem, undecodable CBOR included.
 * @example
 * ```ts
 * const policy = decodeReleasePolicy(storedBytes)
 * ```
 */
export function decodeReleasePolicy(bytes: Uint8Array): ReleasePolicy {
  let value: CborValue
  try {
    value = decodeStrict(bytes, { maxBytes: MAX_RELEASE_POLICY_BYTES, maxDepth: MAX_POLICY_DEPTH })
  } catch {
    invalid() // one code for every defect: the CBOR detail helps no caller
  }
  if (!isCborMap(value)) invalid()
  const fields = readBody(
    value,
    {
      required: {
        pcrs: listField(pcrMapField, MAX_PCR_SETS),
        max_age_ms: uintField,
        require_nonce: boolField,
      },
      optional: { signer_pcr8: bytesField(PCR_BYTES) },
    },
    'ERR_RELEASE_POLICY_INVALID',
  )
  const signerPcr8 = fields.signer_pcr8 as Uint8Array | undefined
  const policy: ReleasePolicy = {
    pcrs: fields.pcrs as readonly PcrSet[],
    ...(signerPcr8 === undefined ? {} : { signerPcr8 }),
    maxAgeMs: fields.max_age_ms as number,
    requireNonce: fields.require_nonce as boolean,
  }
  // Validates too: encodeReleasePolicy refuses what assertValidReleasePolicy refuses.
  if (!equalBytes(encodeReleasePolicy(policy), bytes)) invalid()
  return policy
}

/** Releases a key to attested, measured code, encrypted to the public key its attestation document carries. */

import { createPublicKey, type KeyObject } from 'node:crypto'
import { checkAttestationPolicy } from '../../shared/attestation/attestation-policy.js'
import type { CertificateCache } from '../../shared/attestation/certificate-cache.js'
import type { TrustedRoots } from '../../shared/attestation/trusted-roots.js'
import { verifyAttestation } from '../../shared/attestation/verify-attestation.js'
import { equalBytes } from '../../shared/bytes/bytes.js'
import { createEnvelopedData, type RandomBytes } from '../../shared/cms/create-enveloped-data.js'
import { CloisterError } from '../../shared/errors/cloister-error.js'
import { encryptJweEcdhEs, isEcdhEsRecipientKey } from '../../shared/jose/encrypt-jwe-ecdh-es.js'
import type { Challenges } from './challenges.js'
import { assertValidReleasePolicy, type ReleasePolicy } from './release-policy.js'

/** What a peer enclave asks for: a key, against its attestation document. */
export interface ReleaseRequest {
  /** The peer's attestation document (COSE_Sign1), carrying the key to encrypt to. */
  readonly document: Uint8Array
  /** The challenge nonce the peer put in its document, from {@link Challenges.issue}. */
  readonly nonce?: Uint8Array
  /** The key to release, as this enclave holds it (already unwrapped from KMS). */
  readonly keyBytes: Uint8Array
  readonly policy: ReleasePolicy
}

/** What the enclave brings: its clock reading, trust anchors, and issued challenges. */
export interface ReleaseContext {
  /** The instant of the decision, ms since the epoch. */
  readonly now: number
  readonly trustedRoots: TrustedRoots
  readonly cache: CertificateCache
  readonly challenges: Challenges
  /** Draws the content key and IV (CMS) or the IV (JWE); node:crypto's by default. */
  readonly random?: RandomBytes
}

/** The released key's envelope, with the verified facts the audit record needs. */
export interface ReleasedKey {
  readonly moduleId: string
  /** PCR0: the image measurement, KMS's `ImageSha384` (48 bytes). */
  readonly pcr0: Uint8Array
  /** The document's timestamp, ms since the epoch. */
  readonly timestamp: number
  /** `cms` for an RSA recipient (KMS `CiphertextForRecipient` shape), `jwe` for an EC one. */
  readonly format: 'cms' | 'jwe'
  /** The CMS EnvelopedData bytes, or the UTF-8 bytes of the JWE Compact Serialization. */
  readonly envelope: Uint8Array
}

const MIN_RSA_BITS = 2048

/**
 * Decides, fail-closed, whether the enclave that produced `request.document` may have
 * `request.keyBytes`, and if so encrypts them to the document's `public_key` (DESIGN.md §4, key
 * release). Checks run in this order, each with its own code:
 *
 * 1. the release policy is valid (`ERR_RELEASE_POLICY_INVALID`);
 * 2. the document is authentic under `trustedRoots` at `now` (`verifyAttestation`'s codes);
 * 3. the nonce: required by the policy (`ERR_RELEASE_NONCE_REQUIRED`), equal to the document's
 *    (`ERR_ATTESTATION_NONCE_MISMATCH`), then consumed (`ERR_RELEASE_NONCE_UNKNOWN`, `…_REUSED`);
 * 4. no debug mode, PCRs in the allow-list, age within `maxAgeMs` (`checkAttestationPolicy`'s
 *    `ERR_ATTESTATION_DEBUG`, `…_PCR_MISMATCH`, `…_STALE`, `…_FUTURE`, in that order), and a
 *    PCR0 for the audit to name the image by (`ERR_ATTESTATION_PCR_MISMATCH` without one);
 * 5. PCR8 equal to `signerPcr8` when the policy names a signer (`ERR_RELEASE_SIGNER_MISMATCH`);
 * 6. a usable public key (`ERR_RELEASE_PUBLIC_KEY_MISSING`, `…_UNSUPPORTED`): a DER
 *    SubjectPublicKeyInfo (RFC 5280 §4.1.2.7) of an RSA key of at least 2048 bits gets CMS
 *    EnvelopedData as KMS writes it (RFC 5652 §6, RSAES-OAEP-SHA-256); one of an EC key on P-256,
 *    P-384 or P-521 gets a compact JWE with ECDH-ES and A256GCM (RFC 7516 §7.1, RFC 7518 §4.6).
 *
 * @throws {CloisterError} the codes above; no error ever carries key bytes.
 * @example
 * ```ts
 * const released = releaseKey(
 *   { document, nonce, keyBytes, policy },
 *   { now: clock(), trustedRoots: AWS_NITRO_ROOTS, cache, challenges },
 * )
 * ```
 */
export function releaseKey(request: ReleaseRequest, context: ReleaseContext): ReleasedKey {
  const { policy, nonce } = request
  const { now } = context
  assertValidReleasePolicy(policy)
  const document = verifyAttestation(request.document, {
    now,
    trustedRoots: context.trustedRoots,
    cache: context.cache,
  })

  if (nonce === undefined) {
    if (policy.requireNonce) throw new CloisterError('ERR_RELEASE_NONCE_REQUIRED')
  } else {
    if (document.nonce === null || !equalBytes(document.nonce, nonce)) {
      throw new CloisterError('ERR_ATTESTATION_NONCE_MISMATCH')
    }
    // Consumed before the policy checks below, so a refused attempt burns the nonce too: one
    // challenge buys one decision. Otherwise the parent, which relays every byte, could keep a
    // refused document and replay it once circumstances change (a policy update adding its PCRs,
    // a clock step), or probe the policy with the same fresh nonce again and again.
    context.challenges.consume(nonce)
  }

  // checkAttestationPolicy checks debug before PCRs: a debug document gets ERR_ATTESTATION_DEBUG.
  checkAttestationPolicy(
    document,
    { pcrs: policy.pcrs, allowDebug: false, maxAgeMs: policy.maxAgeMs },
    now,
  )
  // The NSM always reports PCR0; a release must name the image it went to, even when the policy
  // pins other PCRs only.
  const pcr0 = document.pcrs.get(0)
  if (pcr0 === undefined) throw new CloisterError('ERR_ATTESTATION_PCR_MISMATCH')
  if (policy.signerPcr8 !== undefined) {
    const pcr8 = document.pcrs.get(8)
    if (pcr8 === undefined || !equalBytes(pcr8, policy.signerPcr8)) {
      throw new CloisterError('ERR_RELEASE_SIGNER_MISMATCH')
    }
  }

  const recipient = readRecipientKey(document.publicKey)
  const random = context.random === undefined ? {} : { random: context.random }
  const envelope =
    recipient.format === 'cms'
      ? createEnvelopedData({
          plaintext: request.keyBytes,
          recipientPublicKey: recipient.key,
          ...random,
        })
      : new TextEncoder().encode(
          encryptJweEcdhEs({
            plaintext: request.keyBytes,
            recipientPublicKey: recipient.key,
            ...random,
          }),
        )
  return {
    moduleId: document.moduleId,
    pcr0,
    timestamp: document.timestamp,
    format: recipient.format,
    envelope,
  }
}

interface RecipientKey {
  readonly format: 'cms' | 'jwe'
  readonly key: KeyObject
}

/** The document's public key and the envelope it gets, or the reason it gets none. */
function readRecipientKey(bytes: Uint8Array | null): RecipientKey {
  if (bytes === null || bytes.byteLength === 0) {
    throw new CloisterError('ERR_RELEASE_PUBLIC_KEY_MISSING')
  }
  let key: KeyObject
  try {
    key = createPublicKey({ key: Buffer.from(bytes), format: 'der', type: 'spki' })
    // Re-export before any use: OpenSSL accepts an EC point at infinity on import, and Node 20
    // aborts the process when such a key is used (even its details read); the export throws instead.
    key.export({ format: 'der', type: 'spki' })
  } catch {
    // Not DER SPKI: real documents may carry raw keys (SOURCES.md), which we cannot encrypt to.
    throw new CloisterError('ERR_RELEASE_PUBLIC_KEY_UNSUPPORTED')
  }
  if (key.asymmetricKeyType === 'rsa') {
    // An even or tiny exponent (e = 1 leaves the "ciphertext" equal to the plaintext) is not an
    // encryption key; Node reports modulusLength and publicExponent for every RSA key.
    const details = key.asymmetricKeyDetails as { modulusLength: number; publicExponent: bigint }
    if (
      details.modulusLength >= MIN_RSA_BITS &&
      details.publicExponent >= 3n &&
      details.publicExponent % 2n === 1n
    ) {
      return { format: 'cms', key }
    }
  } else if (isEcdhEsRecipientKey(key)) {
    return { format: 'jwe', key }
  }
  throw new CloisterError('ERR_RELEASE_PUBLIC_KEY_UNSUPPORTED')
}

/** Attested `Recipient` requests: verify the enclave's document, then encrypt the answer to its key. */

import { createPublicKey } from 'node:crypto'
import { checkAttestationPolicy } from '../../../shared/attestation/attestation-policy.js'
import type { AttestationDocument } from '../../../shared/attestation/attestation-document.js'
import type { CertificateCache } from '../../../shared/attestation/certificate-cache.js'
import type { TrustedRoots } from '../../../shared/attestation/trusted-roots.js'
import { verifyAttestation } from '../../../shared/attestation/verify-attestation.js'
import { toHex } from '../../../shared/bytes/bytes.js'
import { createEnvelopedData } from '../../../shared/cms/create-enveloped-data.js'
import { CloisterError } from '../../../shared/errors/cloister-error.js'
import type { ContextValue } from '../policy/request-context.js'

/** What a verified `Recipient` brings: the document and the policy keys it sets. */
export interface VerifiedRecipient {
  readonly document: AttestationDocument
  /** `kms:RecipientAttestation:ImageSha384` (PCR0) and `kms:RecipientAttestation:PCR<N>`. */
  readonly context: ReadonlyMap<string, ContextValue>
}

/** Where documents may chain to, and the cache that makes repeated ones cheap. */
export interface RecipientVerifier {
  readonly trustedRoots: TrustedRoots
  readonly cache: CertificateCache
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/

/**
 * Reads and verifies `Recipient {AttestationDocument, KeyEncryptionAlgorithm}` (AWS KMS "How
 * Nitro Enclaves use AWS KMS"): the document must be authentic at `now` under the trusted roots
 * and carry an RSA SubjectPublicKeyInfo of at least 2048 bits as `public_key`. Whether this enclave
 * may have the key is the key policy's decision, over the condition keys returned here; a debug
 * enclave reports zero PCRs, which a measurement-pinned policy never matches.
 *
 * @throws {CloisterError} `ERR_KMS_VALIDATION` for a malformed field or an unsupported algorithm,
 *   `ERR_KMS_INVALID_RECIPIENT` for a document that is not authentic or has no usable key.
 */
export function verifyRecipient(
  recipient: unknown,
  verifier: RecipientVerifier,
  now: number,
): VerifiedRecipient {
  if (typeof recipient !== 'object' || recipient === null || Array.isArray(recipient)) {
    throw new CloisterError('ERR_KMS_VALIDATION')
  }
  const { AttestationDocument: encoded, KeyEncryptionAlgorithm: algorithm } = recipient as Record<
    string,
    unknown
  >
  if (algorithm !== 'RSAES_OAEP_SHA_256' || typeof encoded !== 'string' || !BASE64.test(encoded)) {
    throw new CloisterError('ERR_KMS_VALIDATION')
  }
  let document: AttestationDocument
  try {
    document = verifyAttestation(new Uint8Array(Buffer.from(encoded, 'base64')), {
      now,
      trustedRoots: verifier.trustedRoots,
      cache: verifier.cache,
    })
    checkAttestationPolicy(document, { pcrs: 'any', allowDebug: true, publicKey: 'rsa-spki' }, now)
  } catch {
    throw new CloisterError('ERR_KMS_INVALID_RECIPIENT')
  }
  const context = new Map<string, ContextValue>()
  for (const [index, value] of document.pcrs) {
    context.set(`kms:RecipientAttestation:PCR${String(index)}`, toHex(value))
  }
  // ImageSha384 is PCR0. A document without PCR0 sets no such key, and a policy that requires it
  // (the default enclave policy denies when it is absent) refuses the request.
  const pcr0 = document.pcrs.get(0)
  if (pcr0 !== undefined) context.set('kms:RecipientAttestation:ImageSha384', toHex(pcr0))
  return { document, context }
}

/** `plaintext` as a BER CMS EnvelopedData to the document's RSA key: `CiphertextForRecipient`. */
export function encryptForRecipient(recipient: VerifiedRecipient, plaintext: Uint8Array): string {
  const recipientPublicKey = createPublicKey({
    key: Buffer.from(recipient.document.publicKey as Uint8Array), // rsa-spki was required above
    format: 'der',
    type: 'spki',
  })
  return Buffer.from(createEnvelopedData({ plaintext, recipientPublicKey })).toString('base64')
}

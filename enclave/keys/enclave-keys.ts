/** The enclave's own key pairs, made at boot and never leaving enclave memory. */

import { generateKeyPairSync, type KeyObject } from 'node:crypto'
import { asBytes } from '../../shared/bytes/bytes.js'

/** The keys the enclave's attestation documents vouch for. */
export interface EnclaveKeys {
  /** RSA-2048: what KMS encrypts to (`Recipient`, RSAES_OAEP_SHA_256). */
  readonly recipient: KeyObject
  /** Its SubjectPublicKeyInfo, DER: the document's `public_key`. */
  readonly recipientSpki: Uint8Array
  /** P-384 ECDH: what clients encrypt to (JWE ECDH-ES). */
  readonly agreement: KeyObject
  readonly agreementSpki: Uint8Array
}

/** Fresh key pairs from the platform's CSPRNG. */
export function generateEnclaveKeys(): EnclaveKeys {
  const recipient = generateKeyPairSync('rsa', { modulusLength: 2048 })
  const agreement = generateKeyPairSync('ec', { namedCurve: 'P-384' })
  const spki = (key: KeyObject) => asBytes(key.export({ format: 'der', type: 'spki' }))
  return {
    recipient: recipient.privateKey,
    recipientSpki: spki(recipient.publicKey),
    agreement: agreement.privateKey,
    agreementSpki: spki(agreement.publicKey),
  }
}

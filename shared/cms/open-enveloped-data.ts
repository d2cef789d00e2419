/** Decrypts a CMS EnvelopedData addressed to one RSA private key (RFC 5652 §6.2.1, §6.3). */

import { constants, createDecipheriv, privateDecrypt, type KeyObject } from 'node:crypto'
import { asBytes, equalBytes } from '../bytes/bytes.js'
import { CloisterError } from '../errors/cloister-error.js'
import { readEnvelopedData } from './read-enveloped-data.js'

/**
 * Reads `bytes` with {@link readEnvelopedData}, unwraps the content-encryption key with
 * RSAES-OAEP-SHA-256 (RFC 8017 §7.1.2) and decrypts the content with AES-256-CBC, removing the
 * PKCS #7 padding (RFC 5652 §6.3). With `expectedKeyId`, the rid must name that key.
 *
 * Every failure after parsing is the one code `ERR_CMS_DECRYPT`, whichever step failed. Still, the
 * content is not authenticated: whoever can reach the KMS response could substitute an envelope of
 * their own, and whoever can submit altered envelopes and see success or failure holds a CBC
 * padding oracle on the content. The bytes must reach this function over a channel that ends in
 * the caller, as the enclave's TLS to KMS does (DESIGN.md §1).
 *
 * @throws {CloisterError} `ERR_CMS_MALFORMED`, `ERR_CMS_UNSUPPORTED` or `ERR_CMS_TOO_LARGE` from
 *   parsing; `ERR_CMS_DECRYPT` for a wrong key, a rid mismatch, a key that is not 32 bytes, or bad
 *   padding. No other exception escapes.
 * @example
 * ```ts
 * const plaintext = openEnvelopedData(ciphertextForRecipient, privateKey, keyId)
 * ```
 */
export function openEnvelopedData(
  bytes: Uint8Array,
  privateKey: KeyObject,
  expectedKeyId?: Uint8Array,
): Uint8Array {
  const envelope = readEnvelopedData(bytes)
  if (expectedKeyId !== undefined && !equalBytes(envelope.recipientKeyId, expectedKeyId)) {
    throw new CloisterError('ERR_CMS_DECRYPT')
  }
  try {
    const contentKey = privateDecrypt(
      { key: privateKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' },
      envelope.encryptedKey,
    )
    try {
      // createDecipheriv refuses a key that is not 32 bytes, like any other failure here.
      const decipher = createDecipheriv('aes-256-cbc', contentKey, envelope.iv)
      return asBytes(Buffer.concat([decipher.update(envelope.encryptedContent), decipher.final()]))
    } finally {
      contentKey.fill(0)
    }
  } catch {
    // Never the dependency's message: which step failed must not be observable (STYLE.md habit 7).
    throw new CloisterError('ERR_CMS_DECRYPT')
  }
}

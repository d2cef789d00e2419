/** Encrypts bytes to one RSA key as CMS EnvelopedData, shaped byte for byte like AWS KMS's `CiphertextForRecipient`. */

import {
  constants,
  createCipheriv,
  createHash,
  publicEncrypt,
  randomBytes,
  type KeyObject,
} from 'node:crypto'
import { asBytes, concatBytes } from '../bytes/bytes.js'
import { CloisterError } from '../errors/cloister-error.js'
import { MAX_BER_BYTES } from './read-ber.js'
import { AES_IV_BYTES } from './read-enveloped-data.js'
import { writeEnvelopedData } from './write-enveloped-data.js'

/** A source of `length` random bytes: node:crypto's by default, a seeded one in tests. */
export type RandomBytes = (length: number) => Uint8Array

/** What {@link createEnvelopedData} encrypts, and to whom. */
export interface CreateEnvelopedDataOptions {
  /** The content; AES-256-CBC with PKCS #7 padding accepts any length, empty included. */
  readonly plaintext: Uint8Array
  /** The recipient's RSA public key, which wraps the content-encryption key with RSAES-OAEP. */
  readonly recipientPublicKey: KeyObject
  /** The rid's subjectKeyIdentifier; by default SHA-256 of the key's SubjectPublicKeyInfo DER. */
  readonly recipientKeyId?: Uint8Array
  /** Draws the content-encryption key (zeroed once wrapped) and the IV; node:crypto by default. */
  readonly random?: RandomBytes
}

/** RFC 3565 §4.1: id-aes256-CBC takes a 256-bit content-encryption key. */
export const CONTENT_KEY_BYTES = 32

/**
 * Encrypts `plaintext` under a fresh AES-256-CBC key and IV (RFC 3565 §4.1, PKCS #7 padding as
 * RFC 5652 §6.3 requires), wraps the key with RSAES-OAEP using SHA-256 and MGF1-SHA-256 (RFC 8017
 * §7.1), and frames the result as AWS KMS does (see {@link writeEnvelopedData}). The key wrap
 * draws its own seed inside OpenSSL, so only the content-encryption key and IV follow `random`.
 *
 * @throws {TypeError} when the key is not an RSA public key (a programming error).
 * @throws {CloisterError} `ERR_CMS_TOO_LARGE` when the result would exceed the
 *   {@link MAX_BER_BYTES} that `readEnvelopedData` accepts (1 MiB).
 * @example
 * ```ts
 * const bytes = createEnvelopedData({ plaintext, recipientPublicKey })
 * const same = openEnvelopedData(bytes, recipientPrivateKey)
 * ```
 */
export function createEnvelopedData(options: CreateEnvelopedDataOptions): Uint8Array {
  const { plaintext, recipientPublicKey } = options
  if (recipientPublicKey.type !== 'public' || recipientPublicKey.asymmetricKeyType !== 'rsa') {
    throw new TypeError('createEnvelopedData needs an RSA public key')
  }
  if (plaintext.byteLength > MAX_BER_BYTES) throw new CloisterError('ERR_CMS_TOO_LARGE')
  const random = options.random ?? systemRandom
  const contentKey = random(CONTENT_KEY_BYTES)
  const iv = random(AES_IV_BYTES)
  const cipher = createCipheriv('aes-256-cbc', contentKey, iv)
  const encryptedContent = concatBytes([cipher.update(plaintext), cipher.final()])
  const encryptedKey = publicEncrypt(
    { key: recipientPublicKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' },
    contentKey,
  )
  // The key lives on only inside the cipher's OpenSSL context and the RSA-wrapped copy.
  contentKey.fill(0)
  const bytes = writeEnvelopedData({
    recipientKeyId: options.recipientKeyId ?? subjectKeyIdOf(recipientPublicKey),
    encryptedKey: asBytes(encryptedKey),
    iv,
    encryptedContent,
  })
  if (bytes.byteLength > MAX_BER_BYTES) throw new CloisterError('ERR_CMS_TOO_LARGE')
  return bytes
}

/** SHA-256 of the key's SubjectPublicKeyInfo DER (RFC 5280 §4.1.2.7). */
function subjectKeyIdOf(publicKey: KeyObject): Uint8Array {
  const spki = publicKey.export({ type: 'spki', format: 'der' })
  return asBytes(createHash('sha256').update(spki).digest())
}

function systemRandom(length: number): Uint8Array {
  return asBytes(randomBytes(length))
}

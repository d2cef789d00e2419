/** The local KMS's ciphertext blob: opaque to clients, authenticated, naming its key and key version. */

import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto'
import { concatBytes } from '../../../shared/bytes/bytes.js'
import { encodeCbor } from '../../../shared/cbor/encode.js'
import { CloisterError } from '../../../shared/errors/cloister-error.js'

/**
 * Layout (all integers big-endian):
 *
 * | offset | bytes | field |
 * | --- | --- | --- |
 * | 0 | 1 | format version, 1 |
 * | 1 | 16 | key id (the UUID of the KMS key, as bytes) |
 * | 17 | 4 | key material version (rotation keeps old versions for decryption) |
 * | 21 | 12 | AES-GCM IV |
 * | 33 | 16 | AES-GCM tag |
 * | 49 | n | AES-256-GCM ciphertext |
 *
 * The AAD is the 33-byte header followed by the encryption context in a canonical form, so a blob
 * opens only under its own key, version and context (AWS: "EncryptionContext … bound as AAD").
 */
export const BLOB_FORMAT = 1
const HEADER_BYTES = 33
const TAG_BYTES = 16
const IV_BYTES = 12
const KEY_ID_BYTES = 16
/** AWS KMS Encrypt takes at most 4096 bytes of plaintext. */
export const MAX_PLAINTEXT_BYTES = 4096

/** An encryption context: string keys to string values, as AWS KMS defines it. */
export type EncryptionContext = Readonly<Record<string, string>>

/** What a blob says about itself before it is opened. */
export interface BlobHeader {
  readonly keyId: Uint8Array
  readonly version: number
}

/** The context as AAD: pairs sorted by key (UTF-16 order), CBOR-encoded, so order never matters. */
export function canonicalContext(context: EncryptionContext): Uint8Array {
  // Object keys are unique, so no two pairs compare equal.
  const pairs = Object.entries(context).sort(([a], [b]) => (a < b ? -1 : 1))
  return encodeCbor(pairs.map(([key, value]) => [key, value]))
}

/**
 * Encrypts `plaintext` under one key material version.
 *
 * @throws {CloisterError} `ERR_KMS_VALIDATION` for an empty or over-long plaintext.
 */
export function sealBlob(options: {
  readonly keyId: Uint8Array
  readonly version: number
  readonly material: Uint8Array
  readonly plaintext: Uint8Array
  readonly context: EncryptionContext
  readonly iv?: Uint8Array
}): Uint8Array {
  const { plaintext } = options
  if (plaintext.byteLength === 0 || plaintext.byteLength > MAX_PLAINTEXT_BYTES) {
    throw new CloisterError('ERR_KMS_VALIDATION')
  }
  const header = new Uint8Array(HEADER_BYTES)
  const view = new DataView(header.buffer)
  header[0] = BLOB_FORMAT
  header.set(options.keyId, 1)
  view.setUint32(1 + KEY_ID_BYTES, options.version)
  const iv = options.iv ?? randomBytes(IV_BYTES)
  header.set(iv, 1 + KEY_ID_BYTES + 4)
  const cipher = createCipheriv('aes-256-gcm', options.material, iv)
  cipher.setAAD(concatBytes([header, canonicalContext(options.context)]))
  const ciphertext = concatBytes([cipher.update(plaintext), cipher.final()])
  return concatBytes([header, cipher.getAuthTag(), ciphertext])
}

/**
 * The key and version a blob names; nothing is trusted until `openBlob` authenticates it.
 *
 * @throws {CloisterError} `ERR_KMS_INVALID_CIPHERTEXT` when the bytes are not a blob.
 */
export function readBlobHeader(blob: Uint8Array): BlobHeader {
  if (blob.byteLength <= HEADER_BYTES + TAG_BYTES || blob[0] !== BLOB_FORMAT) {
    throw new CloisterError('ERR_KMS_INVALID_CIPHERTEXT')
  }
  return {
    keyId: blob.slice(1, 1 + KEY_ID_BYTES),
    version: new DataView(blob.buffer, blob.byteOffset, blob.byteLength).getUint32(
      1 + KEY_ID_BYTES,
    ),
  }
}

/**
 * Decrypts and authenticates a blob with the material of the version it names, under `context`.
 *
 * @throws {CloisterError} `ERR_KMS_INVALID_CIPHERTEXT` for any failure: tampered bytes, another key,
 *   another context (AWS gives the same exception for all of them).
 */
export function openBlob(
  blob: Uint8Array,
  material: Uint8Array,
  context: EncryptionContext,
): Uint8Array {
  readBlobHeader(blob)
  const header = blob.subarray(0, HEADER_BYTES)
  const iv = header.subarray(1 + KEY_ID_BYTES + 4)
  try {
    const decipher = createDecipheriv('aes-256-gcm', material, iv)
    decipher.setAAD(concatBytes([header, canonicalContext(context)]))
    decipher.setAuthTag(blob.subarray(HEADER_BYTES, HEADER_BYTES + TAG_BYTES))
    return concatBytes([decipher.update(blob.subarray(HEADER_BYTES + TAG_BYTES)), decipher.final()])
  } catch {
    throw new CloisterError('ERR_KMS_INVALID_CIPHERTEXT')
  }
}

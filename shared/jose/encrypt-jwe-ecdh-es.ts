/** Encrypts bytes to one EC public key as a compact JWE with ECDH-ES and A256GCM (RFC 7516, RFC 7518). */

import {
  createCipheriv,
  createPublicKey,
  diffieHellman,
  generateKeyPairSync,
  randomBytes,
  type KeyObject,
} from 'node:crypto'
import { CloisterError } from '../errors/cloister-error.js'
import { concatKdf } from './concat-kdf.js'

/** The curves a JWE recipient key may be on (RFC 7518 §6.2.1.1), by their JWK `crv` names. */
export type JweCurve = 'P-256' | 'P-384' | 'P-521'

/** What {@link encryptJweEcdhEs} encrypts, and to whom. */
export interface EncryptJweEcdhEsOptions {
  readonly plaintext: Uint8Array
  /** The recipient's EC public key on P-256, P-384 or P-521. */
  readonly recipientPublicKey: KeyObject
  /**
   * Tests only: the ephemeral private key, on the recipient's curve. By default a fresh key per
   * message: RFC 7518 §4.6 requires it, since with `ECDH-ES` the agreement is the key.
   */
  readonly ephemeralPrivateKey?: KeyObject
  /** Draws the IV; node:crypto's by default. The ephemeral key comes from OpenSSL either way. */
  readonly random?: (length: number) => Uint8Array
}

/** RFC 7518 §5.3: A256GCM takes a 256-bit key, a 96-bit IV and gives a 128-bit tag. */
export const CEK_BITS = 256
export const GCM_IV_BYTES = 12
export const GCM_TAG_BYTES = 16
const ENC = 'A256GCM'

/** Node's names for the curves (OpenSSL short names) to their JWK names. */
const CURVES: ReadonlyMap<string, JweCurve> = new Map([
  ['prime256v1', 'P-256'],
  ['secp384r1', 'P-384'],
  ['secp521r1', 'P-521'],
])

/**
 * Whether {@link encryptJweEcdhEs} accepts `key` as a recipient: an EC public key on P-256, P-384
 * or P-521 (RFC 7518 §6.2.1.1) that is not the point at infinity.
 */
export function isEcdhEsRecipientKey(key: KeyObject): boolean {
  return curveOf(key) !== undefined
}

/**
 * Encrypts `plaintext` for the holder of `recipientPublicKey` and returns the JWE Compact
 * Serialization (RFC 7516 §7.1). Key management is `ECDH-ES` in direct key agreement mode (RFC 7518
 * §4.6): an ephemeral key on the recipient's curve agrees a secret Z with the recipient, and the
 * Concat KDF (§4.6.2, AlgorithmID `A256GCM`, empty PartyUInfo and PartyVInfo, keydatalen 256) turns
 * Z into the content-encryption key, so the JWE Encrypted Key is empty (§4.6). Content encryption is
 * `A256GCM` (§5.3) with the ASCII of the encoded protected header as AAD (RFC 7516 §5.1 step 14).
 * The protected header is exactly `{"alg":"ECDH-ES","enc":"A256GCM","epk":{"kty":"EC","crv",
 * "x","y"}}`. Z and the content-encryption key are zeroed before returning.
 *
 * @throws {CloisterError} `ERR_JWE_UNSUPPORTED_KEY` when the recipient key is not an EC public key
 *   on P-256, P-384 or P-521.
 * @throws {TypeError} for an ephemeral key off the recipient's curve or an IV of the wrong length
 *   from `random` (programming errors).
 * @example
 * ```ts
 * const jwe = encryptJweEcdhEs({ plaintext: keyBytes, recipientPublicKey })
 * const { plaintext } = await compactDecrypt(jwe, recipientPrivateKey) // jose, on the other side
 * ```
 */
export function encryptJweEcdhEs(options: EncryptJweEcdhEsOptions): string {
  const { plaintext, recipientPublicKey } = options
  const crv = curveOf(recipientPublicKey)
  if (crv === undefined) throw new CloisterError('ERR_JWE_UNSUPPORTED_KEY')
  const ephemeralPrivateKey =
    options.ephemeralPrivateKey ?? generateKeyPairSync('ec', { namedCurve: crv }).privateKey
  const ephemeralPublicKey = createPublicKey(ephemeralPrivateKey)
  if (ephemeralPrivateKey.type !== 'private' || curveOf(ephemeralPublicKey) !== crv) {
    throw new TypeError("the ephemeral key must be a private key on the recipient's curve")
  }
  const iv = (options.random ?? systemRandom)(GCM_IV_BYTES)
  if (iv.byteLength !== GCM_IV_BYTES) throw new TypeError('random must return the length asked')

  // RFC 7518 §4.6.1.1, §6.2.1: the epk holds only the public members; the member order is ours,
  // fixed so that the header (and so the AAD) is the same bytes for the same key.
  const { x, y } = ephemeralPublicKey.export({ format: 'jwk' }) as { x: string; y: string }
  const header = { alg: 'ECDH-ES', enc: ENC, epk: { kty: 'EC', crv, x, y } }
  const encodedHeader = Buffer.from(JSON.stringify(header)).toString('base64url')

  // RFC 7518 §4.6.2: Z is the x-coordinate, left-padded to the field size, as OpenSSL returns it.
  const sharedSecret = diffieHellman({
    privateKey: ephemeralPrivateKey,
    publicKey: recipientPublicKey,
  })
  const contentKey = concatKdf({ sharedSecret, keyDataLengthBits: CEK_BITS, algorithmId: ENC })
  sharedSecret.fill(0)
  try {
    const cipher = createCipheriv('aes-256-gcm', contentKey, iv, { authTagLength: GCM_TAG_BYTES })
    cipher.setAAD(Buffer.from(encodedHeader, 'ascii'))
    const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()])
    return [
      encodedHeader,
      '', // RFC 7518 §4.6: direct key agreement leaves the JWE Encrypted Key empty
      base64url(iv),
      base64url(ciphertext),
      base64url(cipher.getAuthTag()),
    ].join('.')
  } finally {
    contentKey.fill(0)
  }
}

/** The JWK curve of an EC public key we can encrypt to, or `undefined`. */
function curveOf(key: KeyObject): JweCurve | undefined {
  if (key.type !== 'public' || key.asymmetricKeyType !== 'ec') return undefined
  try {
    // Before any other use: OpenSSL imports an EC point at infinity, and Node 20 aborts the whole
    // process when such a key's details or JWK are read; the DER export throws for it instead.
    key.export({ format: 'der', type: 'spki' })
  } catch {
    return undefined
  }
  // Node names the curve of every EC key, explicit parameters included (it matches them to the
  // named curve); any curve it could not name would miss the lookup and be refused all the same.
  const { namedCurve } = key.asymmetricKeyDetails as { namedCurve: string }
  return CURVES.get(namedCurve)
}

function base64url(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64url')
}

function systemRandom(length: number): Uint8Array {
  return new Uint8Array(randomBytes(length))
}

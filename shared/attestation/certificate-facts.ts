/** Parses one DER certificate into the facts chain verification needs. */

import { X509Certificate, type KeyObject } from 'node:crypto'
import { vouchForCurve } from '../cose/verify-ecdsa.js'
import { CloisterError } from '../errors/cloister-error.js'
import { readCertificateFields, type CertificateFields } from './certificate-fields.js'

/** A parsed certificate: what the chain checks read, computed once and then cached. */
export interface CertificateFacts extends CertificateFields {
  /** SHA-256 of the DER, lower-case hex: the certificate's identity in pins and in the cache. */
  readonly fingerprint: string
  readonly certificate: X509Certificate
  readonly publicKey: KeyObject
}

const TAG_SEQUENCE = 0x30

/**
 * Parses `der` with OpenSSL (`node:crypto` `X509Certificate`) and reads its fields from the DER.
 *
 * @throws {CloisterError} `ERR_ATTESTATION_CERT_MALFORMED` when the bytes are not one DER certificate.
 */
export function readCertificateFacts(der: Uint8Array, fingerprint: string): CertificateFacts {
  // X509Certificate also accepts PEM text; a document must carry DER only.
  if (der[0] !== TAG_SEQUENCE) throw new CloisterError('ERR_ATTESTATION_CERT_MALFORMED')
  let certificate: X509Certificate
  let publicKey: KeyObject
  try {
    certificate = new X509Certificate(der)
    // OpenSSL parses the SubjectPublicKeyInfo lazily: a corrupt key only fails here.
    publicKey = certificate.publicKey
  } catch {
    throw new CloisterError('ERR_ATTESTATION_CERT_MALFORMED')
  }
  const fields = readCertificateFields(der)
  // The DER shows an uncompressed point of this curve, which OpenSSL checked on import: the
  // signature check need not probe the key again (a probe costs as much as a fifth of a verify).
  if (fields.curve !== undefined) vouchForCurve(publicKey, fields.curve)
  return { ...fields, fingerprint, certificate, publicKey }
}

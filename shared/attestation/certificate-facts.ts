/** Parses one DER certificate into the facts chain verification needs. */

import { X509Certificate, type KeyObject } from 'node:crypto'
import { CloisterError } from '../errors/cloister-error.js'
import { readCertificateExtensions, type CertificateExtensions } from './certificate-extensions.js'

/** A parsed certificate: what the chain checks read, computed once and then cached. */
export interface CertificateFacts extends CertificateExtensions {
  /** SHA-256 of the DER, lower-case hex: the certificate's identity in pins and in the cache. */
  readonly fingerprint: string
  readonly certificate: X509Certificate
  readonly publicKey: KeyObject
  /** notBefore and notAfter in ms since the epoch (RFC 5280 §4.1.2.5: both inclusive). */
  readonly notBefore: number
  readonly notAfter: number
}

const TAG_SEQUENCE = 0x30

/**
 * Parses `der` with OpenSSL (`node:crypto` `X509Certificate`) and reads its extensions.
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
  return {
    ...readCertificateExtensions(der),
    fingerprint,
    certificate,
    publicKey,
    notBefore: Date.parse(certificate.validFrom),
    notAfter: Date.parse(certificate.validTo),
  }
}

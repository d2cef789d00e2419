/** The set of root certificates an attestation chain may end in, pinned by SHA-256 of their DER. */

import { createHash, X509Certificate } from 'node:crypto'
import { asBytes } from '../bytes/bytes.js'
import { CloisterError } from '../errors/cloister-error.js'
import { AWS_NITRO_ROOT_G1_PEM } from './aws-nitro-root-g1.js'
import { readCertificateFacts, type CertificateFacts } from './certificate-facts.js'

/** Root pins: each trusted root certificate, parsed once, by the SHA-256 of its DER. */
export interface TrustedRoots {
  /**
   * Each root by the lower-case hex SHA-256 of its DER, parsed once: a document's `cabundle[0]` is
   * matched by hash and never parsed again.
   */
  readonly anchors: ReadonlyMap<string, CertificateFacts>
}

/**
 * AWS_NitroEnclaves_Root-G1 (CN=aws.nitro-enclaves, P-384, valid 2019-10-28 to 2049-10-28): the
 * SHA-256 of its DER as AWS publishes it. Not the hash of the zip it is shipped in (`8cf60e2b…`).
 */
export const AWS_NITRO_ROOT_G1_SHA256 =
  '641a0321a3e244efe456463195d606317ed7cdcc3c1756e09893f3c68f79bb5b'

/** Lower-case hex SHA-256 of `bytes`. */
export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex')
}

/**
 * Pins the given root certificates (PEM text or DER bytes), for example the simulated Nitro host's.
 *
 * @throws {CloisterError} `ERR_ATTESTATION_CERT_MALFORMED` when one is not a certificate.
 * @example
 * ```ts
 * const roots = trustRootCertificates([readFileSync('.cloister/sim/root.pem', 'utf8')])
 * ```
 */
export function trustRootCertificates(
  certificates: readonly (string | Uint8Array)[],
): TrustedRoots {
  const anchors = new Map<string, CertificateFacts>()
  for (const certificate of certificates) {
    let der: Uint8Array
    try {
      der = asBytes(new X509Certificate(certificate).raw)
    } catch {
      throw new CloisterError('ERR_ATTESTATION_CERT_MALFORMED')
    }
    const fingerprint = sha256Hex(der)
    anchors.set(fingerprint, readCertificateFacts(der, fingerprint))
  }
  return { anchors }
}

/** The default trust anchor: real AWS Nitro hardware only. */
export const AWS_NITRO_ROOTS: TrustedRoots = trustRootCertificates([AWS_NITRO_ROOT_G1_PEM])

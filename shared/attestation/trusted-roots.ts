/** The set of root certificates an attestation chain may end in, pinned by SHA-256 of their DER. */

import { createHash, X509Certificate } from 'node:crypto'
import { asBytes } from '../bytes/bytes.js'
import { CloisterError } from '../errors/cloister-error.js'

/** Root pins: lower-case hex SHA-256 of each trusted root certificate's DER. */
export interface TrustedRoots {
  readonly fingerprints: ReadonlySet<string>
}

/**
 * AWS_NitroEnclaves_Root-G1 (CN=aws.nitro-enclaves, P-384, valid 2019-10-28 to 2049-10-28): the
 * SHA-256 of its DER as AWS publishes it. Not the hash of the zip it is shipped in (`8cf60e2b…`).
 */
export const AWS_NITRO_ROOT_G1_SHA256 =
  '641a0321a3e244efe456463195d606317ed7cdcc3c1756e09893f3c68f79bb5b'

/** The default trust anchor: real AWS Nitro hardware only. */
export const AWS_NITRO_ROOTS: TrustedRoots = {
  fingerprints: new Set([AWS_NITRO_ROOT_G1_SHA256]),
}

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
  const fingerprints = new Set<string>()
  for (const certificate of certificates) {
    let der: Uint8Array
    try {
      der = asBytes(new X509Certificate(certificate).raw)
    } catch {
      throw new CloisterError('ERR_ATTESTATION_CERT_MALFORMED')
    }
    fingerprints.add(sha256Hex(der))
  }
  return { fingerprints }
}

/** Issues one X.509 certificate with an ECDSA key, the profile of each place in a Nitro-like chain. */

import { KeyObject, randomBytes, webcrypto } from 'node:crypto'
import { x509 } from './x509.js'

const ECDSA_P384 = { name: 'ECDSA', namedCurve: 'P-384', hash: 'SHA-384' }

/** One issued certificate with its key pair. */
export interface IssuedCertificate {
  readonly der: Uint8Array
  readonly pem: string
  readonly keys: webcrypto.CryptoKeyPair
  readonly privateKey: KeyObject
}

export interface IssueOptions {
  readonly subject: string
  /** Issuer; self-signed when absent. */
  readonly issuer?: IssuedCertificate
  readonly ca: boolean
  readonly pathLength?: number
  /** keyUsage flags; no keyUsage extension when `null`. */
  readonly keyUsage?: x509.KeyUsageFlags | null
  /** Mark keyUsage critical (the default; real Nitro leaves mark it non-critical). */
  readonly keyUsageCritical?: boolean
  readonly notBefore: number
  readonly notAfter: number
  readonly extraExtensions?: readonly x509.Extension[]
  /** Leave out basicConstraints entirely. */
  readonly omitBasicConstraints?: boolean
  readonly algorithm?: webcrypto.EcKeyGenParams & { hash: string }
  /** Certify this SubjectPublicKeyInfo (DER) instead of the generated key. */
  readonly subjectPublicKeyInfo?: Uint8Array
}

/** Issues one certificate, signed by `options.issuer` (or itself). */
export async function issueCertificate(options: IssueOptions): Promise<IssuedCertificate> {
  const algorithm = options.algorithm ?? ECDSA_P384
  const keys = await webcrypto.subtle.generateKey(algorithm, true, ['sign', 'verify'])
  const usage =
    options.keyUsage === undefined
      ? options.ca
        ? ((x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign) as x509.KeyUsageFlags)
        : x509.KeyUsageFlags.digitalSignature
      : options.keyUsage
  const extensions: x509.Extension[] = []
  if (options.omitBasicConstraints !== true) {
    extensions.push(new x509.BasicConstraintsExtension(options.ca, options.pathLength, true))
  }
  if (usage !== null) {
    extensions.push(new x509.KeyUsagesExtension(usage, options.keyUsageCritical ?? true))
  }
  extensions.push(...(options.extraExtensions ?? []))
  const certificate = await x509.X509CertificateGenerator.create({
    // RFC 5280 §4.1.2.2: positive and unique, at most 20 octets: 16 random octets, top nibble zero.
    serialNumber: `0${randomBytes(16).toString('hex').slice(1)}`,
    subject: options.subject,
    issuer: options.issuer === undefined ? options.subject : subjectOf(options.issuer),
    notBefore: new Date(options.notBefore),
    notAfter: new Date(options.notAfter),
    signingAlgorithm: ECDSA_P384,
    publicKey: options.subjectPublicKeyInfo ?? keys.publicKey,
    signingKey: options.issuer?.keys.privateKey ?? keys.privateKey,
    extensions,
  })
  return {
    der: new Uint8Array(certificate.rawData),
    pem: certificate.toString('pem'),
    keys,
    privateKey: KeyObject.from(keys.privateKey),
  }
}

function subjectOf(certificate: IssuedCertificate): string {
  return new x509.X509Certificate(certificate.der).subject
}

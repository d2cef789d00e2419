/** A throwaway P-384 PKI and document forge, generated at test time, for cases real vectors cannot show. */

import { KeyObject, webcrypto } from 'node:crypto'
import { x509 } from './x509.js'
import type { CborKey, CborValue } from '../../shared/cbor/cbor-value.js'
import { CborIndefiniteMap } from '../../shared/cbor/cbor-value.js'
import { encodeCbor } from '../../shared/cbor/encode.js'
import { createSign1 } from '../../shared/cose/create-sign1.js'
import { trustRootCertificates, type TrustedRoots } from '../../shared/attestation/trusted-roots.js'

const ECDSA_P384 = { name: 'ECDSA', namedCurve: 'P-384', hash: 'SHA-384' }
const HOUR = 3_600_000
const YEAR = 365 * 24 * HOUR

/** One issued certificate with its key pair. */
export interface TestCertificate {
  readonly der: Uint8Array
  readonly pem: string
  readonly keys: webcrypto.CryptoKeyPair
  readonly privateKey: KeyObject
}

export interface IssueOptions {
  readonly subject: string
  /** Issuer; self-signed when absent. */
  readonly issuer?: TestCertificate
  readonly ca: boolean
  readonly pathLength?: number
  /** keyUsage flags; no keyUsage extension when `null`. */
  readonly keyUsage?: x509.KeyUsageFlags | null
  readonly notBefore: number
  readonly notAfter: number
  readonly extraExtensions?: readonly x509.Extension[]
  /** Leave out basicConstraints entirely. */
  readonly omitBasicConstraints?: boolean
  readonly algorithm?: webcrypto.EcKeyGenParams & { hash: string }
  /** Certify this SubjectPublicKeyInfo (DER) instead of the generated key. */
  readonly subjectPublicKeyInfo?: Uint8Array
}

let serial = 1

/** Issues one certificate, signed by `options.issuer` (or itself). */
export async function issueCertificate(options: IssueOptions): Promise<TestCertificate> {
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
  if (usage !== null) extensions.push(new x509.KeyUsagesExtension(usage, true))
  extensions.push(...(options.extraExtensions ?? []))
  serial += 1
  const certificate = await x509.X509CertificateGenerator.create({
    serialNumber: serial.toString(16).padStart(2, '0'),
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

function subjectOf(certificate: TestCertificate): string {
  return new x509.X509Certificate(certificate.der).subject
}

/** A chain shaped like the real Nitro one: root → regional → zonal → instance → leaf. */
export interface TestPki {
  readonly root: TestCertificate
  readonly regional: TestCertificate
  readonly zonal: TestCertificate
  readonly instance: TestCertificate
  readonly leaf: TestCertificate
  readonly roots: TrustedRoots
  /** An instant at which every certificate is valid. */
  readonly now: number
}

/** Creates a Nitro-shaped test PKI, valid around `now`; the leaf lives 3 hours like a real one. */
export async function createTestPki(now = Date.UTC(2026, 0, 1)): Promise<TestPki> {
  const root = await issueCertificate({
    subject: 'CN=cloister-test-root',
    ca: true,
    notBefore: now - YEAR,
    notAfter: now + 30 * YEAR,
  })
  const regional = await issueCertificate({
    subject: 'CN=regional.cloister-test',
    issuer: root,
    ca: true,
    pathLength: 2,
    notBefore: now - 10 * HOUR,
    notAfter: now + 20 * 24 * HOUR,
  })
  const zonal = await issueCertificate({
    subject: 'CN=zonal.cloister-test',
    issuer: regional,
    ca: true,
    pathLength: 1,
    notBefore: now - 5 * HOUR,
    notAfter: now + 5 * 24 * HOUR,
  })
  const instance = await issueCertificate({
    subject: 'CN=instance.cloister-test',
    issuer: zonal,
    ca: true,
    pathLength: 0,
    notBefore: now - 2 * HOUR,
    notAfter: now + 24 * HOUR,
  })
  const leaf = await issueCertificate({
    subject: 'CN=enclave.cloister-test',
    issuer: instance,
    ca: false,
    notBefore: now - HOUR,
    notAfter: now + 2 * HOUR,
  })
  return {
    root,
    regional,
    zonal,
    instance,
    leaf,
    roots: trustRootCertificates([root.pem]),
    now,
  }
}

/** Marks a payload field to leave out. */
export const OMIT = Symbol('omit')

export interface ForgeOptions {
  readonly pki: TestPki
  /** Replacement values per payload key (`OMIT` removes it); extra keys are appended. */
  readonly fields?: Readonly<Record<string, CborValue | typeof OMIT>>
  /** Signs with this key instead of the leaf's. */
  readonly signingKey?: KeyObject
  readonly alg?: number
  readonly unprotectedHeader?: ReadonlyMap<CborKey, CborValue>
  readonly indefinite?: boolean
}

/** A zero-filled 48-byte PCR, or one whose bytes are all `fill`. */
export function pcrOf(fill: number): Uint8Array {
  return new Uint8Array(48).fill(fill)
}

/** Signs a Nitro-shaped payload with the PKI's leaf (unless told otherwise). */
export function forgeDocument(options: ForgeOptions): Uint8Array {
  const { pki } = options
  const pcrs = new Map<CborKey, CborValue>()
  for (let index = 0; index < 16; index += 1) pcrs.set(index, pcrOf(index < 3 ? index + 1 : 0))
  const fields = new Map<string, CborValue>([
    ['module_id', 'i-0123456789abcdef0-enc0123456789abcdef'],
    ['digest', 'SHA384'],
    ['timestamp', pki.now],
    ['pcrs', pcrs],
    ['certificate', pki.leaf.der],
    ['cabundle', [pki.root.der, pki.regional.der, pki.zonal.der, pki.instance.der]],
    ['public_key', null],
    ['user_data', null],
    ['nonce', null],
  ])
  for (const [key, value] of Object.entries(options.fields ?? {})) {
    if (value === OMIT) fields.delete(key)
    else fields.set(key, value)
  }
  const payload = encodeCbor(options.indefinite === true ? new CborIndefiniteMap(fields) : fields)
  return createSign1({
    payload,
    privateKey: options.signingKey ?? pki.leaf.privateKey,
    ...(options.alg === undefined ? {} : { alg: options.alg }),
    ...(options.unprotectedHeader === undefined
      ? {}
      : { unprotectedHeader: options.unprotectedHeader }),
  })
}

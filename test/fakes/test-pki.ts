/** A throwaway P-384 PKI and document forge, generated at test time, for cases real vectors cannot show. */

import type { KeyObject } from 'node:crypto'
import { issueCertificate, type IssuedCertificate } from '../../parent/sim/issue-certificate.js'
import type { CborKey, CborValue } from '../../shared/cbor/cbor-value.js'
import { CborIndefiniteMap } from '../../shared/cbor/cbor-value.js'
import { encodeCbor } from '../../shared/cbor/encode.js'
import { createSign1 } from '../../shared/cose/create-sign1.js'
import { trustRootCertificates, type TrustedRoots } from '../../shared/attestation/trusted-roots.js'

const HOUR = 3_600_000
const YEAR = 365 * 24 * HOUR

/** A chain shaped like the real Nitro one: root → regional → zonal → instance → leaf. */
export interface TestPki {
  readonly root: IssuedCertificate
  readonly regional: IssuedCertificate
  readonly zonal: IssuedCertificate
  readonly instance: IssuedCertificate
  readonly leaf: IssuedCertificate
  /** root, regional, zonal, instance: the `cabundle` of a document. */
  readonly cabundle: readonly Uint8Array[]
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
    cabundle: [root.der, regional.der, zonal.der, instance.der],
    roots: trustRootCertificates([root.pem]),
    now,
  }
}

/** Marks a payload field to leave out. */
export const OMIT = Symbol('omit')

export interface ForgeOptions {
  /** Who signs: a test PKI, or any chain with its leaf key (the simulated host's). */
  readonly pki: Pick<TestPki, 'cabundle' | 'leaf' | 'now'>
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
    ['cabundle', [...pki.cabundle]],
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

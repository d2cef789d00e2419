/** The certificate field walk, on hand-built DER that real certificates never contain. */

import t from 'tap'
import {
  hasKeyUsage,
  KEY_USAGE_DIGITAL_SIGNATURE,
  KEY_USAGE_KEY_CERT_SIGN,
  readCertificateFields,
} from '../../../shared/attestation/certificate-fields.js'
import { concatBytes } from '../../../shared/bytes/bytes.js'

/** One DER element, its length in the shortest form (X.690 §10.1). */
function tlv(tag: number, ...content: Uint8Array[]): Uint8Array {
  const body = concatBytes(content)
  const length = body.byteLength
  const head =
    length < 0x80
      ? [tag, length]
      : length < 0x100
        ? [tag, 0x81, length]
        : [tag, 0x82, length >> 8, length & 0xff]
  return concatBytes([Uint8Array.from(head), body])
}
const bytes = (...values: number[]) => Uint8Array.from(values)
const BASIC_CONSTRAINTS = tlv(0x06, bytes(0x55, 0x1d, 0x13))
const KEY_USAGE = tlv(0x06, bytes(0x55, 0x1d, 0x0f))
const OTHER = tlv(0x06, bytes(0x2a, 0x03, 0x04))
const TRUE = tlv(0x01, bytes(0xff))
const FALSE = tlv(0x01, bytes(0x00))

const ascii = (text: string) => new TextEncoder().encode(text)
const utcTime = (text: string) => tlv(0x17, ascii(text))
const generalizedTime = (text: string) => tlv(0x18, ascii(text))
const VALIDITY = tlv(0x30, utcTime('210317220155Z'), generalizedTime('20490101000000Z'))
const EC_ALGORITHM = tlv(0x06, bytes(0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01))
const P384 = tlv(0x06, bytes(0x2b, 0x81, 0x04, 0x00, 0x22))
const P256 = tlv(0x06, bytes(0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07))
const P521 = tlv(0x06, bytes(0x2b, 0x81, 0x04, 0x00, 0x23))
/** A SubjectPublicKeyInfo with `algorithm` parameters and a BIT STRING of `key`. */
const spki = (algorithm: Uint8Array[], key: Uint8Array) =>
  tlv(0x30, tlv(0x30, ...algorithm), tlv(0x03, key))
const point = (size: number, form = 0x04) =>
  Uint8Array.from([0, form, ...new Uint8Array(2 * size).fill(7)])
const P384_KEY = spki([EC_ALGORITHM, P384], point(48))

interface Parts {
  readonly version?: boolean
  readonly validity?: Uint8Array
  readonly key?: Uint8Array
  /** Replaces the extensions field [3] as a whole. */
  readonly extensionsField?: Uint8Array
}

/** A skeletal Certificate: TBSCertificate fields in order, `extensions` last when given. */
function certificateWith(parts: Parts, ...extensions: Uint8Array[]): Uint8Array {
  const name = tlv(0x30)
  const tbsFields = [
    ...(parts.version === false ? [] : [tlv(0xa0, tlv(0x02, bytes(2)))]),
    tlv(0x02, bytes(1)),
    tlv(0x30),
    name,
    parts.validity ?? VALIDITY,
    name,
    parts.key ?? P384_KEY,
  ]
  if (extensions.length > 0) tbsFields.push(tlv(0xa3, tlv(0x30, ...extensions)))
  if (parts.extensionsField !== undefined) tbsFields.push(parts.extensionsField)
  return tlv(0x30, tlv(0x30, ...tbsFields), tlv(0x30), tlv(0x03, bytes(0)))
}
const certificate = (...extensions: Uint8Array[]) => certificateWith({}, ...extensions)

const extension = (...parts: Uint8Array[]) => tlv(0x30, ...parts)
const constraints = (...items: Uint8Array[]) => tlv(0x04, tlv(0x30, ...items))

t.test('no extensions: not a CA, no key usage, nothing critical', (t) => {
  t.same(readCertificateFields(certificate()), {
    notBefore: Date.UTC(2021, 2, 17, 22, 1, 55),
    notAfter: Date.UTC(2049, 0, 1),
    curve: 'secp384r1',
    isCa: false,
    pathLength: undefined,
    keyUsage: undefined,
    hasUnknownCritical: false,
  })
  t.end()
})

t.test(
  'validity: UTCTime years wrap at 1950, GeneralizedTime is read as is, v1 has no version',
  (t) => {
    const read = (notBefore: Uint8Array, notAfter: Uint8Array) =>
      readCertificateFields(
        certificateWith({ version: false, validity: tlv(0x30, notBefore, notAfter) }),
      )
    const early = read(utcTime('500101000000Z'), utcTime('491231235959Z'))
    t.equal(early.notBefore, Date.UTC(1950, 0, 1))
    t.equal(early.notAfter, Date.UTC(2049, 11, 31, 23, 59, 59))
    const general = read(generalizedTime('19991231235959Z'), generalizedTime('20960229000000Z'))
    t.equal(general.notBefore, Date.UTC(1999, 11, 31, 23, 59, 59))
    t.equal(general.notAfter, Date.UTC(2096, 1, 29))
    t.throws(
      () => read(generalizedTime('19991231235959Z'), generalizedTime('21000229000000Z')).notAfter,
      {
        code: /^ERR_ATTESTATION_CERT_MALFORMED$/,
      },
      '2100 is not a leap year',
    )
    t.end()
  },
)

t.test('the key curve is named only for a well-sized uncompressed EC point', (t) => {
  const curveOf = (key: Uint8Array) => readCertificateFields(certificateWith({ key })).curve
  t.equal(curveOf(spki([EC_ALGORITHM, P384], point(48))), 'secp384r1')
  t.equal(curveOf(spki([EC_ALGORITHM, P256], point(32))), 'prime256v1')
  t.equal(curveOf(spki([EC_ALGORITHM, P521], point(66))), 'secp521r1')
  t.equal(curveOf(spki([EC_ALGORITHM, P384], bytes(0, 0))), undefined, 'the point at infinity')
  t.equal(
    curveOf(spki([EC_ALGORITHM, P384], point(48, 0x02).subarray(0, 50))),
    undefined,
    'compressed',
  )
  t.equal(curveOf(spki([EC_ALGORITHM, P384], point(32))), undefined, 'a P-256-sized point')
  t.equal(
    curveOf(spki([EC_ALGORITHM, P384], Uint8Array.from([1, ...point(48).subarray(1)]))),
    undefined,
    'unused bits',
  )
  t.equal(curveOf(spki([EC_ALGORITHM, P384], point(48, 0x06))), undefined, 'hybrid form')
  t.equal(
    curveOf(spki([EC_ALGORITHM, tlv(0x06, bytes(0x2b, 0x81, 0x04, 0x00, 0x0a))], point(32))),
    undefined,
    'secp256k1',
  )
  t.equal(curveOf(spki([EC_ALGORITHM, tlv(0x05)], point(48))), undefined, 'implicit parameters')
  t.equal(curveOf(spki([EC_ALGORITHM], point(48))), undefined, 'no parameters')
  const rsa = tlv(0x06, bytes(0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01))
  t.equal(curveOf(spki([rsa, tlv(0x05)], bytes(0, 0x30, 0))), undefined, 'an RSA key')
  t.end()
})

t.test('basicConstraints with and without the critical flag and path length', (t) => {
  const ca = readCertificateFields(
    certificate(extension(BASIC_CONSTRAINTS, TRUE, constraints(TRUE, tlv(0x02, bytes(1, 0))))),
  )
  t.equal(ca.isCa, true)
  t.equal(ca.pathLength, 256)
  const explicitFalse = readCertificateFields(
    certificate(extension(BASIC_CONSTRAINTS, FALSE, constraints(FALSE))),
  )
  t.equal(explicitFalse.isCa, false)
  t.equal(explicitFalse.pathLength, undefined)
  t.equal(
    readCertificateFields(certificate(extension(BASIC_CONSTRAINTS, constraints()))).isCa,
    false,
  )
  t.end()
})

t.test('a BOOLEAN is true for any non-zero octet, as OpenSSL reads it', (t) => {
  const loose = tlv(0x01, bytes(0x01))
  t.equal(
    readCertificateFields(certificate(extension(OTHER, loose, tlv(0x04, tlv(0x05)))))
      .hasUnknownCritical,
    true,
  )
  t.equal(
    readCertificateFields(certificate(extension(BASIC_CONSTRAINTS, constraints(loose)))).isCa,
    true,
  )
  t.end()
})

t.test('unknown extensions matter only when critical', (t) => {
  const value = tlv(0x04, tlv(0x05))
  t.equal(readCertificateFields(certificate(extension(OTHER, value))).hasUnknownCritical, false)
  t.equal(
    readCertificateFields(certificate(extension(OTHER, FALSE, value))).hasUnknownCritical,
    false,
  )
  t.equal(
    readCertificateFields(certificate(extension(OTHER, TRUE, value))).hasUnknownCritical,
    true,
  )
  t.end()
})

t.test('keyUsage bits are read past the unused-bits octet', (t) => {
  const usage = readCertificateFields(
    certificate(extension(KEY_USAGE, TRUE, tlv(0x04, tlv(0x03, bytes(1, 0x84))))),
  ).keyUsage
  t.same(usage, bytes(0x84))
  t.ok(usage !== undefined && hasKeyUsage(usage, KEY_USAGE_DIGITAL_SIGNATURE))
  t.ok(usage !== undefined && hasKeyUsage(usage, KEY_USAGE_KEY_CERT_SIGN))
  t.notOk(usage !== undefined && hasKeyUsage(usage, 1))
  t.notOk(hasKeyUsage(bytes(0xff), 8), 'a bit beyond the string is not set')
  t.end()
})

t.test('structures X.509 does not allow are ERR_ATTESTATION_CERT_MALFORMED', (t) => {
  const cases: Record<string, Uint8Array> = {
    'not a SEQUENCE': tlv(0x31),
    'no TBSCertificate': tlv(0x30),
    'TBSCertificate not a SEQUENCE': tlv(0x30, tlv(0x02, bytes(1))),
    'TBSCertificate too short': tlv(0x30, tlv(0x30, tlv(0x02, bytes(1)))),
    'extensions not a SEQUENCE': certificateWith({ extensionsField: tlv(0xa3, tlv(0x31)) }),
    'validity not a SEQUENCE': certificateWith({ validity: tlv(0x31) }),
    'validity missing notAfter': certificateWith({ validity: tlv(0x30, utcTime('210317220155Z')) }),
    'time of another type': certificateWith({
      validity: tlv(0x30, tlv(0x13, ascii('210317220155Z')), utcTime('210317220155Z')),
    }),
    'UTCTime without seconds': certificateWith({
      validity: tlv(0x30, utcTime('2103172201Z'), utcTime('210317220155Z')),
    }),
    'UTCTime with an offset': certificateWith({
      validity: tlv(0x30, utcTime('210317220155+0100'), utcTime('210317220155Z')),
    }),
    'GeneralizedTime with fractions': certificateWith({
      validity: tlv(0x30, generalizedTime('20210317220155.5Z'), utcTime('210317220155Z')),
    }),
    'February 30': certificateWith({
      validity: tlv(0x30, utcTime('210230000000Z'), utcTime('210317220155Z')),
    }),
    'month 13': certificateWith({
      validity: tlv(0x30, utcTime('211301000000Z'), utcTime('210317220155Z')),
    }),
    'second 60': certificateWith({
      validity: tlv(0x30, utcTime('210317220160Z'), utcTime('210317220155Z')),
    }),
    'SubjectPublicKeyInfo not a SEQUENCE': certificateWith({ key: tlv(0x31) }),
    'key not a BIT STRING': certificateWith({
      key: tlv(0x30, tlv(0x30, EC_ALGORITHM, P384), tlv(0x04)),
    }),
    'algorithm not a SEQUENCE': certificateWith({ key: tlv(0x30, tlv(0x31), tlv(0x03, bytes(0))) }),
    'algorithm without an OID': certificateWith({ key: spki([tlv(0x05)], point(48)) }),
    'extension not a SEQUENCE': certificate(tlv(0x31)),
    'extnID not an OID': certificate(extension(tlv(0x04), tlv(0x04))),
    'extnValue missing': certificate(extension(OTHER)),
    'extnValue not an OCTET STRING': certificate(extension(OTHER, TRUE, tlv(0x05))),
    'pathLen not an INTEGER': certificate(
      extension(BASIC_CONSTRAINTS, constraints(TRUE, tlv(0x05))),
    ),
    'empty pathLen': certificate(extension(BASIC_CONSTRAINTS, constraints(TRUE, tlv(0x02)))),
    'negative pathLen': certificate(
      extension(BASIC_CONSTRAINTS, constraints(TRUE, tlv(0x02, bytes(0xff)))),
    ),
    'four-octet pathLen': certificate(
      extension(BASIC_CONSTRAINTS, constraints(TRUE, tlv(0x02, bytes(1, 0, 0, 0)))),
    ),
    'keyUsage not a BIT STRING': certificate(extension(KEY_USAGE, tlv(0x04, tlv(0x04)))),
  }
  for (const [name, der] of Object.entries(cases)) {
    t.throws(() => readCertificateFields(der), { code: /^ERR_ATTESTATION_CERT_MALFORMED$/ }, name)
  }
  t.end()
})

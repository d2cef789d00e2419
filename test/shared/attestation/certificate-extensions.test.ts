/** The X.509 extension walk, on hand-built DER that real certificates never contain. */

import t from 'tap'
import {
  hasKeyUsage,
  KEY_USAGE_DIGITAL_SIGNATURE,
  KEY_USAGE_KEY_CERT_SIGN,
  readCertificateExtensions,
} from '../../../shared/attestation/certificate-extensions.js'
import { concatBytes } from '../../../shared/bytes/bytes.js'

/** One DER element with a short-form length (every test structure is under 128 bytes). */
function tlv(tag: number, ...content: Uint8Array[]): Uint8Array {
  const body = concatBytes(content)
  return concatBytes([Uint8Array.of(tag, body.byteLength), body])
}
const bytes = (...values: number[]) => Uint8Array.from(values)
const BASIC_CONSTRAINTS = tlv(0x06, bytes(0x55, 0x1d, 0x13))
const KEY_USAGE = tlv(0x06, bytes(0x55, 0x1d, 0x0f))
const OTHER = tlv(0x06, bytes(0x2a, 0x03, 0x04))
const TRUE = tlv(0x01, bytes(0xff))
const FALSE = tlv(0x01, bytes(0x00))

/** A skeletal Certificate whose TBSCertificate holds a serial number and `extensions`. */
function certificate(...extensions: Uint8Array[]): Uint8Array {
  const tbsFields = [tlv(0x02, bytes(1))]
  if (extensions.length > 0) tbsFields.push(tlv(0xa3, tlv(0x30, ...extensions)))
  return tlv(0x30, tlv(0x30, ...tbsFields), tlv(0x30), tlv(0x03, bytes(0)))
}
const extension = (...parts: Uint8Array[]) => tlv(0x30, ...parts)
const constraints = (...items: Uint8Array[]) => tlv(0x04, tlv(0x30, ...items))

t.test('no extensions: not a CA, no key usage, nothing critical', (t) => {
  t.same(readCertificateExtensions(certificate()), {
    isCa: false,
    pathLength: undefined,
    keyUsage: undefined,
    hasUnknownCritical: false,
  })
  t.end()
})

t.test('basicConstraints with and without the critical flag and path length', (t) => {
  const ca = readCertificateExtensions(
    certificate(extension(BASIC_CONSTRAINTS, TRUE, constraints(TRUE, tlv(0x02, bytes(1, 0))))),
  )
  t.equal(ca.isCa, true)
  t.equal(ca.pathLength, 256)
  const explicitFalse = readCertificateExtensions(
    certificate(extension(BASIC_CONSTRAINTS, FALSE, constraints(FALSE))),
  )
  t.equal(explicitFalse.isCa, false)
  t.equal(explicitFalse.pathLength, undefined)
  t.equal(
    readCertificateExtensions(certificate(extension(BASIC_CONSTRAINTS, constraints()))).isCa,
    false,
  )
  t.end()
})

t.test('unknown extensions matter only when critical', (t) => {
  const value = tlv(0x04, tlv(0x05))
  t.equal(readCertificateExtensions(certificate(extension(OTHER, value))).hasUnknownCritical, false)
  t.equal(
    readCertificateExtensions(certificate(extension(OTHER, FALSE, value))).hasUnknownCritical,
    false,
  )
  t.equal(
    readCertificateExtensions(certificate(extension(OTHER, TRUE, value))).hasUnknownCritical,
    true,
  )
  t.end()
})

t.test('keyUsage bits are read past the unused-bits octet', (t) => {
  const usage = readCertificateExtensions(
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
    'extensions not a SEQUENCE': tlv(0x30, tlv(0x30, tlv(0xa3, tlv(0x31)))),
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
    t.throws(
      () => readCertificateExtensions(der),
      { code: /^ERR_ATTESTATION_CERT_MALFORMED$/ },
      name,
    )
  }
  t.end()
})

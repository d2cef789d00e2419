/** Reads the X.509 extensions that decide a certificate's place in a chain (RFC 5280 §4.2). */

import { toHex } from '../bytes/bytes.js'
import { CloisterError } from '../errors/cloister-error.js'
import { readDerElement, readDerElements, type DerElement } from '../der/read-der.js'

/** What RFC 5280 path validation needs from a certificate's extensions. */
export interface CertificateExtensions {
  /** basicConstraints cA (§4.2.1.9); false when the extension is absent. */
  readonly isCa: boolean
  /** basicConstraints pathLenConstraint, when present. */
  readonly pathLength: number | undefined
  /** keyUsage bits as DER gives them (§4.2.1.3), or `undefined` when the extension is absent. */
  readonly keyUsage: Uint8Array | undefined
  /** Whether an extension marked critical is one this reader does not process (§4.2: must reject). */
  readonly hasUnknownCritical: boolean
}

/** keyUsage bit numbers (RFC 5280 §4.2.1.3). */
export const KEY_USAGE_DIGITAL_SIGNATURE = 0
export const KEY_USAGE_KEY_CERT_SIGN = 5

const OID_BASIC_CONSTRAINTS = '551d13' // 2.5.29.19
const OID_KEY_USAGE = '551d0f' // 2.5.29.15
const TAG_SEQUENCE = 0x30
const TAG_BOOLEAN = 0x01
const TAG_INTEGER = 0x02
const TAG_BIT_STRING = 0x03
const TAG_OCTET_STRING = 0x04
const TAG_OID = 0x06
const TAG_EXTENSIONS = 0xa3 // TBSCertificate extensions [3] EXPLICIT
const CODE = 'ERR_ATTESTATION_CERT_MALFORMED'

/**
 * Reads basicConstraints, keyUsage and the criticality of every extension from a certificate's DER.
 * The DER has already been accepted by OpenSSL (`X509Certificate`); this walk only looks inside.
 *
 * @throws {CloisterError} `ERR_ATTESTATION_CERT_MALFORMED` when the structure is not as X.509 says.
 */
export function readCertificateExtensions(der: Uint8Array): CertificateExtensions {
  const certificate = expect(readDerElement(der, CODE), TAG_SEQUENCE)
  const [tbs] = readDerElements(certificate.content, CODE)
  const fields = readDerElements(expect(tbs, TAG_SEQUENCE).content, CODE)
  const wrapper = fields.find((field) => field.tag === TAG_EXTENSIONS)
  let isCa = false
  let pathLength: number | undefined
  let keyUsage: Uint8Array | undefined
  let hasUnknownCritical = false
  const list = wrapper === undefined ? [] : readDerElements(readSequence(wrapper.content), CODE)
  for (const extension of list) {
    const [oid, second, third] = readDerElements(expect(extension, TAG_SEQUENCE).content, CODE)
    // Extension ::= SEQUENCE { extnID, critical BOOLEAN DEFAULT FALSE, extnValue OCTET STRING }
    const critical = second?.tag === TAG_BOOLEAN && second.content[0] === 0xff
    const value = expect(second?.tag === TAG_BOOLEAN ? third : second, TAG_OCTET_STRING).content
    const id = toHex(expect(oid, TAG_OID).content)
    if (id === OID_BASIC_CONSTRAINTS) {
      // BasicConstraints ::= SEQUENCE { cA BOOLEAN DEFAULT FALSE, pathLenConstraint INTEGER OPTIONAL }
      for (const item of readDerElements(readSequence(value), CODE)) {
        if (item.tag === TAG_BOOLEAN) isCa = item.content[0] === 0xff
        else pathLength = readSmallInteger(expect(item, TAG_INTEGER).content)
      }
    } else if (id === OID_KEY_USAGE) {
      keyUsage = expect(readDerElement(value, CODE), TAG_BIT_STRING).content.subarray(1)
    } else if (critical) {
      hasUnknownCritical = true
    }
  }
  return { isCa, pathLength, keyUsage, hasUnknownCritical }
}

/** Whether keyUsage `bits` (as returned above) assert bit number `bit`. */
export function hasKeyUsage(bits: Uint8Array, bit: number): boolean {
  return ((bits[bit >> 3] ?? 0) & (0x80 >> (bit & 7))) !== 0
}

function expect(element: DerElement | undefined, tag: number): DerElement {
  if (element?.tag !== tag) throw new CloisterError(CODE)
  return element
}

function readSequence(bytes: Uint8Array): Uint8Array {
  return expect(readDerElement(bytes, CODE), TAG_SEQUENCE).content
}

/** A non-negative INTEGER of at most three content octets (a path length is tiny). */
function readSmallInteger(content: Uint8Array): number {
  const [first] = content
  if (first === undefined || content.byteLength > 3 || first & 0x80) {
    throw new CloisterError(CODE)
  }
  let value = 0
  for (const byte of content) value = value * 256 + byte
  return value
}

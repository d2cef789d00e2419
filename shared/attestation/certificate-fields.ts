/** Reads the certificate fields that path validation needs straight from the DER (RFC 5280 §4.1). */

import { toHex } from '../bytes/bytes.js'
import { CloisterError } from '../errors/cloister-error.js'
import { readDerElement, readDerElements, type DerElement } from '../der/read-der.js'

/** What RFC 5280 path validation reads from a certificate, besides its signature. */
export interface CertificateFields {
  /** notBefore and notAfter in ms since the epoch (§4.1.2.5: both inclusive). */
  readonly notBefore: number
  readonly notAfter: number
  /**
   * Node's name of the curve when the key is an EC point in uncompressed form of exactly that
   * curve's size (SEC 1 §2.3.3), so never the point at infinity; `undefined` for anything else.
   */
  readonly curve: 'prime256v1' | 'secp384r1' | 'secp521r1' | undefined
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
const OID_EC_PUBLIC_KEY = '2a8648ce3d0201' // 1.2.840.10045.2.1
/** Named curves (RFC 5480 §2.1.1.1) with the byte size of one coordinate. */
const CURVES: ReadonlyMap<
  string,
  { readonly name: NonNullable<CertificateFields['curve']>; readonly size: number }
> = new Map([
  ['2a8648ce3d030107', { name: 'prime256v1', size: 32 }], // 1.2.840.10045.3.1.7
  ['2b81040022', { name: 'secp384r1', size: 48 }], // 1.3.132.0.34
  ['2b81040023', { name: 'secp521r1', size: 66 }], // 1.3.132.0.35
])
const UNCOMPRESSED_POINT = 0x04 // SEC 1 §2.3.3
const TAG_SEQUENCE = 0x30
const TAG_BOOLEAN = 0x01
const TAG_INTEGER = 0x02
const TAG_BIT_STRING = 0x03
const TAG_OCTET_STRING = 0x04
const TAG_OID = 0x06
const TAG_UTC_TIME = 0x17
const TAG_GENERALIZED_TIME = 0x18
const TAG_VERSION = 0xa0 // TBSCertificate version [0] EXPLICIT
const TAG_EXTENSIONS = 0xa3 // TBSCertificate extensions [3] EXPLICIT
const CODE = 'ERR_ATTESTATION_CERT_MALFORMED'

/**
 * Reads validity, key curve, basicConstraints, keyUsage and extension criticality from a
 * certificate's DER. The DER has already been accepted by OpenSSL (`X509Certificate`); this walk
 * reads what OpenSSL only offers slowly (validity as text) or not at all (pathLen, keyUsage bits).
 *
 * @throws {CloisterError} `ERR_ATTESTATION_CERT_MALFORMED` when the structure is not as X.509 says.
 */
export function readCertificateFields(der: Uint8Array): CertificateFields {
  const certificate = expect(readDerElement(der, CODE), TAG_SEQUENCE)
  const [tbs] = readDerElements(certificate.content, CODE)
  const fields = readDerElements(expect(tbs, TAG_SEQUENCE).content, CODE)
  // TBSCertificate ::= SEQUENCE { [0] version OPTIONAL, serialNumber, signature, issuer,
  //   validity, subject, subjectPublicKeyInfo, [1], [2], [3] extensions }
  const first = fields[0]?.tag === TAG_VERSION ? 1 : 0
  const [notBefore, notAfter] = readDerElements(
    expect(fields[first + 3], TAG_SEQUENCE).content,
    CODE,
  )
  return {
    notBefore: readTime(notBefore),
    notAfter: readTime(notAfter),
    curve: readCurve(expect(fields[first + 5], TAG_SEQUENCE).content),
    ...readExtensions(fields.find((field) => field.tag === TAG_EXTENSIONS)),
  }
}

/** Whether keyUsage `bits` (as returned above) assert bit number `bit`. */
export function hasKeyUsage(bits: Uint8Array, bit: number): boolean {
  return ((bits[bit >> 3] ?? 0) & (0x80 >> (bit & 7))) !== 0
}

/** A Time (RFC 5280 §4.1.2.5) as ms since the epoch; DER forms only (seconds, Z, no fractions). */
function readTime(element: DerElement | undefined): number {
  const text = String.fromCharCode(...(element?.content ?? []))
  // §4.1.2.5.1 UTCTime YYMMDDHHMMSSZ; §4.1.2.5.2 GeneralizedTime YYYYMMDDHHMMSSZ.
  const utc = element?.tag === TAG_UTC_TIME
  const pattern = utc ? /^\d{12}Z$/ : /^\d{14}Z$/
  if ((!utc && element?.tag !== TAG_GENERALIZED_TIME) || !pattern.test(text)) {
    throw new CloisterError(CODE)
  }
  const yearDigits = utc ? 2 : 4
  let year = Number(text.slice(0, yearDigits))
  if (utc) year += year >= 50 ? 1900 : 2000 // §4.1.2.5.1: YY >= 50 is 19YY, else 20YY
  const rest = text.slice(yearDigits, -1) // MMDDHHMMSS
  const iso = `${String(year).padStart(4, '0')}-${rest.slice(0, 2)}-${rest.slice(2, 4)}T${rest.slice(4, 6)}:${rest.slice(6, 8)}:${rest.slice(8, 10)}.000Z`
  const ms = Date.parse(iso)
  // Refuse what Date would roll over or not read (month 13, February 30, hour 24).
  if (Number.isNaN(ms) || new Date(ms).toISOString() !== iso) throw new CloisterError(CODE)
  return ms
}

/** The EC curve of a SubjectPublicKeyInfo whose key is a well-sized uncompressed point. */
function readCurve(spki: Uint8Array): CertificateFields['curve'] {
  const [algorithm, key] = readDerElements(spki, CODE)
  const [oid, parameters] = readDerElements(expect(algorithm, TAG_SEQUENCE).content, CODE)
  const bits = expect(key, TAG_BIT_STRING).content
  if (toHex(expect(oid, TAG_OID).content) !== OID_EC_PUBLIC_KEY || parameters?.tag !== TAG_OID) {
    return undefined
  }
  const curve = CURVES.get(toHex(parameters.content))
  // BIT STRING: 0 unused bits, then 04 ‖ X ‖ Y.
  const wellFormed =
    curve !== undefined &&
    bits.byteLength === 2 + 2 * curve.size &&
    bits[0] === 0 &&
    bits[1] === UNCOMPRESSED_POINT
  return wellFormed ? curve.name : undefined
}

type ExtensionFields = Pick<
  CertificateFields,
  'isCa' | 'pathLength' | 'keyUsage' | 'hasUnknownCritical'
>

function readExtensions(wrapper: DerElement | undefined): ExtensionFields {
  let isCa = false
  let pathLength: number | undefined
  let keyUsage: Uint8Array | undefined
  let hasUnknownCritical = false
  const list = wrapper === undefined ? [] : readDerElements(readSequence(wrapper.content), CODE)
  for (const extension of list) {
    const [oid, second, third] = readDerElements(expect(extension, TAG_SEQUENCE).content, CODE)
    // Extension ::= SEQUENCE { extnID, critical BOOLEAN DEFAULT FALSE, extnValue OCTET STRING }
    // DER writes TRUE as 0xff; OpenSSL takes any non-zero octet as true, and so do we.
    const critical = second?.tag === TAG_BOOLEAN && isTrue(second)
    const value = expect(second?.tag === TAG_BOOLEAN ? third : second, TAG_OCTET_STRING).content
    const id = toHex(expect(oid, TAG_OID).content)
    if (id === OID_BASIC_CONSTRAINTS) {
      // BasicConstraints ::= SEQUENCE { cA BOOLEAN DEFAULT FALSE, pathLenConstraint INTEGER OPTIONAL }
      for (const item of readDerElements(readSequence(value), CODE)) {
        if (item.tag === TAG_BOOLEAN) isCa = isTrue(item)
        else pathLength = readSmallInteger(expect(item, TAG_INTEGER).content)
      }
    } else if (id === OID_KEY_USAGE) {
      // A copy: cached facts must not share bytes with a document its caller may wipe.
      keyUsage = expect(readDerElement(value, CODE), TAG_BIT_STRING).content.slice(1)
    } else if (critical) {
      hasUnknownCritical = true
    }
  }
  return { isCa, pathLength, keyUsage, hasUnknownCritical }
}

function isTrue(element: DerElement): boolean {
  return element.content.some((octet) => octet !== 0)
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

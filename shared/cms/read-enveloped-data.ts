/** Reads the one CMS EnvelopedData shape that AWS KMS returns as `CiphertextForRecipient` (RFC 5652 §6). */

import { equalBytes } from '../bytes/bytes.js'
import { CloisterError } from '../errors/cloister-error.js'
import {
  CONSTRUCTED,
  INTEGER,
  NULL,
  OBJECT_IDENTIFIER,
  OCTET_STRING,
  SEQUENCE,
  SET,
  contextConstructed,
  contextPrimitive,
} from './ber-identifiers.js'
import {
  OID_AES256_CBC,
  OID_DATA,
  OID_ENVELOPED_DATA,
  OID_MGF1,
  OID_P_SPECIFIED,
  OID_RSAES_OAEP,
  OID_SHA256,
} from './cms-oids.js'
import { readBer, readBerOctets, type BerElement } from './read-ber.js'

/** The fields of an EnvelopedData addressed to one RSA key, each a copy of the input's bytes. */
export interface EnvelopedData {
  /** RFC 5652 §6.2.1 `rid [0] subjectKeyIdentifier`: names the recipient's key. */
  readonly recipientKeyId: Uint8Array
  /** RFC 5652 §6.2.1 `encryptedKey`: the content-encryption key under RSAES-OAEP. */
  readonly encryptedKey: Uint8Array
  /** RFC 3565 §4.1 `AES-IV`: the 16-byte initialization vector of AES-256-CBC. */
  readonly iv: Uint8Array
  /** RFC 5652 §6.1 `encryptedContent`: the AES-256-CBC ciphertext, its segments joined. */
  readonly encryptedContent: Uint8Array
}

/** RFC 5652 §6.1: version 2 when a KeyTransRecipientInfo uses a subjectKeyIdentifier. */
export const ENVELOPED_DATA_VERSION = 2
/** RFC 5652 §6.2.1: KeyTransRecipientInfo version 2 goes with a subjectKeyIdentifier rid. */
export const KEY_TRANS_RECIPIENT_VERSION = 2
/** RFC 3565 §4.1: AES-IV ::= OCTET STRING (SIZE(16)). */
export const AES_IV_BYTES = 16

// RFC 5652 §6.2: RecipientInfo's other choices, kari [1], kekri [2], pwri [3] and ori [4].
const OTHER_RECIPIENT_INFOS: ReadonlySet<number> = new Set([1, 2, 3, 4].map(contextConstructed))
// RFC 5652 §6.1: originatorInfo [0] and unprotectedAttrs [1], both IMPLICIT constructed.
const OPTIONAL_ENVELOPED_FIELDS: ReadonlySet<number> = new Set([0, 1].map(contextConstructed))

function malformed(): CloisterError {
  return new CloisterError('ERR_CMS_MALFORMED')
}

function unsupported(): CloisterError {
  return new CloisterError('ERR_CMS_UNSUPPORTED')
}

/**
 * Reads a BER `ContentInfo` holding an `EnvelopedData` v2 with exactly one `KeyTransRecipientInfo`
 * v2 whose rid is a subjectKeyIdentifier, key transport RSAES-OAEP with SHA-256 and MGF1-SHA-256,
 * and `id-data` content under AES-256-CBC: what AWS KMS sends, and what `openssl cms -encrypt
 * -keyid` writes with those options. It decrypts nothing.
 *
 * @throws {CloisterError} `ERR_CMS_MALFORMED` when the bytes are not BER of the RFC 5652 types,
 *   `ERR_CMS_UNSUPPORTED` when they are but use another shape, version or algorithm,
 *   `ERR_CMS_TOO_LARGE` past the reader's limits. No other exception escapes.
 * @example
 * ```ts
 * const { recipientKeyId, encryptedKey, iv, encryptedContent } = readEnvelopedData(bytes)
 * ```
 */
export function readEnvelopedData(bytes: Uint8Array): EnvelopedData {
  // RFC 5652 §3: ContentInfo ::= SEQUENCE { contentType, content [0] EXPLICIT ANY }.
  const [contentType, content] = childrenOf(readBer(bytes), SEQUENCE, 2)
  expectOid(contentType, OID_ENVELOPED_DATA)
  const [envelopedData] = childrenOf(content, contextConstructed(0), 1)
  // RFC 5652 §6.1: EnvelopedData ::= SEQUENCE { version, originatorInfo [0] OPTIONAL,
  // recipientInfos, encryptedContentInfo, unprotectedAttrs [1] OPTIONAL }.
  for (const field of childrenOf(envelopedData, SEQUENCE, 3, 5)) {
    if (OPTIONAL_ENVELOPED_FIELDS.has(field.identifier)) throw unsupported()
  }
  const [version, recipientInfos, encryptedContentInfo] = childrenOf(envelopedData, SEQUENCE, 3)
  expectVersion(version, ENVELOPED_DATA_VERSION)
  // RFC 5652 §6.1: RecipientInfos ::= SET SIZE (1..MAX) OF RecipientInfo.
  const [recipient, ...others] = childrenOf(recipientInfos, SET, 1, Infinity)
  if (others.length > 0) throw unsupported()
  const { recipientKeyId, encryptedKey } = readKeyTransRecipient(recipient)
  const { iv, encryptedContent } = readEncryptedContentInfo(encryptedContentInfo)
  return {
    recipientKeyId: recipientKeyId.slice(),
    encryptedKey: encryptedKey.slice(),
    iv: iv.slice(),
    encryptedContent: encryptedContent.slice(),
  }
}

/**
 * RFC 5652 §6.2.1: KeyTransRecipientInfo ::= SEQUENCE { version, rid, keyEncryptionAlgorithm,
 * encryptedKey }.
 */
function readKeyTransRecipient(recipient: BerElement | undefined): {
  recipientKeyId: Uint8Array
  encryptedKey: Uint8Array
} {
  if (recipient !== undefined && OTHER_RECIPIENT_INFOS.has(recipient.identifier)) {
    throw unsupported()
  }
  const [version, rid, keyEncryptionAlgorithm, encryptedKey] = childrenOf(recipient, SEQUENCE, 4)
  // rid ::= CHOICE { issuerAndSerialNumber SEQUENCE (with version 0),
  //   subjectKeyIdentifier [0] (with version 2) }.
  if (rid?.identifier === SEQUENCE) throw unsupported()
  const recipientKeyId = octetsOf(rid, contextPrimitive(0))
  expectVersion(version, KEY_TRANS_RECIPIENT_VERSION)
  expectOaepSha256(keyEncryptionAlgorithm)
  return { recipientKeyId, encryptedKey: octetsOf(encryptedKey, OCTET_STRING) }
}

/**
 * RFC 8017 Appendix A.2.1: RSAES-OAEP-params ::= SEQUENCE { hashAlgorithm [0] DEFAULT sha1,
 * maskGenAlgorithm [1] DEFAULT mgf1SHA1, pSourceAlgorithm [2] DEFAULT pSpecifiedEmpty }. Only
 * SHA-256 with MGF1-SHA-256 and the empty label is accepted.
 */
function expectOaepSha256(algorithm: BerElement | undefined): void {
  const parameters = parametersOf(algorithm, OID_RSAES_OAEP)
  // RFC 4055 §4.1: the parameters are present; absent, every default would be SHA-1.
  if (parameters === undefined) throw unsupported()
  const [hash, maskGen, pSource] = explicitFieldsOf(parameters, 3)
  if (hash === undefined || maskGen === undefined) throw unsupported()
  expectSha256(hash)
  // RFC 8017 Appendix B.2.1: MGF1's parameters are its hash's AlgorithmIdentifier.
  expectSha256(parametersOf(maskGen, OID_MGF1))
  if (pSource !== undefined) {
    // RFC 8017 Appendix A.2.1: pSpecified carries the label; the default is the empty label.
    const label = octetsOf(parametersOf(pSource, OID_P_SPECIFIED), OCTET_STRING)
    if (label.byteLength !== 0) throw unsupported()
  }
}

/** RFC 5754 §2: id-sha256 with parameters absent or NULL (AWS writes NULL, OpenSSL omits it). */
function expectSha256(algorithm: BerElement | undefined): void {
  const parameters = parametersOf(algorithm, OID_SHA256)
  if (parameters !== undefined && expect(parameters, NULL).content.byteLength !== 0) {
    throw malformed()
  }
}

/**
 * RFC 5652 §6.1: EncryptedContentInfo ::= SEQUENCE { contentType, contentEncryptionAlgorithm,
 * encryptedContent [0] IMPLICIT OCTET STRING OPTIONAL }.
 */
function readEncryptedContentInfo(info: BerElement | undefined): {
  iv: Uint8Array
  encryptedContent: Uint8Array
} {
  const [contentType, algorithm, encryptedContent] = childrenOf(info, SEQUENCE, 2, 3)
  expectOid(contentType, OID_DATA)
  const iv = octetsOf(parametersOf(algorithm, OID_AES256_CBC), OCTET_STRING)
  if (iv.byteLength !== AES_IV_BYTES) throw malformed()
  // Detached content is valid CMS (RFC 5652 §6.1) but never what KMS sends.
  if (encryptedContent === undefined) throw unsupported()
  return { iv, encryptedContent: octetsOf(encryptedContent, contextPrimitive(0)) }
}

/**
 * RFC 5280 §4.1.1.2: AlgorithmIdentifier ::= SEQUENCE { algorithm OID, parameters ANY OPTIONAL }.
 * Returns the parameters of an algorithm that must be `oid`.
 */
function parametersOf(algorithm: BerElement | undefined, oid: Uint8Array): BerElement | undefined {
  const [identifier, parameters] = childrenOf(algorithm, SEQUENCE, 1, 2)
  expectOid(identifier, oid)
  return parameters
}

/**
 * The fields of a SEQUENCE made only of optional EXPLICIT `[0]`…`[count - 1]` fields, indexed by
 * tag number (X.680 §25: each at most once, in order).
 */
function explicitFieldsOf(sequence: BerElement, count: number): (BerElement | undefined)[] {
  const fields: (BerElement | undefined)[] = Array.from({ length: count }, () => undefined)
  let next = 0
  for (const field of childrenOf(sequence, SEQUENCE, 0, count)) {
    const number = field.identifier - contextConstructed(0)
    if (number < next || number >= count) throw malformed()
    ;[fields[number]] = childrenOf(field, field.identifier, 1)
    next = number + 1
  }
  return fields
}

/** The children of an element that must carry `identifier` and hold min…max children. */
function childrenOf(
  element: BerElement | undefined,
  identifier: number,
  min: number,
  max = min,
): readonly BerElement[] {
  const { children } = expect(element, identifier)
  if (children.length < min || children.length > max) throw malformed()
  return children
}

function expect(element: BerElement | undefined, identifier: number): BerElement {
  if (element?.identifier !== identifier) throw malformed()
  return element
}

/** The octets of an OCTET STRING tagged `primitive` (or implicitly retagged), in either form. */
function octetsOf(element: BerElement | undefined, primitive: number): Uint8Array {
  if (element === undefined || (element.identifier & ~CONSTRUCTED) !== primitive) throw malformed()
  return readBerOctets(element)
}

/** A well-formed OBJECT IDENTIFIER that must be `oid`; any other is unsupported. */
function expectOid(element: BerElement | undefined, oid: Uint8Array): void {
  const { content } = expect(element, OBJECT_IDENTIFIER)
  // X.690 §8.19.2: each subidentifier ends in an octet with bit 8 clear and never opens with 0x80.
  let opensSubidentifier = true
  for (const byte of content) {
    if (opensSubidentifier && byte === 0x80) throw malformed()
    opensSubidentifier = (byte & 0x80) === 0
  }
  if (content.byteLength === 0 || !opensSubidentifier) throw malformed()
  if (!equalBytes(content, oid)) throw unsupported()
}

/** A version INTEGER that must equal `version` (a one-octet value). */
function expectVersion(element: BerElement | undefined, version: number): void {
  const { content } = expect(element, INTEGER)
  const [first, second] = content
  if (first === undefined) throw malformed()
  // X.690 §8.3.2: the first nine bits of an INTEGER are never all zeros or all ones.
  if (second !== undefined && (first === 0 ? second < 0x80 : first === 0xff && second >= 0x80)) {
    throw malformed()
  }
  if (content.byteLength !== 1 || first !== version) throw unsupported()
}

/** Builds EnvelopedData BER field by field, so a test changes one field and keeps the rest valid. */

import { concatBytes } from '../../shared/bytes/bytes.js'
import {
  OID_AES256_CBC,
  OID_DATA,
  OID_ENVELOPED_DATA,
  OID_MGF1,
  OID_RSAES_OAEP,
  OID_SHA256,
} from '../../shared/cms/cms-oids.js'
import { writeDefinite } from '../../shared/cms/write-ber.js'
import { hexBytes } from './hex-bytes.js'

/** An absent field: concatenated, it leaves nothing behind. */
export const ABSENT = new Uint8Array(0)
export const NULL_PARAMETERS = hexBytes('05 00')
export const VERSION_2 = hexBytes('02 01 02')
export const RID = new Uint8Array(32).fill(0x11)
export const ENCRYPTED_KEY = new Uint8Array(256).fill(0x22)
export const IV = new Uint8Array(16).fill(0x33)
export const ENCRYPTED_CONTENT = new Uint8Array(32).fill(0x44)

/** A definite-length element. */
export const tlv = writeDefinite

export function oid(content: Uint8Array): Uint8Array {
  return tlv(0x06, content)
}

export function sequence(...fields: Uint8Array[]): Uint8Array {
  return tlv(0x30, concatBytes(fields))
}

/** AlgorithmIdentifier { algorithm, parameters }. */
export function algorithm(identifier: Uint8Array, ...parameters: Uint8Array[]): Uint8Array {
  return sequence(oid(identifier), ...parameters)
}

export const SHA256 = algorithm(OID_SHA256, NULL_PARAMETERS)
export const MGF1_SHA256 = algorithm(OID_MGF1, SHA256)
export const OAEP_PARAMETERS = sequence(tlv(0xa0, SHA256), tlv(0xa1, MGF1_SHA256))
export const OAEP = algorithm(OID_RSAES_OAEP, OAEP_PARAMETERS)

export interface RecipientFields {
  readonly version?: Uint8Array
  readonly rid?: Uint8Array
  readonly keyEncryptionAlgorithm?: Uint8Array
  readonly encryptedKey?: Uint8Array
}

/** KeyTransRecipientInfo v2 with a subjectKeyIdentifier rid and RSAES-OAEP-SHA-256. */
export function recipient(fields: RecipientFields = {}): Uint8Array {
  return sequence(
    fields.version ?? VERSION_2,
    fields.rid ?? tlv(0x80, RID),
    fields.keyEncryptionAlgorithm ?? OAEP,
    fields.encryptedKey ?? tlv(0x04, ENCRYPTED_KEY),
  )
}

export interface ContentFields {
  readonly contentType?: Uint8Array
  readonly contentEncryptionAlgorithm?: Uint8Array
  readonly encryptedContent?: Uint8Array
}

/** EncryptedContentInfo for id-data under AES-256-CBC. */
export function encryptedContentInfo(fields: ContentFields = {}): Uint8Array {
  return sequence(
    fields.contentType ?? oid(OID_DATA),
    fields.contentEncryptionAlgorithm ?? algorithm(OID_AES256_CBC, tlv(0x04, IV)),
    fields.encryptedContent ?? tlv(0x80, ENCRYPTED_CONTENT),
  )
}

export interface EnvelopedFields {
  readonly version?: Uint8Array
  readonly originatorInfo?: Uint8Array
  readonly recipientInfos?: Uint8Array
  readonly encryptedContentInfo?: Uint8Array
  readonly unprotectedAttrs?: Uint8Array
}

/** EnvelopedData v2 with one recipient. */
export function envelopedData(fields: EnvelopedFields = {}): Uint8Array {
  return sequence(
    fields.version ?? VERSION_2,
    fields.originatorInfo ?? ABSENT,
    fields.recipientInfos ?? tlv(0x31, recipient()),
    fields.encryptedContentInfo ?? encryptedContentInfo(),
    fields.unprotectedAttrs ?? ABSENT,
  )
}

/** ContentInfo { contentType, [0] EXPLICIT content } around an EnvelopedData. */
export function contentInfo(
  content = envelopedData(),
  contentType = oid(OID_ENVELOPED_DATA),
): Uint8Array {
  return sequence(contentType, tlv(0xa0, content))
}

/** A whole envelope whose recipient has `fields`. */
export function withRecipient(fields: RecipientFields): Uint8Array {
  return contentInfo(envelopedData({ recipientInfos: tlv(0x31, recipient(fields)) }))
}

/** A whole envelope whose RSAES-OAEP parameters are `parameters` (`ABSENT` for none). */
export function withOaepParameters(parameters: Uint8Array): Uint8Array {
  return withRecipient({ keyEncryptionAlgorithm: algorithm(OID_RSAES_OAEP, parameters) })
}

/** A whole envelope whose EncryptedContentInfo has `fields`. */
export function withContent(fields: ContentFields): Uint8Array {
  return contentInfo(envelopedData({ encryptedContentInfo: encryptedContentInfo(fields) }))
}

/** Encodes EnvelopedData fields in the exact BER framing of AWS KMS's `CiphertextForRecipient` (RFC 5652 §6). */

import { concatBytes } from '../bytes/bytes.js'
import {
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
  OID_RSAES_OAEP,
  OID_SHA256,
} from './cms-oids.js'
import {
  ENVELOPED_DATA_VERSION,
  KEY_TRANS_RECIPIENT_VERSION,
  type EnvelopedData,
} from './read-enveloped-data.js'
import { writeDefinite, writeIndefinite } from './write-ber.js'

/**
 * AWS cuts `encryptedContent` into 1,000-byte segments (real response 4: 4 × 1000 + 112), as CER
 * does (X.690 §9.2).
 */
export const CONTENT_SEGMENT_BYTES = 1000

/**
 * The BER bytes of `fields`, framed byte for byte as AWS KMS frames them: ContentInfo, its `[0]`,
 * EnvelopedData and EncryptedContentInfo in indefinite form; the RecipientInfos SET and everything
 * inside it in definite form; RSAES-OAEP parameters with explicit SHA-256 and MGF1-SHA-256
 * AlgorithmIdentifiers that carry NULL parameters; and `encryptedContent` as a constructed
 * indefinite `[0]` of {@link CONTENT_SEGMENT_BYTES}-byte OCTET STRING segments.
 *
 * @example
 * ```ts
 * const bytes = writeEnvelopedData({ recipientKeyId, encryptedKey, iv, encryptedContent })
 * ```
 */
export function writeEnvelopedData(fields: EnvelopedData): Uint8Array {
  // RFC 5754 §2: AWS writes sha256's parameters as NULL.
  const sha256 = sequence(
    writeDefinite(OBJECT_IDENTIFIER, OID_SHA256),
    writeDefinite(NULL, NO_BYTES),
  )
  // RFC 8017 Appendix A.2.1: RSAES-OAEP-params { hashAlgorithm [0], maskGenAlgorithm [1] }.
  const oaepParameters = sequence(
    writeDefinite(contextConstructed(0), sha256),
    writeDefinite(
      contextConstructed(1),
      sequence(writeDefinite(OBJECT_IDENTIFIER, OID_MGF1), sha256),
    ),
  )
  // RFC 5652 §6.2.1: KeyTransRecipientInfo { version 2, rid [0] subjectKeyIdentifier, ... }.
  const recipient = sequence(
    writeDefinite(INTEGER, Uint8Array.of(KEY_TRANS_RECIPIENT_VERSION)),
    writeDefinite(contextPrimitive(0), fields.recipientKeyId),
    sequence(writeDefinite(OBJECT_IDENTIFIER, OID_RSAES_OAEP), oaepParameters),
    writeDefinite(OCTET_STRING, fields.encryptedKey),
  )
  // RFC 5652 §6.1 EncryptedContentInfo, with RFC 3565 §4.1 AES-IV as the algorithm's parameters.
  const encryptedContentInfo = writeIndefinite(SEQUENCE, [
    writeDefinite(OBJECT_IDENTIFIER, OID_DATA),
    sequence(
      writeDefinite(OBJECT_IDENTIFIER, OID_AES256_CBC),
      writeDefinite(OCTET_STRING, fields.iv),
    ),
    writeIndefinite(contextConstructed(0), segmentsOf(fields.encryptedContent)),
  ])
  const envelopedData = writeIndefinite(SEQUENCE, [
    writeDefinite(INTEGER, Uint8Array.of(ENVELOPED_DATA_VERSION)),
    writeDefinite(SET, recipient),
    encryptedContentInfo,
  ])
  // RFC 5652 §3 ContentInfo { contentType id-envelopedData, content [0] EXPLICIT }.
  return writeIndefinite(SEQUENCE, [
    writeDefinite(OBJECT_IDENTIFIER, OID_ENVELOPED_DATA),
    writeIndefinite(contextConstructed(0), [envelopedData]),
  ])
}

const NO_BYTES = new Uint8Array(0)

function sequence(...parts: Uint8Array[]): Uint8Array {
  return writeDefinite(SEQUENCE, concatBytes(parts))
}

/** X.690 §8.7.3.2: the content as primitive OCTET STRING segments. */
function segmentsOf(content: Uint8Array): Uint8Array[] {
  const segments: Uint8Array[] = []
  for (let offset = 0; offset < content.byteLength; offset += CONTENT_SEGMENT_BYTES) {
    segments.push(
      writeDefinite(OCTET_STRING, content.subarray(offset, offset + CONTENT_SEGMENT_BYTES)),
    )
  }
  return segments
}

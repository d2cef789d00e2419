/** readEnvelopedData takes exactly the fields of real KMS responses and names every other input's fault. */

import t from 'tap'
import { concatBytes, toHex } from '../../../shared/bytes/bytes.js'
import {
  OID_AES256_CBC,
  OID_MGF1,
  OID_P_SPECIFIED,
  OID_SHA256,
} from '../../../shared/cms/cms-oids.js'
import { readEnvelopedData } from '../../../shared/cms/read-enveloped-data.js'
import { writeIndefinite } from '../../../shared/cms/write-ber.js'
import { caughtCode } from '../../helpers/caught-code.js'
import { hexBytes as hex } from '../../helpers/hex-bytes.js'
import { vectorBytes, vectorJson } from '../../helpers/shared-vectors.js'
import {
  ABSENT,
  ENCRYPTED_CONTENT,
  ENCRYPTED_KEY,
  IV,
  MGF1_SHA256,
  NULL_PARAMETERS,
  OAEP,
  RID,
  SHA256,
  algorithm,
  contentInfo,
  encryptedContentInfo,
  envelopedData,
  oid,
  recipient,
  sequence,
  tlv,
  withContent,
  withOaepParameters,
  withRecipient,
} from '../../helpers/build-enveloped-data.js'

interface KmsManifestEntry {
  readonly file: string
  readonly ridBytes: number
  readonly encryptedKeyBytes: number
  readonly ivHex: string
  readonly encryptedContentBytes: number
  readonly encryptedContentForm: string
}

const manifest = (vectorJson('kms/manifest.json') as { responses: KmsManifestEntry[] }).responses

/**
 * Where each field's bytes sit in the real responses, from `openssl asn1parse -inform DER -i`:
 * the rid, the encrypted key and the IV at the same offsets in all four; the content in segments.
 */
const FIELD_RANGES = { rid: [33, 65], encryptedKey: [131, 387], iv: [415, 431] } as const
const CONTENT_RANGES: Readonly<Record<string, readonly (readonly [number, number])[]>> = {
  'kms-ciphertext-for-recipient-1.ber': [[435, 451]],
  'kms-ciphertext-for-recipient-2.ber': [[435, 483]],
  'kms-ciphertext-for-recipient-3.ber': [[433, 449]],
  'kms-ciphertext-for-recipient-4.ber': [
    [437, 1437],
    [1441, 2441],
    [2445, 3445],
    [3449, 4449],
    [4451, 4563],
  ],
}

const PKCS_OID = '2a864886f70d01'

t.test('the four real KMS responses read exactly as manifest.json lists them', (t) => {
  t.equal(manifest.length, 4)
  for (const entry of manifest) {
    const bytes = vectorBytes(`kms/${entry.file}`)
    const fields = readEnvelopedData(bytes)
    t.equal(fields.recipientKeyId.byteLength, entry.ridBytes, `${entry.file} rid`)
    t.equal(fields.encryptedKey.byteLength, entry.encryptedKeyBytes, `${entry.file} encryptedKey`)
    t.equal(toHex(fields.iv), entry.ivHex, `${entry.file} iv`)
    t.equal(
      fields.encryptedContent.byteLength,
      entry.encryptedContentBytes,
      `${entry.file} content`,
    )
    const slice = ([start, end]: readonly [number, number]): Uint8Array =>
      bytes.subarray(start, end)
    t.equal(toHex(fields.recipientKeyId), toHex(slice(FIELD_RANGES.rid)))
    t.equal(toHex(fields.encryptedKey), toHex(slice(FIELD_RANGES.encryptedKey)))
    t.equal(toHex(fields.iv), toHex(slice(FIELD_RANGES.iv)))
    const ranges = CONTENT_RANGES[entry.file] ?? []
    t.equal(toHex(fields.encryptedContent), toHex(concatBytes(ranges.map(slice))))
    const segments = entry.encryptedContentForm.match(/(\d+) OCTET STRING/)?.[1]
    t.equal(ranges.length, segments === undefined ? 1 : Number(segments), `${entry.file} segments`)
  }
  t.end()
})

t.test('the fields are copies, not views into the input', (t) => {
  const bytes = vectorBytes('kms/kms-ciphertext-for-recipient-3.ber')
  const { recipientKeyId, encryptedKey, iv, encryptedContent } = readEnvelopedData(bytes)
  for (const field of [recipientKeyId, encryptedKey, iv, encryptedContent]) {
    t.not(field.buffer, bytes.buffer)
  }
  t.end()
})

t.test('the built test envelope reads back its fields', (t) => {
  const fields = readEnvelopedData(contentInfo())
  t.equal(toHex(fields.recipientKeyId), toHex(RID))
  t.equal(toHex(fields.encryptedKey), toHex(ENCRYPTED_KEY))
  t.equal(toHex(fields.iv), toHex(IV))
  t.equal(toHex(fields.encryptedContent), toHex(ENCRYPTED_CONTENT))
  t.end()
})

t.test('other valid forms of the same envelope are accepted', (t) => {
  const accepted: [string, Uint8Array][] = [
    // OpenSSL omits sha256's NULL parameters (RFC 5754 §2 allows both).
    [
      'sha256 without NULL parameters',
      withOaepParameters(
        sequence(
          tlv(0xa0, algorithm(OID_SHA256)),
          tlv(0xa1, algorithm(OID_MGF1, algorithm(OID_SHA256))),
        ),
      ),
    ],
    [
      'the default pSourceAlgorithm written out',
      withOaepParameters(
        sequence(
          tlv(0xa0, SHA256),
          tlv(0xa1, MGF1_SHA256),
          tlv(0xa2, algorithm(OID_P_SPECIFIED, tlv(0x04, ABSENT))),
        ),
      ),
    ],
    [
      'a 20-byte rid, as OpenSSL -keyid writes',
      withRecipient({ rid: tlv(0x80, RID.subarray(0, 20)) }),
    ],
    ['an empty rid', withRecipient({ rid: tlv(0x80, ABSENT) })],
    ['a constructed rid', withRecipient({ rid: tlv(0xa0, concatBytes([tlv(0x04, RID)])) })],
    [
      'a constructed IV',
      withContent({
        contentEncryptionAlgorithm: algorithm(
          OID_AES256_CBC,
          tlv(0x24, concatBytes([tlv(0x04, IV.subarray(0, 5)), tlv(0x04, IV.subarray(5))])),
        ),
      }),
    ],
    [
      'an encrypted key in segments',
      withRecipient({ encryptedKey: writeIndefinite(0x24, [tlv(0x04, ENCRYPTED_KEY)]) }),
    ],
    [
      'content in nested constructed segments',
      withContent({
        encryptedContent: writeIndefinite(0xa0, [
          tlv(0x04, ENCRYPTED_CONTENT.subarray(0, 1)),
          writeIndefinite(0x24, [tlv(0x04, ENCRYPTED_CONTENT.subarray(1))]),
        ]),
      }),
    ],
    [
      'indefinite lengths where the builder writes definite ones',
      writeIndefinite(0x30, [
        oid(hex(PKCS_OID + '0703')),
        writeIndefinite(0xa0, [
          writeIndefinite(0x30, [hex('020102'), tlv(0x31, recipient()), encryptedContentInfo()]),
        ]),
      ]),
    ],
  ]
  for (const [why, bytes] of accepted) {
    const fields = readEnvelopedData(bytes)
    t.equal(toHex(fields.iv), toHex(IV), why)
    t.equal(toHex(fields.encryptedContent), toHex(ENCRYPTED_CONTENT), why)
  }
  t.end()
})

t.test('inputs that are not the RFC 5652 types are ERR_CMS_MALFORMED', (t) => {
  const sha256With = (parameters: Uint8Array): Uint8Array =>
    withOaepParameters(
      sequence(tlv(0xa0, algorithm(OID_SHA256, parameters)), tlv(0xa1, MGF1_SHA256)),
    )
  const refused: [string, Uint8Array][] = [
    ['not BER', hex('30 80')],
    ['trailing bytes', concatBytes([contentInfo(), hex('05 00')])],
    [
      'ContentInfo is a SET',
      tlv(0x31, sequence(oid(hex(PKCS_OID + '0703')), tlv(0xa0, envelopedData())).subarray(2)),
    ],
    ['ContentInfo without content', sequence(oid(hex(PKCS_OID + '0703')))],
    [
      'ContentInfo with a third field',
      sequence(oid(hex(PKCS_OID + '0703')), tlv(0xa0, envelopedData()), NULL_PARAMETERS),
    ],
    [
      'contentType is an OCTET STRING',
      contentInfo(envelopedData(), tlv(0x04, hex(PKCS_OID + '0703'))),
    ],
    ['contentType in constructed form', contentInfo(envelopedData(), tlv(0x26, oid(hex('2a'))))],
    ['an empty OID', contentInfo(envelopedData(), oid(ABSENT))],
    [
      'an OID whose subidentifier opens with 0x80',
      contentInfo(envelopedData(), oid(hex('2a 80 01'))),
    ],
    ['an OID that opens with 0x80', contentInfo(envelopedData(), oid(hex('80 01')))],
    ['an OID cut inside a subidentifier', contentInfo(envelopedData(), oid(hex('2a 86')))],
    [
      'content [0] in primitive form',
      sequence(oid(hex(PKCS_OID + '0703')), tlv(0x80, envelopedData())),
    ],
    ['content tagged [1]', sequence(oid(hex(PKCS_OID + '0703')), tlv(0xa1, envelopedData()))],
    [
      'content [0] holding two elements',
      sequence(
        oid(hex(PKCS_OID + '0703')),
        tlv(0xa0, concatBytes([envelopedData(), NULL_PARAMETERS])),
      ),
    ],
    ['EnvelopedData is a SET', contentInfo(tlv(0x31, envelopedData().subarray(2)))],
    ['EnvelopedData with two fields', contentInfo(sequence(hex('020102'), tlv(0x31, recipient())))],
    [
      'EnvelopedData with six fields',
      contentInfo(
        envelopedData({
          unprotectedAttrs: concatBytes(Array.from({ length: 3 }, () => NULL_PARAMETERS)),
        }),
      ),
    ],
    [
      'EnvelopedData with a stray NULL',
      contentInfo(envelopedData({ unprotectedAttrs: NULL_PARAMETERS })),
    ],
    ['version is an OCTET STRING', contentInfo(envelopedData({ version: hex('04 01 02') }))],
    ['version with no octets', contentInfo(envelopedData({ version: hex('02 00') }))],
    [
      'version 2 with a leading zero (X.690 §8.3.2)',
      contentInfo(envelopedData({ version: hex('02 02 0002') })),
    ],
    ['version -1 with a leading 0xff', contentInfo(envelopedData({ version: hex('02 02 ffff') }))],
    [
      'recipientInfos is a SEQUENCE',
      contentInfo(envelopedData({ recipientInfos: sequence(recipient()) })),
    ],
    [
      'recipientInfos is empty (SIZE (1..MAX))',
      contentInfo(envelopedData({ recipientInfos: tlv(0x31, ABSENT) })),
    ],
    [
      'a RecipientInfo that is an OCTET STRING',
      contentInfo(envelopedData({ recipientInfos: tlv(0x31, tlv(0x04, RID)) })),
    ],
    [
      'a RecipientInfo tagged [5]',
      contentInfo(envelopedData({ recipientInfos: tlv(0x31, tlv(0xa5, recipient())) })),
    ],
    [
      'KeyTransRecipientInfo with three fields',
      contentInfo(
        envelopedData({ recipientInfos: tlv(0x31, sequence(hex('020102'), tlv(0x80, RID), OAEP)) }),
      ),
    ],
    ['rid tagged [1]', withRecipient({ rid: tlv(0x81, RID) })],
    ['rid constructed from an INTEGER', withRecipient({ rid: tlv(0xa0, hex('02 01 01')) })],
    [
      'keyEncryptionAlgorithm is a SET',
      withRecipient({ keyEncryptionAlgorithm: tlv(0x31, OAEP.subarray(2)) }),
    ],
    [
      'keyEncryptionAlgorithm without an OID',
      withRecipient({ keyEncryptionAlgorithm: sequence() }),
    ],
    [
      'keyEncryptionAlgorithm with three fields',
      withRecipient({ keyEncryptionAlgorithm: sequence(OAEP.subarray(2), NULL_PARAMETERS) }),
    ],
    ['RSAES-OAEP parameters that are NULL', withOaepParameters(NULL_PARAMETERS)],
    [
      'RSAES-OAEP parameters with a [3] field',
      withOaepParameters(
        sequence(tlv(0xa0, SHA256), tlv(0xa1, MGF1_SHA256), tlv(0xa3, NULL_PARAMETERS)),
      ),
    ],
    [
      'RSAES-OAEP parameters with four fields',
      withOaepParameters(
        sequence(
          tlv(0xa0, SHA256),
          tlv(0xa1, MGF1_SHA256),
          tlv(0xa2, NULL_PARAMETERS),
          tlv(0xa2, NULL_PARAMETERS),
        ),
      ),
    ],
    [
      'RSAES-OAEP fields out of order',
      withOaepParameters(sequence(tlv(0xa1, MGF1_SHA256), tlv(0xa0, SHA256))),
    ],
    [
      'a repeated hashAlgorithm',
      withOaepParameters(sequence(tlv(0xa0, SHA256), tlv(0xa0, SHA256))),
    ],
    [
      'hashAlgorithm [0] in primitive form',
      withOaepParameters(sequence(tlv(0x80, SHA256), tlv(0xa1, MGF1_SHA256))),
    ],
    ['hashAlgorithm untagged', withOaepParameters(sequence(SHA256, tlv(0xa1, MGF1_SHA256)))],
    [
      'hashAlgorithm [0] holding two elements',
      withOaepParameters(
        sequence(tlv(0xa0, concatBytes([SHA256, SHA256])), tlv(0xa1, MGF1_SHA256)),
      ),
    ],
    [
      'hashAlgorithm [0] holding nothing',
      withOaepParameters(sequence(tlv(0xa0, ABSENT), tlv(0xa1, MGF1_SHA256))),
    ],
    ['sha256 with OCTET STRING parameters', sha256With(tlv(0x04, ABSENT))],
    ['sha256 with a NULL that has content', sha256With(hex('05 01 00'))],
    [
      'MGF1 without its hash',
      withOaepParameters(sequence(tlv(0xa0, SHA256), tlv(0xa1, algorithm(OID_MGF1)))),
    ],
    [
      'MGF1 with a NULL for its hash',
      withOaepParameters(
        sequence(tlv(0xa0, SHA256), tlv(0xa1, algorithm(OID_MGF1, NULL_PARAMETERS))),
      ),
    ],
    [
      'pSpecified without its label',
      withOaepParameters(
        sequence(tlv(0xa0, SHA256), tlv(0xa1, MGF1_SHA256), tlv(0xa2, algorithm(OID_P_SPECIFIED))),
      ),
    ],
    [
      'pSpecified with a NULL label',
      withOaepParameters(
        sequence(
          tlv(0xa0, SHA256),
          tlv(0xa1, MGF1_SHA256),
          tlv(0xa2, algorithm(OID_P_SPECIFIED, NULL_PARAMETERS)),
        ),
      ),
    ],
    ['encryptedKey is a BIT STRING', withRecipient({ encryptedKey: tlv(0x03, ENCRYPTED_KEY) })],
    [
      'encryptedKey segments that are INTEGERs',
      withRecipient({ encryptedKey: tlv(0x24, hex('02 01 01')) }),
    ],
    [
      'EncryptedContentInfo is a SET',
      contentInfo(
        envelopedData({ encryptedContentInfo: tlv(0x31, encryptedContentInfo().subarray(2)) }),
      ),
    ],
    [
      'EncryptedContentInfo with one field',
      contentInfo(envelopedData({ encryptedContentInfo: sequence(oid(hex(PKCS_OID + '0701'))) })),
    ],
    [
      'EncryptedContentInfo with four fields',
      contentInfo(
        envelopedData({
          encryptedContentInfo: sequence(encryptedContentInfo().subarray(2), NULL_PARAMETERS),
        }),
      ),
    ],
    [
      'AES-256-CBC without an IV',
      withContent({ contentEncryptionAlgorithm: algorithm(OID_AES256_CBC) }),
    ],
    [
      'an IV of 15 bytes',
      withContent({
        contentEncryptionAlgorithm: algorithm(OID_AES256_CBC, tlv(0x04, IV.subarray(1))),
      }),
    ],
    [
      'an IV of 17 bytes',
      withContent({
        contentEncryptionAlgorithm: algorithm(
          OID_AES256_CBC,
          tlv(0x04, concatBytes([IV, hex('00')])),
        ),
      }),
    ],
    [
      'an IV that is an INTEGER',
      withContent({ contentEncryptionAlgorithm: algorithm(OID_AES256_CBC, tlv(0x02, IV)) }),
    ],
    [
      'encryptedContent tagged [1]',
      withContent({ encryptedContent: tlv(0x81, ENCRYPTED_CONTENT) }),
    ],
    [
      'encryptedContent as a universal OCTET STRING',
      withContent({ encryptedContent: tlv(0x04, ENCRYPTED_CONTENT) }),
    ],
    [
      'encryptedContent with a NULL segment',
      withContent({ encryptedContent: writeIndefinite(0xa0, [NULL_PARAMETERS]) }),
    ],
  ]
  for (const [why, bytes] of refused)
    t.equal(
      caughtCode(() => readEnvelopedData(bytes)),
      'ERR_CMS_MALFORMED',
      why,
    )
  t.end()
})

t.test('valid CMS of another shape, version or algorithm is ERR_CMS_UNSUPPORTED', (t) => {
  const sha1 = algorithm(hex('2b0e03021a'))
  const refused: [string, Uint8Array][] = [
    ['signedData', contentInfo(envelopedData(), oid(hex(PKCS_OID + '0702')))],
    ['a high tag number', hex('30 80 1f 22 00 00 00')],
    ['EnvelopedData version 0', contentInfo(envelopedData({ version: hex('02 01 00') }))],
    ['EnvelopedData version 3', contentInfo(envelopedData({ version: hex('02 01 03') }))],
    ['EnvelopedData version 258', contentInfo(envelopedData({ version: hex('02 02 0102') }))],
    [
      'EnvelopedData version 128 (a needed leading zero)',
      contentInfo(envelopedData({ version: hex('02 02 0080') })),
    ],
    ['EnvelopedData version -129', contentInfo(envelopedData({ version: hex('02 02 ff7f') }))],
    ['EnvelopedData version -1', contentInfo(envelopedData({ version: hex('02 01 ff') }))],
    ['originatorInfo', contentInfo(envelopedData({ originatorInfo: tlv(0xa0, ABSENT) }))],
    ['unprotectedAttrs', contentInfo(envelopedData({ unprotectedAttrs: tlv(0xa1, ABSENT) }))],
    [
      'two recipients',
      contentInfo(
        envelopedData({ recipientInfos: tlv(0x31, concatBytes([recipient(), recipient()])) }),
      ),
    ],
    [
      'a KeyAgreeRecipientInfo [1]',
      contentInfo(envelopedData({ recipientInfos: tlv(0x31, tlv(0xa1, ABSENT)) })),
    ],
    [
      'a KEKRecipientInfo [2]',
      contentInfo(envelopedData({ recipientInfos: tlv(0x31, tlv(0xa2, ABSENT)) })),
    ],
    [
      'a PasswordRecipientInfo [3]',
      contentInfo(envelopedData({ recipientInfos: tlv(0x31, tlv(0xa3, ABSENT)) })),
    ],
    [
      'an OtherRecipientInfo [4]',
      contentInfo(envelopedData({ recipientInfos: tlv(0x31, tlv(0xa4, ABSENT)) })),
    ],
    ['KeyTransRecipientInfo version 0', withRecipient({ version: hex('02 01 00') })],
    [
      'rid issuerAndSerialNumber',
      withRecipient({ version: hex('02 01 00'), rid: sequence(sequence(), hex('02 01 01')) }),
    ],
    [
      'RSAES-PKCS1-v1_5 (rsaEncryption)',
      withRecipient({ keyEncryptionAlgorithm: algorithm(hex(PKCS_OID + '0101'), NULL_PARAMETERS) }),
    ],
    ['RSAES-OAEP without parameters (SHA-1)', withOaepParameters(ABSENT)],
    ['RSAES-OAEP with empty parameters (SHA-1)', withOaepParameters(sequence())],
    [
      'RSAES-OAEP with the default MGF (MGF1-SHA-1)',
      withOaepParameters(sequence(tlv(0xa0, SHA256))),
    ],
    [
      'RSAES-OAEP with the default hash (SHA-1)',
      withOaepParameters(sequence(tlv(0xa1, MGF1_SHA256))),
    ],
    ['hashAlgorithm SHA-1', withOaepParameters(sequence(tlv(0xa0, sha1), tlv(0xa1, MGF1_SHA256)))],
    [
      'MGF1 with SHA-1',
      withOaepParameters(sequence(tlv(0xa0, SHA256), tlv(0xa1, algorithm(OID_MGF1, sha1)))),
    ],
    [
      'a mask generation function other than MGF1',
      withOaepParameters(
        sequence(tlv(0xa0, SHA256), tlv(0xa1, algorithm(OID_P_SPECIFIED, SHA256))),
      ),
    ],
    [
      'a non-empty OAEP label',
      withOaepParameters(
        sequence(
          tlv(0xa0, SHA256),
          tlv(0xa1, MGF1_SHA256),
          tlv(0xa2, algorithm(OID_P_SPECIFIED, tlv(0x04, hex('01')))),
        ),
      ),
    ],
    [
      'a pSource other than pSpecified',
      withOaepParameters(
        sequence(
          tlv(0xa0, SHA256),
          tlv(0xa1, MGF1_SHA256),
          tlv(0xa2, algorithm(OID_MGF1, tlv(0x04, ABSENT))),
        ),
      ),
    ],
    ['content type signedData inside', withContent({ contentType: oid(hex(PKCS_OID + '0702')) })],
    [
      'AES-128-CBC',
      withContent({
        contentEncryptionAlgorithm: algorithm(hex('608648016503040102'), tlv(0x04, IV)),
      }),
    ],
    ['detached content (no encryptedContent)', withContent({ encryptedContent: ABSENT })],
  ]
  for (const [why, bytes] of refused)
    t.equal(
      caughtCode(() => readEnvelopedData(bytes)),
      'ERR_CMS_UNSUPPORTED',
      why,
    )
  t.end()
})

t.test('every truncation of every real response is ERR_CMS_MALFORMED', (t) => {
  for (const entry of manifest) {
    const bytes = vectorBytes(`kms/${entry.file}`)
    const codes = new Set<string>()
    for (let length = 0; length < bytes.byteLength; length += 1) {
      codes.add(caughtCode(() => readEnvelopedData(bytes.subarray(0, length))))
    }
    t.strictSame([...codes], ['ERR_CMS_MALFORMED'], `${entry.file}: ${bytes.byteLength} prefixes`)
  }
  t.end()
})

t.test('inputs past the reader limits are ERR_CMS_TOO_LARGE', (t) => {
  t.equal(
    caughtCode(() => readEnvelopedData(new Uint8Array((1 << 20) + 1))),
    'ERR_CMS_TOO_LARGE',
  )
  t.end()
})

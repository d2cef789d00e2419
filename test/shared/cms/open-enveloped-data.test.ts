/** openEnvelopedData returns the plaintext for its key, and one code, ERR_CMS_DECRYPT, for every failure. */

import { constants, generateKeyPairSync, publicEncrypt } from 'node:crypto'
import t from 'tap'
import { asBytes, toHex } from '../../../shared/bytes/bytes.js'
import { createEnvelopedData } from '../../../shared/cms/create-enveloped-data.js'
import { openEnvelopedData } from '../../../shared/cms/open-enveloped-data.js'
import { readEnvelopedData, type EnvelopedData } from '../../../shared/cms/read-enveloped-data.js'
import { writeEnvelopedData } from '../../../shared/cms/write-enveloped-data.js'
import { caughtCode } from '../../helpers/caught-code.js'
import { hexBytes as hex } from '../../helpers/hex-bytes.js'
import { vectorBytes } from '../../helpers/shared-vectors.js'

const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })
const other = generateKeyPairSync('rsa', { modulusLength: 2048 })
// 32 bytes of plaintext: the content is three blocks, the last one all padding (16 × 0x10).
const plaintext = new TextEncoder().encode('a data key of thirty-two bytes!!')
const keyId = Uint8Array.of(1, 2, 3, 4)
const bytes = createEnvelopedData({
  plaintext,
  recipientPublicKey: publicKey,
  recipientKeyId: keyId,
})
const fields = readEnvelopedData(bytes)

function rewrite(changes: Partial<EnvelopedData>): Uint8Array {
  return writeEnvelopedData({ ...fields, ...changes })
}

/** A copy of `input` with the lowest bit of the byte at `index` (negative: from the end) flipped. */
function flipAt(input: Uint8Array, index: number): Uint8Array {
  const copy = input.slice()
  const at = index < 0 ? copy.byteLength + index : index
  copy[at] = (copy[at] ?? 0) ^ 0x01
  return copy
}

t.test('the recipient opens the envelope, with or without naming its key', (t) => {
  t.equal(toHex(openEnvelopedData(bytes, privateKey)), toHex(plaintext))
  t.equal(toHex(openEnvelopedData(bytes, privateKey, keyId)), toHex(plaintext))
  t.end()
})

t.test('every decryption failure is ERR_CMS_DECRYPT', (t) => {
  const wrapped = (contentKey: Uint8Array): Uint8Array =>
    asBytes(
      publicEncrypt(
        { key: publicKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' },
        contentKey,
      ),
    )
  const failures: [string, () => unknown][] = [
    ['another key', () => openEnvelopedData(bytes, other.privateKey)],
    ['another rid expected', () => openEnvelopedData(bytes, privateKey, Uint8Array.of(1, 2, 3, 5))],
    [
      'a longer rid expected',
      () => openEnvelopedData(bytes, privateKey, Uint8Array.of(1, 2, 3, 4, 5)),
    ],
    ['an empty rid expected', () => openEnvelopedData(bytes, privateKey, new Uint8Array(0))],
    [
      'a tampered encrypted key',
      () =>
        openEnvelopedData(rewrite({ encryptedKey: flipAt(fields.encryptedKey, -1) }), privateKey),
    ],
    [
      'a short encrypted key',
      () =>
        openEnvelopedData(rewrite({ encryptedKey: fields.encryptedKey.subarray(1) }), privateKey),
    ],
    [
      // CBC: flipping a bit of the next-to-last block flips the same bit of the last plaintext
      // block, here turning the padding 10…10 into 10…11 (RFC 5652 §6.3).
      'padding made invalid',
      () =>
        openEnvelopedData(
          rewrite({ encryptedContent: flipAt(fields.encryptedContent, -17) }),
          privateKey,
        ),
    ],
    [
      'content cut mid-block',
      () =>
        openEnvelopedData(
          rewrite({ encryptedContent: fields.encryptedContent.subarray(1) }),
          privateKey,
        ),
    ],
    [
      'content cut to one block',
      () =>
        openEnvelopedData(
          rewrite({ encryptedContent: fields.encryptedContent.subarray(0, 16) }),
          privateKey,
        ),
    ],
    [
      'no content',
      () => openEnvelopedData(rewrite({ encryptedContent: new Uint8Array(0) }), privateKey),
    ],
    [
      'a 16-byte content key (AES-128)',
      () => openEnvelopedData(rewrite({ encryptedKey: wrapped(new Uint8Array(16)) }), privateKey),
    ],
    [
      'an empty content key',
      () => openEnvelopedData(rewrite({ encryptedKey: wrapped(new Uint8Array(0)) }), privateKey),
    ],
    [
      'an EC private key',
      () => openEnvelopedData(bytes, generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey),
    ],
    ['the public key', () => openEnvelopedData(bytes, publicKey)],
  ]
  for (const [why, run] of failures) t.equal(caughtCode(run), 'ERR_CMS_DECRYPT', why)
  t.end()
})

t.test('real KMS responses are for other keys: ERR_CMS_DECRYPT', (t) => {
  for (const number of [1, 2, 3, 4]) {
    const response = vectorBytes(`kms/kms-ciphertext-for-recipient-${number}.ber`)
    t.equal(
      caughtCode(() => openEnvelopedData(response, privateKey)),
      'ERR_CMS_DECRYPT',
    )
  }
  t.end()
})

t.test('parsing errors keep their own codes', (t) => {
  t.equal(
    caughtCode(() => openEnvelopedData(hex('30 80'), privateKey)),
    'ERR_CMS_MALFORMED',
  )
  t.equal(
    caughtCode(() => openEnvelopedData(bytes.subarray(0, 100), privateKey)),
    'ERR_CMS_MALFORMED',
  )
  t.equal(
    caughtCode(() => openEnvelopedData(hex('1f 22 00'), privateKey)),
    'ERR_CMS_UNSUPPORTED',
  )
  t.end()
})

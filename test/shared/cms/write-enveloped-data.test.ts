/** writeEnvelopedData re-frames the fields of real KMS responses into the very same bytes. */

import t from 'tap'
import { concatBytes, toHex } from '../../../shared/bytes/bytes.js'
import { readEnvelopedData } from '../../../shared/cms/read-enveloped-data.js'
import {
  CONTENT_SEGMENT_BYTES,
  writeEnvelopedData,
} from '../../../shared/cms/write-enveloped-data.js'
import { hexBytes as hex } from '../../helpers/hex-bytes.js'
import { vectorBytes } from '../../helpers/shared-vectors.js'
import { ENCRYPTED_KEY, IV, RID } from '../../helpers/build-enveloped-data.js'

t.test('responses with segmented content come back byte for byte', (t) => {
  for (const number of [1, 2, 4]) {
    const bytes = vectorBytes(`kms/kms-ciphertext-for-recipient-${number}.ber`)
    t.equal(toHex(writeEnvelopedData(readEnvelopedData(bytes))), toHex(bytes), `response ${number}`)
  }
  t.end()
})

t.test('response 3 differs only in its primitive encryptedContent', (t) => {
  const bytes = vectorBytes('kms/kms-ciphertext-for-recipient-3.ber')
  const fields = readEnvelopedData(bytes)
  // AWS wrote `80 10 <16 bytes>` at offset 431; the writer always segments: `a0 80 04 10 <16> 00 00`.
  t.equal(toHex(bytes.subarray(431, 433)), '8010')
  const segmented = concatBytes([
    bytes.subarray(0, 431),
    hex('a080 0410'),
    fields.encryptedContent,
    hex('0000'),
    bytes.subarray(449),
  ])
  t.equal(toHex(writeEnvelopedData(fields)), toHex(segmented))
  t.end()
})

t.test('content is cut into 1000-byte segments, as AWS cuts it', (t) => {
  t.equal(CONTENT_SEGMENT_BYTES, 1000)
  const framing = (contentBytes: number): string => {
    const bytes = writeEnvelopedData({
      recipientKeyId: RID,
      encryptedKey: ENCRYPTED_KEY,
      iv: IV,
      encryptedContent: new Uint8Array(contentBytes).fill(0xcc),
    })
    t.equal(readEnvelopedData(bytes).encryptedContent.byteLength, contentBytes)
    // The content starts after the fixed 431-byte prefix of a 32-byte rid and 256-byte key.
    return toHex(bytes.subarray(431)).replace(/(cc)+/g, '…')
  }
  // End-of-contents of EncryptedContentInfo, EnvelopedData, ContentInfo's [0] and ContentInfo.
  const CLOSE = '0000'.repeat(4)
  t.equal(framing(0), 'a0800000' + CLOSE)
  t.equal(framing(16), 'a0800410…0000' + CLOSE)
  t.equal(framing(1000), 'a080048203e8…0000' + CLOSE)
  t.equal(framing(1001), 'a080048203e8…0401…0000' + CLOSE)
  t.equal(framing(2112), 'a080048203e8…048203e8…0470…0000' + CLOSE)
  t.end()
})

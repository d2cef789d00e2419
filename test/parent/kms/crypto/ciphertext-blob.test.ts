/** Ciphertext blobs open only under their own key material, version and encryption context. */

import { randomBytes } from 'node:crypto'
import t from 'tap'
import {
  canonicalContext,
  MAX_PLAINTEXT_BYTES,
  openBlob,
  readBlobHeader,
  sealBlob,
} from '../../../../parent/kms/crypto/ciphertext-blob.js'
import { toHex } from '../../../../shared/bytes/bytes.js'
import { caughtCode } from '../../../helpers/caught-code.js'

const keyId = Uint8Array.from({ length: 16 }, (_, index) => index)
const material = new Uint8Array(randomBytes(32))
const plaintext = new TextEncoder().encode('a data key, say')
const context = { tenant: 'acme', purpose: 'vault' }

t.test('a blob names its key and version and opens under its context, in any key order', (t) => {
  const blob = sealBlob({ keyId, version: 7, material, plaintext, context, iv: new Uint8Array(12) })
  t.equal(blob[0], 1)
  t.equal(toHex(blob.subarray(1, 17)), toHex(keyId))
  t.equal(toHex(blob.subarray(17, 21)), '00000007')
  t.equal(blob.byteLength, 49 + plaintext.byteLength)
  t.same(readBlobHeader(blob), { keyId, version: 7 })
  t.same(openBlob(blob, material, { purpose: 'vault', tenant: 'acme' }), plaintext)
  t.same(canonicalContext({ b: '2', a: '1' }), canonicalContext({ a: '1', b: '2' }))
  t.not(toHex(canonicalContext({ a: '1' })), toHex(canonicalContext({ a: '1', b: '' })))
  t.end()
})

t.test('fresh IVs: the same plaintext never gives the same blob', (t) => {
  const first = sealBlob({ keyId, version: 1, material, plaintext, context: {} })
  const second = sealBlob({ keyId, version: 1, material, plaintext, context: {} })
  t.not(toHex(first), toHex(second))
  t.same(openBlob(first, material, {}), plaintext)
  t.end()
})

t.test('any other key, context, or any changed byte is InvalidCiphertext', (t) => {
  const blob = sealBlob({ keyId, version: 2, material, plaintext, context })
  const code = (run: () => unknown) => caughtCode(run)
  t.equal(
    code(() => openBlob(blob, new Uint8Array(randomBytes(32)), context)),
    'ERR_KMS_INVALID_CIPHERTEXT',
  )
  t.equal(
    code(() => openBlob(blob, material, { tenant: 'acme' })),
    'ERR_KMS_INVALID_CIPHERTEXT',
  )
  t.equal(
    code(() => openBlob(blob, material, { ...context, extra: 'x' })),
    'ERR_KMS_INVALID_CIPHERTEXT',
  )
  t.equal(
    code(() => openBlob(blob, material, { tenant: 'acme', purpose: 'VAULT' })),
    'ERR_KMS_INVALID_CIPHERTEXT',
  )
  for (let offset = 0; offset < blob.byteLength; offset += 1) {
    const changed = Uint8Array.from(blob)
    changed[offset] = (changed[offset] ?? 0) ^ 0x01
    t.equal(
      code(() => openBlob(changed, material, context)),
      'ERR_KMS_INVALID_CIPHERTEXT',
      `byte ${String(offset)}`,
    )
  }
  for (const length of [0, 1, 33, 49]) {
    t.equal(
      code(() => readBlobHeader(blob.subarray(0, length))),
      'ERR_KMS_INVALID_CIPHERTEXT',
    )
  }
  t.equal(
    code(() => openBlob(new Uint8Array(material.byteLength), new Uint8Array(8), {})),
    'ERR_KMS_INVALID_CIPHERTEXT',
  )
  t.end()
})

t.test('plaintexts are 1 to 4096 bytes, as AWS KMS Encrypt takes', (t) => {
  const seal = (bytes: number) => () =>
    sealBlob({ keyId, version: 1, material, plaintext: new Uint8Array(bytes), context: {} })
  t.equal(caughtCode(seal(0)), 'ERR_KMS_VALIDATION')
  t.equal(caughtCode(seal(MAX_PLAINTEXT_BYTES + 1)), 'ERR_KMS_VALIDATION')
  t.equal(caughtCode(seal(MAX_PLAINTEXT_BYTES)), 'returned')
  t.end()
})

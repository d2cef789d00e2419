/** verifySign1 accepts only the signer's key over the same Sig_structure, else ERR_COSE_SIGNATURE. */

import { createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto'
import t from 'tap'
import { encodeCbor } from '../../../shared/cbor/encode.js'
import { createSign1 } from '../../../shared/cose/create-sign1.js'
import { decodeSign1, type Sign1 } from '../../../shared/cose/decode-sign1.js'
import { verifySign1 } from '../../../shared/cose/verify-sign1.js'
import { caughtCode } from '../../helpers/caught-code.js'
import { hexBytes } from '../../helpers/hex-bytes.js'

const signer = generateKeyPairSync('ec', { namedCurve: 'secp384r1' })
const PAYLOAD = new TextEncoder().encode('attested')
const sign1 = decodeSign1(createSign1({ payload: PAYLOAD, privateKey: signer.privateKey }))

/** verifySign1's outcome; without `externalAad` it runs on verifySign1's own default. */
function outcome(message: Sign1, key: KeyObject, externalAad?: Uint8Array): string {
  return caughtCode(() => {
    if (externalAad === undefined) verifySign1(message, key)
    else verifySign1(message, key, externalAad)
  })
}

t.test(
  "the signer's public key verifies, with or without an explicitly empty external AAD",
  (t) => {
    t.equal(outcome(sign1, signer.publicKey), 'returned')
    t.equal(outcome(sign1, signer.publicKey, new Uint8Array(0)), 'returned')
    t.end()
  },
)

t.test('another P-384 key is ERR_COSE_SIGNATURE', (t) => {
  const other = generateKeyPairSync('ec', { namedCurve: 'secp384r1' }).publicKey
  t.equal(outcome(sign1, other), 'ERR_COSE_SIGNATURE')
  t.end()
})

t.test('a key on another curve is ERR_COSE_SIGNATURE', (t) => {
  const p256 = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).publicKey
  t.equal(outcome(sign1, p256), 'ERR_COSE_SIGNATURE')
  t.end()
})

t.test('a P-384 key at the point at infinity is ERR_COSE_SIGNATURE, not a crash', (t) => {
  const infinity = createPublicKey({
    key: Buffer.from(hexBytes('3016301006072a8648ce3d020106052b8104002203020000')),
    format: 'der',
    type: 'spki',
  })
  t.equal(outcome(sign1, infinity), 'ERR_COSE_SIGNATURE')
  t.end()
})

t.test('an external AAD the signer did not use is ERR_COSE_SIGNATURE', (t) => {
  t.equal(outcome(sign1, signer.publicKey, hexBytes('00')), 'ERR_COSE_SIGNATURE')
  t.equal(
    outcome(sign1, signer.publicKey, hexBytes('11aa22bb33cc44dd55006699')),
    'ERR_COSE_SIGNATURE',
  )
  t.end()
})

t.test('a changed payload or signature in the decoded value is ERR_COSE_SIGNATURE', (t) => {
  const payload = Uint8Array.from(PAYLOAD)
  payload[0] = 0x41
  t.equal(outcome({ ...sign1, payload }, signer.publicKey), 'ERR_COSE_SIGNATURE')
  const signature = Uint8Array.from(sign1.signature)
  signature[95] = (signature[95] ?? 0) ^ 1
  t.equal(outcome({ ...sign1, signature }, signer.publicKey), 'ERR_COSE_SIGNATURE')
  t.end()
})

t.test('the unprotected header plays no part', (t) => {
  const message = encodeCbor([
    sign1.protectedBytes,
    new Map([[4, hexBytes('3131')]]),
    sign1.payload,
    sign1.signature,
  ])
  t.equal(outcome(decodeSign1(message), signer.publicKey), 'returned')
  t.end()
})

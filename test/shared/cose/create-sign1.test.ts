/** createSign1 writes the NSM's exact COSE_Sign1 shape, and what it writes decodes and verifies. */

import { generateKeyPairSync } from 'node:crypto'
import t from 'tap'
import { toHex } from '../../../shared/bytes/bytes.js'
import { CborTagged } from '../../../shared/cbor/cbor-value.js'
import { encodeCbor } from '../../../shared/cbor/encode.js'
import { createSign1 } from '../../../shared/cose/create-sign1.js'
import { decodeSign1 } from '../../../shared/cose/decode-sign1.js'
import { verifySign1 } from '../../../shared/cose/verify-sign1.js'
import { caughtCode } from '../../helpers/caught-code.js'
import { hexBytes } from '../../helpers/hex-bytes.js'

const es384 = generateKeyPairSync('ec', { namedCurve: 'secp384r1' })
const PAYLOAD = new TextEncoder().encode('This is the content.') // 20 bytes: head 54

function verifies(bytes: Uint8Array, publicKey = es384.publicKey): string {
  return caughtCode(() => {
    verifySign1(decodeSign1(bytes), publicKey)
  })
}

t.test('ES384 by default: 84 44 a1 01 38 22 a0, the payload, then 58 60 and r‖s', (t) => {
  const bytes = createSign1({ payload: PAYLOAD, privateKey: es384.privateKey })
  t.equal(toHex(bytes.subarray(0, 7)), '8444a1013822a0')
  t.equal(toHex(bytes.subarray(7, 8 + 20)), '54' + toHex(PAYLOAD))
  t.equal(toHex(bytes.subarray(28, 30)), '5860')
  t.equal(bytes.byteLength, 30 + 96)
  t.end()
})

t.test('its output round-trips: decodes, verifies and re-encodes to the same bytes', (t) => {
  const bytes = createSign1({ payload: PAYLOAD, privateKey: es384.privateKey })
  const sign1 = decodeSign1(bytes, { requiredAlgorithm: -35 })
  t.equal(sign1.tagged, false)
  t.equal(sign1.alg, -35)
  t.equal(toHex(sign1.payload), toHex(PAYLOAD))
  t.equal(verifies(bytes), 'returned')
  const reencoded = encodeCbor([
    sign1.protectedBytes,
    sign1.unprotectedHeader,
    sign1.payload,
    sign1.signature,
  ])
  t.equal(toHex(reencoded), toHex(bytes))
  t.end()
})

t.test('the NSM prefix 84 44 a1 01 38 22 a0 59 holds for a document-sized payload', (t) => {
  const payload = new Uint8Array(4000).fill(7)
  const bytes = createSign1({ payload, privateKey: es384.privateKey, alg: -35 })
  t.equal(toHex(bytes.subarray(0, 10)), '8444a1013822a0590fa0')
  t.equal(verifies(bytes), 'returned')
  t.end()
})

t.test('tagged: true wraps it in tag 18 (d2); tagged: false does not', (t) => {
  const tagged = createSign1({ payload: PAYLOAD, privateKey: es384.privateKey, tagged: true })
  t.equal(toHex(tagged.subarray(0, 8)), 'd28444a1013822a0')
  t.equal(decodeSign1(tagged).tagged, true)
  t.equal(verifies(tagged), 'returned')
  const untagged = createSign1({ payload: PAYLOAD, privateKey: es384.privateKey, tagged: false })
  t.equal(untagged[0], 0x84)
  t.equal(verifies(untagged), 'returned')
  t.end()
})

t.test('ES256 and ES512 keys sign with alg -7 and -36', (t) => {
  const cases = [
    { namedCurve: 'prime256v1', alg: -7, protectedHex: '43a10126', size: 64 },
    { namedCurve: 'secp521r1', alg: -36, protectedHex: '44a1013823', size: 132 },
  ] as const
  for (const { namedCurve, alg, protectedHex, size } of cases) {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve })
    const bytes = createSign1({ payload: PAYLOAD, privateKey, alg })
    t.equal(toHex(bytes.subarray(0, 1 + protectedHex.length / 2)), '84' + protectedHex, namedCurve)
    const sign1 = decodeSign1(bytes, { requiredAlgorithm: alg })
    t.equal(sign1.signature.byteLength, size, namedCurve)
    t.equal(verifies(bytes, publicKey), 'returned', namedCurve)
    t.equal(verifies(bytes, es384.publicKey), 'ERR_COSE_SIGNATURE', `${namedCurve}, P-384 key`)
  }
  t.end()
})

t.test('an unprotected header is written as given, and left out of the signature', (t) => {
  const unprotectedHeader = new Map([[4, hexBytes('3131')]])
  const bytes = createSign1({ payload: PAYLOAD, privateKey: es384.privateKey, unprotectedHeader })
  t.equal(toHex(bytes.subarray(0, 11)), '8444a1013822a104423131')
  t.strictSame([...decodeSign1(bytes).unprotectedHeader], [[4, hexBytes('3131')]])
  t.equal(verifies(bytes), 'returned')
  t.end()
})

t.test('an empty payload is signed too', (t) => {
  const bytes = createSign1({ payload: new Uint8Array(0), privateKey: es384.privateKey })
  t.equal(toHex(bytes.subarray(0, 10)), '8444a1013822a0405860')
  t.equal(verifies(bytes), 'returned')
  t.end()
})

t.test('an algorithm Cloister does not implement is a TypeError', (t) => {
  for (const alg of [-8, -37, 0, 35]) {
    let thrown: unknown
    try {
      createSign1({ payload: PAYLOAD, privateKey: es384.privateKey, alg })
    } catch (error) {
      thrown = error
    }
    t.type(thrown, TypeError, `alg ${alg}`)
    t.equal((thrown as TypeError).message, `unsupported COSE algorithm ${alg}`)
  }
  t.end()
})

t.test('tagged output equals tag 18 around the untagged structure', (t) => {
  const bytes = createSign1({ payload: PAYLOAD, privateKey: es384.privateKey, tagged: true })
  const sign1 = decodeSign1(bytes)
  const expected = encodeCbor(
    new CborTagged(18, [sign1.protectedBytes, new Map(), sign1.payload, sign1.signature]),
  )
  t.equal(toHex(bytes), toHex(expected))
  t.end()
})

/** The awslabs ES384 sample: its unprotected header is not signed, everything else is. */

import { createPublicKey } from 'node:crypto'
import t from 'tap'
import { toHex } from '../../../shared/bytes/bytes.js'
import { encodeCbor } from '../../../shared/cbor/encode.js'
import { findCoseAlgorithm } from '../../../shared/cose/algorithms.js'
import { decodeSign1 } from '../../../shared/cose/decode-sign1.js'
import { verifySign1 } from '../../../shared/cose/verify-sign1.js'
import { vectorBytes, vectorText } from '../../helpers/shared-vectors.js'
import { caughtCode } from '../../helpers/caught-code.js'
import { hexBytes } from '../../helpers/hex-bytes.js'

const sample = vectorBytes('nitro/cose-es384-awslabs-sample.cose')
const publicKey = createPublicKey(vectorText('nitro/cose-es384-awslabs-sample.pub.pem'))

/** The kid's first byte in the unprotected `{4: h'3131'}`: `84 44 a1013822 a1 04 42 | 31 31`. */
const KID_OFFSET = 9
/** The payload starts after `58 75` (117 bytes), and the signature after `58 60`. */
const PAYLOAD_OFFSET = 13
const SIGNATURE_OFFSET = PAYLOAD_OFFSET + 117 + 2

function outcome(bytes: Uint8Array): string {
  return caughtCode(() => {
    verifySign1(decodeSign1(bytes), publicKey)
  })
}

function withByte(offset: number, change: (byte: number) => number): Uint8Array {
  const copy = Uint8Array.from(sample)
  copy[offset] = change(copy[offset] ?? 0)
  return copy
}

t.test('the sample decodes to its documented parts (nitro/SOURCES.md §5)', (t) => {
  const sign1 = decodeSign1(sample)
  t.equal(sign1.tagged, false)
  t.equal(toHex(sign1.protectedBytes), 'a1013822')
  t.strictSame([...sign1.protectedHeader], [[1, -35]])
  t.strictSame([...sign1.unprotectedHeader], [[4, hexBytes('3131')]])
  t.equal(sign1.alg, -35)
  t.equal(sign1.algorithm, findCoseAlgorithm(-35))
  t.equal(sign1.payload.byteLength, 117)
  t.match(new TextDecoder().decode(sign1.payload), /^It is a truth universally acknowledged, /)
  t.equal(sign1.signature.byteLength, 96)
  t.equal(toHex(sample.subarray(SIGNATURE_OFFSET - 2, SIGNATURE_OFFSET)), '5860')
  t.equal(SIGNATURE_OFFSET + 96, sample.byteLength)
  t.end()
})

t.test('it verifies under the published P-384 key, with its non-empty unprotected header', (t) => {
  t.equal(outcome(sample), 'returned')
  t.end()
})

t.test('changing the unprotected header still verifies: it is not signed', (t) => {
  t.equal(toHex(sample.subarray(KID_OFFSET - 3, KID_OFFSET + 2)), 'a104423131')
  t.equal(outcome(withByte(KID_OFFSET, () => 0x32)), 'returned', "kid h'3231'")
  const sign1 = decodeSign1(sample)
  const rebuilt = (unprotected: Map<number, Uint8Array | string>): Uint8Array =>
    encodeCbor([sign1.protectedBytes, unprotected, sign1.payload, sign1.signature])
  t.equal(toHex(rebuilt(new Map([[4, hexBytes('3131')]]))), toHex(sample), 'rebuilds byte-exact')
  t.equal(outcome(rebuilt(new Map())), 'returned', 'unprotected {}')
  t.equal(outcome(rebuilt(new Map([[4, 'another kid']]))), 'returned', 'kid as text')
  t.end()
})

t.test('changing the protected header does not verify, even to the same map', (t) => {
  const sign1 = decodeSign1(sample)
  const withProtected = (protectedHex: string): Uint8Array =>
    encodeCbor([hexBytes(protectedHex), sign1.unprotectedHeader, sign1.payload, sign1.signature])
  // {1: -35} again, with the label written in a one-byte argument: same map, other bytes.
  t.equal(outcome(withProtected('a118013822')), 'ERR_COSE_SIGNATURE')
  t.strictSame([...decodeSign1(withProtected('a118013822')).protectedHeader], [[1, -35]])
  // {1: -35, 3: 0}: a content type added.
  t.equal(outcome(withProtected('a20138220300')), 'ERR_COSE_SIGNATURE')
  t.end()
})

t.test('changing any payload or signature byte does not verify', (t) => {
  for (const offset of [PAYLOAD_OFFSET, PAYLOAD_OFFSET + 116]) {
    t.equal(
      outcome(withByte(offset, (byte) => byte ^ 0x01)),
      'ERR_COSE_SIGNATURE',
      `payload ${offset}`,
    )
  }
  // First and last bytes of r, then of s.
  for (const offset of [0, 47, 48, 95].map((index) => SIGNATURE_OFFSET + index)) {
    t.equal(outcome(withByte(offset, (byte) => byte ^ 0x80)), 'ERR_COSE_SIGNATURE', `sig ${offset}`)
  }
  t.end()
})

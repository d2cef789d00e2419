/** decodeSign1 takes a strict COSE_Sign1 apart and names the exact defect of every other input. */

import { generateKeyPairSync, sign } from 'node:crypto'
import t from 'tap'
import { toHex } from '../../../shared/bytes/bytes.js'
import { CborTagged, type CborKey, type CborValue } from '../../../shared/cbor/cbor-value.js'
import { encodeCbor } from '../../../shared/cbor/encode.js'
import { findCoseAlgorithm } from '../../../shared/cose/algorithms.js'
import { createSign1 } from '../../../shared/cose/create-sign1.js'
import { decodeSign1, type DecodeSign1Options } from '../../../shared/cose/decode-sign1.js'
import { caughtCode } from '../../helpers/caught-code.js'
import { hexBytes } from '../../helpers/hex-bytes.js'

const ES384_PROTECTED = hexBytes('a1013822') // {1: -35}
const PAYLOAD = new TextEncoder().encode('payload')
const SIGNATURE_96 = new Uint8Array(96).fill(0x5a)

/** `[protected, unprotected, payload, signature]` with well-formed ES384 defaults. */
function parts(
  overrides: {
    protectedBytes?: CborValue
    unprotected?: CborValue
    payload?: CborValue
    signature?: CborValue
  } = {},
): CborValue[] {
  // `=== undefined`, not `??`: a test may put CBOR null in any slot.
  return [
    overrides.protectedBytes === undefined ? ES384_PROTECTED : overrides.protectedBytes,
    overrides.unprotected === undefined ? new Map() : overrides.unprotected,
    overrides.payload === undefined ? PAYLOAD : overrides.payload,
    overrides.signature === undefined ? SIGNATURE_96 : overrides.signature,
  ]
}

function header(entries: readonly (readonly [CborKey, CborValue])[]): Uint8Array {
  return encodeCbor(new Map(entries))
}

function codeOf(value: CborValue | Uint8Array, options?: DecodeSign1Options): string {
  const bytes = value instanceof Uint8Array ? value : encodeCbor(value)
  return caughtCode(() => decodeSign1(bytes, options))
}

t.test('an untagged message decodes to its parts, bytes as received', (t) => {
  const sign1 = decodeSign1(encodeCbor(parts({ unprotected: new Map([[4, hexBytes('3131')]]) })))
  t.equal(sign1.tagged, false)
  t.equal(toHex(sign1.protectedBytes), 'a1013822')
  t.strictSame([...sign1.protectedHeader], [[1, -35]])
  t.strictSame([...sign1.unprotectedHeader], [[4, hexBytes('3131')]])
  t.equal(toHex(sign1.payload), toHex(PAYLOAD))
  t.equal(toHex(sign1.signature), toHex(SIGNATURE_96))
  t.equal(sign1.alg, -35)
  t.equal(sign1.algorithm, findCoseAlgorithm(-35))
  t.end()
})

t.test('tag 18 is accepted and reported; the parts are the same', (t) => {
  const sign1 = decodeSign1(encodeCbor(new CborTagged(18, parts())))
  t.equal(sign1.tagged, true)
  t.equal(toHex(sign1.protectedBytes), 'a1013822')
  t.equal(toHex(sign1.signature), toHex(SIGNATURE_96))
  t.equal(sign1.alg, -35)
  t.end()
})

t.test('any other tag is ERR_COSE_TAG', (t) => {
  // 0 date, 17 COSE_Mac0, 96 COSE_Encrypt, 98 COSE_Sign, 998 as in sign-fail-01, 55799 self-describe.
  for (const tag of [0, 17, 96, 98, 998, 55799]) {
    t.equal(codeOf(new CborTagged(tag, parts())), 'ERR_COSE_TAG', `tag ${tag}`)
  }
  t.end()
})

t.test('tags anywhere but around the message are refused by the CBOR decoder', (t) => {
  t.equal(codeOf(new CborTagged(18, new CborTagged(18, parts()))), 'ERR_CBOR_TAG_NOT_ALLOWED')
  t.equal(
    codeOf(parts({ payload: new CborTagged(24, PAYLOAD) })),
    'ERR_CBOR_TAG_NOT_ALLOWED',
    'tag inside the array',
  )
  t.equal(
    codeOf(parts({ protectedBytes: encodeCbor(new CborTagged(18, new Map([[1, -35]]))) })),
    'ERR_CBOR_TAG_NOT_ALLOWED',
    'tag inside the protected header',
  )
  t.end()
})

t.test('anything but an array of four is ERR_COSE_MALFORMED', (t) => {
  const cases: readonly [string, CborValue][] = [
    ['map', new Map([[0, ES384_PROTECTED]])],
    ['bstr', ES384_PROTECTED],
    ['integer', 18],
    ['null', null],
    ['empty array', []],
    ['array of 3', parts().slice(0, 3)],
    ['array of 5', [...parts(), SIGNATURE_96]],
    ['tag 18 around array of 3', new CborTagged(18, parts().slice(0, 3))],
    ['tag 18 around a map', new CborTagged(18, new Map())],
  ]
  for (const [name, value] of cases) t.equal(codeOf(value), 'ERR_COSE_MALFORMED', name)
  t.end()
})

t.test('each element of the wrong type is ERR_COSE_MALFORMED', (t) => {
  const cases: readonly [string, CborValue[]][] = [
    ['protected as a map', parts({ protectedBytes: new Map([[1, -35]]) })],
    ['protected as text', parts({ protectedBytes: '\u00a1\u0001' })],
    ['protected as null', parts({ protectedBytes: null })],
    ['unprotected as a bstr', parts({ unprotected: hexBytes('a0') })],
    ['unprotected as an array', parts({ unprotected: [] })],
    ['unprotected as null', parts({ unprotected: null })],
    ['payload as text', parts({ payload: 'payload' })],
    ['payload as nil (detached)', parts({ payload: null })],
    ['payload as an array', parts({ payload: [] })],
    ['signature as text', parts({ signature: 'x'.repeat(96) })],
    ['signature as an array', parts({ signature: [...SIGNATURE_96] })],
    ['signature as false', parts({ signature: false })],
  ]
  for (const [name, value] of cases) t.equal(codeOf(value), 'ERR_COSE_MALFORMED', name)
  t.end()
})

t.test('protected header bytes that are not a map are ERR_COSE_MALFORMED', (t) => {
  const cases: readonly [string, Uint8Array][] = [
    ['an array', encodeCbor([1, -35])],
    ['an integer', encodeCbor(-35)],
    ['a bstr', encodeCbor(ES384_PROTECTED)],
    ['text', encodeCbor('alg')],
    ['null', encodeCbor(null)],
  ]
  for (const [name, protectedBytes] of cases) {
    t.equal(codeOf(parts({ protectedBytes })), 'ERR_COSE_MALFORMED', name)
  }
  t.end()
})

t.test('protected header bytes that are not one CBOR item get the CBOR code', (t) => {
  const trailing = hexBytes('a101382200')
  t.equal(codeOf(parts({ protectedBytes: trailing })), 'ERR_CBOR_TRAILING_BYTES')
  t.equal(codeOf(parts({ protectedBytes: hexBytes('a10138') })), 'ERR_CBOR_TRUNCATED')
  t.equal(codeOf(parts({ protectedBytes: hexBytes('a2013822013822') })), 'ERR_CBOR_DUPLICATE_KEY')
  t.end()
})

t.test('a zero-length protected bstr is the empty map, so it has no alg', (t) => {
  t.equal(codeOf(parts({ protectedBytes: new Uint8Array(0) })), 'ERR_COSE_ALGORITHM')
  // Not even with alg in the unprotected header (sign-pass-01's shape).
  const unprotected = new Map([[1, -35]])
  t.equal(codeOf(parts({ protectedBytes: new Uint8Array(0), unprotected })), 'ERR_COSE_ALGORITHM')
  t.equal(codeOf(parts({ protectedBytes: hexBytes('a0'), unprotected })), 'ERR_COSE_ALGORITHM')
  t.end()
})

t.test('a label in both buckets is ERR_COSE_HEADER (RFC 9052 §3)', (t) => {
  const cases: readonly [string, Uint8Array, Map<CborKey, CborValue>][] = [
    ['alg in both', ES384_PROTECTED, new Map([[1, -35]])],
    [
      'kid in both',
      header([
        [1, -35],
        [4, hexBytes('31')],
      ]),
      new Map([[4, hexBytes('32')]]),
    ],
    [
      'text label in both',
      header([
        [1, -35],
        ['x', 1],
      ]),
      new Map([['x', 1]]),
    ],
  ]
  for (const [name, protectedBytes, unprotected] of cases) {
    t.equal(codeOf(parts({ protectedBytes, unprotected })), 'ERR_COSE_HEADER', name)
  }
  t.end()
})

t.test('crit (label 2) in either bucket is ERR_COSE_HEADER', (t) => {
  // crit names the labels the recipient must understand; here kid (4), present in the header.
  const protectedBytes = header([
    [1, -35],
    [2, [4]],
    [4, hexBytes('31')],
  ])
  t.equal(codeOf(parts({ protectedBytes })), 'ERR_COSE_HEADER', 'protected')
  const unprotected = new Map<CborKey, CborValue>([
    [2, [4]],
    [4, hexBytes('31')],
  ])
  t.equal(codeOf(parts({ unprotected })), 'ERR_COSE_HEADER', 'unprotected')
  t.end()
})

t.test('other labels are allowed in either bucket', (t) => {
  const protectedBytes = header([
    [1, -35],
    [3, 0],
  ])
  const unprotected = new Map<CborKey, CborValue>([
    [4, hexBytes('31')],
    ['x', 'y'],
  ])
  const sign1 = decodeSign1(encodeCbor(parts({ protectedBytes, unprotected })))
  t.strictSame(
    [...sign1.protectedHeader],
    [
      [1, -35],
      [3, 0],
    ],
  )
  t.strictSame(
    [...sign1.unprotectedHeader],
    [
      [4, hexBytes('31')],
      ['x', 'y'],
    ],
  )
  t.end()
})

t.test('a missing, unknown or non-integer alg is ERR_COSE_ALGORITHM', (t) => {
  const cases: readonly [string, Uint8Array][] = [
    ['missing', header([[4, hexBytes('31')]])],
    ['-999', header([[1, -999]])],
    ['text "ES384"', header([[1, 'ES384']])],
    ['text "unknown"', header([[1, 'unknown']])],
    ['EdDSA (-8)', header([[1, -8]])],
    ['bstr', header([[1, hexBytes('22')]])],
    ['under a text label', header([['1', -35]])],
  ]
  for (const [name, protectedBytes] of cases) {
    t.equal(codeOf(parts({ protectedBytes })), 'ERR_COSE_ALGORITHM', name)
  }
  t.end()
})

t.test('requiredAlgorithm refuses any other supported alg, before the signature size', (t) => {
  const es256 = encodeCbor(parts({ protectedBytes: header([[1, -7]]) }))
  t.equal(codeOf(es256, { requiredAlgorithm: -35 }), 'ERR_COSE_ALGORITHM')
  // Without the requirement the same message fails on its 96-byte signature instead.
  t.equal(codeOf(es256), 'ERR_COSE_SIGNATURE_FORMAT')
  t.equal(codeOf(parts(), { requiredAlgorithm: -7 }), 'ERR_COSE_ALGORITHM')
  t.equal(decodeSign1(encodeCbor(parts()), { requiredAlgorithm: -35 }).alg, -35)
  t.end()
})

t.test(
  'a signature that is not raw r‖s of the algorithm size is ERR_COSE_SIGNATURE_FORMAT',
  (t) => {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'secp384r1' })
    const der = sign('sha384', PAYLOAD, privateKey) // DER ECDSA-Sig-Value, 101 to 104 bytes
    t.equal(der[0], 0x30)
    t.ok(der.byteLength > 96 && der.byteLength <= 104, `DER length ${der.byteLength}`)
    t.equal(codeOf(parts({ signature: new Uint8Array(der) })), 'ERR_COSE_SIGNATURE_FORMAT')
    for (const length of [0, 64, 95, 97, 132]) {
      const signature = new Uint8Array(length)
      t.equal(codeOf(parts({ signature })), 'ERR_COSE_SIGNATURE_FORMAT', `${length} bytes`)
    }
    // Each algorithm's own size is accepted.
    for (const [alg, size] of [
      [-7, 64],
      [-35, 96],
      [-36, 132],
    ] as const) {
      const value = parts({ protectedBytes: header([[1, alg]]), signature: new Uint8Array(size) })
      t.equal(decodeSign1(encodeCbor(value)).signature.byteLength, size, `alg ${alg}`)
    }
    t.end()
  },
)

t.test('maxBytes bounds the whole message: ERR_CBOR_TOO_LARGE beyond it', (t) => {
  const bytes = encodeCbor(parts())
  t.equal(codeOf(bytes, { maxBytes: bytes.byteLength - 1 }), 'ERR_CBOR_TOO_LARGE')
  t.equal(decodeSign1(bytes, { maxBytes: bytes.byteLength }).alg, -35)
  // The default (64 KiB) applies without the option.
  const big = encodeCbor(parts({ payload: new Uint8Array(64 * 1024) }))
  t.equal(codeOf(big), 'ERR_CBOR_TOO_LARGE')
  t.equal(decodeSign1(big, { maxBytes: big.byteLength }).payload.byteLength, 64 * 1024)
  t.end()
})

t.test('bytes after the message are ERR_CBOR_TRAILING_BYTES', (t) => {
  const bytes = encodeCbor(parts())
  t.equal(codeOf(new Uint8Array([...bytes, 0x00])), 'ERR_CBOR_TRAILING_BYTES')
  t.end()
})

t.test('a message made by createSign1 decodes to what was signed', (t) => {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'secp384r1' })
  const sign1 = decodeSign1(createSign1({ payload: PAYLOAD, privateKey }))
  t.equal(toHex(sign1.payload), toHex(PAYLOAD))
  t.equal(sign1.unprotectedHeader.size, 0)
  t.end()
})

import t from 'tap'
import { hexBytes as hex } from '../../helpers/hex-bytes.js'
import { mulberry32 } from '../../helpers/seeded-random.js'
import {
  DEFAULT_MAX_CBOR_BYTES,
  DEFAULT_MAX_CBOR_DEPTH,
  decodeStrict,
  type StrictDecodeOptions,
} from '../../../shared/cbor/decode-strict.js'
import { encodeCbor } from '../../../shared/cbor/encode.js'
import { CborTagged, type CborKey, type CborValue } from '../../../shared/cbor/cbor-value.js'
import { isCloisterError } from '../../../shared/errors/cloister-error.js'
import type { ErrorCode } from '../../../shared/errors/catalog.js'

function map(entries: readonly (readonly [CborKey, CborValue])[]): Map<CborKey, CborValue> {
  return new Map(entries)
}

const ALLOW_TAG: StrictDecodeOptions = { allowTopLevelTag: true }

/**
 * One valid item that uses every construct the decoder accepts: a top-level tag, definite and
 * indefinite strings, arrays and maps, 1-, 2-, 4- and 8-byte arguments, bigints of both signs.
 */
const COMPOSITE_HEX =
  'd2 a7' + // 18({ … 7 entries })
  '01 39 01f3' + // 1: -500
  '61 61 87 42 0102 62 c3a9 f5 f4 f6 1b 1000000000000000 3b 0fffffffffffffff' + // "a": [ … ]
  '20 5f 41 01 42 0203 ff' + // -1: (_ h'01', h'0203')
  '02 7f 61 61 62 6263 ff' + // 2: (_ "a", "bc")
  '03 9f 01 9f ff ff' + // 3: [_ 1, [_ ]]
  '04 bf 61 6b 1a 00010000 ff' + // 4: {_ "k": 65536}
  '05 a0' // 5: {}

const COMPOSITE_VALUE = new CborTagged(
  18,
  map([
    [1, -500],
    ['a', [hex('0102'), 'é', true, false, null, 2n ** 60n, -(2n ** 60n)]],
    [-1, hex('010203')],
    [2, 'abc'],
    [3, [1, []]],
    [4, map([['k', 65536]])],
    [5, map([])],
  ]),
)

t.test('the default limits are 64 KiB and 16 levels', (t) => {
  t.equal(DEFAULT_MAX_CBOR_BYTES, 65536)
  t.equal(DEFAULT_MAX_CBOR_DEPTH, 16)
  t.end()
})

t.test('RFC 8949 Appendix A examples inside the data model decode to their values', (t) => {
  const vectors: readonly (readonly [string, CborValue])[] = [
    ['00', 0],
    ['01', 1],
    ['0a', 10],
    ['17', 23],
    ['1818', 24],
    ['1819', 25],
    ['1864', 100],
    ['1903e8', 1000],
    ['1a000f4240', 1000000],
    ['1b000000e8d4a51000', 1000000000000],
    ['1bffffffffffffffff', 18446744073709551615n],
    ['3bffffffffffffffff', -18446744073709551616n],
    ['20', -1],
    ['29', -10],
    ['3863', -100],
    ['3903e7', -1000],
    ['f4', false],
    ['f5', true],
    ['f6', null],
    ['40', new Uint8Array(0)],
    ['4401020304', hex('01020304')],
    ['60', ''],
    ['6161', 'a'],
    ['6449455446', 'IETF'],
    ['62225c', '"\\'],
    ['62c3bc', '\u00fc'],
    ['63e6b0b4', '\u6c34'],
    ['64f0908591', '\u{10151}'],
    ['80', []],
    ['83010203', [1, 2, 3]],
    ['8301820203820405', [1, [2, 3], [4, 5]]],
    [
      '98190102030405060708090a0b0c0d0e0f101112131415161718181819',
      Array.from({ length: 25 }, (_, index) => index + 1),
    ],
    ['a0', map([])],
    [
      'a201020304',
      map([
        [1, 2],
        [3, 4],
      ]),
    ],
    [
      'a26161016162820203',
      map([
        ['a', 1],
        ['b', [2, 3]],
      ]),
    ],
    ['826161a161626163', ['a', map([['b', 'c']])]],
    [
      'a56161614161626142616361436164614461656145',
      map([
        ['a', 'A'],
        ['b', 'B'],
        ['c', 'C'],
        ['d', 'D'],
        ['e', 'E'],
      ]),
    ],
  ]
  for (const [encoded, value] of vectors) t.strictSame(decodeStrict(hex(encoded)), value, encoded)
  t.end()
})

t.test('RFC 8949 Appendix A tagged examples decode only with allowTopLevelTag', (t) => {
  const vectors: readonly (readonly [string, CborTagged])[] = [
    ['c11a514b67b0', new CborTagged(1, 1363896240)],
    ['d74401020304', new CborTagged(23, hex('01020304'))],
    ['d818456449455446', new CborTagged(24, hex('6449455446'))],
    [
      'd82076687474703a2f2f7777772e6578616d706c652e636f6d',
      new CborTagged(32, 'http://www.example.com'),
    ],
    ['c074323031332d30332d32315432303a30343a30305a', new CborTagged(0, '2013-03-21T20:04:00Z')],
    ['c249010000000000000000', new CborTagged(2, hex('010000000000000000'))],
    ['c349010000000000000000', new CborTagged(3, hex('010000000000000000'))],
  ]
  for (const [encoded, value] of vectors) {
    t.strictSame(decodeStrict(hex(encoded), ALLOW_TAG), value, encoded)
    t.throws(() => decodeStrict(hex(encoded)), { code: /^ERR_CBOR_TAG_NOT_ALLOWED$/ }, encoded)
  }
  t.end()
})

t.test('RFC 8949 Appendix A indefinite-length examples decode', (t) => {
  const vectors: readonly (readonly [string, CborValue])[] = [
    ['5f42010243030405ff', hex('0102030405')],
    ['7f657374726561646d696e67ff', 'streaming'],
    ['9fff', []],
    ['9f018202039f0405ffff', [1, [2, 3], [4, 5]]],
    ['9f01820203820405ff', [1, [2, 3], [4, 5]]],
    ['83018202039f0405ff', [1, [2, 3], [4, 5]]],
    ['83019f0203ff820405', [1, [2, 3], [4, 5]]],
    [
      '9f0102030405060708090a0b0c0d0e0f101112131415161718181819ff',
      Array.from({ length: 25 }, (_, index) => index + 1),
    ],
    [
      'bf61610161629f0203ffff',
      map([
        ['a', 1],
        ['b', [2, 3]],
      ]),
    ],
    ['826161bf61626163ff', ['a', map([['b', 'c']])]],
    [
      'bf6346756ef563416d7421ff',
      map([
        ['Fun', true],
        ['Amt', -2],
      ]),
    ],
  ]
  for (const [encoded, value] of vectors) t.strictSame(decodeStrict(hex(encoded)), value, encoded)
  t.end()
})

t.test('unsigned integers take 1-, 2-, 4- and 8-byte arguments', (t) => {
  const vectors: readonly (readonly [string, number | bigint])[] = [
    ['17', 23],
    ['18 18', 24],
    ['18 ff', 255],
    ['19 0100', 256],
    ['19 ffff', 65535],
    ['1a 00010000', 65536],
    ['1a ffffffff', 4294967295],
    ['1b 0000000100000000', 4294967296],
    ['1b 001fffffffffffff', Number.MAX_SAFE_INTEGER],
    ['1b 0020000000000000', 2n ** 53n],
    ['1b 0020000000000001', 2n ** 53n + 1n],
    ['1b ffffffffffffffff', 2n ** 64n - 1n],
  ]
  for (const [encoded, value] of vectors) t.strictSame(decodeStrict(hex(encoded)), value, encoded)
  t.end()
})

t.test('negative integers take 1-, 2-, 4- and 8-byte arguments; -2^53 is a bigint', (t) => {
  const vectors: readonly (readonly [string, number | bigint])[] = [
    ['37', -24],
    ['38 18', -25],
    ['38 ff', -256],
    ['39 0100', -257],
    ['39 ffff', -65536],
    ['3a 00010000', -65537],
    ['3a ffffffff', -4294967296],
    ['3b 0000000100000000', -4294967297],
    // -1 - (2^53 - 2) = -(2^53 - 1), the last safe integer.
    ['3b 001ffffffffffffe', Number.MIN_SAFE_INTEGER],
    // -1 - (2^53 - 1) = -2^53: the argument is safe but the value is not.
    ['3b 001fffffffffffff', -(2n ** 53n)],
    ['3b 0020000000000000', -(2n ** 53n) - 1n],
    ['3b ffffffffffffffff', -(2n ** 64n)],
  ]
  for (const [encoded, value] of vectors) t.strictSame(decodeStrict(hex(encoded)), value, encoded)
  t.equal(typeof decodeStrict(hex('3b 001ffffffffffffe')), 'number')
  t.equal(typeof decodeStrict(hex('3b 001fffffffffffff')), 'bigint')
  t.end()
})

t.test('integers in a wider head than needed decode to the same value', (t) => {
  const vectors: readonly (readonly [string, number])[] = [
    ['18 00', 0],
    ['18 17', 23],
    ['19 0000', 0],
    ['19 00ff', 255],
    ['1a 0000ffff', 65535],
    ['1b 0000000000000000', 0],
    ['1b 00000000ffffffff', 4294967295],
    ['38 00', -1],
    ['3b 0000000000000000', -1],
  ]
  for (const [encoded, value] of vectors) t.strictSame(decodeStrict(hex(encoded)), value, encoded)
  t.end()
})

t.test('lengths and counts take 1-, 2-, 4- and 8-byte arguments', (t) => {
  for (const head of ['18 01', '19 0001', '1a 00000001', '1b 0000000000000001']) {
    const info = Number.parseInt(head.slice(0, 2), 16) // 0x18…0x1b
    const argument = head.slice(2)
    const withMajor = (major: number): string => (info | (major << 5)).toString(16) + argument
    t.strictSame(decodeStrict(hex(withMajor(2) + 'ab')), hex('ab'), `bytes ${head}`)
    t.strictSame(decodeStrict(hex(withMajor(3) + '61')), 'a', `text ${head}`)
    t.strictSame(decodeStrict(hex(withMajor(4) + '07')), [7], `array ${head}`)
    t.strictSame(decodeStrict(hex(withMajor(5) + '01 02')), map([[1, 2]]), `map ${head}`)
  }
  const bytes24 = decodeStrict(hex('58 18' + 'ab'.repeat(24)))
  t.strictSame(bytes24, hex('ab'.repeat(24)))
  t.strictSame(decodeStrict(hex('79 0100' + '61'.repeat(256))), 'a'.repeat(256))
  t.strictSame(decodeStrict(hex('99 0100' + '00'.repeat(256))), new Array<number>(256).fill(0))
  t.strictSame(decodeStrict(hex('b8 00')), map([]))
  t.end()
})

t.test('an indefinite byte or text string is its chunks joined', (t) => {
  t.strictSame(decodeStrict(hex('5f ff')), new Uint8Array(0))
  t.strictSame(decodeStrict(hex('7f ff')), '')
  t.strictSame(decodeStrict(hex('5f 40 40 ff')), new Uint8Array(0))
  t.strictSame(decodeStrict(hex('5f 41 01 40 58 01 02 ff')), hex('0102'))
  t.strictSame(decodeStrict(hex('7f 60 61 61 78 01 62 ff')), 'ab')
  t.strictSame(decodeStrict(hex('7f 62 c3a9 61 61 ff')), '\u00e9a')
  t.end()
})

t.test('an indefinite string refuses chunks that are not definite strings of its type', (t) => {
  const malformed = [
    '5f 61 61 ff', // text chunk in a byte string
    '7f 41 61 ff', // byte chunk in a text string
    '5f 01 ff', // integer chunk
    '7f 80 ff', // array chunk
    '5f f6 ff', // null chunk
    '5f 5f ff ff', // nested indefinite byte string
    '7f 7f ff ff', // nested indefinite text string
    '5f 41 01 5f 41 02 ff ff', // nested after a good chunk
    '5f 5c ff', // chunk with reserved additional information
  ]
  for (const encoded of malformed) {
    t.throws(() => decodeStrict(hex(encoded)), { code: /^ERR_CBOR_MALFORMED$/ }, encoded)
  }
  t.throws(() => decodeStrict(hex('5f 42 01')), { code: /^ERR_CBOR_TRUNCATED$/ })
  t.throws(() => decodeStrict(hex('5f 41 01')), { code: /^ERR_CBOR_TRUNCATED$/ })
  t.throws(() => decodeStrict(hex('5f 5a ffffffff ff')), { code: /^ERR_CBOR_LENGTH_OVERFLOW$/ })
  t.end()
})

t.test('indefinite arrays and maps end at a break and decode as plain values', (t) => {
  t.strictSame(decodeStrict(hex('9f 01 02 ff')), [1, 2])
  t.strictSame(decodeStrict(hex('9f 9f ff 80 ff')), [[], []])
  t.strictSame(decodeStrict(hex('bf ff')), map([]))
  const decoded = decodeStrict(hex('bf 01 02 61 61 9f ff ff'))
  t.strictSame(
    decoded,
    map([
      [1, 2],
      ['a', []],
    ]),
  )
  t.equal(Object.getPrototypeOf(decoded), Map.prototype, 'a plain Map, not CborIndefiniteMap')
  t.end()
})

t.test('maps keep the encoded order of their keys', (t) => {
  const decoded = decodeStrict(hex('a4 03 00 61 62 00 01 00 61 61 00'))
  t.ok(decoded instanceof Map)
  t.strictSame([...(decoded as Map<CborKey, CborValue>).keys()], [3, 'b', 1, 'a'])
  t.end()
})

t.test('the composite item decodes to its value', (t) => {
  const decoded = decodeStrict(hex(COMPOSITE_HEX), ALLOW_TAG)
  t.strictSame(decoded, COMPOSITE_VALUE)
  t.ok(decoded instanceof CborTagged)
  const inner = (decoded as CborTagged).value as Map<CborKey, CborValue>
  t.strictSame([...inner.keys()], [1, 'a', -1, 2, 3, 4, 5])
  t.end()
})

t.test('every proper prefix of a valid item is truncated', (t) => {
  const items = [
    COMPOSITE_HEX,
    '5f42010243030405ff',
    '7f657374726561646d696e67ff',
    '9f018202039f0405ffff',
    'bf61610161629f0203ffff',
    '826161bf61626163ff',
    'a56161614161626142616361436164614461656145',
    'c11a514b67b0',
    '1bffffffffffffffff',
    '3b001fffffffffffff',
    '64f0908591',
  ]
  for (const item of items) {
    const bytes = hex(item)
    for (let length = 0; length < bytes.byteLength; length += 1) {
      t.throws(
        () => decodeStrict(bytes.subarray(0, length), ALLOW_TAG),
        { code: /^ERR_CBOR_TRUNCATED$/ },
        `${item} cut to ${length} bytes`,
      )
    }
  }
  t.end()
})

t.test('a head whose argument is cut short is truncated', (t) => {
  for (const major of [0, 1, 2, 3, 4, 5, 6]) {
    for (const [info, present] of [
      [24, 0],
      [25, 1],
      [26, 3],
      [27, 7],
    ] as const) {
      const bytes = new Uint8Array(1 + present)
      bytes[0] = (major << 5) | info
      t.throws(
        () => decodeStrict(bytes, ALLOW_TAG),
        { code: /^ERR_CBOR_TRUNCATED$/ },
        `major ${major} info ${info} with ${present} argument bytes`,
      )
    }
  }
  t.end()
})

t.test('additional information 28–30 is malformed in every major type', (t) => {
  for (let major = 0; major < 8; major += 1) {
    for (const info of [28, 29, 30]) {
      const bytes = Uint8Array.of((major << 5) | info, 0, 0, 0, 0, 0, 0, 0, 0)
      t.throws(
        () => decodeStrict(bytes, ALLOW_TAG),
        { code: /^ERR_CBOR_MALFORMED$/ },
        `major ${major} info ${info}`,
      )
    }
  }
  t.end()
})

t.test('additional information 31 is malformed for integers, tags and major 7', (t) => {
  t.throws(() => decodeStrict(hex('1f')), { code: /^ERR_CBOR_MALFORMED$/ })
  t.throws(() => decodeStrict(hex('3f')), { code: /^ERR_CBOR_MALFORMED$/ })
  t.throws(() => decodeStrict(hex('df 00'), ALLOW_TAG), { code: /^ERR_CBOR_MALFORMED$/ })
  t.throws(() => decodeStrict(hex('df 00')), { code: /^ERR_CBOR_TAG_NOT_ALLOWED$/ })
  t.throws(() => decodeStrict(hex('ff')), { code: /^ERR_CBOR_MALFORMED$/ })
  t.end()
})

t.test('floats, undefined and simple values other than false/true/null are malformed', (t) => {
  const malformed = [
    'f9 0000', // 0.0, half
    'f9 3c00', // 1.0, half
    'f9 7c00', // Infinity
    'f9 7e00', // NaN
    'f9 fc00', // -Infinity
    'fa 47c35000', // 100000.0, single
    'fb 3ff199999999999a', // 1.1, double
    'f9', // a float head is refused before its argument is read
    'f7', // undefined
    'e0', // simple(0)
    'f0', // simple(16)
    'f3', // simple(19)
    'f8 14', // false in a two-byte head
    'f8 ff', // simple(255)
    '81 f7',
    'a1 01 fb 3ff199999999999a',
  ]
  for (const encoded of malformed) {
    t.throws(() => decodeStrict(hex(encoded)), { code: /^ERR_CBOR_MALFORMED$/ }, encoded)
  }
  t.end()
})

t.test('a break where an item is expected is malformed', (t) => {
  for (const encoded of ['ff', '81 ff', '82 01 ff', 'a1 ff 00', 'a1 01 ff', 'bf 01 ff']) {
    t.throws(() => decodeStrict(hex(encoded)), { code: /^ERR_CBOR_MALFORMED$/ }, encoded)
  }
  t.throws(() => decodeStrict(hex('d2 ff'), ALLOW_TAG), { code: /^ERR_CBOR_MALFORMED$/ })
  t.end()
})

t.test('text that is not UTF-8 is malformed', (t) => {
  const malformed = [
    '61 80', // lone continuation byte
    '61 ff', // never valid in UTF-8
    '61 c3', // sequence cut short
    '62 c3 28', // bad continuation byte
    '62 c0 af', // overlong "/"
    '63 e0 80 af', // overlong three-byte form
    '63 ed a0 80', // UTF-16 surrogate U+D800
    '64 f4 90 80 80', // beyond U+10FFFF
    '7f 61 c3 ff', // a chunk cut short
    '7f 61 c3 61 a9 ff', // RFC 8949 §3.2.3: "é" split across two chunks
    '81 61 80', // inside an array
    'a1 61 80 00', // as a map key
  ]
  for (const encoded of malformed) {
    t.throws(() => decodeStrict(hex(encoded)), { code: /^ERR_CBOR_MALFORMED$/ }, encoded)
  }
  t.strictSame(decodeStrict(hex('64 f0 9f 98 80')), '\u{1f600}')
  t.end()
})

t.test('a UTF-8 byte order mark is kept as U+FEFF', (t) => {
  const vectors: readonly (readonly [string, string])[] = [
    ['63 efbbbf', '\ufeff'],
    ['66 efbbbf 616263', '\ufeffabc'],
    ['64 61 efbbbf', 'a\ufeff'],
    ['7f 63 efbbbf 61 61 ff', '\ufeffa'],
    ['7f 61 61 63 efbbbf ff', 'a\ufeff'],
  ]
  for (const [encoded, text] of vectors) {
    const decoded = decodeStrict(hex(encoded))
    t.equal(decoded, text, encoded)
    t.equal((decoded as string).length, text.length, `${encoded} length`)
  }
  t.end()
})

t.test('a map that repeats a key is refused, whatever the width of the key', (t) => {
  const duplicates = [
    'a2 01 00 01 00',
    'a2 01 00 18 01 00',
    'a2 01 00 19 0001 00',
    'a2 01 00 1a 00000001 00',
    'a2 01 00 1b 0000000000000001 00',
    'a2 18 01 00 19 0001 00',
    'a2 20 00 38 00 00',
    'a2 1b 0020000000000000 00 1b 0020000000000000 00',
    'a2 3b 001fffffffffffff 00 3b 001fffffffffffff 00',
    'a2 61 61 00 61 61 00',
    'a2 61 61 00 78 01 61 00',
    'a2 61 61 00 7f 61 61 ff 00',
    'bf 01 00 18 01 00 ff',
    '81 a2 01 00 01 00',
  ]
  for (const encoded of duplicates) {
    t.throws(() => decodeStrict(hex(encoded)), { code: /^ERR_CBOR_DUPLICATE_KEY$/ }, encoded)
  }
  t.strictSame(
    decodeStrict(hex('a3 01 00 61 31 00 20 00')),
    map([
      [1, 0],
      ['1', 0],
      [-1, 0],
    ]),
    'equal-looking keys of different types are distinct',
  )
  t.strictSame(
    decodeStrict(hex('82 a1 01 00 a1 01 00')),
    [map([[1, 0]]), map([[1, 0]])],
    'the same key in two maps is no repetition',
  )
  t.end()
})

t.test('map keys are integers or text; anything else is malformed', (t) => {
  const malformed = [
    'a1 40 00', // byte string
    'a1 5f ff 00', // indefinite byte string
    'a1 f4 00', // false
    'a1 f5 00', // true
    'a1 f6 00', // null
    'a1 80 00', // array
    'a1 a0 00', // map
    'bf 80 00 ff', // array, in an indefinite map
  ]
  for (const encoded of malformed) {
    t.throws(() => decodeStrict(hex(encoded)), { code: /^ERR_CBOR_MALFORMED$/ }, encoded)
  }
  t.strictSame(
    decodeStrict(hex('a3 1b 0020000000000000 01 3b 0020000000000000 02 60 03')),
    map([
      [2n ** 53n, 1],
      [-(2n ** 53n) - 1n, 2],
      ['', 3],
    ]),
  )
  t.end()
})

t.test('nesting deeper than the cap is refused', (t) => {
  const nestedArray = (depth: number): CborValue => {
    let value: CborValue = []
    for (let level = 1; level < depth; level += 1) value = [value]
    return value
  }
  const nestedMap = (depth: number): CborValue => {
    let value: CborValue = map([])
    for (let level = 1; level < depth; level += 1) value = map([[1, value]])
    return value
  }
  t.strictSame(decodeStrict(hex('81'.repeat(15) + '80')), nestedArray(16))
  t.throws(() => decodeStrict(hex('81'.repeat(16) + '80')), { code: /^ERR_CBOR_TOO_DEEP$/ })
  t.strictSame(decodeStrict(hex('9f'.repeat(16) + 'ff'.repeat(16))), nestedArray(16))
  t.throws(() => decodeStrict(hex('9f'.repeat(17) + 'ff'.repeat(17))), {
    code: /^ERR_CBOR_TOO_DEEP$/,
  })
  t.strictSame(decodeStrict(hex('a1 01'.repeat(15) + 'a0')), nestedMap(16))
  t.throws(() => decodeStrict(hex('a1 01'.repeat(16) + 'a0')), { code: /^ERR_CBOR_TOO_DEEP$/ })
  t.throws(() => decodeStrict(hex('bf 01'.repeat(16) + 'a0' + 'ff'.repeat(16))), {
    code: /^ERR_CBOR_TOO_DEEP$/,
  })
  t.throws(() => decodeStrict(hex('81 a1 01'.repeat(8) + '80')), { code: /^ERR_CBOR_TOO_DEEP$/ })
  t.throws(
    () => decodeStrict(new Uint8Array(DEFAULT_MAX_CBOR_BYTES).fill(0x81)),
    { code: /^ERR_CBOR_TOO_DEEP$/ },
    '64 KiB of nested array heads stop at the cap',
  )
  t.end()
})

t.test('options.maxDepth sets the cap', (t) => {
  t.strictSame(decodeStrict(hex('01'), { maxDepth: 0 }), 1)
  t.throws(() => decodeStrict(hex('80'), { maxDepth: 0 }), { code: /^ERR_CBOR_TOO_DEEP$/ })
  t.throws(() => decodeStrict(hex('a0'), { maxDepth: 0 }), { code: /^ERR_CBOR_TOO_DEEP$/ })
  t.strictSame(decodeStrict(hex('81 80'), { maxDepth: 2 }), [[]])
  t.throws(() => decodeStrict(hex('81 81 80'), { maxDepth: 2 }), { code: /^ERR_CBOR_TOO_DEEP$/ })
  t.throws(() => decodeStrict(hex('a1 01 a1 01 a0'), { maxDepth: 2 }), {
    code: /^ERR_CBOR_TOO_DEEP$/,
  })
  t.ok(Array.isArray(decodeStrict(hex('81'.repeat(19) + '80'), { maxDepth: 20 })))
  // A caller cannot lift the cap past HARD_MAX_CBOR_DEPTH (256), so no input reaches the stack limit.
  t.ok(Array.isArray(decodeStrict(hex('81'.repeat(255) + '80'), { maxDepth: 1e9 })))
  t.throws(() => decodeStrict(hex('81'.repeat(256) + '80'), { maxDepth: 1e9 }), {
    code: /^ERR_CBOR_TOO_DEEP$/,
  })
  t.end()
})

t.test('a top-level tag counts as one level of nesting', (t) => {
  const tagged = decodeStrict(hex('d2' + '81'.repeat(14) + '80'), ALLOW_TAG)
  t.ok(tagged instanceof CborTagged)
  t.throws(() => decodeStrict(hex('d2' + '81'.repeat(15) + '80'), ALLOW_TAG), {
    code: /^ERR_CBOR_TOO_DEEP$/,
  })
  t.throws(() => decodeStrict(hex('d2 80'), { allowTopLevelTag: true, maxDepth: 1 }), {
    code: /^ERR_CBOR_TOO_DEEP$/,
  })
  t.end()
})

t.test('input longer than maxBytes is too large', (t) => {
  const largest = hex('5a 0000fffb' + '00'.repeat(DEFAULT_MAX_CBOR_BYTES - 5))
  t.equal(largest.byteLength, DEFAULT_MAX_CBOR_BYTES)
  t.equal((decodeStrict(largest) as Uint8Array).byteLength, DEFAULT_MAX_CBOR_BYTES - 5)
  const oneMore = hex('5a 0000fffc' + '00'.repeat(DEFAULT_MAX_CBOR_BYTES - 4))
  t.throws(() => decodeStrict(oneMore), { code: /^ERR_CBOR_TOO_LARGE$/ })
  t.strictSame(decodeStrict(hex('43 010203'), { maxBytes: 4 }), hex('010203'))
  t.throws(() => decodeStrict(hex('43 010203'), { maxBytes: 3 }), { code: /^ERR_CBOR_TOO_LARGE$/ })
  t.throws(() => decodeStrict(hex('00'), { maxBytes: 0 }), { code: /^ERR_CBOR_TOO_LARGE$/ })
  t.end()
})

t.test('a declared length beyond maxBytes overflows before anything is allocated', (t) => {
  const overflows = [
    '5b ffffffffffffffff',
    '7b ffffffffffffffff',
    '9b ffffffffffffffff',
    'bb ffffffffffffffff',
    '5b 0020000000000000', // 2^53: a bigint argument
    '9b 001fffffffffffff', // 2^53 - 1: a number, still beyond maxBytes
    '5a ffffffff',
    '7a ffffffff',
    '9a ffffffff',
    'ba ffffffff',
    '5a 00010001', // 65537 > 64 KiB
    '9a 00010001',
    '81 5a ffffffff',
    'a1 01 7b ffffffffffffffff',
  ]
  for (const encoded of overflows) {
    t.throws(() => decodeStrict(hex(encoded)), { code: /^ERR_CBOR_LENGTH_OVERFLOW$/ }, encoded)
  }
  t.throws(() => decodeStrict(hex('59 0011'), { maxBytes: 16 }), {
    code: /^ERR_CBOR_LENGTH_OVERFLOW$/,
  })
  t.throws(() => decodeStrict(hex('59 0010'), { maxBytes: 16 }), { code: /^ERR_CBOR_TRUNCATED$/ })
  t.end()
})

t.test('a declared length larger than what remains is truncated', (t) => {
  const truncated = [
    '5a 00010000', // 64 KiB declared, nothing present
    '43 0102',
    '63 6161',
    '83 01 02',
    '9a 0000ffff 00',
    'a2 01 02 03', // two entries need at least four bytes
    'a2 01 ff 03', // …checked before the first entry (whose break would be malformed) is read
    '83 ff 00', // three items need three bytes, checked before the break is read
    'ba 00008000 00 00',
    '82 43 01',
  ]
  for (const encoded of truncated) {
    t.throws(() => decodeStrict(hex(encoded)), { code: /^ERR_CBOR_TRUNCATED$/ }, encoded)
  }
  t.throws(() => decodeStrict(new Uint8Array(0)), { code: /^ERR_CBOR_TRUNCATED$/ })
  t.end()
})

t.test('bytes after the item are refused', (t) => {
  for (const encoded of ['00 00', '80 80', '60 00', 'a0 ff', '9f ff ff', '5f ff 00', '01 ff']) {
    t.throws(() => decodeStrict(hex(encoded)), { code: /^ERR_CBOR_TRAILING_BYTES$/ }, encoded)
  }
  t.throws(() => decodeStrict(hex('d2 00 00'), ALLOW_TAG), { code: /^ERR_CBOR_TRAILING_BYTES$/ })
  t.end()
})

t.test('tags are refused unless allowed, and then only one at the top', (t) => {
  t.throws(() => decodeStrict(hex('d2 80')), { code: /^ERR_CBOR_TAG_NOT_ALLOWED$/ })
  t.throws(() => decodeStrict(hex('d2 80'), { allowTopLevelTag: false }), {
    code: /^ERR_CBOR_TAG_NOT_ALLOWED$/,
  })
  for (const head of ['d2', 'd8 12', 'd9 0012', 'da 00000012', 'db 0000000000000012']) {
    t.strictSame(decodeStrict(hex(head + '80'), ALLOW_TAG), new CborTagged(18, []), head)
  }
  t.strictSame(
    decodeStrict(hex('db 001fffffffffffff 00'), ALLOW_TAG),
    new CborTagged(Number.MAX_SAFE_INTEGER, 0),
  )
  const refused = [
    'db 0020000000000000 00', // tag 2^53 is not a safe number
    'db ffffffffffffffff 00',
    'd2 d2 00', // a tag inside the top-level tag
    '81 d2 00', // in an array
    '9f d2 00 ff', // in an indefinite array
    'a1 01 d2 00', // as a map value
    'a1 d2 00 00', // as a map key
  ]
  for (const encoded of refused) {
    t.throws(
      () => decodeStrict(hex(encoded), ALLOW_TAG),
      { code: /^ERR_CBOR_TAG_NOT_ALLOWED$/ },
      encoded,
    )
  }
  t.throws(() => decodeStrict(hex('d2'), ALLOW_TAG), { code: /^ERR_CBOR_TRUNCATED$/ })
  t.end()
})

t.test('byte strings are copies, never views of the input', (t) => {
  const input = hex('43 010203')
  const decoded = decodeStrict(input) as Uint8Array
  input.fill(0xee)
  t.strictSame(decoded, hex('010203'))
  t.not(decoded.buffer, input.buffer)

  const buffer = Buffer.from('824201025f41034104ff', 'hex')
  const [definite, indefinite] = decodeStrict(buffer) as Uint8Array[]
  buffer.fill(0xee)
  t.strictSame(definite, hex('0102'))
  t.strictSame(indefinite, hex('0304'))
  t.equal(Object.getPrototypeOf(definite), Uint8Array.prototype, 'a Uint8Array, not a Buffer')
  t.not(definite?.buffer, buffer.buffer)

  const pooled = Buffer.alloc(16, 0xee)
  pooled.set(hex('a1 01 42 0506'), 8)
  const fromMap = decodeStrict(pooled.subarray(8, 13)) as Map<CborKey, CborValue>
  pooled.fill(0xee)
  t.strictSame(fromMap.get(1), hex('0506'))
  t.end()
})

t.test('views at an offset into a larger buffer decode their own bytes only', (t) => {
  const backing = hex('ff 19 0100 ff')
  t.equal(decodeStrict(backing.subarray(1, 4)), 256)
  t.equal(decodeStrict(hex('aa 1b 0020000000000000').subarray(1)), 2n ** 53n)
  t.equal(decodeStrict(hex('aa 3a 00010000').subarray(1)), -65537)
  const buffer = Buffer.alloc(32, 0xff)
  buffer.set(hex('1a 00010000'), 20)
  t.equal(decodeStrict(buffer.subarray(20, 25)), 65536)
  t.end()
})

t.test('only CloisterErrors with CBOR codes escape, on seeded random and mutated inputs', (t) => {
  const random = mulberry32(0xc0ffee)
  const interesting = [
    0x00, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1f, 0x20, 0x38, 0x3b, 0x40, 0x41, 0x58, 0x5b, 0x5f,
    0x60, 0x61, 0x7f, 0x80, 0x81, 0x9f, 0xa0, 0xa1, 0xbf, 0xc0, 0xd2, 0xdb, 0xf4, 0xf5, 0xf6, 0xf7,
    0xf9, 0xff, 0xc3, 0xa9, 0xef, 0xbb,
  ]
  const inputs: Uint8Array[] = []
  for (let index = 0; index < 4000; index += 1) {
    const bytes = new Uint8Array(Math.floor(random() * 20))
    for (let at = 0; at < bytes.byteLength; at += 1) {
      bytes[at] =
        random() < 0.6
          ? (interesting[Math.floor(random() * interesting.length)] ?? 0)
          : Math.floor(random() * 256)
    }
    inputs.push(bytes)
  }
  const composite = hex(COMPOSITE_HEX)
  for (let at = 0; at < composite.byteLength; at += 1) {
    for (let byte = 0; byte < 256; byte += 1) {
      const mutated = composite.slice()
      mutated[at] = byte
      inputs.push(mutated)
    }
  }

  const escaped: string[] = []
  const codes = new Set<ErrorCode>()
  let accepted = 0
  for (const input of inputs) {
    const label = Buffer.from(input).toString('hex')
    let value: CborValue
    try {
      value = decodeStrict(input, ALLOW_TAG)
    } catch (error) {
      if (isCloisterError(error) && error.code.startsWith('ERR_CBOR_')) codes.add(error.code)
      else escaped.push(label)
      continue
    }
    accepted += 1
    // Whatever is accepted lies inside the data model: it encodes, and decodes back to the same
    // value (compared through its preferred encoding, which tells every value apart).
    try {
      const encoded = encodeCbor(value)
      const again = encodeCbor(decodeStrict(encoded, ALLOW_TAG))
      if (Buffer.compare(again, encoded) !== 0) escaped.push(`re-encoding ${label}`)
    } catch {
      escaped.push(`re-encoding ${label}`)
    }
  }
  t.strictSame(escaped, [], 'no input let another exception escape')
  t.ok(accepted > 100, `${accepted} inputs were accepted`)
  t.strictSame(
    [...codes].sort(),
    [
      'ERR_CBOR_DUPLICATE_KEY',
      'ERR_CBOR_LENGTH_OVERFLOW',
      'ERR_CBOR_MALFORMED',
      'ERR_CBOR_TAG_NOT_ALLOWED',
      'ERR_CBOR_TRAILING_BYTES',
      'ERR_CBOR_TRUNCATED',
    ],
    'the inputs reach every input-dependent code',
  )
  t.end()
})

t.test('map entries and string chunks are capped (integer keys hash without a seed in V8)', (t) => {
  const mapOf = (count: number, indefinite: boolean) => {
    const entries = Array.from({ length: count }, (_, index) => [
      0x19,
      index >> 8,
      index & 0xff,
      0xf6,
    ])
    const head = indefinite ? [0xbf] : count < 24 ? [0xa0 + count] : [0xb8, count]
    return Uint8Array.from([...head, ...entries.flat(), ...(indefinite ? [0xff] : [])])
  }
  for (const indefinite of [false, true]) {
    t.equal((decodeStrict(mapOf(64, indefinite)) as Map<unknown, unknown>).size, 64)
    t.throws(() => decodeStrict(mapOf(65, indefinite)), { code: /^ERR_CBOR_TOO_MANY_ITEMS$/ })
    t.equal(
      (decodeStrict(mapOf(100, indefinite), { maxMapEntries: 100 }) as Map<unknown, unknown>).size,
      100,
    )
    t.throws(() => decodeStrict(mapOf(3, indefinite), { maxMapEntries: 2 }), {
      code: /^ERR_CBOR_TOO_MANY_ITEMS$/,
    })
  }
  const chunks = (count: number) =>
    Uint8Array.from([0x5f, ...new Array<number>(count).fill(0x40), 0xff])
  t.same(decodeStrict(chunks(256)), new Uint8Array(0))
  t.throws(() => decodeStrict(chunks(257)), { code: /^ERR_CBOR_TOO_MANY_ITEMS$/ })
  t.end()
})

import t from 'tap'
import { hexBytes as hex } from '../../helpers/hex-bytes.js'
import { toHex as toHexString } from '../../../shared/bytes/bytes.js'
import { mulberry32 } from '../../helpers/seeded-random.js'
import { encodeCbor } from '../../../shared/cbor/encode.js'
import { decodeStrict } from '../../../shared/cbor/decode-strict.js'
import {
  CborIndefiniteMap,
  CborTagged,
  isCborArray,
  isCborBytes,
  isCborMap,
  type CborKey,
  type CborValue,
} from '../../../shared/cbor/cbor-value.js'

function map(entries: readonly (readonly [CborKey, CborValue])[]): Map<CborKey, CborValue> {
  return new Map(entries)
}

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER) // 2^53 - 1

t.test('RFC 8949 Appendix A examples round-trip to equal bytes and equal values', (t) => {
  const vectors: readonly (readonly [CborValue, string])[] = [
    [0, '00'],
    [1, '01'],
    [10, '0a'],
    [23, '17'],
    [24, '1818'],
    [25, '1819'],
    [100, '1864'],
    [1000, '1903e8'],
    [1000000, '1a000f4240'],
    [1000000000000, '1b000000e8d4a51000'],
    [18446744073709551615n, '1bffffffffffffffff'],
    [-18446744073709551616n, '3bffffffffffffffff'],
    [-1, '20'],
    [-10, '29'],
    [-100, '3863'],
    [-1000, '3903e7'],
    [false, 'f4'],
    [true, 'f5'],
    [null, 'f6'],
    [new Uint8Array(0), '40'],
    [hex('01020304'), '4401020304'],
    ['', '60'],
    ['a', '6161'],
    ['IETF', '6449455446'],
    ['"\\', '62225c'],
    ['\u00fc', '62c3bc'],
    ['\u6c34', '63e6b0b4'],
    ['\u{10151}', '64f0908591'],
    [[], '80'],
    [[1, 2, 3], '83010203'],
    [[1, [2, 3], [4, 5]], '8301820203820405'],
    [
      Array.from({ length: 25 }, (_, index) => index + 1),
      '98190102030405060708090a0b0c0d0e0f101112131415161718181819',
    ],
    [map([]), 'a0'],
    [
      map([
        [1, 2],
        [3, 4],
      ]),
      'a201020304',
    ],
    [
      map([
        ['a', 1],
        ['b', [2, 3]],
      ]),
      'a26161016162820203',
    ],
    [['a', map([['b', 'c']])], '826161a161626163'],
    [
      map([
        ['a', 'A'],
        ['b', 'B'],
        ['c', 'C'],
        ['d', 'D'],
        ['e', 'E'],
      ]),
      'a56161614161626142616361436164614461656145',
    ],
    [new CborTagged(1, 1363896240), 'c11a514b67b0'],
    [new CborTagged(23, hex('01020304')), 'd74401020304'],
    [new CborTagged(24, hex('6449455446')), 'd818456449455446'],
    [
      new CborTagged(32, 'http://www.example.com'),
      'd82076687474703a2f2f7777772e6578616d706c652e636f6d',
    ],
    [new CborTagged(0, '2013-03-21T20:04:00Z'), 'c074323031332d30332d32315432303a30343a30305a'],
  ]
  for (const [value, encoded] of vectors) {
    t.equal(toHexString(encodeCbor(value)), encoded, `encode → ${encoded}`)
    t.strictSame(decodeStrict(hex(encoded), { allowTopLevelTag: true }), value, `decode ${encoded}`)
  }
  t.end()
})

t.test('integer heads are the shortest at every boundary, for both signs', (t) => {
  const vectors: readonly (readonly [number | bigint, string])[] = [
    [0, '00'],
    [23, '17'],
    [24, '18 18'],
    [255, '18 ff'],
    [256, '19 0100'],
    [65535, '19 ffff'],
    [65536, '1a 00010000'],
    [2 ** 32 - 1, '1a ffffffff'],
    [2 ** 32, '1b 0000000100000000'],
    [Number.MAX_SAFE_INTEGER, '1b 001fffffffffffff'],
    [2n ** 53n, '1b 0020000000000000'],
    [2n ** 64n - 1n, '1b ffffffffffffffff'],
    [-1, '20'],
    [-24, '37'],
    [-25, '38 18'],
    [-256, '38 ff'],
    [-257, '39 0100'],
    [-65536, '39 ffff'],
    [-65537, '3a 00010000'],
    [-(2 ** 32), '3a ffffffff'],
    [-(2 ** 32) - 1, '3b 0000000100000000'],
    [Number.MIN_SAFE_INTEGER, '3b 001ffffffffffffe'],
    [-(2n ** 53n), '3b 001fffffffffffff'],
    [-(2n ** 64n), '3b ffffffffffffffff'],
  ]
  for (const [value, encoded] of vectors) {
    t.equal(toHexString(encodeCbor(value)), encoded.replace(' ', ''), `${value}`)
  }
  t.end()
})

t.test('a bigint inside the safe range encodes as the same number would', (t) => {
  t.equal(toHexString(encodeCbor(5n)), '05')
  t.equal(toHexString(encodeCbor(-5n)), '24')
  t.equal(toHexString(encodeCbor(0n)), '00')
  t.equal(toHexString(encodeCbor(MAX_SAFE)), '1b001fffffffffffff')
  t.equal(toHexString(encodeCbor(-MAX_SAFE)), '3b001ffffffffffffe')
  t.equal(toHexString(encodeCbor(65536n)), '1a00010000')
  t.end()
})

t.test('string, array and map heads are the shortest at every length boundary', (t) => {
  const heads: readonly (readonly [number, string])[] = [
    [0, '0'],
    [23, '17'],
    [24, '1818'],
    [255, '18ff'],
    [256, '190100'],
    [65535, '19ffff'],
    [65536, '1a00010000'],
  ]
  // The head is the major type in the top three bits of the first byte, then the argument.
  const head = (major: number, argument: string): string =>
    ((major << 5) | Number.parseInt(argument.slice(0, 2), 16)).toString(16) + argument.slice(2)
  for (const [length, argument] of heads) {
    const bytes = encodeCbor(new Uint8Array(length).fill(0xab))
    t.equal(toHexString(bytes.subarray(0, bytes.byteLength - length)), head(2, argument), 'bytes')

    const text = encodeCbor('a'.repeat(length))
    t.equal(toHexString(text.subarray(0, text.byteLength - length)), head(3, argument), 'text')

    const array = encodeCbor(new Array<number>(length).fill(0))
    t.equal(toHexString(array.subarray(0, array.byteLength - length)), head(4, argument), 'array')

    const entries = Array.from({ length }, (_, index): [number, null] => [index, null])
    const mapBytes = encodeCbor(new Map(entries))
    t.equal(toHexString(mapBytes.subarray(0, head(5, argument).length / 2)), head(5, argument))
  }
  t.end()
})

t.test('tag numbers take the shortest head at every boundary', (t) => {
  const vectors: readonly (readonly [number, string])[] = [
    [0, 'c0'],
    [23, 'd7'],
    [24, 'd8 18'],
    [255, 'd8 ff'],
    [256, 'd9 0100'],
    [65535, 'd9 ffff'],
    [65536, 'da 00010000'],
    [2 ** 32 - 1, 'da ffffffff'],
    [2 ** 32, 'db 0000000100000000'],
    [Number.MAX_SAFE_INTEGER, 'db 001fffffffffffff'],
  ]
  for (const [tag, encoded] of vectors) {
    t.equal(toHexString(encodeCbor(new CborTagged(tag, 0))), encoded.replace(' ', '') + '00')
  }
  t.equal(toHexString(encodeCbor(new CborTagged(18, [new CborTagged(1, 2)]))), 'd281c102')
  t.end()
})

t.test('a CborIndefiniteMap is written 0xbf … 0xff, and decodes to a plain Map', (t) => {
  // RFC 8949 Appendix A: {_ "Fun": true, "Amt": -2}
  const funAmt = new CborIndefiniteMap<string, CborValue>([
    ['Fun', true],
    ['Amt', -2],
  ])
  t.equal(toHexString(encodeCbor(funAmt)), 'bf6346756ef563416d7421ff')
  t.equal(toHexString(encodeCbor(new CborIndefiniteMap())), 'bfff')
  t.equal(
    toHexString(encodeCbor([new CborIndefiniteMap([[1, new CborIndefiniteMap([[2, 3]])]])])),
    '81 bf 01 bf 02 03 ff ff'.replaceAll(' ', ''),
  )
  const decoded = decodeStrict(encodeCbor(funAmt))
  t.strictSame(
    decoded,
    map([
      ['Fun', true],
      ['Amt', -2],
    ]),
  )
  t.equal(toHexString(encodeCbor(decoded)), 'a26346756ef563416d7421')
  t.end()
})

t.test('maps keep insertion order and accept integer, bigint and text keys', (t) => {
  t.equal(
    toHexString(
      encodeCbor(
        map([
          [3, 0],
          ['b', 0],
          [1, 0],
          [-1, 0],
          [2n ** 60n, 0],
        ]),
      ),
    ),
    'a5 03 00 61 62 00 01 00 20 00 1b 1000000000000000 00'.replaceAll(' ', ''),
  )
  t.end()
})

t.test('text is UTF-8 with the byte order mark kept', (t) => {
  t.equal(toHexString(encodeCbor('\ufeff')), '63efbbbf')
  t.equal(toHexString(encodeCbor('\ufeffa')), '64efbbbf61')
  t.equal(toHexString(encodeCbor('\u00e9')), '62c3a9')
  t.equal(toHexString(encodeCbor('\u{1f600}')), '64f09f9880')
  t.end()
})

t.test('byte strings encode exactly the bytes of their view', (t) => {
  const backing = hex('aabbccdd')
  const encoded = encodeCbor(backing.subarray(1, 3))
  t.equal(toHexString(encoded), '42bbcc')
  backing.fill(0)
  t.equal(toHexString(encoded), '42bbcc', 'the output does not share memory with the input')
  t.equal(toHexString(encodeCbor(Buffer.from('0102', 'hex'))), '420102')
  t.equal(Object.getPrototypeOf(encodeCbor(1)), Uint8Array.prototype)
  t.end()
})

t.test('numbers that are not safe integers are a TypeError', (t) => {
  const message = 'CBOR encoding supports safe integers only; use a bigint beyond 2^53'
  const values = [
    1.5,
    -0.5,
    Number.NaN,
    Number.POSITIVE_INFINITY,
    Number.NEGATIVE_INFINITY,
    2 ** 53,
    -(2 ** 53),
    Number.MAX_VALUE,
    Number.EPSILON,
  ]
  for (const value of values) {
    t.throws(() => encodeCbor(value), { name: 'TypeError', message }, `${value}`)
  }
  t.throws(() => encodeCbor([1, 2.5]), { name: 'TypeError', message }, 'inside an array')
  t.throws(() => encodeCbor(map([[0.5, 1]])), { name: 'TypeError', message }, 'as a map key')
  t.throws(() => encodeCbor(map([[1, 0.5]])), { name: 'TypeError', message }, 'as a map value')
  t.end()
})

t.test('integers beyond 64 bits are a TypeError', (t) => {
  const message = 'CBOR integers are limited to 64 bits'
  t.throws(() => encodeCbor(2n ** 64n), { name: 'TypeError', message })
  t.throws(() => encodeCbor(-(2n ** 64n) - 1n), { name: 'TypeError', message })
  t.throws(() => encodeCbor(2n ** 100n), { name: 'TypeError', message })
  t.end()
})

t.test('tag numbers that are not non-negative safe integers are a TypeError', (t) => {
  const message = 'CBOR tag numbers are non-negative safe integers'
  for (const tag of [-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 53]) {
    t.throws(() => encodeCbor(new CborTagged(tag, 0)), { name: 'TypeError', message }, `${tag}`)
  }
  t.end()
})

t.test('CborTagged holds its tag number and value', (t) => {
  const tagged = new CborTagged(18, [1])
  t.equal(tagged.tag, 18)
  t.strictSame(tagged.value, [1])
  t.end()
})

t.test('the guards tell maps, arrays and byte strings apart', (t) => {
  const samples: readonly (readonly [string, CborValue | undefined])[] = [
    ['map', new Map()],
    ['indefinite map', new CborIndefiniteMap()],
    ['array', [1]],
    ['bytes', new Uint8Array(1)],
    ['buffer', Buffer.alloc(1)],
    ['tagged', new CborTagged(1, 1)],
    ['text', 'a'],
    ['number', 1],
    ['null', null],
    ['undefined', undefined],
  ]
  const kinds = samples.map(([name, value]) => [
    name,
    value !== undefined && isCborMap(value),
    isCborArray(value),
    isCborBytes(value),
  ])
  t.strictSame(kinds, [
    ['map', true, false, false],
    ['indefinite map', true, false, false],
    ['array', false, true, false],
    ['bytes', false, false, true],
    ['buffer', false, false, true],
    ['tagged', false, false, false],
    ['text', false, false, false],
    ['number', false, false, false],
    ['null', false, false, false],
    ['undefined', false, false, false],
  ])
  t.ok(new CborIndefiniteMap() instanceof Map)
  t.end()
})

t.test('decode(encode(v)) equals v for seeded random nested values', (t) => {
  const random = mulberry32(20260521)
  const below = (limit: number): number => Math.floor(random() * limit)
  const pick = <T>(items: readonly T[]): T => {
    const item = items[below(items.length)]
    if (item === undefined) throw new Error('pick from an empty list')
    return item
  }
  /** Integers decode to a number when safe and to a bigint otherwise; the generator matches. */
  const canonical = (value: bigint): number | bigint =>
    value >= -MAX_SAFE && value <= MAX_SAFE ? Number(value) : value
  const boundaryIntegers = [
    0n,
    23n,
    24n,
    255n,
    256n,
    65535n,
    65536n,
    2n ** 32n - 1n,
    2n ** 32n,
    MAX_SAFE,
    2n ** 53n,
    2n ** 64n - 1n,
  ].flatMap((value) => [value, -1n - value])
  const integer = (): number | bigint => {
    switch (below(4)) {
      case 0:
        return canonical(pick(boundaryIntegers))
      case 1:
        return below(1000) - 500
      default: {
        const magnitude = (BigInt(below(2 ** 32)) << 32n) | BigInt(below(2 ** 32))
        return canonical(random() < 0.5 ? magnitude : -1n - magnitude)
      }
    }
  }
  const lengths = [0, 1, 2, 3, 5, 23, 24, 25]
  const codePointRanges: readonly (readonly [number, number])[] = [
    [0x00, 0x7f],
    [0x80, 0x7ff],
    [0x800, 0xd7ff],
    [0xe000, 0xffff],
    [0x10000, 0x10ffff],
    [0xfeff, 0xfeff], // the byte order mark
  ]
  const text = (): string => {
    let out = ''
    for (let index = pick(lengths); index > 0; index -= 1) {
      const [low, high] = pick(codePointRanges)
      out += String.fromCodePoint(low + below(high - low + 1))
    }
    return out
  }
  const bytes = (): Uint8Array => {
    const out = new Uint8Array(pick(lengths))
    for (let index = 0; index < out.byteLength; index += 1) out[index] = below(256)
    return out
  }
  const seen = { bigint: 0, map: 0, tagged: 0, deepest: 0 }
  const value = (depth: number): CborValue => {
    seen.deepest = Math.max(seen.deepest, depth)
    const containers = depth < 16 ? (depth < 3 ? 0.5 : 0.25) : 0
    if (random() < containers) {
      const count = random() < 0.9 ? below(4) : pick(lengths)
      if (random() < 0.5) return Array.from({ length: count }, () => value(depth + 1))
      seen.map += 1
      const entries = new Map<CborKey, CborValue>()
      for (let index = 0; index < count; index += 1) {
        const key = random() < 0.5 ? integer() : text()
        if (!entries.has(key)) entries.set(key, value(depth + 1))
      }
      return entries
    }
    switch (below(6)) {
      case 0: {
        const drawn = integer()
        if (typeof drawn === 'bigint') seen.bigint += 1
        return drawn
      }
      case 1:
        return text()
      case 2:
        return bytes()
      case 3:
        return pick([true, false, null])
      default:
        return below(100) - 50
    }
  }
  const tags = [0, 18, 24, 255, 256, 65535, 65536, 2 ** 32, Number.MAX_SAFE_INTEGER]

  for (let sample = 0; sample < 400; sample += 1) {
    let drawn = value(0)
    if (random() < 0.1) {
      drawn = new CborTagged(pick(tags), drawn)
      seen.tagged += 1
    }
    const encoded = encodeCbor(drawn)
    const decoded = decodeStrict(encoded, { allowTopLevelTag: true })
    t.strictSame(decoded, drawn, `sample ${sample}`)
    t.equal(toHexString(encodeCbor(decoded)), toHexString(encoded), `sample ${sample} bytes`)
  }
  t.ok(seen.bigint > 10, `${seen.bigint} bigints drawn`)
  t.ok(seen.map > 50, `${seen.map} maps drawn`)
  t.ok(seen.tagged > 10, `${seen.tagged} tags drawn`)
  t.ok(seen.deepest >= 6, `nesting reached depth ${seen.deepest}`)
  t.end()
})

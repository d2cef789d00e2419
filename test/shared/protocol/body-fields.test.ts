import t, { type Test } from 'tap'
import { toHex } from '../../../shared/bytes/bytes.js'
import type { CborKey, CborValue } from '../../../shared/cbor/cbor-value.js'
import { encodeCbor } from '../../../shared/cbor/encode.js'
import {
  boolField,
  bytesField,
  choiceField,
  listField,
  nullable,
  pcrMapField,
  readBody,
  textField,
  toCbor,
  tryReadBody,
  uintField,
  type BodySpec,
  type FieldReader,
} from '../../../shared/protocol/body-fields.js'
import { caughtCode } from '../../helpers/caught-code.js'
import { exactCode } from '../../helpers/exact-code.js'
import { hexBytes } from '../../helpers/hex-bytes.js'

/** A CBOR map from its entries, in order. */
function map(...entries: (readonly [CborKey, CborValue])[]): Map<CborKey, CborValue> {
  return new Map(entries)
}

/** Asserts that `reader` refuses every one of `values`. */
function refuses<T>(t: Test, reader: FieldReader<T>, values: readonly CborValue[]): void {
  for (const [index, value] of values.entries()) {
    t.equal(reader(value), undefined, `refuses value ${index}, of type ${typeof value}`)
  }
}

const PCR = new Uint8Array(48).fill(0xab)

t.test('bytesField accepts byte strings up to its limit', (t) => {
  const reader = bytesField(3)
  const three = hexBytes('010203')
  t.equal(reader(three), three, 'the same bytes, not a copy')
  t.same(reader(new Uint8Array(0)), new Uint8Array(0))
  t.equal(reader(hexBytes('01020304')), undefined, 'one byte over')
  refuses(t, reader, ['010203', 1, null, true, [1], map()])
  t.equal(bytesField(0)(new Uint8Array(0))?.byteLength, 0)
  t.equal(bytesField(0)(hexBytes('00')), undefined)
  t.end()
})

t.test('textField accepts text up to its limit in UTF-16 units', (t) => {
  const reader = textField(3)
  t.equal(reader('abc'), 'abc')
  t.equal(reader(''), '')
  t.equal(reader('abcd'), undefined)
  t.equal(textField(2)('😀'), '😀', 'one code point, two units')
  t.equal(textField(2)('😀a'), undefined, 'three units')
  t.equal(textField(3)('ééé'), 'ééé', 'units, not UTF-8 bytes')
  refuses(t, reader, [hexBytes('61'), 1, null, false, ['a'], map()])
  t.end()
})

t.test('choiceField accepts exactly one of its choices', (t) => {
  const reader = choiceField(['rsa', 'ec'] as const)
  t.equal(reader('rsa'), 'rsa')
  t.equal(reader('ec'), 'ec')
  refuses(t, reader, ['RSA', 'rsa ', '', 'e', 'ecc', 0, null, hexBytes('6563'), ['ec']])
  t.equal(choiceField([])('x'), undefined, 'no choices, nothing accepted')
  t.end()
})

t.test('uintField accepts integers from 0 to 2^53 - 1', (t) => {
  t.equal(uintField(0), 0)
  t.equal(uintField(1), 1)
  t.equal(uintField(Number.MAX_SAFE_INTEGER), Number.MAX_SAFE_INTEGER)
  refuses(t, uintField, [-1, -(2 ** 53), 1.5, 0.1, NaN, Infinity, 2n ** 53n, 0n, '1', true, null])
  t.end()
})

t.test('boolField accepts true and false only', (t) => {
  t.equal(boolField(true), true)
  t.equal(boolField(false), false)
  refuses(t, boolField, [0, 1, 'true', null, [], map()])
  t.end()
})

t.test('pcrMapField accepts maps from PCR 0–31 to 48 bytes', (t) => {
  const pcrs = pcrMapField(map([0, PCR], [31, PCR], [4, PCR]))
  t.same(pcrs && [...pcrs.keys()], [0, 31, 4], 'in order')
  t.equal(pcrs?.get(31), PCR)
  t.same(pcrMapField(map()), new Map(), 'no PCRs')
  const refused: [string, CborValue][] = [
    ['index 32', map([32, PCR])],
    ['index -1', map([-1, PCR])],
    ['a text index', map(['0', PCR])],
    ['a bigint index', map([0n, PCR])],
    ['47 bytes', map([0, new Uint8Array(47)])],
    ['49 bytes', map([0, new Uint8Array(49)])],
    ['no bytes', map([0, new Uint8Array(0)])],
    ['text', map([0, 'ab'.repeat(48)])],
    ['null', map([0, null])],
    ['one bad entry among good ones', map([0, PCR], [1, hexBytes('00')])],
    ['an array', [PCR]],
    ['bytes', PCR],
    ['null map', null],
  ]
  for (const [name, value] of refused) t.equal(pcrMapField(value), undefined, name)
  t.end()
})

t.test('listField accepts lists of at most max items, each read by its reader', (t) => {
  const reader = listField(uintField, 2)
  t.same(reader([]), [])
  t.same(reader([7]), [7])
  t.same(reader([1, 2]), [1, 2])
  t.equal(reader([1, 2, 3]), undefined, 'one item over')
  t.equal(reader([1, -1]), undefined, 'an item refused')
  t.equal(reader(['1']), undefined)
  refuses(t, reader, [1, 'ab', null, map([0, 1]), hexBytes('01')])
  const pcrSets = listField(pcrMapField, 1)([map([0, PCR])])
  t.equal(pcrSets?.[0]?.get(0), PCR, 'items are what the item reader produced')
  t.end()
})

t.test('nullable accepts null and whatever its reader accepts', (t) => {
  const reader = nullable(bytesField(1))
  t.equal(reader(null), null)
  t.same(reader(hexBytes('01')), hexBytes('01'))
  t.equal(reader(hexBytes('0102')), undefined)
  t.equal(reader(false), undefined)
  t.equal(nullable(uintField)(0), 0)
  t.end()
})

const SPEC: BodySpec = {
  required: { name: textField(8), count: uintField },
  optional: { note: nullable(textField(4)), flag: boolField },
}

t.test('readBody reads required and optional fields', (t) => {
  t.same(readBody(map(['name', 'a'], ['count', 2]), SPEC, 'ERR_PROTOCOL_BAD_REQUEST'), {
    name: 'a',
    count: 2,
  })
  const all = readBody(
    map(['flag', false], ['count', 0], ['note', null], ['name', '']),
    SPEC,
    'ERR_PROTOCOL_BAD_REQUEST',
  )
  t.same(all, { flag: false, count: 0, note: null, name: '' })
  t.same(Object.keys(all), ['flag', 'count', 'note', 'name'], 'in the order of the body')
  t.same(readBody(map(), { required: {} }, 'ERR_PROTOCOL_BAD_REQUEST'), {}, 'an empty spec')
  t.same(readBody(map(['a', true]), { required: { a: boolField } }, 'ERR_POLICY_INVALID'), {
    a: true,
  })
  t.end()
})

t.test('readBody refuses missing, unknown and invalid fields with the code given', (t) => {
  const cases: [string, Map<CborKey, CborValue>][] = [
    ['a required field missing', map(['name', 'a'])],
    ['every field missing', map()],
    ['only optional fields', map(['note', 'x'], ['flag', true])],
    ['an unknown field', map(['name', 'a'], ['count', 1], ['extra', 1])],
    ['an integer key', map(['name', 'a'], ['count', 1], [1, 1])],
    ['a bigint key', map(['name', 'a'], ['count', 1], [1n, 1])],
    ['a key differing in case', map(['Name', 'a'], ['count', 1])],
    ['"toString"', map(['name', 'a'], ['count', 1], ['toString', 'x'])],
    ['"__proto__"', map(['name', 'a'], ['count', 1], ['__proto__', map()])],
    ['"constructor"', map(['name', 'a'], ['count', 1], ['constructor', 'x'])],
    ['an invalid required field', map(['name', 'a'], ['count', -1])],
    ['a required field too long', map(['name', 'abcdefghi'], ['count', 1])],
    ['an invalid optional field', map(['name', 'a'], ['count', 1], ['note', 'abcde'])],
    ['an optional field of the wrong type', map(['name', 'a'], ['count', 1], ['flag', 1])],
  ]
  for (const [name, body] of cases) {
    t.equal(
      caughtCode(() => readBody(body, SPEC, 'ERR_PROTOCOL_BAD_RESPONSE')),
      'ERR_PROTOCOL_BAD_RESPONSE',
      name,
    )
    t.equal(
      caughtCode(() => readBody(body, SPEC, 'ERR_CONFIGURATION_INVALID')),
      'ERR_CONFIGURATION_INVALID',
      name,
    )
    t.equal(tryReadBody(body, SPEC), undefined, `tryReadBody: ${name}`)
  }
  t.throws(() => readBody(map(), SPEC, 'ERR_PROTOCOL_BAD_REQUEST'), {
    code: exactCode('ERR_PROTOCOL_BAD_REQUEST'),
  })
  t.end()
})

t.test('tryReadBody answers what readBody returns when the body is valid', (t) => {
  const body = map(['count', 3], ['name', 'n'], ['flag', true])
  t.same(tryReadBody(body, SPEC), readBody(body, SPEC, 'ERR_PROTOCOL_BAD_REQUEST'))
  t.same(tryReadBody(body, SPEC), { count: 3, name: 'n', flag: true })
  t.end()
})

t.test('a required field is required even when an optional one has its name', (t) => {
  const spec: BodySpec = { required: { a: uintField }, optional: { a: textField(3) } }
  t.same(tryReadBody(map(['a', 1]), spec), { a: 1 }, 'the required reader wins')
  t.equal(tryReadBody(map(['a', 'x']), spec), undefined)
  t.equal(tryReadBody(map(), spec), undefined)
  t.end()
})

t.test('toCbor keeps bytes and primitives as they are', (t) => {
  const bytes = hexBytes('0102')
  t.equal(toCbor(bytes), bytes, 'the same bytes')
  const buffer = Buffer.from('0304', 'hex')
  t.equal(toCbor(buffer), buffer, 'a Buffer is bytes')
  for (const value of [0, -1, Number.MAX_SAFE_INTEGER, 2n ** 64n, '', 'text', true, false, null]) {
    t.equal(toCbor(value), value, String(value))
  }
  t.end()
})

t.test('toCbor turns plain objects into text-keyed maps, leaving out undefined fields', (t) => {
  const value = toCbor({ b: 1, a: 'x', skipped: undefined, n: null, bytes: hexBytes('ff') })
  t.ok(value instanceof Map)
  t.same(value, map(['b', 1], ['a', 'x'], ['n', null], ['bytes', hexBytes('ff')]))
  t.equal(toHex(encodeCbor(value)), 'a461620161616178616ef6656279746573' + '41ff')
  t.same(toCbor({}), map())
  t.end()
})

t.test('toCbor converts arrays and maps item by item', (t) => {
  const input = new Map<CborKey, unknown>([
    [1, { x: [1, { y: undefined, z: true }] }],
    ['list', [new Map([[0, 'zero']]), hexBytes('aa'), null]],
  ])
  const value = toCbor(input)
  t.not(value, input, 'a new map')
  t.same(
    value,
    map([1, map(['x', [1, map(['z', true])]])], ['list', [map([0, 'zero']), hexBytes('aa'), null]]),
  )
  const array = [1, { a: 2 }]
  const converted = toCbor(array)
  t.not(converted, array, 'a new array')
  t.same(converted, [1, map(['a', 2])])
  t.same(toCbor([]), [])
  t.end()
})

t.test('toCbor output encodes to the bytes of the equivalent maps', (t) => {
  const policy = { pcrs: [new Map([[0, hexBytes('00')]])], allowDebug: false, nonce: undefined }
  t.equal(
    toHex(encodeCbor(toCbor(policy))),
    toHex(encodeCbor(map(['pcrs', [map([0, hexBytes('00')])]], ['allowDebug', false]))),
  )
  t.end()
})

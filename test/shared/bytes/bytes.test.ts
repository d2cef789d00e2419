import t from 'tap'
import {
  asBytes,
  concatBytes,
  equalBytes,
  fromHex,
  isAllZero,
  toBase64,
  toHex,
} from '../../../shared/bytes/bytes.js'

t.test('toHex writes lower-case hex of exactly the view', (t) => {
  t.equal(toHex(Uint8Array.of(0x00, 0x0f, 0xab, 0xff)), '000fabff')
  t.equal(toHex(new Uint8Array(0)), '')
  t.equal(toHex(Uint8Array.of(0xaa, 0x01, 0x02, 0xbb).subarray(1, 3)), '0102')
  t.end()
})

t.test('fromHex reads even-length hex of either case', (t) => {
  t.strictSame(fromHex('000fABfF'), Uint8Array.of(0x00, 0x0f, 0xab, 0xff))
  t.strictSame(fromHex(''), new Uint8Array(0))
  t.equal(Object.getPrototypeOf(fromHex('00')), Uint8Array.prototype, 'a Uint8Array, not a Buffer')
  t.end()
})

t.test('fromHex is undefined for anything that is not hex', (t) => {
  for (const text of [
    'abc',
    '0',
    'zz',
    '0x00',
    ' 00',
    '00 ',
    '00\n',
    'gg',
    '0-',
    'ab:cd',
    '\u0660\u0661',
  ]) {
    t.equal(fromHex(text), undefined, JSON.stringify(text))
  }
  t.end()
})

t.test('toBase64 is standard base64 of exactly the view (RFC 4648 §10)', (t) => {
  const encoder = new TextEncoder()
  const vectors = [
    ['', ''],
    ['f', 'Zg=='],
    ['fo', 'Zm8='],
    ['foo', 'Zm9v'],
    ['foob', 'Zm9vYg=='],
    ['fooba', 'Zm9vYmE='],
    ['foobar', 'Zm9vYmFy'],
  ] as const
  for (const [text, base64] of vectors) t.equal(toBase64(encoder.encode(text)), base64, text)
  t.equal(toBase64(Uint8Array.of(0xfb, 0xff)), '+/8=', 'the standard alphabet, not base64url')
  t.equal(toBase64(Uint8Array.of(0x00, 0x66, 0x6f, 0x00).subarray(1, 3)), 'Zm8=')
  t.end()
})

t.test('asBytes is a plain Uint8Array over the same memory', (t) => {
  const buffer = Buffer.from('00010203', 'hex')
  const bytes = asBytes(buffer)
  t.equal(Object.getPrototypeOf(bytes), Uint8Array.prototype)
  t.equal(bytes.buffer, buffer.buffer)
  t.equal(bytes.byteOffset, buffer.byteOffset)
  t.equal(bytes.byteLength, 4)
  buffer[0] = 0xee
  t.equal(bytes[0], 0xee, 'a write through the Buffer shows in the view')

  const words = Uint16Array.of(0x0102, 0x0304)
  t.equal(asBytes(words).byteLength, 4)
  t.equal(asBytes(words).buffer, words.buffer)

  const backing = new ArrayBuffer(8)
  const view = asBytes(new DataView(backing, 2, 3))
  t.equal(view.byteOffset, 2)
  t.equal(view.byteLength, 3)
  t.end()
})

t.test('equalBytes compares contents and lengths', (t) => {
  t.equal(equalBytes(Uint8Array.of(1, 2, 3), Uint8Array.of(1, 2, 3)), true)
  t.equal(equalBytes(new Uint8Array(0), new Uint8Array(0)), true)
  t.equal(equalBytes(Uint8Array.of(1, 2, 3), Uint8Array.of(1, 2, 4)), false)
  t.equal(equalBytes(Uint8Array.of(0, 2, 3), Uint8Array.of(1, 2, 3)), false)
  t.equal(equalBytes(Uint8Array.of(1, 2), Uint8Array.of(1, 2, 3)), false, 'shorter')
  t.equal(equalBytes(Uint8Array.of(1, 2, 3), Uint8Array.of(1, 2)), false, 'longer')
  t.equal(equalBytes(Uint8Array.of(9, 1, 2).subarray(1), Buffer.from([1, 2])), true, 'views')
  t.end()
})

t.test('isAllZero holds only when every byte is zero', (t) => {
  t.equal(isAllZero(new Uint8Array(0)), true)
  t.equal(isAllZero(new Uint8Array(48)), true)
  const last = new Uint8Array(48)
  last[47] = 1
  t.equal(isAllZero(last), false)
  t.equal(isAllZero(Uint8Array.of(0x80, 0)), false)
  t.equal(isAllZero(Uint8Array.of(1, 0, 0).subarray(1)), true, 'only the view counts')
  t.end()
})

t.test('concatBytes joins parts into one new array', (t) => {
  t.strictSame(concatBytes([]), new Uint8Array(0))
  const first = Uint8Array.of(1, 2)
  const second = Uint8Array.of(9, 3, 4, 9).subarray(1, 3)
  const joined = concatBytes([first, new Uint8Array(0), second, Uint8Array.of(5)])
  t.strictSame(joined, Uint8Array.of(1, 2, 3, 4, 5))
  first[0] = 0xee
  t.equal(joined[0], 1, 'the result does not share memory with its parts')
  const single = Uint8Array.of(7)
  t.not(concatBytes([single]), single, 'even one part is copied')
  t.end()
})

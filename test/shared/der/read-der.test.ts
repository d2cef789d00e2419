import t from 'tap'
import { hexBytes as hex } from '../../helpers/hex-bytes.js'
import { toHex as toHexString } from '../../../shared/bytes/bytes.js'
import { readDerElement, readDerElements } from '../../../shared/der/read-der.js'
import type { ErrorCode } from '../../../shared/errors/catalog.js'

const CODE: ErrorCode = 'ERR_ATTESTATION_CERT_MALFORMED'

/** Elements as [tag, content hex] pairs, for exact comparison. */
function summarize(bytes: Uint8Array): [number, string][] {
  return readDerElements(bytes, CODE).map(({ tag, content }) => [tag, toHexString(content)])
}

t.test('a SEQUENCE splits into its elements', (t) => {
  // SEQUENCE { INTEGER 5, NULL, OCTET STRING 'abcd' }
  const sequence = readDerElement(hex('30 09 02 01 05 05 00 04 02 abcd'), CODE)
  t.equal(sequence.tag, 0x30)
  t.equal(toHexString(sequence.content), '020105050004 02abcd'.replace(' ', ''))
  t.strictSame(summarize(sequence.content), [
    [0x02, '05'],
    [0x05, ''],
    [0x04, 'abcd'],
  ])
  t.end()
})

t.test('empty input holds no elements', (t) => {
  t.strictSame(readDerElements(new Uint8Array(0), CODE), [])
  t.end()
})

t.test('contents are views into the input, not copies', (t) => {
  const bytes = hex('04 03 010203')
  const { content } = readDerElement(bytes, CODE)
  t.equal(content.buffer, bytes.buffer)
  t.equal(content.byteOffset, 2)
  t.equal(content.byteLength, 3)
  const offset = hex('ff 04 01 aa ff').subarray(1, 4)
  t.equal(toHexString(readDerElement(offset, CODE).content), 'aa', 'a view at an offset')
  t.end()
})

t.test('long-form lengths of one to four octets', (t) => {
  t.strictSame(summarize(hex('04 81 80' + '11'.repeat(128))), [[0x04, '11'.repeat(128)]])
  t.strictSame(summarize(hex('04 82 0100' + '22'.repeat(256))), [[0x04, '22'.repeat(256)]])
  t.strictSame(summarize(hex('04 83 010000' + '33'.repeat(65536))), [[0x04, '33'.repeat(65536)]])
  // A four-octet length is DER only from 2^24 up (X.690 §10.1: fewest octets).
  const large = new Uint8Array(6 + 2 ** 24)
  large.set([0x04, 0x84, 0x01, 0x00, 0x00, 0x00])
  const [element] = readDerElements(large, CODE)
  t.equal(element?.content.byteLength, 2 ** 24)
  t.strictSame(summarize(hex('04 7f' + '55'.repeat(127))), [[0x04, '55'.repeat(127)]])
  t.end()
})

t.test('the error code passed in is the one thrown', (t) => {
  t.throws(() => readDerElement(hex('30'), 'ERR_COSE_MALFORMED'), { code: /^ERR_COSE_MALFORMED$/ })
  t.throws(() => readDerElements(hex('30'), 'ERR_CLI_INPUT'), { code: /^ERR_CLI_INPUT$/ })
  t.end()
})

t.test('malformed elements are refused with the given code', (t) => {
  const refused = [
    ['1f 01 00', 'high tag number form'],
    ['3f 01 00', 'constructed high tag number form'],
    ['bf 1f 01 00', 'context-specific high tag number form'],
    ['30', 'tag without a length'],
    ['30 03 0201 05 04', 'second element without a length'],
    ['04 80 00 00', 'indefinite length (BER only)'],
    ['04 85 0000000001 aa', 'five length octets'],
    ['04 ff', 'reserved length form'],
    ['04 82 01', 'long length cut short'],
    ['04 84', 'long length octets missing'],
    ['04 02 aa', 'content shorter than its length'],
    ['04 81 81' + '00'.repeat(128), 'long-form content one byte short'],
    ['04 84 ffffffff aa', 'length near 2^32'],
    ['02 01 05 04 03 aa', 'a later element runs past the input'],
    ['04 81 05 aaaaaaaaaa', 'long form for a length under 128 (X.690 §10.1)'],
    ['04 84 00000001 44', 'four length octets for a length of one'],
    ['04 82 0081' + 'aa'.repeat(129), 'a leading zero length octet'],
  ] as const
  for (const [encoded, why] of refused) {
    t.throws(() => readDerElements(hex(encoded), CODE), { code: CODE }, why)
  }
  t.end()
})

t.test('readDerElement wants exactly one element', (t) => {
  t.throws(() => readDerElement(new Uint8Array(0), CODE), { code: CODE }, 'none')
  t.throws(() => readDerElement(hex('05 00 05 00'), CODE), { code: CODE }, 'two')
  t.strictSame(readDerElement(hex('05 00'), CODE).tag, 0x05)
  t.end()
})

/** The BER reader splits definite and indefinite forms exactly and refuses everything else with a CMS code. */

import t from 'tap'
import { toHex } from '../../../shared/bytes/bytes.js'
import {
  MAX_BER_BYTES,
  MAX_BER_DEPTH,
  MAX_BER_ELEMENTS,
  readBer,
  readBerOctets,
  type BerElement,
} from '../../../shared/cms/read-ber.js'
import { caughtCode } from '../../helpers/caught-code.js'
import { hexBytes as hex } from '../../helpers/hex-bytes.js'

/** An element as nested [identifier, indefinite, content hex or children] for exact comparison. */
type Shape = [number, boolean, string | Shape[]]

function shape(element: BerElement): Shape {
  return [
    element.identifier,
    element.indefinite,
    element.constructed ? element.children.map(shape) : toHex(element.content),
  ]
}

t.test('primitive and definite constructed elements', (t) => {
  t.strictSame(shape(readBer(hex('04 03 010203'))), [0x04, false, '010203'])
  t.strictSame(shape(readBer(hex('05 00'))), [0x05, false, ''])
  // SEQUENCE { INTEGER 2, [0] 'ab', SET {} }
  t.strictSame(shape(readBer(hex('30 08 02 01 02 80 01 ab 31 00'))), [
    0x30,
    false,
    [
      [0x02, false, '02'],
      [0x80, false, 'ab'],
      [0x31, false, []],
    ],
  ])
  const sequence = readBer(hex('30 03 02 01 07'))
  t.equal(sequence.constructed, true)
  t.equal(toHex(sequence.content), '020107', 'a constructed element keeps its content octets')
  t.end()
})

t.test('indefinite lengths end at end-of-contents, nested or not', (t) => {
  const element = readBer(hex('30 80 02 01 02 a0 80 04 01 aa 00 00 31 00 00 00'))
  t.strictSame(shape(element), [
    0x30,
    true,
    [
      [0x02, false, '02'],
      [0xa0, true, [[0x04, false, 'aa']]],
      [0x31, false, []],
    ],
  ])
  t.equal(
    toHex(element.content),
    '020102a0800401aa0000 3100'.replace(' ', ''),
    'content without the EOC',
  )
  t.strictSame(shape(readBer(hex('30 80 00 00'))), [0x30, true, []], 'empty indefinite')
  t.strictSame(
    shape(readBer(hex('a0 04 30 80 00 00'))),
    [0xa0, false, [[0x30, true, []]]],
    'indefinite inside definite',
  )
  t.end()
})

t.test('long-form lengths of one to four octets, leading zeros allowed (X.690 §8.1.3.5)', (t) => {
  t.equal(readBer(hex('04 81 01 aa')).content.byteLength, 1, 'long form for a short length')
  t.equal(readBer(hex('04 84 00000001 aa')).content.byteLength, 1, 'four octets, leading zeros')
  t.equal(readBer(hex('04 82 0100' + '11'.repeat(256))).content.byteLength, 256)
  t.equal(readBer(hex('04 83 010000' + '22'.repeat(65536))).content.byteLength, 65536)
  t.end()
})

t.test('contents are views into the input', (t) => {
  const bytes = hex('ff 04 02 abcd ff').subarray(1, 5)
  const { content } = readBer(bytes)
  t.equal(content.buffer, bytes.buffer)
  t.equal(content.byteOffset, 3)
  t.equal(toHex(content), 'abcd')
  t.end()
})

t.test('malformed BER is ERR_CMS_MALFORMED', (t) => {
  const refused = [
    ['', 'empty input'],
    ['30', 'identifier without a length'],
    ['00 00', 'end-of-contents outside an indefinite form'],
    ['30 02 00 00', 'end-of-contents inside a definite form'],
    ['30 80 00 01 aa 00 00', 'end-of-contents with a length'],
    ['30 80 20 00 00 00', 'constructed universal tag 0'],
    ['30 80 00 81 00 00 00', 'end-of-contents in long form'],
    ['04 80 aa 00 00', 'primitive with an indefinite length (X.690 §8.1.3.2 a)'],
    ['04 85 0000000001 aa', 'five length octets'],
    ['04 ff', 'reserved length octet 0xff'],
    ['04 82 01', 'long length cut short'],
    ['04 03 aabb', 'content shorter than its length'],
    ['04 84 ffffffff aa', 'length near 2^32'],
    ['30 80 05 00', 'indefinite form never closed'],
    ['30 80 05 00 00', 'end-of-contents cut short'],
    ['05 00 05 00', 'a second element after the first'],
    ['30 80 00 00 00', 'a byte after the indefinite form'],
    ['30 03 04 05 00', 'a child runs past its parent'],
    ['30 03 05 00 04', 'a child without a length inside its parent'],
  ] as const
  for (const [encoded, why] of refused)
    t.equal(
      caughtCode(() => readBer(hex(encoded))),
      'ERR_CMS_MALFORMED',
      why,
    )
  t.end()
})

t.test('tag numbers of 31 or more are ERR_CMS_UNSUPPORTED (X.690 §8.1.2.4)', (t) => {
  t.equal(
    caughtCode(() => readBer(hex('1f 20 00'))),
    'ERR_CMS_UNSUPPORTED',
  )
  t.equal(
    caughtCode(() => readBer(hex('30 80 bf 21 00 00 00'))),
    'ERR_CMS_UNSUPPORTED',
    'nested',
  )
  t.end()
})

t.test('the input is at most 1 MiB', (t) => {
  t.equal(MAX_BER_BYTES, 1_048_576)
  const largest = new Uint8Array(MAX_BER_BYTES)
  largest.set(hex('04 83 0ffffb'))
  t.equal(readBer(largest).content.byteLength, MAX_BER_BYTES - 5)
  const tooLarge = new Uint8Array(MAX_BER_BYTES + 1)
  tooLarge.set(hex('04 83 0ffffc'))
  t.equal(
    caughtCode(() => readBer(tooLarge)),
    'ERR_CMS_TOO_LARGE',
  )
  t.end()
})

t.test('elements nest at most MAX_BER_DEPTH levels below the outermost', (t) => {
  const nested = (levels: number, inner: string): Uint8Array =>
    hex('30 80'.repeat(levels) + inner + '00 00'.repeat(levels))
  t.equal(
    caughtCode(() => readBer(nested(MAX_BER_DEPTH, '05 00'))),
    'returned',
  )
  t.equal(
    caughtCode(() => readBer(nested(MAX_BER_DEPTH + 1, '30 80 00 00'))),
    'ERR_CMS_TOO_LARGE',
  )
  t.equal(
    caughtCode(() => readBer(nested(MAX_BER_DEPTH + 1, ''))),
    'returned',
    'EOC is no level',
  )
  t.equal(
    caughtCode(() => readBer(nested(MAX_BER_DEPTH + 1, '05 00'))),
    'ERR_CMS_TOO_LARGE',
  )
  let definite = hex('05 00')
  for (let level = 0; level <= MAX_BER_DEPTH + 1; level += 1) {
    definite = Uint8Array.from([0x30, 0x81, definite.byteLength, ...definite])
  }
  t.equal(
    caughtCode(() => readBer(definite)),
    'ERR_CMS_TOO_LARGE',
    'definite nesting too',
  )
  t.equal(
    caughtCode(() => readBer(nested(10_000, ''))),
    'ERR_CMS_TOO_LARGE',
    'no stack overflow',
  )
  t.end()
})

t.test('an input holds at most MAX_BER_ELEMENTS elements', (t) => {
  const flat = (count: number): Uint8Array => hex('30 80' + '05 00'.repeat(count - 1) + '00 00')
  t.equal(readBer(flat(MAX_BER_ELEMENTS)).children.length, MAX_BER_ELEMENTS - 1)
  t.equal(
    caughtCode(() => readBer(flat(MAX_BER_ELEMENTS + 1))),
    'ERR_CMS_TOO_LARGE',
  )
  t.end()
})

t.test('readBerOctets joins the segments of a constructed OCTET STRING (X.690 §8.7.3)', (t) => {
  const primitive = readBer(hex('80 02 abcd'))
  t.equal(readBerOctets(primitive), primitive.content, 'the primitive form is a view')
  t.equal(toHex(readBerOctets(readBer(hex('a0 80 04 01 01 04 02 0203 00 00')))), '010203')
  t.equal(
    toHex(readBerOctets(readBer(hex('24 0a 04 01 01 24 80 04 01 02 00 00')))),
    '0102',
    'nested constructed segments',
  )
  t.equal(readBerOctets(readBer(hex('a0 80 00 00'))).byteLength, 0, 'no segments')
  for (const [encoded, why] of [
    ['a0 80 05 00 00 00', 'a NULL segment'],
    ['a0 03 80 01 aa', 'a segment retagged [0]'],
    ['24 05 24 03 02 01 01', 'an INTEGER inside a nested segment'],
  ] as const) {
    t.equal(
      caughtCode(() => readBerOctets(readBer(hex(encoded)))),
      'ERR_CMS_MALFORMED',
      why,
    )
  }
  t.end()
})

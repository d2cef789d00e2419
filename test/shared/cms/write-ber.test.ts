/** The BER writer uses the fewest length octets, and the indefinite form with end-of-contents. */

import t from 'tap'
import { toHex } from '../../../shared/bytes/bytes.js'
import { readBer } from '../../../shared/cms/read-ber.js'
import { writeDefinite, writeIndefinite } from '../../../shared/cms/write-ber.js'
import { hexBytes as hex } from '../../helpers/hex-bytes.js'

t.test(
  'definite lengths take the short form below 128 and the fewest long-form octets above',
  (t) => {
    const header = (length: number): string =>
      toHex(writeDefinite(0x04, new Uint8Array(length)).subarray(0, 6)).slice(0, 2 + 2 * 5)
    t.equal(toHex(writeDefinite(0x05, new Uint8Array(0))), '0500')
    t.equal(toHex(writeDefinite(0x02, Uint8Array.of(2))), '020102')
    t.match(header(127), /^047f/)
    t.match(header(128), /^048180/)
    t.match(header(255), /^0481ff/)
    t.match(header(256), /^04820100/)
    t.match(header(65535), /^0482ffff/)
    t.match(header(65536), /^0483010000/)
    for (const length of [0, 1, 127, 128, 255, 256, 1000, 65535, 65536]) {
      t.equal(readBer(writeDefinite(0x04, new Uint8Array(length))).content.byteLength, length)
    }
    t.end()
  },
)

t.test('the indefinite form wraps children in 0x80 and two zero octets', (t) => {
  t.equal(toHex(writeIndefinite(0x30, [])), '30800000')
  t.equal(toHex(writeIndefinite(0xa0, [hex('0401aa'), hex('0500')])), 'a0800401aa05000000')
  const element = readBer(writeIndefinite(0x30, [hex('0500')]))
  t.equal(element.indefinite, true)
  t.equal(element.children.length, 1)
  t.end()
})

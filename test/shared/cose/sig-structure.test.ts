/** buildSigStructure writes the RFC 9052 §4.4 Sig_structure from the bytes it is given, unchanged. */

import t from 'tap'
import { toHex } from '../../../shared/bytes/bytes.js'
import { buildSigStructure } from '../../../shared/cose/sig-structure.js'
import { hexBytes } from '../../helpers/hex-bytes.js'

const SIGNATURE1 = '6a5369676e617475726531' // text(10) "Signature1"

t.test("empty parts give [\"Signature1\", h'', h'', h'']", (t) => {
  const empty = new Uint8Array(0)
  t.equal(toHex(buildSigStructure(empty, empty)), `84${SIGNATURE1}404040`)
  t.equal(toHex(buildSigStructure(empty, empty, empty)), `84${SIGNATURE1}404040`)
  t.end()
})

t.test('external AAD defaults to empty and sits between protected and payload', (t) => {
  const protectedBytes = hexBytes('a1013822')
  const payload = hexBytes('0102')
  t.equal(toHex(buildSigStructure(protectedBytes, payload)), `84${SIGNATURE1}44a101382240420102`)
  t.equal(
    toHex(buildSigStructure(protectedBytes, payload, hexBytes('ff'))),
    `84${SIGNATURE1}44a101382241ff420102`,
  )
  t.end()
})

t.test('protected bytes are embedded as given, even when not preferred CBOR', (t) => {
  // {1: -35} with the label in a one-byte argument: the same map, different bytes.
  const protectedBytes = hexBytes('a118013822')
  t.equal(
    toHex(buildSigStructure(protectedBytes, new Uint8Array(0))),
    `84${SIGNATURE1}45a1180138224040`,
  )
  t.end()
})

t.test('a payload of 256 bytes gets a two-byte length head (59 01 00)', (t) => {
  const payload = new Uint8Array(256).fill(0xab)
  const bytes = buildSigStructure(new Uint8Array(0), payload)
  t.equal(toHex(bytes.subarray(0, 17)), `84${SIGNATURE1}4040590100`)
  t.equal(bytes.byteLength, 17 + 256)
  t.equal(toHex(bytes.subarray(17)), 'ab'.repeat(256))
  t.end()
})

import t from 'tap'
import { toHex } from '../../../shared/bytes/bytes.js'
import type { CborKey, CborValue } from '../../../shared/cbor/cbor-value.js'
import { encodeCbor } from '../../../shared/cbor/encode.js'
import {
  decodeRelayMessage,
  encodeRelayMessage,
  MAX_RELAY_CHUNK_BYTES,
  MAX_RELAY_FRAME_BYTES,
  type RelayMessage,
} from '../../../shared/protocol/relay-messages.js'
import { caughtCode } from '../../helpers/caught-code.js'
import { exactCode } from '../../helpers/exact-code.js'
import { hexBytes } from '../../helpers/hex-bytes.js'

/** The bytes of a message given as entries, in order (any CBOR the encoder can write). */
function message(...entries: (readonly [CborKey, CborValue])[]): Uint8Array {
  return encodeCbor(new Map(entries))
}

/** The hex of `text` as a CBOR text string of fewer than 24 bytes. */
function shortText(text: string): string {
  const bytes = Buffer.from(text, 'utf8')
  return toHex(Uint8Array.of(0x60 + bytes.byteLength)) + bytes.toString('hex')
}

const TYPE = shortText('type')
const STREAM = shortText('stream')

t.test('the limits are 64 KiB of data in a frame of 64 KiB + 256', (t) => {
  t.equal(MAX_RELAY_CHUNK_BYTES, 65_536)
  t.equal(MAX_RELAY_FRAME_BYTES, 65_792)
  t.end()
})

t.test('every message type encodes to exact bytes', (t) => {
  const cases: [RelayMessage, string][] = [
    [
      { type: 'open', stream: 1, host: 'kms', port: 443 },
      `a4${TYPE}${shortText('open')}${STREAM}01${shortText('host')}${shortText('kms')}` +
        `${shortText('port')}1901bb`,
    ],
    [{ type: 'opened', stream: 2 }, `a2${TYPE}${shortText('opened')}${STREAM}02`],
    [
      { type: 'data', stream: 24, bytes: hexBytes('00ff') },
      `a3${TYPE}${shortText('data')}${STREAM}1818${shortText('bytes')}4200ff`,
    ],
    [{ type: 'end', stream: 0xffff_ffff }, `a2${TYPE}${shortText('end')}${STREAM}1affffffff`],
    [{ type: 'close', stream: 3 }, `a2${TYPE}${shortText('close')}${STREAM}03`],
    [
      { type: 'close', stream: 3, code: 'ERR_RELAY_CLOSED' },
      `a3${TYPE}${shortText('close')}${STREAM}03${shortText('code')}${shortText('ERR_RELAY_CLOSED')}`,
    ],
  ]
  for (const [relayMessage, hex] of cases) {
    t.equal(toHex(encodeRelayMessage(relayMessage)), hex, relayMessage.type)
  }
  t.end()
})

t.test('every message type round-trips to equal bytes', (t) => {
  const messages: RelayMessage[] = [
    { type: 'open', stream: 1, host: 'kms.eu-west-1.amazonaws.com', port: 443 },
    { type: 'open', stream: 0xffff_ffff, host: 'h'.repeat(253), port: 65_535 },
    { type: 'open', stream: 7, host: '', port: 1 },
    { type: 'opened', stream: 1 },
    { type: 'opened', stream: 0xffff_ffff },
    { type: 'data', stream: 1, bytes: new Uint8Array(0) },
    { type: 'data', stream: 2, bytes: hexBytes('160303') },
    { type: 'data', stream: 3, bytes: new Uint8Array(MAX_RELAY_CHUNK_BYTES).fill(0xa5) },
    { type: 'end', stream: 1 },
    { type: 'close', stream: 1 },
    { type: 'close', stream: 2, code: 'ERR_RELAY_ENDPOINT_DENIED' },
    { type: 'close', stream: 3, code: 'ERR_RELAY_CONNECT_FAILED' },
  ]
  for (const relayMessage of messages) {
    const bytes = encodeRelayMessage(relayMessage)
    const decoded = decodeRelayMessage(bytes)
    t.same(decoded, relayMessage, `${relayMessage.type} ${relayMessage.stream}`)
    t.equal(toHex(encodeRelayMessage(decoded)), toHex(bytes), 'equal bytes')
  }
  t.end()
})

t.test('a message in another key order is the same message', (t) => {
  const bytes = message(['port', 80], ['host', 'a'], ['stream', 5], ['type', 'open'])
  t.same(decodeRelayMessage(bytes), { type: 'open', stream: 5, host: 'a', port: 80 })
  t.end()
})

t.test('a malformed message is refused with ERR_FRAME_MALFORMED', (t) => {
  const cases: [string, Uint8Array][] = [
    ['not a map: an array', encodeCbor(['open', 1])],
    ['not a map: an integer', hexBytes('01')],
    ['not a map: text', encodeCbor('open')],
    ['not a map: null', hexBytes('f6')],
    ['an empty map', hexBytes('a0')],
    ['no type', message(['stream', 1])],
    ['type an integer', message(['type', 1], ['stream', 1])],
    ['type bytes', message(['type', hexBytes('656e64')], ['stream', 1])],
    ['an unknown type', message(['type', 'ping'], ['stream', 1])],
    ['type in upper case', message(['type', 'END'], ['stream', 1])],
    ['an inherited name as type', message(['type', 'constructor'], ['stream', 1])],
    ['type toString', message(['type', 'toString'], ['stream', 1])],
    ['end without stream', message(['type', 'end'])],
    ['opened without stream', message(['type', 'opened'])],
    ['open without host', message(['type', 'open'], ['stream', 1], ['port', 443])],
    ['open without port', message(['type', 'open'], ['stream', 1], ['host', 'kms'])],
    ['open without stream', message(['type', 'open'], ['host', 'kms'], ['port', 443])],
    ['data without bytes', message(['type', 'data'], ['stream', 1])],
    ['end with an extra field', message(['type', 'end'], ['stream', 1], ['x', 0])],
    ['opened with a host', message(['type', 'opened'], ['stream', 1], ['host', 'kms'])],
    ['end with a code', message(['type', 'end'], ['stream', 1], ['code', 'ERR_RELAY_CLOSED'])],
    ['close with bytes', message(['type', 'close'], ['stream', 1], ['bytes', hexBytes('00')])],
    [
      'open with an extra field',
      message(['type', 'open'], ['stream', 1], ['host', 'kms'], ['port', 443], ['tls', true]),
    ],
    ['an integer key', message(['type', 'end'], ['stream', 1], [1, 0])],
    ['stream 0', message(['type', 'end'], ['stream', 0])],
    ['stream -1', message(['type', 'end'], ['stream', -1])],
    ['stream 2^32', message(['type', 'end'], ['stream', 2 ** 32])],
    ['stream 2^64 - 1', message(['type', 'end'], ['stream', 2n ** 64n - 1n])],
    ['stream as text', message(['type', 'end'], ['stream', '1'])],
    ['stream null', message(['type', 'end'], ['stream', null])],
    ['port 0', message(['type', 'open'], ['stream', 1], ['host', 'kms'], ['port', 0])],
    ['port 65536', message(['type', 'open'], ['stream', 1], ['host', 'kms'], ['port', 65_536])],
    ['port -1', message(['type', 'open'], ['stream', 1], ['host', 'kms'], ['port', -1])],
    ['port as text', message(['type', 'open'], ['stream', 1], ['host', 'kms'], ['port', '443'])],
    [
      'host of 254 characters',
      message(['type', 'open'], ['stream', 1], ['host', 'h'.repeat(254)], ['port', 443]),
    ],
    ['host bytes', message(['type', 'open'], ['stream', 1], ['host', hexBytes('6b')], ['port', 1])],
    [
      `data of ${MAX_RELAY_CHUNK_BYTES + 1} bytes`,
      message(
        ['type', 'data'],
        ['stream', 1],
        ['bytes', new Uint8Array(MAX_RELAY_CHUNK_BYTES + 1)],
      ),
    ],
    ['data as text', message(['type', 'data'], ['stream', 1], ['bytes', 'abc'])],
    ['data as an array', message(['type', 'data'], ['stream', 1], ['bytes', [1]])],
    ['a code outside the catalog', message(['type', 'close'], ['stream', 1], ['code', 'ERR_NOPE'])],
    [
      'a code in lower case',
      message(['type', 'close'], ['stream', 1], ['code', 'err_relay_closed']),
    ],
    ['an inherited name as code', message(['type', 'close'], ['stream', 1], ['code', 'toString'])],
    ['a code as an integer', message(['type', 'close'], ['stream', 1], ['code', 502])],
    ['a code null', message(['type', 'close'], ['stream', 1], ['code', null])],
  ]
  for (const [name, bytes] of cases) {
    t.equal(
      caughtCode(() => decodeRelayMessage(bytes)),
      'ERR_FRAME_MALFORMED',
      name,
    )
  }
  t.throws(() => decodeRelayMessage(hexBytes('a0')), { code: exactCode('ERR_FRAME_MALFORMED') })
  t.end()
})

t.test('a message that is not strict CBOR is refused with the exact CBOR code', (t) => {
  const end = toHex(encodeRelayMessage({ type: 'end', stream: 1 }))
  const cases: [string, Uint8Array, string][] = [
    ['empty input', new Uint8Array(0), 'ERR_CBOR_TRUNCATED'],
    ['truncated', hexBytes(end.slice(0, 10)), 'ERR_CBOR_TRUNCATED'],
    ['trailing bytes', hexBytes(`${end}00`), 'ERR_CBOR_TRAILING_BYTES'],
    [
      'a duplicate key',
      hexBytes(`a3${TYPE}${shortText('end')}${STREAM}01${STREAM}02`),
      'ERR_CBOR_DUPLICATE_KEY',
    ],
    ['a tag', hexBytes(`c1${end}`), 'ERR_CBOR_TAG_NOT_ALLOWED'],
    ['undefined', hexBytes('f7'), 'ERR_CBOR_MALFORMED'],
    [
      'nested three deep',
      message(['type', 'end'], ['stream', 1], ['x', [[0]]]),
      'ERR_CBOR_TOO_DEEP',
    ],
    ['over the frame limit', new Uint8Array(MAX_RELAY_FRAME_BYTES + 1), 'ERR_CBOR_TOO_LARGE'],
  ]
  for (const [name, bytes, code] of cases) {
    t.equal(
      caughtCode(() => decodeRelayMessage(bytes)),
      code,
      name,
    )
    t.throws(() => decodeRelayMessage(bytes), { code: exactCode(code) }, name)
  }
  t.end()
})

import t from 'tap'
import { toHex } from '../../../shared/bytes/bytes.js'
import type { CborKey, CborMap, CborValue } from '../../../shared/cbor/cbor-value.js'
import { encodeCbor } from '../../../shared/cbor/encode.js'
import { ERROR_CODES } from '../../../shared/errors/catalog.js'
import {
  decodeReply,
  decodeRequest,
  encodeReply,
  encodeRequest,
  type EventEnvelope,
  type RequestEnvelope,
  type ResponseEnvelope,
} from '../../../shared/protocol/envelope.js'
import { MAX_FRAME_BYTES } from '../../../shared/protocol/frame.js'
import { caughtCode } from '../../helpers/caught-code.js'
import { exactCode } from '../../helpers/exact-code.js'
import { hexBytes } from '../../helpers/hex-bytes.js'

/** A CBOR map from its entries, in order. */
function map(...entries: (readonly [CborKey, CborValue])[]): Map<CborKey, CborValue> {
  return new Map(entries)
}

/** The bytes of a message given as entries (any CBOR the encoder can write). */
function message(...entries: (readonly [CborKey, CborValue])[]): Uint8Array {
  return encodeCbor(map(...entries))
}

/** `depth` levels of nested arrays around 0: `[[…[0]…]]`. */
function nested(depth: number): CborValue {
  let value: CborValue = 0
  for (let level = 0; level < depth; level += 1) value = [value]
  return value
}

// Text keys and values, as CBOR: 62 6964 = "id", 62 6f70 = "op", 64 626f6479 = "body",
// 62 6f6b = "ok", 64 636f6465 = "code", 65 6576656e74 = "event".
const ID = '626964'
const OP = '626f70'
const BODY = '64626f6479'
const OK = '626f6b'
const CODE = '64636f6465'
const EVENT = '656576656e74'

t.test('a request encodes to exact bytes and decodes back', (t) => {
  const request: RequestEnvelope = { id: 1, op: 'ping', body: new Map() }
  const bytes = encodeRequest(request)
  t.equal(toHex(bytes), `a3${ID}01${OP}6470696e67${BODY}a0`)
  t.same(decodeRequest(bytes), request)
  t.end()
})

t.test('requests round-trip to equal bytes', (t) => {
  const requests: RequestEnvelope[] = [
    { id: 1, op: 'ping', body: map() },
    { id: 23, op: 'attest', body: map(['nonce', hexBytes('00ff')]) },
    { id: 24, op: 'x', body: map([1, 'integer key'], ['nested', map(['a', [1, null, true]])]) },
    { id: Number.MAX_SAFE_INTEGER, op: '', body: map(['big', 2n ** 64n - 1n], ['neg', -5]) },
    { id: 0x10000, op: 'é', body: map() },
  ]
  for (const request of requests) {
    const bytes = encodeRequest(request)
    const decoded = decodeRequest(bytes)
    t.same(decoded, request, `id ${request.id}`)
    t.equal(toHex(encodeRequest(decoded)), toHex(bytes), `id ${request.id}: equal bytes`)
  }
  t.end()
})

t.test('a request in another key order is the same request', (t) => {
  const bytes = message(['body', map()], ['op', 'ping'], ['id', 7])
  t.same(decodeRequest(bytes), { id: 7, op: 'ping', body: map() })
  t.end()
})

t.test('responses and events encode to exact bytes', (t) => {
  const ok: ResponseEnvelope = { kind: 'response', id: 2, ok: true, body: map(['now', 5]) }
  t.equal(toHex(encodeReply(ok)), `a3${ID}02${OK}f5${BODY}a1636e6f7705`)
  const failed: ResponseEnvelope = {
    kind: 'response',
    id: 3,
    ok: false,
    code: 'ERR_FRAME_MALFORMED',
  }
  t.equal(
    toHex(encodeReply(failed)),
    `a3${ID}03${OK}f4${CODE}73${toHex(Buffer.from('ERR_FRAME_MALFORMED'))}`,
  )
  const event: EventEnvelope = { kind: 'event', event: 'ready', body: map() }
  t.equal(toHex(encodeReply(event)), `a2${EVENT}657265616479${BODY}a0`)
  t.end()
})

t.test('replies round-trip to equal bytes', (t) => {
  const replies: (ResponseEnvelope | EventEnvelope)[] = [
    { kind: 'response', id: 1, ok: true, body: map() },
    { kind: 'response', id: 9, ok: true, body: map(['document', hexBytes('d28443a10126')]) },
    { kind: 'response', id: Number.MAX_SAFE_INTEGER, ok: false, code: 'ERR_ENCLAVE_BUSY' },
    { kind: 'event', event: 'ready', body: map(['protocolVersion', 1]) },
    { kind: 'event', event: '', body: map() },
  ]
  for (const reply of replies) {
    const bytes = encodeReply(reply)
    const decoded = decodeReply(bytes)
    t.same(decoded, reply, toHex(bytes))
    t.equal(toHex(encodeReply(decoded)), toHex(bytes))
  }
  t.end()
})

t.test('an error response carries any catalog code', (t) => {
  for (const code of ERROR_CODES) {
    const reply: ResponseEnvelope = { kind: 'response', id: 4, ok: false, code }
    t.same(decodeReply(encodeReply(reply)), reply, code)
  }
  t.end()
})

t.test('a request with a malformed envelope is refused with ERR_FRAME_MALFORMED', (t) => {
  const body = map()
  const cases: [string, Uint8Array][] = [
    ['not a map: an array', encodeCbor([1, 'ping', body])],
    ['not a map: an integer', hexBytes('01')],
    ['not a map: text', encodeCbor('ping')],
    ['not a map: null', hexBytes('f6')],
    ['an empty map', hexBytes('a0')],
    ['no id', message(['op', 'ping'], ['body', body])],
    ['no op', message(['id', 1], ['body', body])],
    ['no body', message(['id', 1], ['op', 'ping'])],
    ['an extra key', message(['id', 1], ['op', 'ping'], ['body', body], ['x', 0])],
    ['a key in place of id', message(['ID', 1], ['op', 'ping'], ['body', body])],
    ['an integer key in place of op', message(['id', 1], [2, 'ping'], ['body', body])],
    ['id 0', message(['id', 0], ['op', 'ping'], ['body', body])],
    ['id -1', message(['id', -1], ['op', 'ping'], ['body', body])],
    ['id -2^64', message(['id', -(2n ** 64n)], ['op', 'ping'], ['body', body])],
    ['id 2^53 (a bigint)', message(['id', 2n ** 53n], ['op', 'ping'], ['body', body])],
    ['id 2^64 - 1', message(['id', 2n ** 64n - 1n], ['op', 'ping'], ['body', body])],
    ['id as text', message(['id', '1'], ['op', 'ping'], ['body', body])],
    ['id as bytes', message(['id', hexBytes('01')], ['op', 'ping'], ['body', body])],
    ['id true', message(['id', true], ['op', 'ping'], ['body', body])],
    ['id null', message(['id', null], ['op', 'ping'], ['body', body])],
    ['op as an integer', message(['id', 1], ['op', 1], ['body', body])],
    ['op as bytes', message(['id', 1], ['op', hexBytes('70')], ['body', body])],
    ['op null', message(['id', 1], ['op', null], ['body', body])],
    ['body an array', message(['id', 1], ['op', 'ping'], ['body', []])],
    ['body text', message(['id', 1], ['op', 'ping'], ['body', 'x'])],
    ['body null', message(['id', 1], ['op', 'ping'], ['body', null])],
    ['body bytes', message(['id', 1], ['op', 'ping'], ['body', hexBytes('a0')])],
  ]
  for (const [name, bytes] of cases) {
    t.equal(
      caughtCode(() => decodeRequest(bytes)),
      'ERR_FRAME_MALFORMED',
      name,
    )
  }
  t.throws(() => decodeRequest(hexBytes('a0')), { code: exactCode('ERR_FRAME_MALFORMED') })
  t.end()
})

t.test('a request that is not strict CBOR is refused with the exact CBOR code', (t) => {
  const cases: [string, Uint8Array, string][] = [
    ['empty input', new Uint8Array(0), 'ERR_CBOR_TRUNCATED'],
    [
      'truncated',
      encodeRequest({ id: 1, op: 'ping', body: map() }).subarray(0, 5),
      'ERR_CBOR_TRUNCATED',
    ],
    [
      'trailing bytes',
      hexBytes(toHex(encodeRequest({ id: 1, op: 'p', body: map() })) + '00'),
      'ERR_CBOR_TRAILING_BYTES',
    ],
    // id 1.5 as a float64: floats are outside the data model, so a non-integer id never decodes.
    [
      'a float id',
      hexBytes(`a3${ID}fb3ff8000000000000${OP}6470696e67${BODY}a0`),
      'ERR_CBOR_MALFORMED',
    ],
    ['a duplicate key', hexBytes(`a3${ID}01${ID}02${BODY}a0`), 'ERR_CBOR_DUPLICATE_KEY'],
    ['a tag', hexBytes(`c1a3${ID}01${OP}6470696e67${BODY}a0`), 'ERR_CBOR_TAG_NOT_ALLOWED'],
    ['undefined', hexBytes('f7'), 'ERR_CBOR_MALFORMED'],
    ['over the frame limit', new Uint8Array(MAX_FRAME_BYTES + 1), 'ERR_CBOR_TOO_LARGE'],
  ]
  for (const [name, bytes, code] of cases) {
    t.equal(
      caughtCode(() => decodeRequest(bytes)),
      code,
      name,
    )
    t.throws(() => decodeRequest(bytes), { code: exactCode(code) }, name)
  }
  t.end()
})

t.test('messages are nested at most 8 levels deep', (t) => {
  // The envelope is level 1 and its body level 2: six more levels of arrays make 8.
  const deepest = encodeRequest({ id: 1, op: 'x', body: map(['a', nested(6)]) })
  t.same(decodeRequest(deepest).body.get('a'), nested(6), 'depth 8 is accepted')
  const tooDeep = encodeRequest({ id: 1, op: 'x', body: map(['a', nested(7)]) })
  t.equal(
    caughtCode(() => decodeRequest(tooDeep)),
    'ERR_CBOR_TOO_DEEP',
    'depth 9',
  )
  const okTooDeep = encodeReply({ kind: 'response', id: 1, ok: true, body: map(['a', nested(7)]) })
  t.equal(
    caughtCode(() => decodeReply(okTooDeep)),
    'ERR_CBOR_TOO_DEEP',
    'a response',
  )
  const eventTooDeep = encodeReply({ kind: 'event', event: 'e', body: map(['a', nested(7)]) })
  t.equal(
    caughtCode(() => decodeReply(eventTooDeep)),
    'ERR_CBOR_TOO_DEEP',
    'an event',
  )
  t.end()
})

t.test('a malformed response is refused with ERR_FRAME_MALFORMED', (t) => {
  const body = map()
  const code = 'ERR_ENCLAVE_BUSY'
  const cases: [string, Uint8Array][] = [
    ['not a map: an array', encodeCbor([1, true, body])],
    ['not a map: an integer', hexBytes('01')],
    ['not a map: false', hexBytes('f4')],
    ['an empty map', hexBytes('a0')],
    ['ok true with code instead of body', message(['id', 1], ['ok', true], ['code', code])],
    ['ok false with body instead of code', message(['id', 1], ['ok', false], ['body', body])],
    [
      'ok true with body and code',
      message(['id', 1], ['ok', true], ['body', body], ['code', code]),
    ],
    [
      'ok false with body and code',
      message(['id', 1], ['ok', false], ['body', body], ['code', code]),
    ],
    ['ok true, no body', message(['id', 1], ['ok', true])],
    ['ok false, no code', message(['id', 1], ['ok', false])],
    ['no ok', message(['id', 1], ['code', code], ['body', body])],
    ['no id', message(['ok', true], ['body', body], ['x', 1])],
    ['an extra key', message(['id', 1], ['ok', true], ['body', body], ['x', 1])],
    ['ok 1', message(['id', 1], ['ok', 1], ['code', code])],
    ['ok 0', message(['id', 1], ['ok', 0], ['code', code])],
    ['ok "true"', message(['id', 1], ['ok', 'true'], ['body', body])],
    ['ok "false"', message(['id', 1], ['ok', 'false'], ['code', code])],
    ['ok null', message(['id', 1], ['ok', null], ['code', code])],
    ['id 0', message(['id', 0], ['ok', true], ['body', body])],
    ['id -1 in an error', message(['id', -1], ['ok', false], ['code', code])],
    ['id 2^53', message(['id', 2n ** 53n], ['ok', true], ['body', body])],
    ['id as text', message(['id', '1'], ['ok', false], ['code', code])],
    ['body an array', message(['id', 1], ['ok', true], ['body', []])],
    ['body null', message(['id', 1], ['ok', true], ['body', null])],
    ['code an integer', message(['id', 1], ['ok', false], ['code', 400])],
    ['code bytes', message(['id', 1], ['ok', false], ['code', hexBytes('00')])],
    ['code null', message(['id', 1], ['ok', false], ['code', null])],
    ['code outside the catalog', message(['id', 1], ['ok', false], ['code', 'ERR_NOPE'])],
    ['code in lower case', message(['id', 1], ['ok', false], ['code', 'err_enclave_busy'])],
    ['code a prefix of a catalog code', message(['id', 1], ['ok', false], ['code', 'ERR_ENCLAVE'])],
    ['code "toString"', message(['id', 1], ['ok', false], ['code', 'toString'])],
    ['code "__proto__"', message(['id', 1], ['ok', false], ['code', '__proto__'])],
    ['code "constructor"', message(['id', 1], ['ok', false], ['code', 'constructor'])],
    ['code "hasOwnProperty"', message(['id', 1], ['ok', false], ['code', 'hasOwnProperty'])],
  ]
  for (const [name, bytes] of cases) {
    t.equal(
      caughtCode(() => decodeReply(bytes)),
      'ERR_FRAME_MALFORMED',
      name,
    )
  }
  t.end()
})

t.test('a malformed event is refused with ERR_FRAME_MALFORMED', (t) => {
  const body = map()
  const cases: [string, Uint8Array][] = [
    ['no body', message(['event', 'ready'])],
    ['an extra key', message(['event', 'ready'], ['body', body], ['x', 1])],
    ['an id as well', message(['id', 1], ['event', 'ready'], ['body', body])],
    ['a response with an event key', message(['id', 1], ['ok', true], ['event', 'ready'])],
    ['event an integer', message(['event', 1], ['body', body])],
    ['event bytes', message(['event', hexBytes('00')], ['body', body])],
    ['event null', message(['event', null], ['body', body])],
    ['body an array', message(['event', 'ready'], ['body', []])],
    ['body text', message(['event', 'ready'], ['body', 'x'])],
    ['body null', message(['event', 'ready'], ['body', null])],
  ]
  for (const [name, bytes] of cases) {
    t.equal(
      caughtCode(() => decodeReply(bytes)),
      'ERR_FRAME_MALFORMED',
      name,
    )
  }
  t.end()
})

t.test('a reply that is not strict CBOR is refused with the exact CBOR code', (t) => {
  const ok = encodeReply({ kind: 'response', id: 1, ok: true, body: map() })
  const cases: [string, Uint8Array, string][] = [
    ['empty input', new Uint8Array(0), 'ERR_CBOR_TRUNCATED'],
    ['truncated', ok.subarray(0, ok.byteLength - 1), 'ERR_CBOR_TRUNCATED'],
    ['trailing bytes', hexBytes(toHex(ok) + 'f6'), 'ERR_CBOR_TRAILING_BYTES'],
    ['a duplicate key', hexBytes(`a3${ID}01${OK}f5${OK}f5`), 'ERR_CBOR_DUPLICATE_KEY'],
    ['a float', hexBytes(`a3${ID}f93c00${OK}f5${BODY}a0`), 'ERR_CBOR_MALFORMED'],
    [
      'a tag',
      hexBytes(`d818a2${EVENT}61${toHex(Buffer.from('e'))}${BODY}a0`),
      'ERR_CBOR_TAG_NOT_ALLOWED',
    ],
    ['over the frame limit', new Uint8Array(MAX_FRAME_BYTES + 1), 'ERR_CBOR_TOO_LARGE'],
  ]
  for (const [name, bytes, code] of cases) {
    t.equal(
      caughtCode(() => decodeReply(bytes)),
      code,
      name,
    )
  }
  t.end()
})

t.test('decoded bodies are maps that encode to the bytes they came from', (t) => {
  const body: CborMap = map(['document', hexBytes('0102')], ['pcrs', map([0, hexBytes('aa')])])
  const bytes = encodeReply({ kind: 'response', id: 5, ok: true, body })
  const reply = decodeReply(bytes)
  if (reply.kind !== 'response' || !reply.ok) throw new Error('expected a successful response')
  t.equal(toHex(encodeCbor(reply.body)), toHex(encodeCbor(body)))
  t.end()
})

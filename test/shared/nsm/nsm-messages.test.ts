/** NSM API messages: exact bytes, round trips, and each malformed shape refused with its code. */

import t from 'tap'
import { toHex } from '../../../shared/bytes/bytes.js'
import type { CborKey, CborValue } from '../../../shared/cbor/cbor-value.js'
import { encodeCbor } from '../../../shared/cbor/encode.js'
import { ERROR_CATALOG, type ErrorCode } from '../../../shared/errors/catalog.js'
import {
  NSM_REQUEST_MAX_BYTES,
  NSM_RESPONSE_MAX_BYTES,
  decodeNsmRequest,
  decodeNsmResponse,
  encodeNsmRequest,
  encodeNsmResponse,
  nsmErrorToCode,
  type NsmErrorCode,
  type NsmRequest,
  type NsmResponse,
} from '../../../shared/nsm/nsm-messages.js'
import { caughtCode } from '../../helpers/caught-code.js'
import { hexBytes } from '../../helpers/hex-bytes.js'

/** Bytes of hex written with spaces between CBOR items; the spaces only help the reader. */
function hex(spaced: string): Uint8Array {
  return hexBytes(spaced.replace(/\s+/g, ''))
}

/** The same hex without its spaces, to compare with `toHex`. */
function compact(spaced: string): string {
  return spaced.replace(/\s+/g, '')
}

/** A struct variant's fields, named as serde names them, in the order written. */
type Fields = readonly (readonly [string, CborValue])[]

/** `{name: content}`: a struct or newtype variant, or any other one-entry map under test. */
function variant(name: CborKey, content: CborValue): Uint8Array {
  return encodeCbor(new Map<CborKey, CborValue>([[name, content]]))
}

/** `{name: {fields…}}`, fields in the order given. */
function struct(name: CborKey, fields: readonly (readonly [CborKey, CborValue])[]): Uint8Array {
  return variant(name, new Map(fields))
}

/** `fields` with `name`'s value replaced, in place. */
function replaced(fields: Fields, name: string, value: CborValue): Fields {
  return fields.map(([key, old]) => [key, key === name ? value : old] as const)
}

function requestCode(bytes: Uint8Array): string {
  return caughtCode(() => decodeNsmRequest(bytes))
}

function responseCode(bytes: Uint8Array): string {
  return caughtCode(() => decodeNsmResponse(bytes))
}

// RFC 8949 §3.1 heads of the text strings the messages use: 0x60 + length, then UTF-8.
const DESCRIBE_NSM = '6b 44657363726962654e534d' // "DescribeNSM"
const GET_RANDOM = '69 47657452616e646f6d' // "GetRandom"
const DESCRIBE_PCR = '6b 4465736372696265504352' // "DescribePCR"
const EXTEND_PCR = '69 457874656e64504352' // "ExtendPCR"
const LOCK_PCR = '67 4c6f636b504352' // "LockPCR"
const LOCK_PCRS = '68 4c6f636b50435273' // "LockPCRs"
const ATTESTATION = '6b 4174746573746174696f6e' // "Attestation"
const ERROR = '65 4572726f72' // "Error"
const INDEX = '65 696e646578' // "index"
const DATA = '64 64617461' // "data"
const RANGE = '65 72616e6765' // "range"
const USER_DATA = '69 757365725f64617461' // "user_data"
const NONCE = '65 6e6f6e6365' // "nonce"
const PUBLIC_KEY = '6a 7075626c69635f6b6579' // "public_key"
const LOCK = '64 6c6f636b' // "lock"
const DOCUMENT = '68 646f63756d656e74' // "document"
const RANDOM = '66 72616e646f6d' // "random"

const SHA384_ZERO = new Uint8Array(48) // an unextended SHA-384 PCR
const SHA384_ZERO_HEX = '58 30' + '00'.repeat(48) // bstr, one-byte length 48
const RANDOM_32 = Uint8Array.from({ length: 32 }, (_, index) => index)
const RANDOM_32_HEX = '58 20' + toHex(RANDOM_32) // bstr, one-byte length 32

interface Vector<T> {
  readonly label: string
  readonly message: T
  readonly hex: string
}

const REQUEST_VECTORS: readonly Vector<NsmRequest>[] = [
  { label: 'DescribeNSM (unit)', message: { type: 'DescribeNSM' }, hex: DESCRIBE_NSM },
  { label: 'GetRandom (unit)', message: { type: 'GetRandom' }, hex: GET_RANDOM },
  {
    label: 'DescribePCR index 0',
    message: { type: 'DescribePCR', index: 0 },
    hex: `a1 ${DESCRIBE_PCR} a1 ${INDEX} 00`,
  },
  {
    label: 'DescribePCR index 65535 (two-byte argument)',
    message: { type: 'DescribePCR', index: 65535 },
    hex: `a1 ${DESCRIBE_PCR} a1 ${INDEX} 19 ffff`,
  },
  {
    label: 'ExtendPCR index 16 with three bytes',
    message: { type: 'ExtendPCR', index: 16, data: hex('010203') },
    hex: `a1 ${EXTEND_PCR} a2 ${INDEX} 10 ${DATA} 43 010203`,
  },
  {
    label: 'LockPCR index 16',
    message: { type: 'LockPCR', index: 16 },
    hex: `a1 ${LOCK_PCR} a1 ${INDEX} 10`,
  },
  {
    label: 'LockPCRs range 24 (one-byte argument)',
    message: { type: 'LockPCRs', range: 24 },
    hex: `a1 ${LOCK_PCRS} a1 ${RANGE} 18 18`,
  },
  {
    label: 'Attestation with three nulls',
    message: { type: 'Attestation', userData: null, nonce: null, publicKey: null },
    hex: `a1 ${ATTESTATION} a3 ${USER_DATA} f6 ${NONCE} f6 ${PUBLIC_KEY} f6`,
  },
  {
    label: 'Attestation with three byte strings',
    message: {
      type: 'Attestation',
      userData: hex('0102'),
      nonce: hex('aabbccdd'),
      publicKey: hex('04'),
    },
    hex: `a1 ${ATTESTATION} a3 ${USER_DATA} 42 0102 ${NONCE} 44 aabbccdd ${PUBLIC_KEY} 41 04`,
  },
  {
    label: 'Attestation with an empty nonce, which is not null',
    message: { type: 'Attestation', userData: null, nonce: new Uint8Array(0), publicKey: null },
    hex: `a1 ${ATTESTATION} a3 ${USER_DATA} f6 ${NONCE} 40 ${PUBLIC_KEY} f6`,
  },
]

const DESCRIBE_NSM_RESPONSE_HEX = [
  `a1 ${DESCRIBE_NSM} a7`,
  '6d 76657273696f6e5f6d616a6f72 01', // "version_major": 1
  '6d 76657273696f6e5f6d696e6f72 00', // "version_minor": 0
  '6d 76657273696f6e5f7061746368 00', // "version_patch": 0
  '69 6d6f64756c655f6964 6c 692d3132332d656e63343536', // "module_id": "i-123-enc456"
  '68 6d61785f70637273 18 20', // "max_pcrs": 32
  '6b 6c6f636b65645f70637273 85 00 01 02 03 04', // "locked_pcrs": [0, 1, 2, 3, 4]
  '66 646967657374 66 534841333834', // "digest": "SHA384"
].join(' ')

const RESPONSE_VECTORS: readonly Vector<NsmResponse>[] = [
  { label: 'LockPCR (unit)', message: { type: 'LockPCR' }, hex: LOCK_PCR },
  { label: 'LockPCRs (unit)', message: { type: 'LockPCRs' }, hex: LOCK_PCRS },
  {
    label: 'DescribePCR locked, SHA-384 zeros',
    message: { type: 'DescribePCR', lock: true, data: SHA384_ZERO },
    hex: `a1 ${DESCRIBE_PCR} a2 ${LOCK} f5 ${DATA} ${SHA384_ZERO_HEX}`,
  },
  {
    label: 'DescribePCR unlocked',
    message: { type: 'DescribePCR', lock: false, data: SHA384_ZERO },
    hex: `a1 ${DESCRIBE_PCR} a2 ${LOCK} f4 ${DATA} ${SHA384_ZERO_HEX}`,
  },
  {
    label: 'ExtendPCR with the new value',
    message: { type: 'ExtendPCR', data: SHA384_ZERO },
    hex: `a1 ${EXTEND_PCR} a1 ${DATA} ${SHA384_ZERO_HEX}`,
  },
  {
    label: 'DescribeNSM',
    message: {
      type: 'DescribeNSM',
      versionMajor: 1,
      versionMinor: 0,
      versionPatch: 0,
      moduleId: 'i-123-enc456',
      maxPcrs: 32,
      lockedPcrs: [0, 1, 2, 3, 4],
      digest: 'SHA384',
    },
    hex: DESCRIBE_NSM_RESPONSE_HEX,
  },
  {
    label: 'Attestation with a document',
    message: { type: 'Attestation', document: hex('d28443a10138') },
    hex: `a1 ${ATTESTATION} a1 ${DOCUMENT} 46 d28443a10138`,
  },
  {
    label: 'GetRandom with 32 bytes',
    message: { type: 'GetRandom', random: RANDOM_32 },
    hex: `a1 ${GET_RANDOM} a1 ${RANDOM} ${RANDOM_32_HEX}`,
  },
  {
    label: 'Error InvalidIndex (newtype)',
    message: { type: 'Error', code: 'InvalidIndex' },
    hex: `a1 ${ERROR} 6c 496e76616c6964496e646578`,
  },
]

t.test('the size caps are nsm-api NSM_REQUEST_MAX_SIZE and NSM_RESPONSE_MAX_SIZE', (t) => {
  t.equal(NSM_REQUEST_MAX_BYTES, 4096)
  t.equal(NSM_RESPONSE_MAX_BYTES, 12288)
  t.end()
})

t.test('requests encode to their exact bytes and decode back from them', (t) => {
  for (const vector of REQUEST_VECTORS) {
    t.equal(toHex(encodeNsmRequest(vector.message)), compact(vector.hex), vector.label)
    t.strictSame(decodeNsmRequest(hex(vector.hex)), vector.message, vector.label)
  }
  t.end()
})

t.test('responses encode to their exact bytes and decode back from them', (t) => {
  for (const vector of RESPONSE_VECTORS) {
    t.equal(toHex(encodeNsmResponse(vector.message)), compact(vector.hex), vector.label)
    t.strictSame(decodeNsmResponse(hex(vector.hex)), vector.message, vector.label)
  }
  t.end()
})

// One entry per variant type: a new variant without round-trip cases is a compile error.
const REQUESTS: {
  readonly [K in NsmRequest['type']]: readonly Extract<NsmRequest, { type: K }>[]
} = {
  DescribePCR: [
    { type: 'DescribePCR', index: 0 },
    { type: 'DescribePCR', index: 31 },
    { type: 'DescribePCR', index: 65535 },
  ],
  ExtendPCR: [
    { type: 'ExtendPCR', index: 16, data: new Uint8Array(0) },
    { type: 'ExtendPCR', index: 65535, data: new Uint8Array(1024).fill(0xa5) },
  ],
  LockPCR: [
    { type: 'LockPCR', index: 0 },
    { type: 'LockPCR', index: 65535 },
  ],
  LockPCRs: [
    { type: 'LockPCRs', range: 0 },
    { type: 'LockPCRs', range: 65535 },
  ],
  DescribeNSM: [{ type: 'DescribeNSM' }],
  Attestation: [
    { type: 'Attestation', userData: null, nonce: null, publicKey: null },
    { type: 'Attestation', userData: hex('00'), nonce: null, publicKey: null },
    { type: 'Attestation', userData: null, nonce: RANDOM_32, publicKey: null },
    { type: 'Attestation', userData: null, nonce: null, publicKey: new Uint8Array(97) },
    {
      type: 'Attestation',
      userData: new Uint8Array(0),
      nonce: new Uint8Array(0),
      publicKey: new Uint8Array(0),
    },
  ],
  GetRandom: [{ type: 'GetRandom' }],
}

const ERROR_CODE_TABLE: Readonly<Record<NsmErrorCode, ErrorCode>> = {
  InvalidArgument: 'ERR_NSM_INVALID_ARGUMENT',
  InvalidIndex: 'ERR_NSM_INVALID_INDEX',
  InvalidResponse: 'ERR_NSM_INVALID_RESPONSE',
  ReadOnlyIndex: 'ERR_NSM_READ_ONLY_INDEX',
  InvalidOperation: 'ERR_NSM_INVALID_OPERATION',
  BufferTooSmall: 'ERR_NSM_BUFFER_TOO_SMALL',
  InputTooLarge: 'ERR_NSM_INPUT_TOO_LARGE',
  InternalError: 'ERR_NSM_INTERNAL',
}
const NSM_ERROR_CODES = Object.keys(ERROR_CODE_TABLE) as NsmErrorCode[]

const RESPONSES: {
  readonly [K in NsmResponse['type']]: readonly Extract<NsmResponse, { type: K }>[]
} = {
  DescribePCR: [
    { type: 'DescribePCR', lock: false, data: new Uint8Array(32) },
    { type: 'DescribePCR', lock: true, data: new Uint8Array(64).fill(0xff) },
  ],
  ExtendPCR: [
    { type: 'ExtendPCR', data: new Uint8Array(0) },
    { type: 'ExtendPCR', data: SHA384_ZERO },
  ],
  LockPCR: [{ type: 'LockPCR' }],
  LockPCRs: [{ type: 'LockPCRs' }],
  DescribeNSM: (['SHA256', 'SHA384', 'SHA512'] as const).map((digest) => ({
    type: 'DescribeNSM' as const,
    versionMajor: 65535,
    versionMinor: 7,
    versionPatch: 300,
    moduleId: `i-0123456789abcdef0-enc0123456789abcdef-${digest}`,
    maxPcrs: 32,
    lockedPcrs: digest === 'SHA256' ? [] : [0, 1, 2, 3, 4, 8, 15, 65535],
    digest,
  })),
  Attestation: [
    { type: 'Attestation', document: new Uint8Array(0) },
    { type: 'Attestation', document: new Uint8Array(5000).fill(0x42) },
  ],
  GetRandom: [
    { type: 'GetRandom', random: RANDOM_32 },
    { type: 'GetRandom', random: new Uint8Array(256).fill(7) },
  ],
  Error: NSM_ERROR_CODES.map((code) => ({ type: 'Error' as const, code })),
}

t.test('every request variant round-trips to an equal value and equal bytes', (t) => {
  const requests: readonly NsmRequest[] = Object.values(REQUESTS).flat()
  t.equal(new Set(requests.map((request) => request.type)).size, 7, 'all seven variants')
  for (const request of requests) {
    const bytes = encodeNsmRequest(request)
    const decoded = decodeNsmRequest(bytes)
    t.strictSame(decoded, request, request.type)
    t.equal(toHex(encodeNsmRequest(decoded)), toHex(bytes), `${request.type} bytes`)
  }
  t.end()
})

t.test('every response variant and every error code round-trips', (t) => {
  const responses: readonly NsmResponse[] = Object.values(RESPONSES).flat()
  t.equal(new Set(responses.map((response) => response.type)).size, 8, 'all eight variants')
  t.equal(RESPONSES.Error.length, 8, 'all eight error codes')
  for (const response of responses) {
    const bytes = encodeNsmResponse(response)
    const decoded = decodeNsmResponse(bytes)
    t.strictSame(decoded, response, response.type)
    t.equal(toHex(encodeNsmResponse(decoded)), toHex(bytes), `${response.type} bytes`)
  }
  t.end()
})

t.test('each error code travels as its serde name under "Error"', (t) => {
  for (const code of NSM_ERROR_CODES) {
    const name = Buffer.from(code, 'utf8')
    const expected = `a1 ${ERROR} ${(0x60 + name.length).toString(16)} ${name.toString('hex')}`
    t.equal(toHex(encodeNsmResponse({ type: 'Error', code })), compact(expected), code)
    t.strictSame(decodeNsmResponse(hex(expected)), { type: 'Error', code }, code)
  }
  t.end()
})

t.test('nsmErrorToCode maps each NSM error to its own ERR_NSM_* catalog code', (t) => {
  t.strictSame(NSM_ERROR_CODES, [
    'InvalidArgument',
    'InvalidIndex',
    'InvalidResponse',
    'ReadOnlyIndex',
    'InvalidOperation',
    'BufferTooSmall',
    'InputTooLarge',
    'InternalError',
  ])
  for (const code of NSM_ERROR_CODES) {
    t.equal(nsmErrorToCode(code), ERROR_CODE_TABLE[code], code)
    t.ok(Object.hasOwn(ERROR_CATALOG, nsmErrorToCode(code)), `${code} is in the catalog`)
  }
  const mapped = NSM_ERROR_CODES.map((code) => nsmErrorToCode(code))
  t.equal(new Set(mapped).size, 8, 'no two NSM errors share a catalog code')
  t.notOk(mapped.includes('ERR_NSM_MALFORMED'), 'no NSM error reads as a malformed message')
  t.end()
})

t.test(
  'decoding accepts what ciborium accepts: any field order, long heads, indefinite lengths',
  (t) => {
    // Fields reversed in an indefinite map, index 16 in a two-byte head, data in two chunks.
    const loose = hex(`a1 ${EXTEND_PCR} bf ${DATA} 5f 41 01 42 0203 ff ${INDEX} 19 0010 ff`)
    const request = decodeNsmRequest(loose)
    t.strictSame(request, { type: 'ExtendPCR', index: 16, data: hex('010203') })
    t.equal(
      toHex(encodeNsmRequest(request)),
      compact(`a1 ${EXTEND_PCR} a2 ${INDEX} 10 ${DATA} 43 010203`),
      're-encodes in preferred serialization',
    )
    const attestation = hex(`a1 ${ATTESTATION} a3 ${PUBLIC_KEY} f6 ${NONCE} 41 01 ${USER_DATA} f6`)
    t.strictSame(decodeNsmRequest(attestation), {
      type: 'Attestation',
      userData: null,
      nonce: hex('01'),
      publicKey: null,
    })
    const describe = hex(`a1 ${DESCRIBE_PCR} a2 ${DATA} 40 ${LOCK} f4`)
    t.strictSame(decodeNsmResponse(describe), {
      type: 'DescribePCR',
      lock: false,
      data: new Uint8Array(0),
    })
    t.end()
  },
)

t.test('decoded byte strings are copies, not views into the input', (t) => {
  const bytes = encodeNsmResponse({ type: 'GetRandom', random: RANDOM_32 })
  const decoded = decodeNsmResponse(bytes)
  bytes.fill(0)
  t.strictSame(decoded, { type: 'GetRandom', random: RANDOM_32 })
  t.end()
})

t.test('bytes that are not one well-formed CBOR item get the ERR_CBOR_* code', (t) => {
  const cases: readonly (readonly [string, Uint8Array, ErrorCode])[] = [
    ['empty input', new Uint8Array(0), 'ERR_CBOR_TRUNCATED'],
    ['a truncated DescribePCR', hex(`a1 ${DESCRIBE_PCR} a1 ${INDEX}`), 'ERR_CBOR_TRUNCATED'],
    ['a truncated variant name', hex('6b 44657363'), 'ERR_CBOR_TRUNCATED'],
    ['a map missing its value', hex(`a1 ${DESCRIBE_NSM}`), 'ERR_CBOR_TRUNCATED'],
    ['a lone break', hex('ff'), 'ERR_CBOR_MALFORMED'],
    ['a reserved additional information', hex('1c'), 'ERR_CBOR_MALFORMED'],
    ['a half float', hex('f9 3c00'), 'ERR_CBOR_MALFORMED'],
    ['undefined', hex('f7'), 'ERR_CBOR_MALFORMED'],
    ['a name that is not UTF-8', hex('62 c328'), 'ERR_CBOR_MALFORMED'],
    ['a byte-string map key', hex('a1 4b 44657363726962654e534d f6'), 'ERR_CBOR_MALFORMED'],
    ['a float PCR index', hex(`a1 ${DESCRIBE_PCR} a1 ${INDEX} f9 3c00`), 'ERR_CBOR_MALFORMED'],
    [
      'a double PCR index',
      hex(`a1 ${DESCRIBE_PCR} a1 ${INDEX} fb 3ff0000000000000`),
      'ERR_CBOR_MALFORMED',
    ],
    ['a trailing byte', hex(`${DESCRIBE_NSM} 00`), 'ERR_CBOR_TRAILING_BYTES'],
    ['two messages', hex(`${DESCRIBE_NSM} ${GET_RANDOM}`), 'ERR_CBOR_TRAILING_BYTES'],
    ['a tagged message', hex(`c0 ${DESCRIBE_NSM}`), 'ERR_CBOR_TAG_NOT_ALLOWED'],
    ['a tagged field', hex(`a1 ${DESCRIBE_PCR} a1 ${INDEX} c2 41 00`), 'ERR_CBOR_TAG_NOT_ALLOWED'],
    [
      'a repeated field',
      hex(`a1 ${DESCRIBE_PCR} a2 ${INDEX} 00 ${INDEX} 01`),
      'ERR_CBOR_DUPLICATE_KEY',
    ],
    ['a 2^64-byte length', hex('5b ffffffffffffffff'), 'ERR_CBOR_LENGTH_OVERFLOW'],
    ['17 nested arrays', hex(`${'81'.repeat(17)} 00`), 'ERR_CBOR_TOO_DEEP'],
  ]
  for (const [label, bytes, code] of cases) {
    t.equal(requestCode(bytes), code, `request: ${label}`)
    t.equal(responseCode(bytes), code, `response: ${label}`)
  }
  t.end()
})

t.test('a request may fill 4096 bytes and not one more', (t) => {
  // a1 69 "ExtendPCR" a2 65 "index" 00 64 "data" 59 hhhh: 27 bytes before the data.
  const largest: NsmRequest = { type: 'ExtendPCR', index: 0, data: new Uint8Array(4069).fill(1) }
  const fits = encodeNsmRequest(largest)
  t.equal(fits.byteLength, 4096)
  t.equal(toHex(fits.subarray(0, 27)), compact(`a1 ${EXTEND_PCR} a2 ${INDEX} 00 ${DATA} 59 0fe5`))
  t.strictSame(decodeNsmRequest(fits), largest)

  const over = encodeNsmRequest({ ...largest, data: new Uint8Array(4070) })
  t.equal(over.byteLength, 4097)
  t.equal(requestCode(over), 'ERR_CBOR_TOO_LARGE')
  t.equal(requestCode(new Uint8Array(4097)), 'ERR_CBOR_TOO_LARGE', 'checked before parsing')
  // At the cap, the size passes and the content decides.
  t.equal(requestCode(new Uint8Array(4096)), 'ERR_CBOR_TRAILING_BYTES')
  t.end()
})

t.test('a response may fill 12288 bytes and not one more', (t) => {
  // a1 6b "Attestation" a1 68 "document" 59 hhhh: 26 bytes before the document.
  const largest: NsmResponse = { type: 'Attestation', document: new Uint8Array(12262).fill(2) }
  const fits = encodeNsmResponse(largest)
  t.equal(fits.byteLength, 12288)
  t.equal(toHex(fits.subarray(0, 26)), compact(`a1 ${ATTESTATION} a1 ${DOCUMENT} 59 2fe6`))
  t.strictSame(decodeNsmResponse(fits), largest)
  t.equal(requestCode(fits), 'ERR_CBOR_TOO_LARGE', 'a response-sized message is no request')

  const over = encodeNsmResponse({ type: 'Attestation', document: new Uint8Array(12263) })
  t.equal(over.byteLength, 12289)
  t.equal(responseCode(over), 'ERR_CBOR_TOO_LARGE')
  t.equal(responseCode(new Uint8Array(12289)), 'ERR_CBOR_TOO_LARGE', 'checked before parsing')
  t.end()
})

// Shapes that are wrong for both directions: neither a name nor a one-entry map from a name.
const NOT_A_VARIANT: readonly (readonly [string, CborValue])[] = [
  ['an integer', 0],
  ['a negative integer', -1],
  ['a bigint', 2n ** 64n - 1n],
  ['a byte string', hex('44657363726962654e534d')],
  ['null', null],
  ['true', true],
  ['false', false],
  ['an empty array', []],
  ['an array holding a name', ['DescribeNSM']],
  ['an empty map', new Map()],
  [
    'a map with two entries',
    new Map<CborKey, CborValue>([
      ['DescribeNSM', null],
      ['GetRandom', null],
    ]),
  ],
  [
    'a map with two struct entries',
    new Map<CborKey, CborValue>([
      ['LockPCR', new Map([['index', 0]])],
      ['DescribePCR', new Map([['index', 0]])],
    ]),
  ],
  ['an integer variant key', new Map([[0, new Map([['index', 0]])]])],
  ['a negative integer variant key', new Map([[-1, null]])],
  ['a bigint variant key', new Map([[2n ** 64n - 1n, null]])],
]

t.test('a message that is not a variant shape is ERR_NSM_MALFORMED', (t) => {
  for (const [label, value] of NOT_A_VARIANT) {
    const bytes = encodeCbor(value)
    t.equal(requestCode(bytes), 'ERR_NSM_MALFORMED', `request: ${label}`)
    t.equal(responseCode(bytes), 'ERR_NSM_MALFORMED', `response: ${label}`)
  }
  t.end()
})

t.test('unknown variant names are ERR_NSM_MALFORMED', (t) => {
  const names = [
    '',
    'Unknown',
    'describeNSM',
    'DESCRIBENSM',
    'DescribeNSM ',
    'GetRandoms',
    'Success',
  ]
  for (const name of names) {
    t.equal(requestCode(encodeCbor(name)), 'ERR_NSM_MALFORMED', `request: ${JSON.stringify(name)}`)
    t.equal(
      responseCode(encodeCbor(name)),
      'ERR_NSM_MALFORMED',
      `response: ${JSON.stringify(name)}`,
    )
    const request = struct(name, [['index', 0]])
    t.equal(requestCode(request), 'ERR_NSM_MALFORMED', `request: {${JSON.stringify(name)}: …}`)
    const response = struct(name, [['data', hex('00')]])
    t.equal(responseCode(response), 'ERR_NSM_MALFORMED', `response: {${JSON.stringify(name)}: …}`)
  }
  // Names from the other direction only.
  t.equal(requestCode(variant('Error', 'InvalidIndex')), 'ERR_NSM_MALFORMED', 'Error request')
  t.equal(requestCode(encodeCbor('Error')), 'ERR_NSM_MALFORMED', 'Error as a unit request')
  t.end()
})

t.test('a unit variant given any content is ERR_NSM_MALFORMED', (t) => {
  const contents: readonly (readonly [string, CborValue])[] = [
    ['an empty map', new Map()],
    ['a field', new Map([['index', 0]])],
    ['null', null],
    ['an empty array', []],
    ['an integer', 0],
  ]
  for (const [label, content] of contents) {
    for (const name of ['DescribeNSM', 'GetRandom']) {
      t.equal(requestCode(variant(name, content)), 'ERR_NSM_MALFORMED', `request ${name}: ${label}`)
    }
    for (const name of ['LockPCR', 'LockPCRs']) {
      t.equal(
        responseCode(variant(name, content)),
        'ERR_NSM_MALFORMED',
        `response ${name}: ${label}`,
      )
    }
  }
  t.end()
})

// Well-formed field lists for each struct variant, which the tests below break one way at a time.
const EXTEND_PCR_FIELDS: Fields = [
  ['index', 16],
  ['data', hex('010203')],
]
const ATTESTATION_FIELDS: Fields = [
  ['user_data', null],
  ['nonce', null],
  ['public_key', null],
]
const REQUEST_STRUCTS: readonly (readonly [string, Fields])[] = [
  ['DescribePCR', [['index', 0]]],
  ['ExtendPCR', EXTEND_PCR_FIELDS],
  ['LockPCR', [['index', 16]]],
  ['LockPCRs', [['range', 16]]],
  ['Attestation', ATTESTATION_FIELDS],
]

const DESCRIBE_NSM_FIELDS: Fields = [
  ['version_major', 1],
  ['version_minor', 0],
  ['version_patch', 0],
  ['module_id', 'i-123-enc456'],
  ['max_pcrs', 32],
  ['locked_pcrs', [0, 1, 2, 3, 4]],
  ['digest', 'SHA384'],
]

const DESCRIBE_PCR_FIELDS: Fields = [
  ['lock', false],
  ['data', SHA384_ZERO],
]
const RESPONSE_STRUCTS: readonly (readonly [string, Fields])[] = [
  ['DescribePCR', DESCRIBE_PCR_FIELDS],
  ['ExtendPCR', [['data', SHA384_ZERO]]],
  ['DescribeNSM', DESCRIBE_NSM_FIELDS],
  ['Attestation', [['document', hex('d284')]]],
  ['GetRandom', [['random', RANDOM_32]]],
]

t.test('the well-formed field lists decode, so each broken copy below proves one defect', (t) => {
  for (const [name, fields] of REQUEST_STRUCTS) {
    t.equal(requestCode(struct(name, fields)), 'returned', `request ${name}`)
  }
  for (const [name, fields] of RESPONSE_STRUCTS) {
    t.equal(responseCode(struct(name, fields)), 'returned', `response ${name}`)
  }
  t.end()
})

/** Every way to give struct variant `name` the wrong fields, or no field map at all. */
function wrongShapes(name: string, fields: Fields): readonly (readonly [string, Uint8Array])[] {
  const values = fields.map(([, value]) => value)
  const shapes: (readonly [string, Uint8Array])[] = [
    ['as a unit variant', encodeCbor(name)],
    ['with null content', variant(name, null)],
    ['with an integer', variant(name, 0)],
    ['with text', variant(name, 'index')],
    ['with bytes', variant(name, hex('00'))],
    ['with its values in an array', variant(name, values)],
    ['with no fields', struct(name, [])],
    ['with an extra field', struct(name, [...fields, ['extra', 0]])],
    ['with an extra integer key', struct(name, [...fields, [0, 0]])],
  ]
  fields.forEach(([key, value], at) => {
    const others = fields.filter((_, other) => other !== at)
    const capitalized = key.charAt(0).toUpperCase() + key.slice(1)
    shapes.push(
      [`missing ${key}`, struct(name, others)],
      [`with ${key} misnamed ${capitalized}`, struct(name, [...others, [capitalized, value]])],
      [`with ${key} under an integer key`, struct(name, [...others, [at, value]])],
    )
  })
  return shapes
}

t.test(
  'a request struct variant with missing, extra or misnamed fields is ERR_NSM_MALFORMED',
  (t) => {
    for (const [name, fields] of REQUEST_STRUCTS) {
      for (const [label, bytes] of wrongShapes(name, fields)) {
        t.equal(requestCode(bytes), 'ERR_NSM_MALFORMED', `${name} ${label}`)
      }
    }
    // A sibling variant's field name.
    t.equal(requestCode(struct('LockPCRs', [['index', 1]])), 'ERR_NSM_MALFORMED', 'LockPCRs index')
    t.equal(requestCode(struct('LockPCR', [['range', 1]])), 'ERR_NSM_MALFORMED', 'LockPCR range')
    t.end()
  },
)

t.test(
  'a response struct variant with missing, extra or misnamed fields is ERR_NSM_MALFORMED',
  (t) => {
    for (const [name, fields] of RESPONSE_STRUCTS) {
      for (const [label, bytes] of wrongShapes(name, fields)) {
        t.equal(responseCode(bytes), 'ERR_NSM_MALFORMED', `${name} ${label}`)
      }
    }
    t.equal(
      responseCode(struct('GetRandom', [['data', RANDOM_32]])),
      'ERR_NSM_MALFORMED',
      'GetRandom data',
    )
    t.equal(
      responseCode(struct('Attestation', [['data', hex('d284')]])),
      'ERR_NSM_MALFORMED',
      'Attestation data',
    )
    t.end()
  },
)

// Values that are not a u16 (nsm-api: index, range, versions, max_pcrs and locked_pcrs entries).
const NOT_U16: readonly (readonly [string, CborValue])[] = [
  ['-1', -1],
  ['-65536', -65536],
  ['65536', 65536],
  ['2^32', 2 ** 32],
  ['2^53 - 1', Number.MAX_SAFE_INTEGER],
  ['a bigint 2^64 - 1', 2n ** 64n - 1n],
  ['a negative bigint -2^64', -(2n ** 64n)],
  ['text "0"', '0'],
  ['empty text', ''],
  ['bytes', hex('00')],
  ['true', true],
  ['false', false],
  ['null', null],
  ['an array', [0]],
  ['a map', new Map([['index', 0]])],
]

t.test('a u16 field outside 0..65535 or not an integer is ERR_NSM_MALFORMED', (t) => {
  const requestFields = REQUEST_STRUCTS.flatMap(([name, fields]) =>
    fields
      .filter(([key]) => key === 'index' || key === 'range')
      .map(([key]) => [name, fields, key] as const),
  )
  t.equal(requestFields.length, 4, 'DescribePCR, ExtendPCR and LockPCR index; LockPCRs range')
  for (const [name, fields, key] of requestFields) {
    for (const [label, value] of NOT_U16) {
      const bytes = struct(name, replaced(fields, key, value))
      t.equal(requestCode(bytes), 'ERR_NSM_MALFORMED', `${name} ${key}: ${label}`)
    }
    t.equal(requestCode(struct(name, replaced(fields, key, 65535))), 'returned', `${name} 65535`)
  }
  for (const key of ['version_major', 'version_minor', 'version_patch', 'max_pcrs']) {
    for (const [label, value] of NOT_U16) {
      const bytes = struct('DescribeNSM', replaced(DESCRIBE_NSM_FIELDS, key, value))
      t.equal(responseCode(bytes), 'ERR_NSM_MALFORMED', `DescribeNSM ${key}: ${label}`)
    }
  }
  t.end()
})

// Values that are not a byte string.
const NOT_BYTES: readonly (readonly [string, CborValue])[] = [
  ['text', '010203'],
  ['empty text', ''],
  ['an array of integers', [1, 2, 3]],
  ['an array of bytes', [hex('01')]],
  ['an integer', 0],
  ['a bigint', 2n ** 64n - 1n],
  ['false', false],
  ['a map', new Map()],
]

t.test('a byte-string field holding anything else is ERR_NSM_MALFORMED', (t) => {
  // Vec<u8> with serde_bytes, not Option: null is refused too.
  const notBytes = [...NOT_BYTES, ['null', null] as const]
  for (const [label, value] of notBytes) {
    const bytes = struct('ExtendPCR', replaced(EXTEND_PCR_FIELDS, 'data', value))
    t.equal(requestCode(bytes), 'ERR_NSM_MALFORMED', `request ExtendPCR data: ${label}`)
  }
  const responseFields: readonly (readonly [string, Fields, string])[] = [
    ['DescribePCR', DESCRIBE_PCR_FIELDS, 'data'],
    ['ExtendPCR', [['data', SHA384_ZERO]], 'data'],
    ['Attestation', [['document', hex('d284')]], 'document'],
    ['GetRandom', [['random', RANDOM_32]], 'random'],
  ]
  for (const [name, fields, key] of responseFields) {
    for (const [label, value] of notBytes) {
      const bytes = struct(name, replaced(fields, key, value))
      t.equal(responseCode(bytes), 'ERR_NSM_MALFORMED', `response ${name} ${key}: ${label}`)
    }
  }
  t.end()
})

t.test('an optional Attestation field that is neither bytes nor null is ERR_NSM_MALFORMED', (t) => {
  for (const key of ['user_data', 'nonce', 'public_key']) {
    for (const [label, value] of [...NOT_BYTES, ['true', true] as const]) {
      const bytes = struct('Attestation', replaced(ATTESTATION_FIELDS, key, value))
      t.equal(requestCode(bytes), 'ERR_NSM_MALFORMED', `${key}: ${label}`)
    }
    const empty = struct('Attestation', replaced(ATTESTATION_FIELDS, key, hex('')))
    t.equal(requestCode(empty), 'returned', `${key}: empty bytes`)
  }
  const camelCase = struct('Attestation', [
    ['userData', null],
    ['nonce', null],
    ['publicKey', null],
  ])
  t.equal(requestCode(camelCase), 'ERR_NSM_MALFORMED', 'camelCase field names')
  t.end()
})

t.test('a DescribePCR response whose lock is not a boolean is ERR_NSM_MALFORMED', (t) => {
  const values: readonly (readonly [string, CborValue])[] = [
    ['0', 0],
    ['1', 1],
    ['null', null],
    ['text "true"', 'true'],
    ['bytes', hex('01')],
    ['an array', [true]],
  ]
  for (const [label, value] of values) {
    const bytes = struct('DescribePCR', replaced(DESCRIBE_PCR_FIELDS, 'lock', value))
    t.equal(responseCode(bytes), 'ERR_NSM_MALFORMED', label)
  }
  t.end()
})

t.test(
  'a DescribeNSM response with a bad module_id, digest or locked_pcrs is ERR_NSM_MALFORMED',
  (t) => {
    const cases: readonly (readonly [string, string, CborValue])[] = [
      ['module_id', 'bytes', hex('692d313233')],
      ['module_id', 'an integer', 123],
      ['module_id', 'null', null],
      ['module_id', 'an array', ['i-123']],
      ['digest', 'SHA1', 'SHA1'],
      ['digest', 'lower case', 'sha384'],
      ['digest', 'a hyphen', 'SHA-384'],
      ['digest', 'empty text', ''],
      ['digest', 'a trailing space', 'SHA384 '],
      ['digest', 'an integer', 384],
      ['digest', 'bytes', hex('534841333834')],
      ['digest', 'null', null],
      ['digest', 'a struct-variant form', new Map([['SHA384', new Map()]])],
      ['locked_pcrs', 'a map', new Map([[0, 0]])],
      ['locked_pcrs', 'bytes', hex('0001')],
      ['locked_pcrs', 'an integer', 0],
      ['locked_pcrs', 'null', null],
      ['locked_pcrs', 'text', '0,1'],
      ['locked_pcrs', 'a nested array', [[0]]],
      ['locked_pcrs', 'a bad entry after good ones', [0, 1, true]],
      ...NOT_U16.map(([label, value]) => ['locked_pcrs', `an entry ${label}`, [value]] as const),
    ]
    for (const [key, label, value] of cases) {
      const bytes = struct('DescribeNSM', replaced(DESCRIBE_NSM_FIELDS, key, value))
      t.equal(responseCode(bytes), 'ERR_NSM_MALFORMED', `${key}: ${label}`)
    }
    for (const digest of ['SHA256', 'SHA384', 'SHA512']) {
      const bytes = struct('DescribeNSM', replaced(DESCRIBE_NSM_FIELDS, 'digest', digest))
      t.equal(responseCode(bytes), 'returned', digest)
    }
    t.end()
  },
)

t.test('an Error response with an unknown code or a non-text value is ERR_NSM_MALFORMED', (t) => {
  const values: readonly (readonly [string, CborValue])[] = [
    ['Success, which never travels as an error', 'Success'],
    ['an unknown code', 'NotAnError'],
    ['a code in the wrong case', 'invalidIndex'],
    ['empty text', ''],
    ['an inherited property', 'toString'],
    ['the prototype', '__proto__'],
    ['the constructor', 'constructor'],
    ['a catalog code', 'ERR_NSM_INVALID_INDEX'],
    ['the code as bytes', hex('496e76616c6964496e646578')],
    ['an integer (the enum index)', 2],
    ['null', null],
    ['true', true],
    ['an array', ['InvalidIndex']],
    ['a unit variant in a map', new Map([['InvalidIndex', null]])],
    ['an empty map', new Map()],
  ]
  for (const [label, value] of values) {
    t.equal(responseCode(variant('Error', value)), 'ERR_NSM_MALFORMED', label)
  }
  t.equal(responseCode(encodeCbor('Error')), 'ERR_NSM_MALFORMED', 'Error as a unit variant')
  t.equal(responseCode(hex(`a1 ${ERROR} 67 53756363657373`)), 'ERR_NSM_MALFORMED', 'Success bytes')
  t.end()
})

t.test('a request is not a response and a response is not a request', (t) => {
  // Most names exist in both directions, each with its own fields (or none).
  for (const request of Object.values(REQUESTS).flat()) {
    const bytes = encodeNsmRequest(request)
    t.equal(responseCode(bytes), 'ERR_NSM_MALFORMED', `request ${request.type} as a response`)
  }
  for (const response of Object.values(RESPONSES).flat()) {
    const bytes = encodeNsmResponse(response)
    const code =
      bytes.byteLength > NSM_REQUEST_MAX_BYTES ? 'ERR_CBOR_TOO_LARGE' : 'ERR_NSM_MALFORMED'
    t.equal(requestCode(bytes), code, `response ${response.type} as a request`)
  }
  t.end()
})

import t from 'tap'
import { MAX_OPTIONAL_FIELD_BYTES } from '../../../shared/attestation/attestation-document.js'
import { MAX_ATTESTATION_BYTES } from '../../../shared/attestation/verify-attestation.js'
import { toHex } from '../../../shared/bytes/bytes.js'
import type { CborKey, CborMap, CborValue } from '../../../shared/cbor/cbor-value.js'
import { encodeCbor } from '../../../shared/cbor/encode.js'
import {
  decodeReply,
  decodeRequest,
  encodeReply,
  encodeRequest,
} from '../../../shared/protocol/envelope.js'
import {
  assertOpName,
  decodeOpRequest,
  decodeOpResponse,
  encodeBody,
  isOpName,
  MAX_NONCE_BYTES,
  OPS,
  PROTOCOL_VERSION,
  SANDBOX_MODES,
  type OpName,
  type OpRequest,
  type OpResponse,
} from '../../../shared/protocol/ops.js'
import { caughtCode } from '../../helpers/caught-code.js'
import { exactCode } from '../../helpers/exact-code.js'
import { hexBytes } from '../../helpers/hex-bytes.js'

/** A CBOR map from its entries, in order. */
function map(...entries: (readonly [CborKey, CborValue])[]): Map<CborKey, CborValue> {
  return new Map(entries)
}

/** A 48-byte PCR value filled with `byte`. */
function pcr(byte: number): Uint8Array {
  return new Uint8Array(48).fill(byte)
}

/** `length` bytes of `byte`. */
function bytes(length: number, byte = 0x5a): Uint8Array {
  return new Uint8Array(length).fill(byte)
}

/** A PCR set as the wire carries it: PCR index → 48 bytes. */
function pcrSet(...indexes: number[]): Map<CborKey, CborValue> {
  return new Map(indexes.map((index) => [index, pcr(index)]))
}

/** A short label for a field's value in an assertion's name. */
function describe(value: CborValue | undefined): string {
  if (value === undefined) return 'missing'
  if (value instanceof Uint8Array) return `${value.byteLength} bytes`
  if (value instanceof Map) return `a map of ${value.size}`
  return typeof value === 'string' ? `text of ${value.length}` : JSON.stringify(value)
}

/** The hex of a body's CBOR. */
function bodyHex(body: object): string {
  return toHex(encodeCbor(encodeBody(body)))
}

/** Sends `request` as the parent would and reads it as the enclave would. */
function throughRequest<K extends OpName>(op: K, request: OpRequest<K>): OpRequest<K> {
  const envelope = decodeRequest(encodeRequest({ id: 1, op, body: encodeBody(request) }))
  assertOpName(envelope.op)
  return decodeOpRequest(op, envelope.body)
}

/** Sends `response` as the enclave would and reads it as the parent would. */
function throughResponse<K extends OpName>(op: K, response: OpResponse<K>): OpResponse<K> {
  const reply = decodeReply(
    encodeReply({ kind: 'response', id: 1, ok: true, body: encodeBody(response) }),
  )
  if (reply.kind !== 'response' || !reply.ok) throw new Error('expected a successful response')
  return decodeOpResponse(op, reply.body)
}

/** The policy fields of a valid verifyAttestation request, for variations. */
const POLICY_FIELDS: readonly (readonly [CborKey, CborValue])[] = [
  ['pcrs', [pcrSet(0, 1, 2)]],
  ['allowDebug', false],
]

/** A verifyAttestation request body whose policy is `policy`. */
function withPolicy(policy: CborValue): CborMap {
  return map(['document', hexBytes('d2')], ['policy', policy])
}

t.test('the protocol facts', (t) => {
  t.equal(PROTOCOL_VERSION, 1)
  t.same(SANDBOX_MODES, ['bubblewrap', 'unshare', 'none'])
  t.equal(MAX_NONCE_BYTES, 64)
  t.same(Object.keys(OPS), [
    'ping',
    'describe',
    'attest',
    'verifyAttestation',
    'keys.load',
    'keys.rotate',
    'keys.activate',
    'keys.retire',
    'keys.list',
    'keys.create',
    'keys.challenge',
    'keys.release',
  ])
  t.end()
})

t.test('isOpName and assertOpName accept exactly the operations', (t) => {
  for (const op of ['ping', 'describe', 'attest', 'verifyAttestation']) {
    t.equal(isOpName(op), true, op)
    t.equal(
      caughtCode(() => assertOpName(op)),
      'returned',
      op,
    )
  }
  const unknown = [
    '',
    'Ping',
    'ping ',
    'tokenize',
    'toString',
    '__proto__',
    'constructor',
    'hasOwnProperty',
    'valueOf',
    'isPrototypeOf',
  ]
  for (const op of unknown) {
    t.equal(isOpName(op), false, op)
    t.equal(
      caughtCode(() => assertOpName(op)),
      'ERR_PROTOCOL_UNKNOWN_OP',
      op,
    )
  }
  t.throws(() => assertOpName('toString'), { code: exactCode('ERR_PROTOCOL_UNKNOWN_OP') })
  t.end()
})

t.test('encodeBody writes fields in order and leaves out undefined optional ones', (t) => {
  t.equal(bodyHex({}), 'a0')
  t.equal(bodyHex({ now: 1 }), 'a1636e6f7701')
  t.equal(bodyHex({ nonce: hexBytes('0102') }), 'a1656e6f6e6365420102')
  const policy = { pcrs: 'any', allowDebug: true, maxAgeMs: undefined }
  t.same(encodeBody(policy), map(['pcrs', 'any'], ['allowDebug', true]))
  t.end()
})

t.test('ping: request and response round-trip', (t) => {
  t.same(throughRequest('ping', {}), {})
  for (const now of [0, 1_700_000_000_000, Number.MAX_SAFE_INTEGER]) {
    const response = throughResponse('ping', { now })
    t.same(response, { now })
    t.equal(bodyHex(response), bodyHex({ now }))
  }
  t.end()
})

t.test('ping: bodies of the wrong shape are refused', (t) => {
  t.equal(
    caughtCode(() => decodeOpRequest('ping', map(['x', 1]))),
    'ERR_PROTOCOL_BAD_REQUEST',
  )
  const responses: [string, CborMap][] = [
    ['no now', map()],
    ['now negative', map(['now', -1])],
    ['now text', map(['now', '1'])],
    ['now a bigint', map(['now', 2n ** 64n - 1n])],
    ['an extra field', map(['now', 1], ['later', 2])],
  ]
  for (const [name, body] of responses) {
    t.equal(
      caughtCode(() => decodeOpResponse('ping', body)),
      'ERR_PROTOCOL_BAD_RESPONSE',
      name,
    )
  }
  t.end()
})

t.test('describe: request and response round-trip', (t) => {
  t.same(throughRequest('describe', {}), {})
  for (const sandbox of SANDBOX_MODES) {
    const response: OpResponse<'describe'> = {
      protocolVersion: PROTOCOL_VERSION,
      moduleId: 'i-0123456789abcdef0-enc0123456789abcdef',
      sandbox,
      pcrs: new Map([0, 1, 2, 3, 4].map((index) => [index, pcr(index)])),
    }
    const decoded = throughResponse('describe', response)
    t.same(decoded, response, sandbox)
    t.equal(bodyHex(decoded), bodyHex(response), `${sandbox}: equal bytes`)
  }
  const longest = { protocolVersion: 0, moduleId: 'm'.repeat(255), sandbox: 'none', pcrs: map() }
  t.same(decodeOpResponse('describe', encodeBody(longest)), longest, 'a 255-character module id')
  t.end()
})

t.test('describe: bodies of the wrong shape are refused', (t) => {
  t.equal(
    caughtCode(() => decodeOpRequest('describe', map(['verbose', true]))),
    'ERR_PROTOCOL_BAD_REQUEST',
  )
  const valid: [string, CborValue][] = [
    ['protocolVersion', 1],
    ['moduleId', 'm'],
    ['sandbox', 'bubblewrap'],
    ['pcrs', pcrSet(0)],
  ]
  const variations: [string, string, CborValue | undefined][] = [
    ['protocolVersion missing', 'protocolVersion', undefined],
    ['protocolVersion negative', 'protocolVersion', -1],
    ['protocolVersion text', 'protocolVersion', '1'],
    ['moduleId of 256 characters', 'moduleId', 'm'.repeat(256)],
    ['moduleId bytes', 'moduleId', hexBytes('6d')],
    ['sandbox unknown', 'sandbox', 'docker'],
    ['sandbox in upper case', 'sandbox', 'NONE'],
    ['sandbox missing', 'sandbox', undefined],
    ['pcrs with index 32', 'pcrs', pcrSet(32)],
    ['pcrs of 32 bytes', 'pcrs', map([0, bytes(32)])],
    ['pcrs a list', 'pcrs', [pcrSet(0)]],
  ]
  for (const [name, field, value] of variations) {
    const body = new Map(valid.filter(([key]) => key !== field))
    if (value !== undefined) body.set(field, value)
    t.equal(
      caughtCode(() => decodeOpResponse('describe', body)),
      'ERR_PROTOCOL_BAD_RESPONSE',
      name,
    )
  }
  const extra = new Map([...valid, ['debug', false] as [string, CborValue]])
  t.equal(
    caughtCode(() => decodeOpResponse('describe', extra)),
    'ERR_PROTOCOL_BAD_RESPONSE',
  )
  t.end()
})

t.test('attest: request and response round-trip', (t) => {
  for (const length of [0, 1, 32, MAX_NONCE_BYTES]) {
    const request = { nonce: bytes(length) }
    const decoded = throughRequest('attest', request)
    t.same(decoded, request, `a nonce of ${length} bytes`)
    t.equal(bodyHex(decoded), bodyHex(request))
  }
  for (const length of [1, 4096, MAX_ATTESTATION_BYTES]) {
    const response = { document: bytes(length, 0xd2) }
    const decoded = throughResponse('attest', response)
    t.equal(decoded.document.byteLength, length)
    t.equal(bodyHex(decoded), bodyHex(response), `a document of ${length} bytes`)
  }
  t.end()
})

t.test('attest: bodies of the wrong shape are refused', (t) => {
  const requests: [string, CborMap][] = [
    ['no nonce', map()],
    ['a nonce of 65 bytes', map(['nonce', bytes(MAX_NONCE_BYTES + 1)])],
    ['a nonce as text', map(['nonce', 'abc'])],
    ['a nonce as null', map(['nonce', null])],
    ['an extra field', map(['nonce', bytes(1)], ['userData', bytes(1)])],
  ]
  for (const [name, body] of requests) {
    t.equal(
      caughtCode(() => decodeOpRequest('attest', body)),
      'ERR_PROTOCOL_BAD_REQUEST',
      name,
    )
  }
  t.throws(() => decodeOpRequest('attest', map()), { code: exactCode('ERR_PROTOCOL_BAD_REQUEST') })
  const responses: [string, CborMap][] = [
    ['no document', map()],
    ['a document over 64 KiB', map(['document', bytes(MAX_ATTESTATION_BYTES + 1)])],
    ['a document as an array', map(['document', [bytes(1)]])],
    ['an extra field', map(['document', bytes(1)], ['nonce', bytes(1)])],
  ]
  for (const [name, body] of responses) {
    t.equal(
      caughtCode(() => decodeOpResponse('attest', body)),
      'ERR_PROTOCOL_BAD_RESPONSE',
      name,
    )
  }
  t.end()
})

t.test('verifyAttestation: requests round-trip with every policy shape', (t) => {
  const policies: OpRequest<'verifyAttestation'>['policy'][] = [
    { pcrs: 'any', allowDebug: false },
    { pcrs: [], allowDebug: true },
    { pcrs: [new Map()], allowDebug: false },
    { pcrs: [new Map([[0, pcr(1)]]), new Map([[31, pcr(2)]])], allowDebug: false },
    {
      pcrs: Array.from({ length: 16 }, (_, index) => new Map([[index, pcr(index)]])),
      allowDebug: false,
    },
    {
      pcrs: [new Map([0, 1, 2, 3, 4, 8].map((index) => [index, pcr(index)]))],
      allowDebug: false,
      maxAgeMs: 0,
      maxFutureSkewMs: 60_000,
      nonce: bytes(MAX_NONCE_BYTES),
      publicKey: 'rsa-spki',
    },
    { pcrs: 'any', allowDebug: false, publicKey: 'ec-spki', maxAgeMs: Number.MAX_SAFE_INTEGER },
    { pcrs: 'any', allowDebug: false, publicKey: 'present', nonce: new Uint8Array(0) },
  ]
  for (const [index, policy] of policies.entries()) {
    const request = { document: bytes(5000, 0xd2), policy }
    const decoded = throughRequest('verifyAttestation', request)
    t.same(decoded, request, `policy ${index}`)
    t.equal(bodyHex(decoded), bodyHex(request), `policy ${index}: equal bytes`)
  }
  t.end()
})

t.test('verifyAttestation: the document is bounded', (t) => {
  const policy = map(...POLICY_FIELDS)
  const largest = map(['document', bytes(MAX_ATTESTATION_BYTES)], ['policy', policy])
  t.equal(decodeOpRequest('verifyAttestation', largest).document.byteLength, MAX_ATTESTATION_BYTES)
  const cases: [string, CborMap][] = [
    [
      'a document over 64 KiB',
      map(['document', bytes(MAX_ATTESTATION_BYTES + 1)], ['policy', policy]),
    ],
    ['a document as text', map(['document', 'd2'], ['policy', policy])],
    ['no document', map(['policy', policy])],
    ['no policy', map(['document', bytes(1)])],
    ['an extra field', map(['document', bytes(1)], ['policy', policy], ['now', 1])],
  ]
  for (const [name, body] of cases) {
    t.equal(
      caughtCode(() => decodeOpRequest('verifyAttestation', body)),
      'ERR_PROTOCOL_BAD_REQUEST',
      name,
    )
  }
  t.end()
})

t.test('verifyAttestation: malformed policies are refused', (t) => {
  const sixteen = Array.from({ length: 16 }, (_, index) => pcrSet(index))
  t.equal(
    caughtCode(() =>
      decodeOpRequest(
        'verifyAttestation',
        withPolicy(map(['pcrs', sixteen], ['allowDebug', false])),
      ),
    ),
    'returned',
    '16 PCR sets are accepted',
  )
  /** The valid policy with `field` replaced by `value`, or removed when `value` is undefined. */
  const variant = (field: string, value: CborValue | undefined): CborMap => {
    const policy = new Map(POLICY_FIELDS.filter(([key]) => key !== field))
    if (value !== undefined) policy.set(field, value)
    return policy
  }
  const cases: [string, CborValue][] = [
    ['not a map: a list', [...POLICY_FIELDS]],
    ['not a map: "any"', 'any'],
    ['not a map: null', null],
    ['no pcrs', variant('pcrs', undefined)],
    ['17 PCR sets', variant('pcrs', [...sixteen, pcrSet(16)])],
    ['pcrs "all"', variant('pcrs', 'all')],
    ['pcrs "ANY"', variant('pcrs', 'ANY')],
    ['pcrs one map, not a list of maps', variant('pcrs', pcrSet(0))],
    ['pcrs null', variant('pcrs', null)],
    ['a PCR index of 32', variant('pcrs', [pcrSet(32)])],
    ['a PCR index of -1', variant('pcrs', [map([-1, pcr(0)])])],
    ['a PCR index as text', variant('pcrs', [map(['0', pcr(0)])])],
    ['a PCR of 47 bytes', variant('pcrs', [map([0, bytes(47)])])],
    ['a PCR of 49 bytes', variant('pcrs', [map([0, bytes(49)])])],
    ['a PCR of 32 bytes (SHA-256)', variant('pcrs', [map([0, bytes(32)])])],
    ['a PCR set that is not a map', variant('pcrs', [[pcr(0)]])],
    ['allowDebug missing', variant('allowDebug', undefined)],
    ['allowDebug 0', variant('allowDebug', 0)],
    ['allowDebug null', variant('allowDebug', null)],
    ['allowDebug "false"', variant('allowDebug', 'false')],
    ['maxAgeMs negative', variant('maxAgeMs', -1)],
    ['maxAgeMs text', variant('maxAgeMs', '300000')],
    ['maxAgeMs over 2^53 - 1', variant('maxAgeMs', 2n ** 53n)],
    ['maxFutureSkewMs negative', variant('maxFutureSkewMs', -1)],
    ['maxFutureSkewMs null', variant('maxFutureSkewMs', null)],
    ['a nonce of 65 bytes', variant('nonce', bytes(MAX_NONCE_BYTES + 1))],
    ['a nonce as text', variant('nonce', 'abc')],
    ['publicKey of an unknown kind', variant('publicKey', 'dsa-spki')],
    ['publicKey in upper case', variant('publicKey', 'RSA-SPKI')],
    ['publicKey true', variant('publicKey', true)],
    ['an unknown field', variant('allowExpired', true)],
    ['an inherited name', variant('toString', 'x')],
    ['an integer key', new Map<CborKey, CborValue>([...POLICY_FIELDS, [1, 1]])],
  ]
  for (const [name, policy] of cases) {
    t.equal(
      caughtCode(() => decodeOpRequest('verifyAttestation', withPolicy(policy))),
      'ERR_PROTOCOL_BAD_REQUEST',
      name,
    )
  }
  t.end()
})

t.test('verifyAttestation: responses round-trip, with and without optional values', (t) => {
  const full: OpResponse<'verifyAttestation'> = {
    moduleId: 'i-0123456789abcdef0-enc0123456789abcdef',
    timestamp: 1_700_000_000_000,
    debug: false,
    pcrs: new Map([0, 1, 2].map((index) => [index, pcr(index)])),
    publicKey: bytes(MAX_OPTIONAL_FIELD_BYTES, 1),
    userData: bytes(0),
    nonce: bytes(MAX_NONCE_BYTES, 2),
  }
  const empty: OpResponse<'verifyAttestation'> = {
    moduleId: '',
    timestamp: 0,
    debug: true,
    pcrs: new Map(),
    publicKey: null,
    userData: null,
    nonce: null,
  }
  for (const [name, response] of [
    ['every value', full],
    ['null optional values', empty],
  ] as const) {
    const decoded = throughResponse('verifyAttestation', response)
    t.same(decoded, response, name)
    t.equal(bodyHex(decoded), bodyHex(response), `${name}: equal bytes`)
  }
  t.end()
})

t.test('verifyAttestation: responses of the wrong shape are refused', (t) => {
  const valid: [string, CborValue][] = [
    ['moduleId', 'm'],
    ['timestamp', 1],
    ['debug', false],
    ['pcrs', pcrSet(0)],
    ['publicKey', null],
    ['userData', null],
    ['nonce', null],
  ]
  t.equal(
    caughtCode(() => decodeOpResponse('verifyAttestation', new Map(valid))),
    'returned',
  )
  const variations: [string, CborValue | undefined][] = [
    ['moduleId', 'm'.repeat(256)],
    ['moduleId', undefined],
    ['timestamp', -1],
    ['timestamp', undefined],
    ['debug', 'false'],
    ['debug', undefined],
    ['pcrs', pcrSet(32)],
    ['pcrs', null],
    ['publicKey', bytes(MAX_OPTIONAL_FIELD_BYTES + 1)],
    ['publicKey', 'key'],
    ['publicKey', undefined],
    ['userData', bytes(MAX_OPTIONAL_FIELD_BYTES + 1)],
    ['userData', false],
    ['userData', undefined],
    ['nonce', bytes(MAX_OPTIONAL_FIELD_BYTES + 1)],
    ['nonce', 0],
    ['nonce', undefined],
  ]
  for (const [field, value] of variations) {
    const body = new Map(valid.filter(([key]) => key !== field))
    if (value !== undefined) body.set(field, value)
    t.equal(
      caughtCode(() => decodeOpResponse('verifyAttestation', body)),
      'ERR_PROTOCOL_BAD_RESPONSE',
      `${field}: ${describe(value)}`,
    )
  }
  const extra = new Map([...valid, ['certificate', bytes(1)] as [string, CborValue]])
  t.equal(
    caughtCode(() => decodeOpResponse('verifyAttestation', extra)),
    'ERR_PROTOCOL_BAD_RESPONSE',
  )
  t.end()
})

t.test('a request body is refused as a response body and the other way round', (t) => {
  t.equal(
    caughtCode(() => decodeOpResponse('attest', encodeBody({ nonce: bytes(1) }))),
    'ERR_PROTOCOL_BAD_RESPONSE',
  )
  t.equal(
    caughtCode(() => decodeOpRequest('attest', encodeBody({ document: bytes(1) }))),
    'ERR_PROTOCOL_BAD_REQUEST',
  )
  t.equal(
    caughtCode(() => decodeOpRequest('ping', encodeBody({ now: 1 }))),
    'ERR_PROTOCOL_BAD_REQUEST',
  )
  t.end()
})

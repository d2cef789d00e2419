import t from 'tap'
import type { CborKey, CborValue } from '../../../shared/cbor/cbor-value.js'
import { readReleaseAudit, recordReleaseAudits } from '../../../parent/keys/read-release-audit.js'
import type { StoredReleaseRecord } from '../../../parent/keys/wrapped-key-store.js'
import type { ErrorCode } from '../../../shared/errors/catalog.js'
import { caughtCode } from '../../helpers/caught-code.js'
import { exactCode } from '../../helpers/exact-code.js'

const KEY_ID = 'bk-0123456789abcdef0123456789abcdef'
const PCR0 = new Uint8Array(48).fill(0x5c)

const MINIMAL: readonly (readonly [string, CborValue])[] = [
  ['at', 1_700_000_000_000],
  ['op', 'keys.create'],
  ['keyId', KEY_ID],
  ['decision', 'created'],
]

/** An audit body from entries, in order. */
const body = (...entries: (readonly [CborKey, CborValue])[]) => new Map(entries)

/** The minimal body with `field` replaced by `value`, or removed when it is undefined. */
function variant(field: string, value: CborValue | undefined) {
  const entries = MINIMAL.filter(([key]) => key !== field)
  return body(...entries, ...(value === undefined ? [] : [[field, value] as const]))
}

t.test('a minimal record reads with every optional field null', (t) => {
  t.strictSame(readReleaseAudit(body(...MINIMAL)), {
    at: 1_700_000_000_000,
    op: 'keys.create',
    keyId: KEY_ID,
    decision: 'created',
    code: null,
    moduleId: null,
    pcr0: null,
    format: null,
  })
  t.end()
})

t.test('a full record reads exactly', (t) => {
  const released = body(
    ['at', 0],
    ['op', 'keys.release'],
    ['keyId', KEY_ID],
    ['decision', 'released'],
    ['moduleId', 'i-0123456789abcdef0-enc0123456789abcdef'],
    ['pcr0', PCR0],
    ['format', 'jwe'],
  )
  t.strictSame(readReleaseAudit(released), {
    at: 0,
    op: 'keys.release',
    keyId: KEY_ID,
    decision: 'released',
    code: null,
    moduleId: 'i-0123456789abcdef0-enc0123456789abcdef',
    pcr0: PCR0,
    format: 'jwe',
  })
  const denied = body(
    ['format', 'cms'],
    ['pcr0', PCR0],
    ['moduleId', 'm'.repeat(255)],
    ['code', 'ERR_ATTESTATION_PCR_MISMATCH'],
    ['decision', 'denied'],
    ['keyId', 'k'.repeat(64)],
    ['op', 'keys.release'],
    ['at', Number.MAX_SAFE_INTEGER],
  )
  t.strictSame(readReleaseAudit(denied), {
    at: Number.MAX_SAFE_INTEGER,
    op: 'keys.release',
    keyId: 'k'.repeat(64),
    decision: 'denied',
    code: 'ERR_ATTESTATION_PCR_MISMATCH',
    moduleId: 'm'.repeat(255),
    pcr0: PCR0,
    format: 'cms',
  })
  t.end()
})

t.test('any other shape is refused with ERR_PROTOCOL_BAD_RESPONSE', (t) => {
  const cases: [string, ReadonlyMap<CborKey, CborValue>][] = [
    ['an empty body', body()],
    ['no at', variant('at', undefined)],
    ['no op', variant('op', undefined)],
    ['no keyId', variant('keyId', undefined)],
    ['no decision', variant('decision', undefined)],
    ['at -1', variant('at', -1)],
    ['at 1.5', variant('at', 1.5)],
    ['at as text', variant('at', '0')],
    ['at 2^64 (a bigint)', variant('at', 2n ** 64n)],
    ['op keys.load', variant('op', 'keys.load')],
    ['op in upper case', variant('op', 'KEYS.CREATE')],
    ['op an integer', variant('op', 1)],
    ['a keyId of 65 characters', variant('keyId', 'k'.repeat(65))],
    ['a keyId as bytes', variant('keyId', new Uint8Array(3))],
    ['decision allowed', variant('decision', 'allowed')],
    ['decision null', variant('decision', null)],
    ['a code outside the catalog', body(...MINIMAL, ['code', 'ERR_NOPE'])],
    ['a code in lower case', body(...MINIMAL, ['code', 'err_keys_unknown'])],
    ['an inherited name as code', body(...MINIMAL, ['code', 'toString'])],
    ['a code as an integer', body(...MINIMAL, ['code', 403])],
    ['a code null', body(...MINIMAL, ['code', null])],
    ['a moduleId of 256 characters', body(...MINIMAL, ['moduleId', 'm'.repeat(256)])],
    ['a pcr0 of 49 bytes', body(...MINIMAL, ['pcr0', new Uint8Array(49)])],
    ['a pcr0 of 47 bytes', body(...MINIMAL, ['pcr0', new Uint8Array(47)])],
    ['a pcr0 of 32 bytes (SHA-256)', body(...MINIMAL, ['pcr0', new Uint8Array(32)])],
    ['an empty pcr0', body(...MINIMAL, ['pcr0', new Uint8Array(0)])],
    ['a pcr0 as text', body(...MINIMAL, ['pcr0', 'ab'.repeat(48)])],
    ['a pcr0 as a map', body(...MINIMAL, ['pcr0', new Map([[0, PCR0]])])],
    ['format jws', body(...MINIMAL, ['format', 'jws'])],
    ['format null', body(...MINIMAL, ['format', null])],
    ['an extra field', body(...MINIMAL, ['requester', 'x'])],
    ['an integer key', body(...MINIMAL, [1, 'x'])],
    ['an inherited name as key', body(...MINIMAL, ['constructor', 'x'])],
  ]
  for (const [name, value] of cases) {
    t.equal(
      caughtCode(() => readReleaseAudit(value)),
      'ERR_PROTOCOL_BAD_RESPONSE',
      name,
    )
  }
  t.throws(() => readReleaseAudit(body()), { code: exactCode('ERR_PROTOCOL_BAD_RESPONSE') })
  t.end()
})

t.test('recordReleaseAudits stores audit events and reports the ones that do not read', (t) => {
  const stored: StoredReleaseRecord[] = []
  const invalid: ErrorCode[] = []
  const listener = recordReleaseAudits({ appendRelease: (record) => stored.push(record) }, (code) =>
    invalid.push(code),
  )
  listener({ kind: 'event', event: 'audit', body: body(...MINIMAL) })
  listener({ kind: 'event', event: 'ready', body: body(...MINIMAL) })
  listener({ kind: 'event', event: 'audit', body: body(...MINIMAL, ['pcr0', new Uint8Array(32)]) })
  listener({ kind: 'event', event: 'audit', body: body(...MINIMAL, ['pcr0', PCR0]) })
  t.strictSame(stored, [
    readReleaseAudit(body(...MINIMAL)),
    readReleaseAudit(body(...MINIMAL, ['pcr0', PCR0])),
  ])
  t.same(invalid, ['ERR_PROTOCOL_BAD_RESPONSE'])

  const quiet: StoredReleaseRecord[] = []
  const withoutReport = recordReleaseAudits(
    { appendRelease: (record) => quiet.push(record) },
    undefined,
  )
  withoutReport({ kind: 'event', event: 'audit', body: body() })
  withoutReport({ kind: 'event', event: 'audit', body: body(...MINIMAL) })
  t.equal(quiet.length, 1, 'an invalid record without a reporter is dropped silently')
  t.end()
})

import t from 'tap'
import {
  createKeyRing,
  keyRingContext,
  type KeyVersionInfo,
} from '../../../enclave/keys/key-ring.js'
import { toHex } from '../../../shared/bytes/bytes.js'
import { MAX_RING_KEYS, type KeyPurpose, type KeyState } from '../../../shared/keys/key-names.js'
import { caughtCode } from '../../helpers/caught-code.js'
import { exactCode } from '../../helpers/exact-code.js'

/** 32 key bytes, each `fill`. */
const keyBytes = (fill: number) => new Uint8Array(32).fill(fill)

const info = (
  tenant: string,
  purpose: KeyPurpose,
  version: number,
  state: KeyState,
): KeyVersionInfo => ({ tenant, purpose, version, state })

const isZero = (bytes: Uint8Array) => bytes.every((byte) => byte === 0)

t.test('add, active, get and latestVersion', (t) => {
  const ring = createKeyRing()
  t.equal(ring.latestVersion('acme', 'vault'), 0, 'none held')
  const one = keyBytes(1)
  const two = keyBytes(2)
  ring.add(info('acme', 'vault', 1, 'readable'), one)
  ring.add(info('acme', 'vault', 2, 'active'), two)
  ring.add(info('acme', 'tokenization', 7, 'active'), keyBytes(7))
  ring.add(info('beta', 'vault', 5, 'pending'), keyBytes(5))

  const active = ring.active('acme', 'vault')
  t.equal(active.version, 2)
  t.equal(active.key, two, 'the bytes passed in are the ring’s')
  t.equal(ring.get('acme', 'vault', 1), one)
  t.equal(ring.get('acme', 'vault', 2), two)
  t.equal(toHex(ring.get('acme', 'tokenization', 7)), '07'.repeat(32))
  t.equal(ring.latestVersion('acme', 'vault'), 2)
  t.equal(ring.latestVersion('acme', 'tokenization'), 7)
  t.equal(ring.latestVersion('beta', 'vault'), 5, 'a pending version counts')
  t.equal(ring.latestVersion('acme', 'audit'), 0)
  t.equal(ring.latestVersion('gamma', 'vault'), 0)
  t.end()
})

t.test('the ring keeps its own copy of the facts it was given', (t) => {
  const ring = createKeyRing()
  const facts = { tenant: 'acme', purpose: 'vault' as const, version: 1, state: 'active' as const }
  ring.add(facts, keyBytes(1))
  ;(facts as { version: number }).version = 9
  t.same(ring.list(), [info('acme', 'vault', 1, 'active')])
  t.end()
})

t.test('pending versions are not readable until activated', (t) => {
  const ring = createKeyRing()
  ring.add(info('acme', 'vault', 1, 'pending'), keyBytes(1))
  t.equal(
    caughtCode(() => ring.get('acme', 'vault', 1)),
    'ERR_KEYS_UNKNOWN',
  )
  t.equal(
    caughtCode(() => ring.active('acme', 'vault')),
    'ERR_KEYS_UNKNOWN',
    'and not active',
  )
  ring.activate('acme', 'vault', 1)
  t.equal(toHex(ring.get('acme', 'vault', 1)), '01'.repeat(32))
  t.same(ring.active('acme', 'vault'), { version: 1, key: keyBytes(1) })
  t.end()
})

t.test('activate makes a pending version active and the active one readable', (t) => {
  const ring = createKeyRing()
  ring.add(info('acme', 'vault', 1, 'active'), keyBytes(1))
  ring.add(info('acme', 'vault', 2, 'pending'), keyBytes(2))
  ring.add(info('acme', 'audit', 1, 'active'), keyBytes(9))
  ring.activate('acme', 'vault', 2)
  t.same(ring.list(), [
    info('acme', 'audit', 1, 'active'),
    info('acme', 'vault', 1, 'readable'),
    info('acme', 'vault', 2, 'active'),
  ])
  t.equal(ring.active('acme', 'vault').version, 2)
  t.equal(toHex(ring.get('acme', 'vault', 1)), '01'.repeat(32), 'the old version still reads')
  t.equal(ring.active('acme', 'audit').version, 1, 'other purposes are untouched')
  t.end()
})

t.test('every refusal is an exact code and changes nothing', (t) => {
  const ring = createKeyRing()
  ring.add(info('acme', 'vault', 1, 'readable'), keyBytes(1))
  ring.add(info('acme', 'vault', 2, 'active'), keyBytes(2))
  ring.add(info('acme', 'vault', 3, 'pending'), keyBytes(3))
  const before = ring.list()
  const cases: [string, () => unknown, string][] = [
    [
      'a duplicate version',
      () => {
        ring.add(info('acme', 'vault', 1, 'pending'), keyBytes(4))
      },
      'ERR_KEYS_VERSION_CONFLICT',
    ],
    [
      'a duplicate of the active version',
      () => {
        ring.add(info('acme', 'vault', 2, 'active'), keyBytes(4))
      },
      'ERR_KEYS_VERSION_CONFLICT',
    ],
    [
      'a second active version',
      () => {
        ring.add(info('acme', 'vault', 4, 'active'), keyBytes(4))
      },
      'ERR_KEYS_VERSION_CONFLICT',
    ],
    [
      'activating the active version',
      () => {
        ring.activate('acme', 'vault', 2)
      },
      'ERR_KEYS_VERSION_CONFLICT',
    ],
    [
      'activating a readable version',
      () => {
        ring.activate('acme', 'vault', 1)
      },
      'ERR_KEYS_VERSION_CONFLICT',
    ],
    [
      'retiring the active version',
      () => {
        ring.retire('acme', 'vault', 2)
      },
      'ERR_KEYS_VERSION_CONFLICT',
    ],
    ['get of an unknown version', () => ring.get('acme', 'vault', 9), 'ERR_KEYS_UNKNOWN'],
    ['get of an unknown tenant', () => ring.get('beta', 'vault', 1), 'ERR_KEYS_UNKNOWN'],
    ['get of an unknown purpose', () => ring.get('acme', 'audit', 1), 'ERR_KEYS_UNKNOWN'],
    ['active with none', () => ring.active('acme', 'fingerprint'), 'ERR_KEYS_UNKNOWN'],
    [
      'activating an unknown version',
      () => {
        ring.activate('acme', 'vault', 9)
      },
      'ERR_KEYS_UNKNOWN',
    ],
    [
      'retiring an unknown version',
      () => {
        ring.retire('acme', 'vault', 9)
      },
      'ERR_KEYS_UNKNOWN',
    ],
  ]
  for (const [name, run, code] of cases) {
    t.equal(caughtCode(run), code, name)
    t.throws(run, { code: exactCode(code) }, name)
  }
  t.same(ring.list(), before, 'nothing changed')
  t.equal(toHex(ring.get('acme', 'vault', 1)), '01'.repeat(32))
  t.equal(toHex(ring.active('acme', 'vault').key), '02'.repeat(32))
  t.end()
})

t.test('the ring holds at most MAX_RING_KEYS versions', (t) => {
  t.equal(MAX_RING_KEYS, 2048)
  const ring = createKeyRing()
  for (let version = 1; version <= MAX_RING_KEYS; version += 1) {
    ring.add(info('acme', 'vault', version, 'readable'), keyBytes(1))
  }
  t.equal(ring.list().length, MAX_RING_KEYS)
  const extra = keyBytes(5)
  t.throws(
    () => {
      ring.add(info('acme', 'vault', MAX_RING_KEYS + 1, 'pending'), extra)
    },
    { code: exactCode('ERR_KEYS_LIMIT') },
  )
  t.equal(
    caughtCode(() => {
      ring.add(info('beta', 'audit', 1, 'active'), extra)
    }),
    'ERR_KEYS_LIMIT',
  )
  t.equal(
    caughtCode(() => {
      ring.add(info('acme', 'vault', 1, 'readable'), extra)
    }),
    'ERR_KEYS_VERSION_CONFLICT',
    'a duplicate is a conflict first',
  )
  t.equal(ring.list().length, MAX_RING_KEYS)
  t.equal(ring.latestVersion('acme', 'vault'), MAX_RING_KEYS)
  t.equal(toHex(extra), '05'.repeat(32), 'a refused key is left alone')
  ring.retire('acme', 'vault', 1)
  ring.add(info('beta', 'audit', 1, 'active'), extra)
  t.equal(ring.list().length, MAX_RING_KEYS, 'room again after a retirement')
  t.end()
})

t.test('retire removes a version and zeroes its bytes', (t) => {
  const ring = createKeyRing()
  const readable = keyBytes(1)
  const active = keyBytes(2)
  const pending = keyBytes(3)
  ring.add(info('acme', 'vault', 1, 'readable'), readable)
  ring.add(info('acme', 'vault', 2, 'active'), active)
  ring.add(info('acme', 'vault', 3, 'pending'), pending)
  ring.retire('acme', 'vault', 1)
  t.equal(isZero(readable), true, 'the readable key bytes are zeros')
  t.equal(readable.byteLength, 32)
  ring.retire('acme', 'vault', 3)
  t.equal(isZero(pending), true, 'a pending version can be retired too')
  t.equal(toHex(active), '02'.repeat(32), 'the active key is untouched')
  t.same(ring.list(), [info('acme', 'vault', 2, 'active')])
  t.equal(
    caughtCode(() => ring.get('acme', 'vault', 1)),
    'ERR_KEYS_UNKNOWN',
  )
  t.equal(
    caughtCode(() => {
      ring.retire('acme', 'vault', 1)
    }),
    'ERR_KEYS_UNKNOWN',
    'retired once',
  )
  ring.add(info('acme', 'vault', 1, 'readable'), keyBytes(8))
  t.equal(toHex(ring.get('acme', 'vault', 1)), '08'.repeat(32), 'the version can be added again')
  t.end()
})

t.test('list orders by tenant, purpose and version', (t) => {
  const ring = createKeyRing()
  t.same(ring.list(), [])
  ring.add(info('beta', 'vault', 10, 'readable'), keyBytes(1))
  ring.add(info('acme', 'vault', 2, 'active'), keyBytes(1))
  ring.add(info('beta', 'audit', 1, 'active'), keyBytes(1))
  ring.add(info('acme', 'vault', 10, 'pending'), keyBytes(1))
  ring.add(info('acme', 'tokenization', 3, 'active'), keyBytes(1))
  ring.add(info('beta', 'vault', 9, 'active'), keyBytes(1))
  ring.add(info('acme', 'fingerprint', 1, 'active'), keyBytes(1))
  ring.add(info('acme', 'vault', 1, 'readable'), keyBytes(1))
  t.same(ring.list(), [
    info('acme', 'fingerprint', 1, 'active'),
    info('acme', 'tokenization', 3, 'active'),
    info('acme', 'vault', 1, 'readable'),
    info('acme', 'vault', 2, 'active'),
    info('acme', 'vault', 10, 'pending'),
    info('beta', 'audit', 1, 'active'),
    info('beta', 'vault', 9, 'active'),
    info('beta', 'vault', 10, 'readable'),
  ])
  t.end()
})

t.test('wipe zeroes every key and empties the ring', (t) => {
  const ring = createKeyRing()
  const readable = keyBytes(1)
  const active = keyBytes(2)
  const pending = keyBytes(3)
  ring.add(info('acme', 'vault', 1, 'readable'), readable)
  ring.add(info('acme', 'vault', 2, 'active'), active)
  ring.add(info('beta', 'audit', 1, 'pending'), pending)
  const keys = [readable, active, pending]
  ring.wipe()
  t.same(
    keys.map((key) => isZero(key) && key.byteLength === 32),
    [true, true, true],
  )
  t.same(ring.list(), [])
  t.equal(ring.latestVersion('acme', 'vault'), 0)
  t.equal(
    caughtCode(() => ring.active('acme', 'vault')),
    'ERR_KEYS_UNKNOWN',
  )
  ring.wipe()
  ring.add(info('acme', 'vault', 1, 'active'), keyBytes(4))
  t.equal(ring.active('acme', 'vault').version, 1, 'usable after a wipe')
  t.end()
})

t.test('keyRingContext names the use, tenant, purpose and version', (t) => {
  t.same(keyRingContext('acme', 'tokenization', 3), {
    'cloister:use': 'key-ring',
    'cloister:tenant': 'acme',
    'cloister:purpose': 'tokenization',
    'cloister:version': '3',
  })
  t.strictSame(Object.keys(keyRingContext('b', 'audit', 2_147_483_647)), [
    'cloister:use',
    'cloister:tenant',
    'cloister:purpose',
    'cloister:version',
  ])
  t.equal(keyRingContext('b', 'audit', 2_147_483_647)['cloister:version'], '2147483647')
  t.end()
})

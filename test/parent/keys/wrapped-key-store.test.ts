import { join } from 'node:path'
import Database from 'better-sqlite3'
import t, { type Test } from 'tap'
import {
  openWrappedKeyStore,
  type StoredReleaseRecord,
  type StoredRingKey,
} from '../../../parent/keys/wrapped-key-store.js'
import { hexBytes } from '../../helpers/hex-bytes.js'

/** A fresh store file in the test's own directory. */
const storePath = (t: Test) => join(t.testdir(), 'wrapped-keys.db')

/** A blob standing in for a KMS ciphertext blob: `length` bytes, each `fill`. */
const blob = (fill: number, length = 16) => new Uint8Array(length).fill(fill)

const ring = (
  tenant: string,
  purpose: StoredRingKey['purpose'],
  version: number,
  state: StoredRingKey['state'],
  fill: number,
): StoredRingKey => ({ tenant, purpose, version, state, ciphertextBlob: blob(fill) })

const FULL: StoredReleaseRecord = {
  at: 1_700_000_000_000,
  op: 'keys.release',
  keyId: 'bk-0123456789abcdef0123456789abcdef',
  decision: 'released',
  code: null,
  moduleId: 'i-0123456789abcdef0-enc0123456789abcdef',
  pcr0: new Uint8Array(48).fill(0xab),
  format: 'jwe',
}

const DENIED: StoredReleaseRecord = {
  at: 1_700_000_000_001,
  op: 'keys.release',
  keyId: 'bk-0123456789abcdef0123456789abcdef',
  decision: 'denied',
  code: 'ERR_ATTESTATION_PCR_MISMATCH',
  moduleId: null,
  pcr0: null,
  format: null,
}

const MINIMAL: StoredReleaseRecord = {
  at: 0,
  op: 'keys.create',
  keyId: 'bk-ffffffffffffffffffffffffffffffff',
  decision: 'created',
  code: null,
  moduleId: null,
  pcr0: null,
  format: null,
}

t.test('a new store is empty', (t) => {
  const store = openWrappedKeyStore(storePath(t))
  t.same(store.ringKeys(), [])
  t.same(store.brokerKeys(), [])
  t.same(store.releases(), [])
  t.equal(store.dropPending(), 0)
  store.close()
  t.end()
})

t.test('pending versions become active, and the active one readable', (t) => {
  const store = openWrappedKeyStore(storePath(t))
  store.addPending({ tenant: 'acme', purpose: 'vault', version: 1, ciphertextBlob: blob(1) }, 10)
  t.strictSame(store.ringKeys(), [ring('acme', 'vault', 1, 'pending', 1)])
  store.activate('acme', 'vault', 1)
  t.strictSame(store.ringKeys(), [ring('acme', 'vault', 1, 'active', 1)], 'none active before')

  store.addPending({ tenant: 'acme', purpose: 'vault', version: 2, ciphertextBlob: blob(2) }, 20)
  store.addPending({ tenant: 'acme', purpose: 'audit', version: 1, ciphertextBlob: blob(3) }, 30)
  store.activate('acme', 'vault', 2)
  t.strictSame(store.ringKeys(), [
    ring('acme', 'audit', 1, 'pending', 3),
    ring('acme', 'vault', 1, 'readable', 1),
    ring('acme', 'vault', 2, 'active', 2),
  ])
  store.close()
  t.end()
})

t.test('activating a version that is not pending throws and changes nothing', (t) => {
  const store = openWrappedKeyStore(storePath(t))
  store.addPending({ tenant: 'acme', purpose: 'vault', version: 1, ciphertextBlob: blob(1) }, 10)
  store.activate('acme', 'vault', 1)
  store.addPending({ tenant: 'acme', purpose: 'vault', version: 2, ciphertextBlob: blob(2) }, 20)
  const before = store.ringKeys()
  t.throws(
    () => {
      store.activate('acme', 'vault', 9)
    },
    { message: /^no such pending version$/ },
    'an unknown version',
  )
  t.strictSame(store.ringKeys(), before, 'the demotion was rolled back')
  t.throws(
    () => {
      store.activate('acme', 'vault', 1)
    },
    { message: /^no such pending version$/ },
    'the active version itself',
  )
  t.throws(
    () => {
      store.activate('beta', 'vault', 2)
    },
    { message: /^no such pending version$/ },
    'another tenant',
  )
  t.strictSame(store.ringKeys(), before)
  t.strictSame(store.ringKeys()[0], ring('acme', 'vault', 1, 'active', 1))
  store.close()
  t.end()
})

t.test('retire marks a version retired, never the active one', (t) => {
  const store = openWrappedKeyStore(storePath(t))
  for (const version of [1, 2, 3]) {
    store.addPending(
      { tenant: 'acme', purpose: 'vault', version, ciphertextBlob: blob(version) },
      1,
    )
    store.activate('acme', 'vault', version)
  }
  store.addPending({ tenant: 'acme', purpose: 'vault', version: 4, ciphertextBlob: blob(4) }, 1)
  store.retire('acme', 'vault', 1)
  store.retire('acme', 'vault', 3)
  store.retire('acme', 'vault', 4)
  store.retire('acme', 'vault', 99)
  t.strictSame(store.ringKeys(), [
    ring('acme', 'vault', 1, 'retired', 1),
    ring('acme', 'vault', 2, 'readable', 2),
    ring('acme', 'vault', 3, 'active', 3),
    ring('acme', 'vault', 4, 'retired', 4),
  ])
  store.close()
  t.end()
})

t.test('dropPending forgets pending versions only and counts them', (t) => {
  const store = openWrappedKeyStore(storePath(t))
  store.addPending({ tenant: 'acme', purpose: 'vault', version: 1, ciphertextBlob: blob(1) }, 1)
  store.activate('acme', 'vault', 1)
  store.addPending({ tenant: 'acme', purpose: 'vault', version: 2, ciphertextBlob: blob(2) }, 2)
  store.addPending({ tenant: 'beta', purpose: 'audit', version: 1, ciphertextBlob: blob(3) }, 3)
  t.equal(store.dropPending(), 2)
  t.strictSame(store.ringKeys(), [ring('acme', 'vault', 1, 'active', 1)])
  t.equal(store.dropPending(), 0)
  store.addPending({ tenant: 'acme', purpose: 'vault', version: 2, ciphertextBlob: blob(5) }, 4)
  t.strictSame(store.ringKeys()[1], ring('acme', 'vault', 2, 'pending', 5), 'the version is free')
  store.close()
  t.end()
})

t.test('a version is stored once', (t) => {
  const store = openWrappedKeyStore(storePath(t))
  const key = { tenant: 'acme', purpose: 'vault', version: 1, ciphertextBlob: blob(1) } as const
  store.addPending(key, 1)
  t.throws(
    () => {
      store.addPending({ ...key, ciphertextBlob: blob(2) }, 2)
    },
    { code: /^SQLITE_CONSTRAINT_PRIMARYKEY$/ },
  )
  t.throws(
    () => {
      store.addPending({ ...key, version: 0 }, 2)
    },
    { code: /^SQLITE_CONSTRAINT_CHECK$/ },
    'versions start at 1',
  )
  t.strictSame(store.ringKeys(), [ring('acme', 'vault', 1, 'pending', 1)])
  store.close()
  t.end()
})

t.test('broker keys are stored and listed by id', (t) => {
  const store = openWrappedKeyStore(storePath(t))
  const second = {
    keyId: 'bk-ffffffffffffffffffffffffffffffff',
    policy: hexBytes('a1'),
    ciphertextBlob: blob(2, 200),
  }
  const first = {
    keyId: 'bk-00000000000000000000000000000000',
    policy: hexBytes('a26370637230405f'),
    ciphertextBlob: blob(1),
  }
  store.addBrokerKey(second, 2)
  store.addBrokerKey(first, 1)
  t.strictSame(store.brokerKeys(), [first, second])
  t.throws(
    () => {
      store.addBrokerKey({ ...first, policy: hexBytes('a0') }, 3)
    },
    { code: /^SQLITE_CONSTRAINT_PRIMARYKEY$/ },
  )
  t.strictSame(store.brokerKeys(), [first, second])
  store.close()
  t.end()
})

t.test('release records are appended and read back exactly, in order', (t) => {
  const store = openWrappedKeyStore(storePath(t))
  store.appendRelease(MINIMAL)
  store.appendRelease(FULL)
  store.appendRelease(DENIED)
  store.appendRelease(MINIMAL)
  t.strictSame(store.releases(), [MINIMAL, FULL, DENIED, MINIMAL])
  store.close()
  t.end()
})

t.test('the audit log is append-only, even through SQL', (t) => {
  const path = storePath(t)
  const store = openWrappedKeyStore(path)
  store.appendRelease(FULL)
  const raw = new Database(path)
  t.throws(() => raw.prepare("UPDATE release_audit SET decision = 'denied'").run(), {
    message: /^the audit log is append-only$/,
  })
  t.throws(() => raw.prepare('DELETE FROM release_audit').run(), {
    message: /^the audit log is append-only$/,
  })
  raw.close()
  t.strictSame(store.releases(), [FULL])
  store.close()
  t.end()
})

t.test('one active version per tenant and purpose, even through SQL', (t) => {
  const path = storePath(t)
  const store = openWrappedKeyStore(path)
  store.addPending({ tenant: 'acme', purpose: 'vault', version: 1, ciphertextBlob: blob(1) }, 1)
  store.activate('acme', 'vault', 1)
  store.addPending({ tenant: 'acme', purpose: 'vault', version: 2, ciphertextBlob: blob(2) }, 2)
  store.addPending({ tenant: 'acme', purpose: 'audit', version: 1, ciphertextBlob: blob(3) }, 3)
  const raw = new Database(path)
  t.throws(() => raw.prepare("UPDATE ring_keys SET state = 'active' WHERE version = 2").run(), {
    code: /^SQLITE_CONSTRAINT_UNIQUE$/,
  })
  t.throws(
    () => raw.prepare("UPDATE ring_keys SET state = 'lost' WHERE version = 2").run(),
    { code: /^SQLITE_CONSTRAINT_CHECK$/ },
    'only the four states',
  )
  raw.prepare("UPDATE ring_keys SET state = 'active' WHERE purpose = 'audit'").run()
  t.equal(
    (raw.pragma('journal_mode', { simple: true }) as string).toLowerCase(),
    'wal',
    'the store is in WAL mode',
  )
  raw.close()
  t.strictSame(store.ringKeys(), [
    ring('acme', 'audit', 1, 'active', 3),
    ring('acme', 'vault', 1, 'active', 1),
    ring('acme', 'vault', 2, 'pending', 2),
  ])
  store.close()
  t.end()
})

t.test('everything persists across reopening', (t) => {
  const path = storePath(t)
  const store = openWrappedKeyStore(path)
  store.addPending({ tenant: 'acme', purpose: 'vault', version: 1, ciphertextBlob: blob(1) }, 1)
  store.activate('acme', 'vault', 1)
  store.addPending({ tenant: 'acme', purpose: 'vault', version: 2, ciphertextBlob: blob(2) }, 2)
  const broker = { keyId: 'bk-0123', policy: hexBytes('a0'), ciphertextBlob: blob(9) }
  store.addBrokerKey(broker, 3)
  store.appendRelease(FULL)
  store.close()

  const again = openWrappedKeyStore(path)
  t.strictSame(again.ringKeys(), [
    ring('acme', 'vault', 1, 'active', 1),
    ring('acme', 'vault', 2, 'pending', 2),
  ])
  t.strictSame(again.brokerKeys(), [broker])
  t.strictSame(again.releases(), [FULL])
  again.activate('acme', 'vault', 2)
  again.appendRelease(DENIED)
  again.close()

  const third = openWrappedKeyStore(path)
  t.strictSame(third.ringKeys(), [
    ring('acme', 'vault', 1, 'readable', 1),
    ring('acme', 'vault', 2, 'active', 2),
  ])
  t.strictSame(third.releases(), [FULL, DENIED])
  third.close()
  t.end()
})

/** The enclave's key store: all-or-nothing loads through attested KMS, rotation, broker keys. */

import t from 'tap'
import type { KmsAccess } from '../../../enclave/kms/attested-kms.js'
import { brokerKeyContext, createKeyStore } from '../../../enclave/keys/key-store.js'
import { keyRingContext } from '../../../enclave/keys/key-ring.js'
import { CloisterError } from '../../../shared/errors/cloister-error.js'
import type { KmsConfiguration } from '../../../shared/image/enclave-configuration.js'
import { MAX_BROKER_KEYS, MAX_KEY_VERSION } from '../../../shared/keys/key-names.js'
import type { OpRequest } from '../../../shared/protocol/ops.js'
import { createFakeAttestedKms, type FakeAttestedKms } from '../../fakes/fake-attested-kms.js'
import { exactCode } from '../../helpers/exact-code.js'

const CONFIGURATION: KmsConfiguration = {
  keyArn: 'arn:aws:kms:us-east-1:000000000000:key/11111111-2222-3333-4444-555555555555',
  region: 'us-east-1',
  serverName: 'localhost',
  trustAnchors: [],
}
const ACCESS: KmsAccess = { port: 4599, accessKeyId: 'AKIAEXAMPLE', secretAccessKey: 'secret' }

/** The item at `index`, which the test knows is there. */
function itemAt<T>(items: readonly T[], index: number): T {
  const item = items[index]
  if (item === undefined) throw new Error(`no item ${String(index)}`)
  return item
}

function storeWith(kms: FakeAttestedKms = createFakeAttestedKms()) {
  const connected: KmsAccess[] = []
  let counter = 0
  const store = createKeyStore({
    configuration: CONFIGURATION,
    connect: (access) => {
      connected.push(access)
      return kms
    },
    random: (length) => {
      const bytes = new Uint8Array(length)
      new DataView(bytes.buffer).setUint32(0, (counter += 1))
      return bytes
    },
  })
  return { store, kms, connected }
}

/** Blobs as a previous boot of the enclave would have made them. */
async function blobsFrom(kms: FakeAttestedKms) {
  const first = await kms.generateDataKey(keyRingContext('acme', 'vault', 1))
  const second = await kms.generateDataKey(keyRingContext('acme', 'vault', 2))
  const policy = Uint8Array.of(1, 2, 3)
  const broker = await kms.generateDataKey(brokerKeyContext(`bk-${'0'.repeat(32)}`, policy))
  const request: OpRequest<'keys.load'> = {
    kms: ACCESS,
    ring: [
      {
        tenant: 'acme',
        purpose: 'vault',
        version: 1,
        state: 'readable',
        ciphertextBlob: first.ciphertextBlob,
      },
      {
        tenant: 'acme',
        purpose: 'vault',
        version: 2,
        state: 'active',
        ciphertextBlob: second.ciphertextBlob,
      },
    ],
    broker: [{ keyId: `bk-${'0'.repeat(32)}`, policy, ciphertextBlob: broker.ciphertextBlob }],
  }
  return { request, first: first.key, second: second.key, broker: broker.key, policy }
}

t.test('nothing works before a load, and without a KMS configuration nothing loads', async (t) => {
  const { store } = storeWith()
  t.strictSame(store.list(), { loaded: false, ring: [], broker: [] })
  t.throws(() => store.ring(), { code: exactCode('ERR_KEYS_NOT_LOADED') })
  t.throws(() => store.brokerKey(`bk-${'0'.repeat(32)}`), {
    code: exactCode('ERR_KEYS_NOT_LOADED'),
  })
  t.throws(() => store.activate('acme', 'vault', 1), { code: exactCode('ERR_KEYS_NOT_LOADED') })
  t.throws(() => store.retire('acme', 'vault', 1), { code: exactCode('ERR_KEYS_NOT_LOADED') })
  await t.rejects(store.rotate('acme', 'vault'), { code: exactCode('ERR_KEYS_NOT_LOADED') })
  await t.rejects(store.createBrokerKey(Uint8Array.of(1)), {
    code: exactCode('ERR_KEYS_NOT_LOADED'),
  })
  const unconfigured = createKeyStore({
    configuration: undefined,
    connect: () => createFakeAttestedKms(),
    random: (length) => new Uint8Array(length),
  })
  await t.rejects(unconfigured.load({ kms: ACCESS, ring: [], broker: [] }), {
    code: exactCode('ERR_KMS_NOT_CONFIGURED'),
  })
})

t.test('a load opens every blob under its own context and keeps the versions', async (t) => {
  const { store, kms, connected } = storeWith()
  const blobs = await blobsFrom(kms)
  t.strictSame(await store.load(blobs.request), { loaded: 3 })
  t.strictSame(connected, [ACCESS])
  t.strictSame(store.ring().active('acme', 'vault'), { version: 2, key: blobs.second })
  t.strictSame(store.ring().get('acme', 'vault', 1), blobs.first)
  t.strictSame(store.brokerKey(`bk-${'0'.repeat(32)}`), { key: blobs.broker, policy: blobs.policy })
  t.strictSame(store.list(), {
    loaded: true,
    ring: [
      { tenant: 'acme', purpose: 'vault', version: 1, state: 'readable' },
      { tenant: 'acme', purpose: 'vault', version: 2, state: 'active' },
    ],
    broker: [`bk-${'0'.repeat(32)}`],
  })
  t.throws(() => store.brokerKey(`bk-${'f'.repeat(32)}`), { code: exactCode('ERR_KEYS_UNKNOWN') })
  // A second load could swap the ring under running operations.
  await t.rejects(store.load(blobs.request), { code: exactCode('ERR_KEYS_VERSION_CONFLICT') })
})

t.test('a blob stored under another name is refused and the load changes nothing', async (t) => {
  const { store, kms } = storeWith()
  const blobs = await blobsFrom(kms)
  const swapped = {
    ...blobs.request,
    ring: [
      itemAt(blobs.request.ring, 0),
      // Version 2's blob presented as another tenant's.
      { ...itemAt(blobs.request.ring, 1), tenant: 'other' },
    ],
  }
  await t.rejects(store.load(swapped), { code: exactCode('ERR_KEYS_CONTEXT_MISMATCH') })
  t.strictSame(store.list(), { loaded: false, ring: [], broker: [] })
  // The version opened before the refusal was wiped.
  t.ok(
    blobs.first.some((byte) => byte !== 0),
    'the caller-side copy is distinct',
  )
  const otherPolicy = {
    ...blobs.request,
    broker: [{ ...itemAt(blobs.request.broker, 0), policy: Uint8Array.of(9) }],
  }
  await t.rejects(store.load(otherPolicy), { code: exactCode('ERR_KEYS_CONTEXT_MISMATCH') })
  const twice = {
    ...blobs.request,
    broker: [itemAt(blobs.request.broker, 0), itemAt(blobs.request.broker, 0)],
  }
  await t.rejects(store.load(twice), { code: exactCode('ERR_KEYS_VERSION_CONFLICT') })
  const twoActive = {
    ...blobs.request,
    ring: blobs.request.ring.map((entry) => ({ ...entry, state: 'active' as const })),
  }
  await t.rejects(store.load(twoActive), { code: exactCode('ERR_KEYS_VERSION_CONFLICT') })
  // After all these refusals a correct load still succeeds: nothing was left half-loaded.
  t.strictSame(await store.load(blobs.request), { loaded: 3 })
})

t.test('loads do not overlap', async (t) => {
  const { store } = storeWith()
  const first = store.load({ kms: ACCESS, ring: [], broker: [] })
  await t.rejects(store.load({ kms: ACCESS, ring: [], broker: [] }), {
    code: exactCode('ERR_KEYS_VERSION_CONFLICT'),
  })
  t.strictSame(await first, { loaded: 0 })
})

t.test('rotation makes a pending version that is used only once activated', async (t) => {
  const { store, kms } = storeWith()
  await store.load({ kms: ACCESS, ring: [], broker: [] })
  const made = await store.rotate('acme', 'tokenization')
  t.equal(made.version, 1)
  const opened = await kms.decryptDataKey(
    made.ciphertextBlob,
    keyRingContext('acme', 'tokenization', 1),
  )
  t.throws(() => store.ring().active('acme', 'tokenization'), {
    code: exactCode('ERR_KEYS_UNKNOWN'),
  })
  store.activate('acme', 'tokenization', 1)
  t.strictSame(store.ring().active('acme', 'tokenization'), { version: 1, key: opened })
  const next = await store.rotate('acme', 'tokenization')
  t.equal(next.version, 2)
  store.activate('acme', 'tokenization', 2)
  const old = store.ring().get('acme', 'tokenization', 1)
  store.retire('acme', 'tokenization', 1)
  t.ok(
    old.every((byte) => byte === 0),
    'a retired version is wiped',
  )
  t.throws(() => store.ring().get('acme', 'tokenization', 1), {
    code: exactCode('ERR_KEYS_UNKNOWN'),
  })
  kms.failWith = new CloisterError('ERR_KMS_ACCESS_DENIED')
  await t.rejects(store.rotate('acme', 'tokenization'), {
    code: exactCode('ERR_KMS_ACCESS_DENIED'),
  })
})

t.test('concurrent rotations of one key: the later one is refused and its key wiped', async (t) => {
  const { store, kms } = storeWith()
  await store.load({ kms: ACCESS, ring: [], broker: [] })
  const keys: Uint8Array[] = []
  const generate = kms.generateDataKey.bind(kms)
  kms.generateDataKey = async (context) => {
    const made = await generate(context)
    keys.push(made.key)
    return made
  }
  const results = await Promise.allSettled([
    store.rotate('acme', 'audit'),
    store.rotate('acme', 'audit'),
  ])
  t.equal(results[0].status, 'fulfilled')
  t.match(results[1], {
    status: 'rejected',
    reason: { code: exactCode('ERR_KEYS_VERSION_CONFLICT') },
  })
  t.ok(itemAt(keys, 1).every((byte) => byte === 0))
})

t.test('versions stop at the maximum', async (t) => {
  const { store } = storeWith()
  await store.load({ kms: ACCESS, ring: [], broker: [] })
  store
    .ring()
    .add(
      { tenant: 'acme', purpose: 'audit', version: MAX_KEY_VERSION, state: 'readable' },
      new Uint8Array(32),
    )
  await t.rejects(store.rotate('acme', 'audit'), { code: exactCode('ERR_KEYS_LIMIT') })
})

t.test('broker keys carry their policy into the KMS context', async (t) => {
  const { store, kms } = storeWith()
  await store.load({ kms: ACCESS, ring: [], broker: [] })
  const policy = Uint8Array.of(7, 7)
  const created = await store.createBrokerKey(policy)
  t.equal(created.keyId, `bk-00000001${'0'.repeat(24)}`)
  const key = await kms.decryptDataKey(
    created.ciphertextBlob,
    brokerKeyContext(created.keyId, policy),
  )
  t.strictSame(store.brokerKey(created.keyId), { key, policy })
  t.strictSame(brokerKeyContext(created.keyId, policy), {
    'cloister:use': 'broker',
    'cloister:key': created.keyId,
    // SHA-256 of 07 07
    'cloister:policy': 'c7b99f1c681eaad2096f54c0380b8f950fa5cbe47cb3695ed590167c0dfff315',
  })
  kms.failWith = new CloisterError('ERR_KMS_UNREACHABLE')
  await t.rejects(store.createBrokerKey(policy), { code: exactCode('ERR_KMS_UNREACHABLE') })
  kms.failWith = undefined
  for (let index = 1; index < MAX_BROKER_KEYS; index += 1) await store.createBrokerKey(policy)
  await t.rejects(store.createBrokerKey(policy), { code: exactCode('ERR_KEYS_LIMIT') })
})

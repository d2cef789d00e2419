/** The key broker: created keys, challenges and releases, each decision audited with its code. */

import { generateKeyPairSync } from 'node:crypto'
import t from 'tap'
import { createChallenges } from '../../../enclave/broker/challenges.js'
import { createKeyBroker, type ReleaseAuditRecord } from '../../../enclave/broker/key-broker.js'
import { encodeReleasePolicy } from '../../../enclave/broker/release-policy.js'
import { createKeyStore } from '../../../enclave/keys/key-store.js'
import { createCertificateCache } from '../../../shared/attestation/certificate-cache.js'
import { asBytes } from '../../../shared/bytes/bytes.js'
import { openEnvelopedData } from '../../../shared/cms/open-enveloped-data.js'
import { createFakeAttestedKms } from '../../fakes/fake-attested-kms.js'
import { createTestPki, forgeDocument, pcrOf } from '../../fakes/test-pki.js'
import { exactCode } from '../../helpers/exact-code.js'

const pki = await createTestPki()
const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 })
const spki = asBytes(rsa.publicKey.export({ format: 'der', type: 'spki' }))
const policy = encodeReleasePolicy({
  pcrs: [new Map([[0, pcrOf(1)]])],
  maxAgeMs: 60_000,
  requireNonce: true,
})

async function brokerWith() {
  const records: ReleaseAuditRecord[] = []
  const kms = createFakeAttestedKms()
  const store = createKeyStore({
    configuration: {
      keyArn: 'arn',
      region: 'us-east-1',
      serverName: 'localhost',
      trustAnchors: [],
    },
    connect: () => kms,
    random: (length) => new Uint8Array(length).fill(0xab),
  })
  await store.load({
    kms: { port: 1, accessKeyId: 'AKIA', secretAccessKey: 'secret' },
    ring: [],
    broker: [],
  })
  const broker = createKeyBroker({
    store,
    challenges: createChallenges({
      clock: () => pki.now,
      random: (length) => new Uint8Array(length).fill(7),
    }),
    clock: () => pki.now,
    trustedRoots: pki.roots,
    cache: createCertificateCache(),
    audit: (record) => records.push(record),
  })
  return { broker, store, records }
}

t.test('a created key is released to an admitted enclave, and both are audited', async (t) => {
  const { broker, store, records } = await brokerWith()
  const { keyId } = await broker.create(policy)
  t.equal(keyId, `bk-${'ab'.repeat(16)}`)
  const { nonce, expiresAt } = broker.challenge()
  t.equal(expiresAt, pki.now + 60_000)
  const document = forgeDocument({ pki, fields: { public_key: spki, nonce } })
  const released = broker.release({ keyId, document, nonce })
  t.equal(released.format, 'cms')
  t.strictSame(openEnvelopedData(released.envelope, rsa.privateKey), store.brokerKey(keyId).key)
  t.strictSame(records, [
    { at: pki.now, op: 'keys.create', keyId, decision: 'created' },
    {
      at: pki.now,
      op: 'keys.release',
      keyId,
      decision: 'released',
      moduleId: 'i-0123456789abcdef0-enc0123456789abcdef',
      pcr0: pcrOf(1),
      format: 'cms',
    },
  ])
})

t.test('denials are audited with their exact code, and an unknown key too', async (t) => {
  const { broker, records } = await brokerWith()
  const { keyId } = await broker.create(policy)
  const { nonce } = broker.challenge()
  const document = forgeDocument({ pki, fields: { public_key: spki, nonce } })
  t.throws(() => broker.release({ keyId, document }), {
    code: exactCode('ERR_RELEASE_NONCE_REQUIRED'),
  })
  broker.release({ keyId, document, nonce })
  t.throws(() => broker.release({ keyId, document, nonce }), {
    code: exactCode('ERR_RELEASE_NONCE_REUSED'),
  })
  const unknown = `bk-${'cd'.repeat(16)}`
  t.throws(() => broker.release({ keyId: unknown, document, nonce }), {
    code: exactCode('ERR_KEYS_UNKNOWN'),
  })
  t.strictSame(
    records.filter((record) => record.decision === 'denied'),
    [
      {
        at: pki.now,
        op: 'keys.release',
        keyId,
        decision: 'denied',
        code: 'ERR_RELEASE_NONCE_REQUIRED',
      },
      {
        at: pki.now,
        op: 'keys.release',
        keyId,
        decision: 'denied',
        code: 'ERR_RELEASE_NONCE_REUSED',
      },
      {
        at: pki.now,
        op: 'keys.release',
        keyId: unknown,
        decision: 'denied',
        code: 'ERR_KEYS_UNKNOWN',
      },
    ],
  )
})

t.test('an invalid release policy creates nothing', async (t) => {
  const { broker, store, records } = await brokerWith()
  await t.rejects(broker.create(Uint8Array.of(0xa0)), {
    code: exactCode('ERR_RELEASE_POLICY_INVALID'),
  })
  t.strictSame(store.list().broker, [])
  t.strictSame(records, [])
})

t.test('an unexpected failure is audited as internal', async (t) => {
  const { broker, store, records } = await brokerWith()
  const { keyId } = await broker.create(policy)
  store.brokerKey = () => {
    throw new Error('boom')
  }
  t.throws(() => broker.release({ keyId, document: Uint8Array.of(1) }), { message: 'boom' })
  t.match(records.at(-1), { decision: 'denied', code: 'ERR_ENCLAVE_INTERNAL' })
})

/** The whole local stack: a sandboxed enclave that gets its keys from KMS only as measured code, keeps them across restarts, and releases broker keys. */

import { execFileSync, spawnSync } from 'node:child_process'
import { generateKeyPairSync, randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t, { type Test } from 'tap'
import { encodeReleasePolicy } from '../../../enclave/broker/release-policy.js'
import { loadKeyRing } from '../../../parent/keys/load-key-ring.js'
import { startLocalStack } from '../../../parent/local/start-local-stack.js'
import { buildEnclaveBundle } from '../../../parent/sim/build-enclave-bundle.js'
import { hasBubblewrap } from '../../../parent/sim/launch-enclave.js'
import { createSimulatedNsm } from '../../../parent/sim/nsm/simulated-nsm.js'
import { openSimPki } from '../../../parent/sim/sim-pki.js'
import { startSimulatedEnclave } from '../../../parent/sim/start-simulated-enclave.js'
import { openKmsState } from '../../../parent/kms/state/kms-state.js'
import { asBytes } from '../../../shared/bytes/bytes.js'
import { openEnvelopedData } from '../../../shared/cms/open-enveloped-data.js'
import type { ErrorCode } from '../../../shared/errors/catalog.js'
import { KEY_PURPOSES } from '../../../shared/keys/key-names.js'
import { exactCode } from '../../helpers/exact-code.js'

const sandbox = hasBubblewrap() ? 'bubblewrap' : 'unshare'
const HAS_OPENSSL = spawnSync('openssl', ['version']).status === 0
const bundle = await buildEnclaveBundle()

function stateDirectory(t: Test): string {
  const directory = mkdtempSync(join(tmpdir(), 'cloister-stack-'))
  t.teardown(() => {
    rmSync(directory, { recursive: true, force: true })
  })
  return directory
}

/** A document from "another enclave" on this simulated host, carrying `publicKey` and `nonce`. */
async function requesterDocument(directory: string, publicKey: Uint8Array, nonce: Uint8Array) {
  const pki = await openSimPki(join(directory, 'sim'), Date.now())
  const nsm = createSimulatedNsm({
    pki,
    clock: () => Date.now(),
    random: (length) => new Uint8Array(randomBytes(length)),
    moduleId: 'i-0requester-enc0000000000000001',
    measurements: new Map([[0, new Uint8Array(48).fill(0x42)]]),
    roleArn: undefined,
    instanceId: 'i-0requester',
    debug: false,
  })
  const answer = await nsm.handle({ type: 'Attestation', userData: null, nonce, publicKey })
  if (answer.type !== 'Attestation') throw new Error('no document')
  return answer.document
}

t.test(
  'boots with keys from attested KMS, restarts with the same keys, releases to measured code',
  async (t) => {
    const directory = stateDirectory(t)
    const first = await startLocalStack({ stateDirectory: directory, sandbox, bundle })
    t.teardown(() => first.stop())
    t.equal(first.policyUpdated, true, 'a new key is pinned to the measurements')
    await first.supervisor.whenReady()
    const listed = await first.supervisor.call('keys.list', {})
    t.strictSame(
      listed.ring,
      KEY_PURPOSES.map((purpose) => ({
        tenant: 'default',
        purpose,
        version: 1,
        state: 'active',
      })).sort((a, b) => a.purpose.localeCompare(b.purpose)),
    )
    t.strictSame(
      first.store.ringKeys().map(({ purpose, version, state }) => [purpose, version, state]),
      [...KEY_PURPOSES].sort().map((purpose) => [purpose, 1, 'active']),
    )

    // A broker key for code measured as PCR0 = 42…42, released against a fresh nonce.
    const policy = encodeReleasePolicy({
      pcrs: [new Map([[0, new Uint8Array(48).fill(0x42)]])],
      maxAgeMs: 60_000,
      requireNonce: true,
    })
    const created = await first.supervisor.call('keys.create', { policy })
    first.store.addBrokerKey(
      { keyId: created.keyId, policy, ciphertextBlob: created.ciphertextBlob },
      Date.now(),
    )
    const requester = generateKeyPairSync('rsa', { modulusLength: 2048 })
    const spki = asBytes(requester.publicKey.export({ format: 'der', type: 'spki' }))
    const release = async (stack: typeof first) => {
      const { nonce } = await stack.supervisor.call('keys.challenge', {})
      const document = await requesterDocument(directory, spki, nonce)
      return stack.supervisor.call('keys.release', { keyId: created.keyId, document, nonce })
    }
    const released = await release(first)
    t.equal(released.format, 'cms')
    const { privateKey } = requester
    const releasedKey = openEnvelopedData(released.envelope, privateKey)
    t.equal(releasedKey.byteLength, 32)
    if (HAS_OPENSSL) {
      const work = stateDirectory(t)
      writeFileSync(join(work, 'key.pem'), privateKey.export({ format: 'pem', type: 'pkcs8' }))
      writeFileSync(join(work, 'envelope.der'), released.envelope)
      const opened = execFileSync('openssl', [
        'cms',
        '-decrypt',
        '-inform',
        'DER',
        '-in',
        join(work, 'envelope.der'),
        '-inkey',
        join(work, 'key.pem'),
      ])
      t.strictSame(
        asBytes(opened),
        releasedKey,
        'openssl cms -decrypt opens it with the requester key',
      )
      const other = generateKeyPairSync('rsa', { modulusLength: 2048 })
      writeFileSync(
        join(work, 'other.pem'),
        other.privateKey.export({ format: 'pem', type: 'pkcs8' }),
      )
      const refused = spawnSync('openssl', [
        'cms',
        '-decrypt',
        '-inform',
        'DER',
        '-in',
        join(work, 'envelope.der'),
        '-inkey',
        join(work, 'other.pem'),
      ])
      t.not(refused.status, 0, 'another private key cannot open it')
    }
    const audit = first.store.releases()
    t.match(audit, [
      { op: 'keys.create', keyId: created.keyId, decision: 'created' },
      {
        op: 'keys.release',
        keyId: created.keyId,
        decision: 'released',
        moduleId: 'i-0requester-enc0000000000000001',
        format: 'cms',
      },
    ])
    // A reused nonce is denied, and the denial is audited too.
    const { nonce } = await first.supervisor.call('keys.challenge', {})
    const document = await requesterDocument(directory, spki, nonce)
    await first.supervisor.call('keys.release', { keyId: created.keyId, document, nonce })
    await t.rejects(
      first.supervisor.call('keys.release', { keyId: created.keyId, document, nonce }),
      {
        code: exactCode('ERR_RELEASE_NONCE_REUSED'),
      },
    )
    await new Promise((resolve) => setTimeout(resolve, 50))
    t.match(first.store.releases().at(-1), { decision: 'denied', code: 'ERR_RELEASE_NONCE_REUSED' })
    await first.stop()

    // Restart: the same blobs, opened again through attested Decrypt; no new data key is made.
    const second = await startLocalStack({ stateDirectory: directory, sandbox, bundle })
    t.teardown(() => second.stop())
    t.equal(second.policyUpdated, false, 'the same measurements keep the policy')
    t.equal(second.keyArn, first.keyArn)
    await second.supervisor.whenReady()
    t.strictSame((await second.supervisor.call('keys.list', {})).ring, listed.ring)
    const again = await release(second)
    t.strictSame(openEnvelopedData(again.envelope, privateKey), releasedKey, 'the same broker key')
    await second.stop()
  },
)

t.test('an enclave in debug mode stays not ready: KMS denies it', async (t) => {
  const directory = stateDirectory(t)
  const failures: ErrorCode[] = []
  const stack = await startLocalStack({
    stateDirectory: directory,
    sandbox,
    bundle,
    debug: true,
    onBootFailure: (code) => failures.push(code),
  })
  t.teardown(() => stack.stop())
  while (failures.length === 0) await new Promise((resolve) => setTimeout(resolve, 50))
  t.equal(failures[0], 'ERR_KMS_ACCESS_DENIED')
  t.equal(stack.supervisor.lastBootFailure, 'ERR_KMS_ACCESS_DENIED')
  t.not(stack.supervisor.state, 'ready')
  await t.rejects(stack.supervisor.call('keys.list', {}), {
    code: exactCode('ERR_ENCLAVE_UNAVAILABLE'),
  })
})

t.test('an enclave built from a modified bundle is denied by KMS', async (t) => {
  const directory = stateDirectory(t)
  const stack = await startLocalStack({ stateDirectory: directory, sandbox, bundle })
  t.teardown(() => stack.stop())
  await stack.supervisor.whenReady()
  const modified = Uint8Array.from([...bundle, 0x0a]) // one byte more: another PCR0 and PCR2
  const enclave = await startSimulatedEnclave({
    stateDirectory: directory,
    sandbox,
    bundle: modified,
    kms: stack.kms,
    relayAllowList: [{ host: 'localhost', port: stack.kmsPort }],
  })
  t.teardown(() => enclave.stop())
  const credentials = await openKmsState(directory, Date.now())
  await t.rejects(
    loadKeyRing({
      client: enclave.client,
      store: stack.store,
      kms: {
        port: stack.kmsPort,
        accessKeyId: credentials.accessKeyId,
        secretAccessKey: credentials.secretAccessKey,
      },
      tenants: ['default'],
      clock: () => Date.now(),
    }),
    { code: exactCode('ERR_KMS_ACCESS_DENIED') },
  )
})

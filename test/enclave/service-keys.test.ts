/** The enclave's keys.* operations through dispatch: bytes in, typed answers or exact codes out. */

import t from 'tap'
import { createChallenges } from '../../enclave/broker/challenges.js'
import { createKeyBroker } from '../../enclave/broker/key-broker.js'
import { encodeReleasePolicy } from '../../enclave/broker/release-policy.js'
import { generateEnclaveKeys } from '../../enclave/keys/enclave-keys.js'
import { createKeyStore } from '../../enclave/keys/key-store.js'
import { createHandlers, dispatch } from '../../enclave/service.js'
import { createCertificateCache } from '../../shared/attestation/certificate-cache.js'
import { decodeReply, encodeRequest } from '../../shared/protocol/envelope.js'
import { decodeOpRequest, encodeBody, type OpName } from '../../shared/protocol/ops.js'
import { createFakeAttestedKms } from '../fakes/fake-attested-kms.js'
import { createTestPki, pcrOf } from '../fakes/test-pki.js'
import { exactCode } from '../helpers/exact-code.js'

const pki = await createTestPki()
const keyStore = createKeyStore({
  configuration: { keyArn: 'arn', region: 'us-east-1', serverName: 'localhost', trustAnchors: [] },
  connect: () => createFakeAttestedKms(),
  random: (length) => new Uint8Array(length).fill(0x11),
})
const clock = () => pki.now
const handlers = createHandlers({
  nsm: { request: () => Promise.reject(new Error('no NSM in this test')) },
  clock,
  keys: generateEnclaveKeys(),
  moduleId: 'i-0test-enc0000000000000001',
  sandbox: 'bubblewrap',
  pcrs: new Map(),
  trustedRoots: pki.roots,
  cache: createCertificateCache(),
  keyStore,
  broker: createKeyBroker({
    store: keyStore,
    challenges: createChallenges({ clock, random: (length) => new Uint8Array(length).fill(3) }),
    clock,
    trustedRoots: pki.roots,
    cache: createCertificateCache(),
    audit: () => undefined,
  }),
})

let id = 0
async function call(op: OpName, body: object) {
  id += 1
  const answer = await dispatch(handlers, encodeRequest({ id, op, body: encodeBody(body) }))
  return decodeReply(answer ?? new Uint8Array())
}

t.test('every keys operation answers through dispatch', async (t) => {
  const kms = { port: 4599, accessKeyId: 'AKIA', secretAccessKey: 'secret' }
  t.match(await call('keys.rotate', { tenant: 'acme', purpose: 'vault' }), {
    ok: false,
    code: exactCode('ERR_KEYS_NOT_LOADED'),
  })
  t.match(await call('keys.load', { kms, ring: [], broker: [] }), { ok: true })
  const rotated = await call('keys.rotate', { tenant: 'acme', purpose: 'vault' })
  t.match(rotated, { ok: true })
  t.match(await call('keys.activate', { tenant: 'acme', purpose: 'vault', version: 1 }), {
    ok: true,
  })
  await call('keys.rotate', { tenant: 'acme', purpose: 'vault' })
  t.match(await call('keys.retire', { tenant: 'acme', purpose: 'vault', version: 2 }), { ok: true })
  t.match(await call('keys.retire', { tenant: 'acme', purpose: 'vault', version: 1 }), {
    ok: false,
    code: exactCode('ERR_KEYS_VERSION_CONFLICT'),
  })
  const listed = await call('keys.list', {})
  t.match(listed, { ok: true })
  const policy = encodeReleasePolicy({
    pcrs: [new Map([[0, pcrOf(1)]])],
    maxAgeMs: 60_000,
    requireNonce: false,
  })
  const created = await call('keys.create', { policy })
  t.match(created, { ok: true })
  t.match(await call('keys.challenge', {}), { ok: true })
  t.match(
    await call('keys.release', { keyId: `bk-${'11'.repeat(16)}`, document: Uint8Array.of(1) }),
    { ok: false, code: /^ERR_(CBOR|COSE|ATTESTATION)_/ },
  )
})

t.test('keys.load refuses ports outside 1–65535 in the codec', (t) => {
  for (const port of [0, 65_536, 1.5, '443']) {
    t.throws(
      () =>
        decodeOpRequest(
          'keys.load',
          encodeBody({
            kms: { port, accessKeyId: 'A', secretAccessKey: 'S' },
            ring: [],
            broker: [],
          }),
        ),
      { code: exactCode('ERR_PROTOCOL_BAD_REQUEST') },
      String(port),
    )
  }
  const refused: [OpName, object][] = [
    ['keys.load', { kms: 'not a map', ring: [], broker: [] }],
    ['keys.rotate', { tenant: 'Not-A-Label', purpose: 'vault' }],
    ['keys.rotate', { tenant: 7, purpose: 'vault' }],
    ['keys.activate', { tenant: 'acme', purpose: 'vault', version: 0 }],
    ['keys.activate', { tenant: 'acme', purpose: 'vault', version: 'one' }],
    ['keys.release', { keyId: 'bk-short', document: Uint8Array.of(1) }],
    ['keys.release', { keyId: 5, document: Uint8Array.of(1) }],
  ]
  for (const [op, body] of refused) {
    t.throws(() => decodeOpRequest(op, encodeBody(body)), {
      code: exactCode('ERR_PROTOCOL_BAD_REQUEST'),
    })
  }
  t.end()
})

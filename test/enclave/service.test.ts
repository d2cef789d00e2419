/** The enclave's handlers and dispatch: typed results, and every failure one exact catalog code. */

import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { generateEnclaveKeys } from '../../enclave/keys/enclave-keys.js'
import { describePcr } from '../../enclave/nsm/nsm-calls.js'
import type { Nsm } from '../../enclave/ports.js'
import { createHandlers, dispatch, type EnclaveContext } from '../../enclave/service.js'
import { createSimulatedNsm, type SimulatedNsmConfig } from '../../parent/sim/nsm/simulated-nsm.js'
import { openSimPki } from '../../parent/sim/sim-pki.js'
import type { AttestationPolicy } from '../../shared/attestation/attestation-policy.js'
import { AWS_NITRO_ROOT_G1_PEM } from '../../shared/attestation/aws-nitro-root-g1.js'
import { createCertificateCache } from '../../shared/attestation/certificate-cache.js'
import { measureBytes, ZERO_PCR } from '../../shared/attestation/pcr.js'
import { AWS_NITRO_ROOTS, trustRootCertificates } from '../../shared/attestation/trusted-roots.js'
import { verifyAttestation } from '../../shared/attestation/verify-attestation.js'
import type { CborValue } from '../../shared/cbor/cbor-value.js'
import { encodeCbor } from '../../shared/cbor/encode.js'
import type { ErrorCode } from '../../shared/errors/catalog.js'
import { CloisterError } from '../../shared/errors/cloister-error.js'
import { decodeReply, encodeReply, encodeRequest } from '../../shared/protocol/envelope.js'
import { encodeBody, type OpHandlers } from '../../shared/protocol/ops.js'
import { pcrOf } from '../fakes/test-pki.js'
import { unloadedKeyServices } from '../fakes/unloaded-key-services.js'
import { exactCode } from '../helpers/exact-code.js'
import { hexBytes } from '../helpers/hex-bytes.js'
import { nitroManifest, vectorBytes } from '../helpers/shared-vectors.js'

const NOW = Date.UTC(2026, 10, 27, 12, 0, 0)
const MODULE_ID = 'i-0123456789abcdef0-enc0123456789abcdef'
const text = new TextEncoder()
const pki = await openSimPki(join(mkdtempSync(join(tmpdir(), 'cloister-service-')), 'sim'), NOW)
const simRoots = trustRootCertificates([pki.root.pem])
const measurements = new Map([
  [0, measureBytes(text.encode('image'))],
  [1, measureBytes(text.encode('runtime'))],
  [2, measureBytes(text.encode('bundle'))],
])
const pcr0 = measurements.get(0) ?? ZERO_PCR

function simulatedNsm(overrides: Partial<SimulatedNsmConfig> = {}): Nsm {
  const simulated = createSimulatedNsm({
    pki,
    clock: () => NOW,
    random: (length) => new Uint8Array(length),
    moduleId: MODULE_ID,
    measurements,
    roleArn: 'arn:aws:iam::123456789012:role/cloister-parent',
    instanceId: 'i-0123456789abcdef0',
    debug: false,
    ...overrides,
  })
  return { request: (request) => simulated.handle(request) }
}

const nsm = simulatedNsm()
const keys = generateEnclaveKeys()
const pcrs = new Map<number, Uint8Array>()
for (const index of [0, 1, 2, 3, 4]) pcrs.set(index, await describePcr(nsm, index))

function contextWith(overrides: Partial<EnclaveContext> = {}): EnclaveContext {
  return {
    nsm,
    clock: () => NOW,
    keys,
    moduleId: MODULE_ID,
    sandbox: 'bubblewrap',
    pcrs,
    // The simulated host's root, and the AWS root so that real documents reach the date check.
    trustedRoots: trustRootCertificates([pki.root.pem, AWS_NITRO_ROOT_G1_PEM]),
    cache: createCertificateCache(),
    ...unloadedKeyServices(),
    ...overrides,
  }
}

const handlers = createHandlers(contextWith())
const pinned: AttestationPolicy = { pcrs: [new Map([[0, pcr0]])] }

/** A fresh document from `from`, as the attest handler would get it. */
async function documentFrom(from: Nsm, nonce = Uint8Array.of(1, 2, 3)): Promise<Uint8Array> {
  return (await createHandlers(contextWith({ nsm: from })).attest({ nonce })).document
}

t.test('ping answers with the enclave clock', async (t) => {
  t.same(await handlers.ping({}), { now: NOW })
  let now = 1
  const ticking = createHandlers(contextWith({ clock: () => now++ }))
  t.same(await ticking.ping({}), { now: 1 })
  t.same(await ticking.ping({}), { now: 2 })
})

t.test('describe answers with the protocol version, module id, isolation and PCR0-4', async (t) => {
  t.same(await handlers.describe({}), {
    protocolVersion: 1,
    moduleId: MODULE_ID,
    sandbox: 'bubblewrap',
    pcrs,
  })
  t.equal(pcrs.size, 5)
  t.same(pcrs.get(0), pcr0)
  t.equal((await createHandlers(contextWith({ sandbox: 'none' })).describe({})).sandbox, 'none')
})

t.test('attest binds the nonce, the RSA recipient key and the ECDH key', async (t) => {
  const nonce = text.encode('a fresh nonce')
  const { document } = await handlers.attest({ nonce })
  const verified = verifyAttestation(document, { now: NOW, trustedRoots: simRoots })
  t.equal(verified.moduleId, MODULE_ID)
  t.equal(verified.timestamp, NOW)
  t.same(verified.nonce, nonce)
  t.same(verified.publicKey, keys.recipientSpki, 'public_key: what KMS encrypts to')
  t.same(verified.userData, keys.agreementSpki, 'user_data: the ECDH SPKI')
  t.same(verified.pcrs.get(0), pcr0)
  t.throws(() => verifyAttestation(document, { now: NOW }), {
    code: exactCode('ERR_ATTESTATION_UNTRUSTED_ROOT'),
  })
})

t.test('attest fails with the NSM error code', async (t) => {
  const failing = createHandlers(
    contextWith({
      nsm: { request: () => Promise.resolve({ type: 'Error', code: 'InternalError' }) },
    }),
  )
  await t.rejects(failing.attest({ nonce: Uint8Array.of(1) }), {
    code: exactCode('ERR_NSM_INTERNAL'),
  })
})

t.test(
  'verifyAttestation accepts a document of the same NSM under a policy pinning PCR0',
  async (t) => {
    const nonce = Uint8Array.of(9, 8, 7)
    const document = await documentFrom(nsm, nonce)
    const cache = createCertificateCache()
    const verifying = createHandlers(contextWith({ cache }))
    const result = await verifying.verifyAttestation({
      document,
      policy: { ...pinned, nonce, publicKey: 'rsa-spki', maxAgeMs: 0 },
    })
    t.equal(result.moduleId, MODULE_ID)
    t.equal(result.timestamp, NOW)
    t.equal(result.debug, false)
    t.equal(result.pcrs.size, 16)
    t.same(result.pcrs.get(0), pcr0)
    t.same(result.nonce, nonce)
    t.same(result.publicKey, keys.recipientSpki)
    t.same(result.userData, keys.agreementSpki)
    t.same(Object.keys(result).sort(), [
      'debug',
      'moduleId',
      'nonce',
      'pcrs',
      'publicKey',
      'timestamp',
      'userData',
    ])
    t.ok(cache.size > 0, "the enclave's certificate cache is used")
    t.same(await verifying.verifyAttestation({ document, policy: pinned }), result, 'cached: same')
  },
)

t.test('verifyAttestation refuses with exact codes', async (t) => {
  const debugDocument = await documentFrom(simulatedNsm({ debug: true }))
  await t.rejects(
    handlers.verifyAttestation({ document: debugDocument, policy: { pcrs: 'any' } }),
    {
      code: exactCode('ERR_ATTESTATION_DEBUG'),
    },
  )
  const allowed = await handlers.verifyAttestation({
    document: debugDocument,
    policy: { pcrs: 'any', allowDebug: true },
  })
  t.equal(allowed.debug, true, 'a debug document, when the policy allows it, says so')
  t.same(allowed.pcrs.get(0), ZERO_PCR)

  const document = await documentFrom(nsm)
  await t.rejects(
    handlers.verifyAttestation({ document, policy: { pcrs: [new Map([[0, pcrOf(0xaa)]])] } }),
    { code: exactCode('ERR_ATTESTATION_PCR_MISMATCH') },
  )
  await t.rejects(
    handlers.verifyAttestation({ document, policy: { ...pinned, nonce: Uint8Array.of(4) } }),
    {
      code: exactCode('ERR_ATTESTATION_NONCE_MISMATCH'),
    },
  )
  await t.rejects(handlers.verifyAttestation({ document, policy: { pcrs: [new Map()] } }), {
    code: exactCode('ERR_POLICY_INVALID'),
  })
  // The enclave's own clock decides: an hour later the document is stale, a week later expired.
  const later = createHandlers(contextWith({ clock: () => NOW + 3_600_000 }))
  await t.rejects(later.verifyAttestation({ document, policy: { ...pinned, maxAgeMs: 60_000 } }), {
    code: exactCode('ERR_ATTESTATION_STALE'),
  })
  const weekLater = createHandlers(contextWith({ clock: () => NOW + 7 * 86_400_000 }))
  await t.rejects(weekLater.verifyAttestation({ document, policy: pinned }), {
    code: exactCode('ERR_ATTESTATION_CERT_EXPIRED'),
  })
  const awsOnly = createHandlers(contextWith({ trustedRoots: AWS_NITRO_ROOTS }))
  await t.rejects(awsOnly.verifyAttestation({ document, policy: pinned }), {
    code: exactCode('ERR_ATTESTATION_UNTRUSTED_ROOT'),
  })
  const badClock = createHandlers(contextWith({ clock: () => Number.NaN }))
  await t.rejects(badClock.verifyAttestation({ document, policy: pinned }), {
    code: exactCode('ERR_CLOCK_INVALID'),
  })
})

t.test(
  'a real AWS document: expired at the enclave clock, accepted at its own instant',
  async (t) => {
    const document = vectorBytes('nitro/anjuna-1.cose')
    await t.rejects(handlers.verifyAttestation({ document, policy: { pcrs: 'any' } }), {
      code: exactCode('ERR_ATTESTATION_CERT_EXPIRED'),
    })
    const entry = nitroManifest().find((item) => item.file === 'anjuna-1.cose')
    const expectedPcr0 = hexBytes(entry?.pcrs?.['0'] ?? '')
    const then = createHandlers(
      contextWith({ clock: () => entry?.at ?? 0, trustedRoots: AWS_NITRO_ROOTS }),
    )
    const result = await then.verifyAttestation({
      document,
      policy: { pcrs: [new Map([[0, expectedPcr0]])] },
    })
    t.equal(result.debug, false)
    t.same(result.pcrs.get(0), expectedPcr0)
    if (entry?.module_id !== undefined) t.equal(result.moduleId, entry.module_id)
    await t.rejects(then.verifyAttestation({ document, policy: pinned }), {
      code: exactCode('ERR_ATTESTATION_PCR_MISMATCH'),
    })
  },
)

/** The bytes of a request frame. */
function frame(id: number, op: string, body: object = {}): Uint8Array {
  return encodeRequest({ id, op, body: encodeBody(body) })
}

function failure(id: number, code: ErrorCode): Uint8Array {
  return encodeReply({ kind: 'response', id, ok: false, code })
}

t.test('dispatch answers a request with its id and the encoded result', async (t) => {
  const answer = await dispatch(handlers, frame(7, 'ping'))
  t.same(answer, encodeReply({ kind: 'response', id: 7, ok: true, body: new Map([['now', NOW]]) }))
  const described = await dispatch(handlers, frame(Number.MAX_SAFE_INTEGER, 'describe'))
  const reply = decodeReply(described ?? new Uint8Array())
  t.match(reply, { kind: 'response', id: Number.MAX_SAFE_INTEGER, ok: true })
  if (reply.kind === 'response' && reply.ok) {
    t.equal(reply.body.get('moduleId'), MODULE_ID)
    t.equal(reply.body.get('protocolVersion'), 1)
  }
  const attested = decodeReply(
    (await dispatch(handlers, frame(8, 'attest', { nonce: Uint8Array.of(5) }))) ?? new Uint8Array(),
  )
  t.match(attested, { kind: 'response', id: 8, ok: true })
  if (attested.kind === 'response' && attested.ok) {
    const document = attested.body.get('document') as Uint8Array
    t.same(
      verifyAttestation(document, { now: NOW, trustedRoots: simRoots }).nonce,
      Uint8Array.of(5),
    )
  }
})

t.test('a frame that is not a request envelope gets no answer', async (t) => {
  const frames: readonly (readonly [string, Uint8Array])[] = [
    ['not CBOR', Uint8Array.of(0x1c)],
    ['empty', new Uint8Array(0)],
    ['trailing bytes', Uint8Array.of(0xa0, 0x00)],
    ['not a map', encodeCbor('ping')],
    [
      'no body',
      encodeCbor(
        new Map<string, CborValue>([
          ['id', 1],
          ['op', 'ping'],
        ]),
      ),
    ],
    ['id 0', encodeRequest({ id: 0, op: 'ping', body: new Map() })],
    [
      'non-text op',
      encodeCbor(
        new Map<string, CborValue>([
          ['id', 1],
          ['op', 1],
          ['body', new Map()],
        ]),
      ),
    ],
    [
      'body not a map',
      encodeCbor(
        new Map<string, CborValue>([
          ['id', 1],
          ['op', 'ping'],
          ['body', 1],
        ]),
      ),
    ],
    ['a reply', encodeReply({ kind: 'response', id: 1, ok: false, code: 'ERR_ENCLAVE_BUSY' })],
  ]
  for (const [name, bytes] of frames) t.equal(await dispatch(handlers, bytes), undefined, name)
})

t.test('an unknown op is ERR_PROTOCOL_UNKNOWN_OP with the request id', async (t) => {
  for (const op of ['sign', '', 'Ping', 'toString', '__proto__', 'constructor', 'hasOwnProperty']) {
    t.same(await dispatch(handlers, frame(42, op)), failure(42, 'ERR_PROTOCOL_UNKNOWN_OP'), op)
  }
})

t.test('a body that does not fit its op is ERR_PROTOCOL_BAD_REQUEST', async (t) => {
  const bodies: readonly (readonly [string, object])[] = [
    ['ping', { extra: 1 }],
    ['attest', {}],
    ['attest', { nonce: new Uint8Array(65) }],
    ['attest', { nonce: 'text' }],
    ['verifyAttestation', { document: Uint8Array.of(1) }],
    ['verifyAttestation', { document: Uint8Array.of(1), policy: { pcrs: 'some' } }],
  ]
  for (const [op, body] of bodies) {
    t.same(await dispatch(handlers, frame(3, op, body)), failure(3, 'ERR_PROTOCOL_BAD_REQUEST'), op)
  }
})

t.test('a handler failing with a catalog error answers that code', async (t) => {
  const document = await documentFrom(simulatedNsm({ debug: true }))
  t.same(
    await dispatch(
      handlers,
      frame(4, 'verifyAttestation', { document, policy: { pcrs: 'any', allowDebug: false } }),
    ),
    failure(4, 'ERR_ATTESTATION_DEBUG'),
  )
  t.same(
    await dispatch(
      handlers,
      frame(5, 'verifyAttestation', {
        document: Uint8Array.of(1),
        policy: { pcrs: 'any', allowDebug: false },
      }),
    ),
    failure(5, 'ERR_COSE_MALFORMED'),
  )
  const busy: OpHandlers = {
    ...handlers,
    ping: () => Promise.reject(new CloisterError('ERR_NSM_INTERNAL')),
  }
  t.same(await dispatch(busy, frame(6, 'ping')), failure(6, 'ERR_NSM_INTERNAL'))
  const failingNsm = createHandlers(
    contextWith({
      nsm: { request: () => Promise.resolve({ type: 'Error', code: 'InputTooLarge' }) },
    }),
  )
  t.same(
    await dispatch(failingNsm, frame(7, 'attest', { nonce: Uint8Array.of(1) })),
    failure(7, 'ERR_NSM_INPUT_TOO_LARGE'),
  )
})

t.test('an unexpected exception is ERR_ENCLAVE_INTERNAL and nothing of it leaves', async (t) => {
  const secret = 'secret-detail-0f3a9c'
  const cases: readonly (readonly [string, OpHandlers])[] = [
    ['a plain Error', { ...handlers, ping: () => Promise.reject(new Error(secret)) }],
    [
      'a synchronous throw',
      {
        ...handlers,
        ping: () => {
          throw new TypeError(secret)
        },
      },
    ],
    [
      'a thrown string',
      // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- the case itself
      { ...handlers, ping: () => Promise.reject(secret) },
    ],
    [
      'an Error with an unknown code',
      {
        ...handlers,
        ping: () => Promise.reject(Object.assign(new Error(secret), { code: 'ERR_' + secret })),
      },
    ],
    // A result the CBOR encoder refuses (not an integer) fails as the enclave's own fault.
    ['an unencodable result', { ...handlers, ping: () => Promise.resolve({ now: 1.5 }) }],
    [
      'a failing port',
      createHandlers(contextWith({ nsm: { request: () => Promise.reject(new Error(secret)) } })),
    ],
  ]
  for (const [name, failing] of cases) {
    const op = name === 'a failing port' ? 'attest' : 'ping'
    const body = op === 'attest' ? { nonce: Uint8Array.of(1) } : {}
    const answer = await dispatch(failing, frame(9, op, body))
    t.same(answer, failure(9, 'ERR_ENCLAVE_INTERNAL'), name)
    t.notOk(Buffer.from(answer ?? new Uint8Array()).includes(secret), `${name}: no detail leaks`)
  }
})

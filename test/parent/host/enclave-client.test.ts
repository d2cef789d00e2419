/** The parent's enclave client: ids, typed answers, deadlines, backpressure, events and a closing channel. */

import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { generateEnclaveKeys } from '../../../enclave/keys/enclave-keys.js'
import { createHandlers, dispatch } from '../../../enclave/service.js'
import {
  createEnclaveClient,
  DEFAULT_CALL_TIMEOUT_MS,
  DEFAULT_MAX_IN_FLIGHT,
} from '../../../parent/host/enclave-client.js'
import { createSimulatedNsm } from '../../../parent/sim/nsm/simulated-nsm.js'
import { openSimPki } from '../../../parent/sim/sim-pki.js'
import { createCertificateCache } from '../../../shared/attestation/certificate-cache.js'
import { measureBytes } from '../../../shared/attestation/pcr.js'
import { trustRootCertificates } from '../../../shared/attestation/trusted-roots.js'
import { verifyAttestation } from '../../../shared/attestation/verify-attestation.js'
import type { CborMap, CborValue } from '../../../shared/cbor/cbor-value.js'
import { encodeCbor } from '../../../shared/cbor/encode.js'
import type { ErrorCode } from '../../../shared/errors/catalog.js'
import {
  decodeRequest,
  encodeReply,
  type EventEnvelope,
  type RequestEnvelope,
  type ResponseEnvelope,
} from '../../../shared/protocol/envelope.js'
import {
  createFramedChannel,
  type ByteStream,
  type Channel,
} from '../../../shared/protocol/framed-channel.js'
import { createChannelPair } from '../../fakes/channel-pair.js'
import { unloadedKeyServices } from '../../fakes/unloaded-key-services.js'
import { exactCode } from '../../helpers/exact-code.js'

const NOW = Date.UTC(2026, 10, 27, 12, 0, 0)
const MODULE_ID = 'i-0123456789abcdef0-enc0123456789abcdef'
const pcr0 = measureBytes(new TextEncoder().encode('image'))

/** Resolves after the event loop has turned `turns` times: frames in flight have arrived. */
async function settle(turns = 5): Promise<void> {
  for (let turn = 0; turn < turns; turn += 1) {
    await new Promise((resolve) => setImmediate(resolve))
  }
}

/** The enclave's end, driven by the test: it records requests and answers when told. */
function manualEnclave(enclave: Channel) {
  const requests: RequestEnvelope[] = []
  let closed = 0
  enclave.onMessage((frame) => requests.push(decodeRequest(frame)))
  enclave.onClose(() => {
    closed += 1
  })
  const send = (reply: ResponseEnvelope | EventEnvelope) => enclave.send(encodeReply(reply))
  return {
    requests,
    get closed() {
      return closed
    },
    answer(id: number, body: CborMap) {
      send({ kind: 'response', id, ok: true, body })
    },
    fail(id: number, code: ErrorCode) {
      send({ kind: 'response', id, ok: false, code })
    },
    event(event: string, body: CborMap) {
      send({ kind: 'event', event, body })
    },
    raw(bytes: Uint8Array) {
      enclave.send(bytes)
    },
  }
}

const pong = (now: number): CborMap => new Map<string, CborValue>([['now', now]])

t.test('defaults', (t) => {
  t.equal(DEFAULT_CALL_TIMEOUT_MS, 5_000)
  t.equal(DEFAULT_MAX_IN_FLIGHT, 4_096)
  t.end()
})

t.test('typed calls against the real enclave handlers', async (t) => {
  const pki = await openSimPki(join(mkdtempSync(join(tmpdir(), 'cloister-client-')), 'sim'), NOW)
  const simulated = createSimulatedNsm({
    pki,
    clock: () => NOW,
    random: (length) => new Uint8Array(length),
    moduleId: MODULE_ID,
    measurements: new Map([[0, pcr0]]),
    roleArn: undefined,
    instanceId: 'i-0123456789abcdef0',
    debug: false,
  })
  const keys = generateEnclaveKeys()
  const pcrs = new Map([[0, pcr0]])
  const handlers = createHandlers({
    nsm: { request: (request) => simulated.handle(request) },
    clock: () => NOW,
    keys,
    moduleId: MODULE_ID,
    sandbox: 'unshare',
    pcrs,
    trustedRoots: trustRootCertificates([pki.root.pem]),
    cache: createCertificateCache(),
    ...unloadedKeyServices(),
  })
  const [parent, enclave] = createChannelPair()
  enclave.onMessage((frame) => {
    void dispatch(handlers, frame).then((answer) => {
      if (answer === undefined) enclave.close()
      else enclave.send(answer)
    })
  })
  const client = createEnclaveClient(parent)
  t.same(await client.call('ping', {}), { now: NOW })
  t.same(await client.call('describe', {}), {
    protocolVersion: 1,
    moduleId: MODULE_ID,
    sandbox: 'unshare',
    pcrs,
  })
  const nonce = Uint8Array.of(1, 2, 3)
  const { document } = await client.call('attest', { nonce })
  const verified = verifyAttestation(document, {
    now: NOW,
    trustedRoots: trustRootCertificates([pki.root.pem]),
  })
  t.same(verified.publicKey, keys.recipientSpki)
  const result = await client.call('verifyAttestation', {
    document,
    policy: { pcrs: [new Map([[0, pcr0]])], allowDebug: false, nonce, publicKey: 'rsa-spki' },
  })
  t.equal(result.moduleId, MODULE_ID)
  t.equal(result.timestamp, NOW)
  t.equal(result.debug, false)
  t.same(result.pcrs.get(0), pcr0)
  t.same(result.nonce, nonce)
  t.same(result.userData, keys.agreementSpki)
  await t.rejects(
    client.call('verifyAttestation', {
      document,
      policy: { pcrs: [new Map([[0, new Uint8Array(48)]])], allowDebug: false },
    }),
    { name: 'CloisterError', code: exactCode('ERR_ATTESTATION_PCR_MISMATCH') },
  )
  t.equal(client.inFlight, 0)
})

t.test('ids start at 1 and increase; each request carries its op and body', async (t) => {
  const [parent, enclave] = createChannelPair()
  const remote = manualEnclave(enclave)
  const client = createEnclaveClient(parent)
  const calls = [
    client.call('ping', {}),
    client.call('attest', { nonce: Uint8Array.of(9) }),
    client.call('describe', {}),
  ]
  await settle()
  t.same(
    remote.requests.map((request) => [request.id, request.op, request.body]),
    [
      [1, 'ping', new Map()],
      [2, 'attest', new Map([['nonce', Uint8Array.of(9)]])],
      [3, 'describe', new Map()],
    ],
  )
  // Answers in any order reach their own calls.
  remote.answer(
    3,
    new Map<string, CborValue>([
      ['protocolVersion', 1],
      ['moduleId', MODULE_ID],
      ['sandbox', 'none'],
      ['pcrs', new Map([[0, pcr0]])],
    ]),
  )
  remote.answer(1, pong(11))
  remote.answer(2, new Map([['document', Uint8Array.of(1, 2)]]))
  const [ping, attest, describe] = await Promise.all(calls)
  t.same(ping, { now: 11 })
  t.same(attest, { document: Uint8Array.of(1, 2) })
  t.same(describe, {
    protocolVersion: 1,
    moduleId: MODULE_ID,
    sandbox: 'none',
    pcrs: new Map([[0, pcr0]]),
  })
  const fourth = client.call('ping', {})
  await settle()
  t.equal(remote.requests[3]?.id, 4)
  remote.answer(4, pong(12))
  t.same(await fourth, { now: 12 })
})

t.test('an error response rejects with its code', async (t) => {
  const [parent, enclave] = createChannelPair()
  const remote = manualEnclave(enclave)
  const client = createEnclaveClient(parent)
  const first = client.call('ping', {})
  const second = client.call('attest', { nonce: Uint8Array.of(1) })
  await settle()
  remote.fail(1, 'ERR_ATTESTATION_DEBUG')
  remote.fail(2, 'ERR_NSM_INTERNAL')
  await t.rejects(first, { name: 'CloisterError', code: exactCode('ERR_ATTESTATION_DEBUG') })
  await t.rejects(second, { code: exactCode('ERR_NSM_INTERNAL'), status: 500 })
  t.equal(client.inFlight, 0)
})

t.test('a response body not fitting its op is ERR_PROTOCOL_BAD_RESPONSE', async (t) => {
  const [parent, enclave] = createChannelPair()
  const remote = manualEnclave(enclave)
  const client = createEnclaveClient(parent)
  const calls: Promise<unknown>[] = [
    client.call('ping', {}),
    client.call('ping', {}),
    client.call('attest', { nonce: Uint8Array.of(1) }),
  ]
  await settle()
  remote.answer(1, new Map())
  remote.answer(
    2,
    new Map<string, CborValue>([
      ['now', 1],
      ['extra', 2],
    ]),
  )
  remote.answer(3, pong(1)) // a ping's answer to an attest call
  for (const call of calls) {
    await t.rejects(call, { code: exactCode('ERR_PROTOCOL_BAD_RESPONSE') })
  }
  t.equal(remote.closed, 0, 'a well-formed frame with a wrong body keeps the channel')
  const next = client.call('ping', {})
  await settle()
  remote.answer(4, pong(5))
  t.same(await next, { now: 5 })
})

t.test('a call past its deadline is ERR_ENCLAVE_TIMEOUT; its late answer is ignored', async (t) => {
  const [parent, enclave] = createChannelPair()
  const remote = manualEnclave(enclave)
  const client = createEnclaveClient(parent)
  const late = client.call('ping', {}, { timeoutMs: 20 })
  t.equal(client.inFlight, 1)
  await t.rejects(late, { name: 'CloisterError', code: exactCode('ERR_ENCLAVE_TIMEOUT') })
  t.equal(client.inFlight, 0)
  const next = client.call('ping', {})
  await settle()
  remote.answer(1, pong(1)) // too late: nobody waits for id 1
  await settle()
  t.equal(client.inFlight, 1, 'the late answer did not settle the next call')
  remote.answer(2, pong(2))
  t.same(await next, { now: 2 })
  t.equal(remote.closed, 0)
})

t.test('the client default deadline applies unless a call gives its own', async (t) => {
  const [parent, enclave] = createChannelPair()
  const remote = manualEnclave(enclave)
  const client = createEnclaveClient(parent, { timeoutMs: 20 })
  const defaulted = client.call('ping', {})
  const own = client.call('ping', {}, { timeoutMs: 60_000 })
  await t.rejects(defaulted, { code: exactCode('ERR_ENCLAVE_TIMEOUT') })
  t.equal(client.inFlight, 1, 'the call with its own longer deadline still waits')
  remote.answer(2, pong(3))
  t.same(await own, { now: 3 })
  t.equal(client.inFlight, 0)
})

t.test(
  'the channel closing rejects every pending call, then every later one at once',
  async (t) => {
    const [parent, enclave] = createChannelPair()
    const remote = manualEnclave(enclave)
    const client = createEnclaveClient(parent, { timeoutMs: 60_000 })
    const calls: Promise<unknown>[] = [
      client.call('ping', {}),
      client.call('describe', {}),
      client.call('ping', {}),
    ]
    await settle()
    t.equal(client.inFlight, 3)
    enclave.close() // the enclave crashed
    for (const call of calls) {
      await t.rejects(call, { name: 'CloisterError', code: exactCode('ERR_ENCLAVE_UNAVAILABLE') })
    }
    t.equal(client.inFlight, 0)
    await t.rejects(client.call('ping', {}), { code: exactCode('ERR_ENCLAVE_UNAVAILABLE') })
    await settle()
    t.equal(remote.requests.length, 3, 'nothing is sent once closed')
  },
)

t.test('close() fails the calls in flight and closes the channel', async (t) => {
  const [parent, enclave] = createChannelPair()
  const remote = manualEnclave(enclave)
  const client = createEnclaveClient(parent)
  const pending = client.call('ping', {})
  client.close()
  await t.rejects(pending, { code: exactCode('ERR_ENCLAVE_UNAVAILABLE') })
  t.equal(remote.closed, 1, 'the enclave sees the close once')
  t.notOk(parent.send(Uint8Array.of(1)))
  await t.rejects(client.call('describe', {}), { code: exactCode('ERR_ENCLAVE_UNAVAILABLE') })
  client.close()
  t.equal(remote.closed, 1, 'closing twice is harmless')
  t.equal(client.inFlight, 0)
})

t.test('beyond maxInFlight calls are refused with ERR_ENCLAVE_BUSY', async (t) => {
  const [parent, enclave] = createChannelPair()
  const remote = manualEnclave(enclave)
  const client = createEnclaveClient(parent, { maxInFlight: 2 })
  const first = client.call('ping', {})
  const second = client.call('ping', {})
  await t.rejects(client.call('ping', {}), { code: exactCode('ERR_ENCLAVE_BUSY') })
  t.equal(client.inFlight, 2)
  await settle()
  t.same(
    remote.requests.map((request) => request.id),
    [1, 2],
    'the refused call was not sent',
  )
  remote.answer(1, pong(1))
  t.same(await first, { now: 1 })
  t.equal(client.inFlight, 1)
  const third = client.call('ping', {})
  await settle()
  t.equal(remote.requests[2]?.id, 3, 'ids are spent only on calls that are sent')
  remote.answer(2, pong(2))
  remote.answer(3, pong(3))
  t.same(await Promise.all([second, third]), [{ now: 2 }, { now: 3 }])
  t.equal(client.inFlight, 0)
})

t.test('events reach every onEvent listener and settle no call', async (t) => {
  const [parent, enclave] = createChannelPair()
  const remote = manualEnclave(enclave)
  const client = createEnclaveClient(parent)
  const seen: [string, EventEnvelope][] = []
  client.onEvent((event) => seen.push(['first', event]))
  client.onEvent((event) => seen.push(['second', event]))
  const pending = client.call('ping', {})
  await settle()
  const body = new Map<string, CborValue>([
    ['protocolVersion', 1],
    ['moduleId', MODULE_ID],
  ])
  remote.event('ready', body)
  await settle()
  const ready: EventEnvelope = { kind: 'event', event: 'ready', body }
  t.same(seen, [
    ['first', ready],
    ['second', ready],
  ])
  t.equal(client.inFlight, 1)
  remote.answer(1, pong(1))
  t.same(await pending, { now: 1 })
})

t.test('a reply that breaks the protocol closes the channel', async (t) => {
  const malformed: readonly (readonly [string, Uint8Array])[] = [
    ['not CBOR', Uint8Array.of(0x1c)],
    [
      'a request',
      encodeCbor(
        new Map<string, CborValue>([
          ['id', 1],
          ['op', 'ping'],
          ['body', new Map()],
        ]),
      ),
    ],
    [
      'an unknown code',
      encodeCbor(
        new Map<string, CborValue>([
          ['id', 1],
          ['ok', false],
          ['code', 'ERR_NOPE'],
        ]),
      ),
    ],
  ]
  for (const [name, bytes] of malformed) {
    const [parent, enclave] = createChannelPair()
    const remote = manualEnclave(enclave)
    const client = createEnclaveClient(parent)
    const pending = client.call('ping', {})
    await settle()
    remote.raw(bytes)
    await t.rejects(pending, { code: exactCode('ERR_ENCLAVE_UNAVAILABLE') }, name)
    t.equal(remote.closed, 1, `${name}: closed`)
    await t.rejects(client.call('ping', {}), { code: exactCode('ERR_ENCLAVE_UNAVAILABLE') })
  }
})

t.test('a call that cannot be sent fails at once and is not left in flight', async (t) => {
  // A real framed channel with a 64-byte frame limit, over a stream that drops what it is given.
  const stream: ByteStream = {
    write: () => true,
    end: () => undefined,
    destroy: () => undefined,
    on: () => stream,
  }
  const client = createEnclaveClient(createFramedChannel(stream, 64), { maxInFlight: 1 })
  await t.rejects(client.call('attest', { nonce: new Uint8Array(64) }), {
    code: exactCode('ERR_FRAME_TOO_LARGE'),
  })
  t.equal(client.inFlight, 0)
  // Not a safe integer: the CBOR encoder refuses the body before anything is sent.
  await t.rejects(
    client.call('verifyAttestation', {
      document: Uint8Array.of(1),
      policy: { pcrs: 'any', allowDebug: false, maxAgeMs: 1.5 },
    }),
    TypeError,
  )
  t.equal(client.inFlight, 0)
  const waiting = client.call('ping', {}, { timeoutMs: 20 })
  t.equal(client.inFlight, 1, 'the failed calls left room for this one')
  await t.rejects(waiting, { code: exactCode('ERR_ENCLAVE_TIMEOUT') })
})

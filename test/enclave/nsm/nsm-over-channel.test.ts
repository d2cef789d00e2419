/** The NSM port over a channel: one request at a time, every failure an exact catalog code. */

import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { describeNsm, describePcr } from '../../../enclave/nsm/nsm-calls.js'
import { createNsmOverChannel } from '../../../enclave/nsm/nsm-over-channel.js'
import { serveNsm } from '../../../parent/sim/nsm/serve-nsm.js'
import { createSimulatedNsm } from '../../../parent/sim/nsm/simulated-nsm.js'
import { openSimPki } from '../../../parent/sim/sim-pki.js'
import { measureBytes } from '../../../shared/attestation/pcr.js'
import { trustRootCertificates } from '../../../shared/attestation/trusted-roots.js'
import { verifyAttestation } from '../../../shared/attestation/verify-attestation.js'
import { encodeCbor } from '../../../shared/cbor/encode.js'
import {
  encodeNsmRequest,
  encodeNsmResponse,
  type NsmResponse,
} from '../../../shared/nsm/nsm-messages.js'
import type { Channel } from '../../../shared/protocol/framed-channel.js'
import { createChannelPair } from '../../fakes/channel-pair.js'
import { exactCode } from '../../helpers/exact-code.js'

const NOW = Date.UTC(2026, 10, 27, 12, 0, 0)
const MODULE_ID = 'i-0123456789abcdef0-enc0123456789abcdef'
const pcr0 = measureBytes(new TextEncoder().encode('image'))

/** Resolves after the event loop has turned `turns` times: messages in flight have arrived. */
async function settle(turns = 5): Promise<void> {
  for (let turn = 0; turn < turns; turn += 1) {
    await new Promise((resolve) => setImmediate(resolve))
  }
}

/** The host's end, answering nothing by itself: it records each request frame. */
function manualHost(host: Channel): Uint8Array[] {
  const received: Uint8Array[] = []
  host.onMessage((message) => received.push(message))
  return received
}

const describePcrAnswer: NsmResponse = { type: 'DescribePCR', lock: true, data: pcr0 }

t.test('requests reach the simulated NSM and its answers come back', async (t) => {
  const pki = await openSimPki(
    join(mkdtempSync(join(tmpdir(), 'cloister-nsm-channel-')), 'sim'),
    NOW,
  )
  const [enclave, host] = createChannelPair()
  serveNsm(
    host,
    createSimulatedNsm({
      pki,
      clock: () => NOW,
      random: (length) => new Uint8Array(length).fill(9),
      moduleId: MODULE_ID,
      measurements: new Map([[0, pcr0]]),
      roleArn: undefined,
      instanceId: 'i-0123456789abcdef0',
      debug: false,
    }),
  )
  const nsm = createNsmOverChannel(enclave)
  t.same(await describePcr(nsm, 0), pcr0)
  t.equal((await describeNsm(nsm)).moduleId, MODULE_ID)
  t.same(await nsm.request({ type: 'GetRandom' }), {
    type: 'GetRandom',
    random: new Uint8Array(256).fill(9),
  })
  const answer = await nsm.request({
    type: 'Attestation',
    userData: null,
    nonce: Uint8Array.of(7),
    publicKey: null,
  })
  t.equal(answer.type, 'Attestation')
  if (answer.type === 'Attestation') {
    const verified = verifyAttestation(answer.document, {
      now: NOW,
      trustedRoots: trustRootCertificates([pki.root.pem]),
    })
    t.same(verified.nonce, Uint8Array.of(7))
  }
  // Calls made together are each answered with their own response.
  const [first, second] = await Promise.all([describePcr(nsm, 0), describePcr(nsm, 5)])
  t.same(first, pcr0)
  t.same(second, new Uint8Array(48))
})

t.test('a second request is not sent before the first is answered', async (t) => {
  const [enclave, host] = createChannelPair()
  const received = manualHost(host)
  const nsm = createNsmOverChannel(enclave)
  const first = nsm.request({ type: 'DescribePCR', index: 0 })
  const second = nsm.request({ type: 'DescribeNSM' })
  const third = nsm.request({ type: 'LockPCR', index: 16 })
  await settle()
  t.same(received, [encodeNsmRequest({ type: 'DescribePCR', index: 0 })], 'only the first is out')
  host.send(encodeNsmResponse(describePcrAnswer))
  t.same(await first, describePcrAnswer)
  await settle()
  t.equal(received.length, 2)
  t.same(received[1], encodeNsmRequest({ type: 'DescribeNSM' }))
  host.send(encodeNsmResponse({ type: 'Error', code: 'InvalidOperation' }))
  t.same(await second, { type: 'Error', code: 'InvalidOperation' }, 'an NSM error is an answer')
  await settle()
  t.same(received[2], encodeNsmRequest({ type: 'LockPCR', index: 16 }))
  host.send(encodeNsmResponse({ type: 'LockPCR' }))
  t.same(await third, { type: 'LockPCR' })
  t.equal(received.length, 3)
})

t.test('a message nobody waits for is dropped', async (t) => {
  const [enclave, host] = createChannelPair()
  const received = manualHost(host)
  const nsm = createNsmOverChannel(enclave)
  host.send(encodeNsmResponse({ type: 'LockPCRs' }))
  await settle()
  const answer = nsm.request({ type: 'DescribePCR', index: 0 })
  await settle()
  t.equal(received.length, 1)
  host.send(encodeNsmResponse(describePcrAnswer))
  t.same(await answer, describePcrAnswer, 'the stray message was not taken as the answer')
})

t.test(
  'a channel closing fails the waiting call, the queued ones and every later one',
  async (t) => {
    const [enclave, host] = createChannelPair()
    const received = manualHost(host)
    const nsm = createNsmOverChannel(enclave)
    const waiting = nsm.request({ type: 'DescribeNSM' })
    const queued = nsm.request({ type: 'DescribePCR', index: 1 })
    await settle()
    t.equal(received.length, 1)
    host.close()
    await t.rejects(waiting, { name: 'CloisterError', code: exactCode('ERR_NSM_INTERNAL') })
    await t.rejects(queued, { code: exactCode('ERR_NSM_INTERNAL') })
    await t.rejects(nsm.request({ type: 'GetRandom' }), { code: exactCode('ERR_NSM_INTERNAL') })
    await settle()
    t.equal(received.length, 1, 'nothing more was sent')
  },
)

t.test('a channel closing while idle fails the next call', async (t) => {
  const [enclave, host] = createChannelPair()
  const nsm = createNsmOverChannel(enclave)
  enclave.close()
  await t.rejects(nsm.request({ type: 'DescribeNSM' }), { code: exactCode('ERR_NSM_INTERNAL') })
  t.notOk(host.send(Uint8Array.of(1)), 'both ends are closed')
})

t.test('a send on a channel closed before the port was made fails the call', async (t) => {
  const [enclave, host] = createChannelPair()
  const received = manualHost(host)
  enclave.close() // the port's onClose listener never runs: only the failed send tells
  const nsm = createNsmOverChannel(enclave)
  await t.rejects(nsm.request({ type: 'DescribeNSM' }), { code: exactCode('ERR_NSM_INTERNAL') })
  await t.rejects(nsm.request({ type: 'GetRandom' }), { code: exactCode('ERR_NSM_INTERNAL') })
  await settle()
  t.equal(received.length, 0)
})

t.test('an undecodable answer fails its call only; the next call still works', async (t) => {
  const [enclave, host] = createChannelPair()
  const received = manualHost(host)
  const nsm = createNsmOverChannel(enclave)
  const answers: readonly (readonly [Uint8Array, string])[] = [
    [Uint8Array.of(0x1c), 'ERR_CBOR_MALFORMED'], // reserved additional information 28
    [Uint8Array.of(0x58), 'ERR_CBOR_TRUNCATED'], // a byte string whose length is missing
    [encodeCbor('NoSuchVariant'), 'ERR_NSM_MALFORMED'],
    [encodeCbor(new Map([['Error', 'NotACode']])), 'ERR_NSM_MALFORMED'],
    [new Uint8Array(0x3001), 'ERR_CBOR_TOO_LARGE'], // over NSM_RESPONSE_MAX_BYTES
  ]
  for (const [bytes, code] of answers) {
    const failing = nsm.request({ type: 'DescribePCR', index: 0 })
    const next = nsm.request({ type: 'DescribePCR', index: 0 })
    await settle()
    host.send(bytes)
    await t.rejects(failing, { name: 'CloisterError', code: exactCode(code) }, code)
    await settle()
    host.send(encodeNsmResponse(describePcrAnswer))
    t.same(await next, describePcrAnswer, `the call after ${code} is answered`)
  }
  t.equal(received.length, answers.length * 2)
})

t.test('a request the codec cannot encode fails without blocking the queue', async (t) => {
  const [enclave, host] = createChannelPair()
  const received = manualHost(host)
  const nsm = createNsmOverChannel(enclave)
  // Not a safe integer: the CBOR encoder refuses it before anything is sent.
  await t.rejects(nsm.request({ type: 'DescribePCR', index: 0.5 }), TypeError)
  const next = nsm.request({ type: 'DescribePCR', index: 0 })
  await settle()
  t.same(received, [encodeNsmRequest({ type: 'DescribePCR', index: 0 })])
  host.send(encodeNsmResponse(describePcrAnswer))
  t.same(await next, describePcrAnswer)
})

/** Serving the NSM over a channel: one request at a time, one response each; a host failure is InternalError. */

import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { serveNsm } from '../../../../parent/sim/nsm/serve-nsm.js'
import { createSimulatedNsm, type SimulatedNsm } from '../../../../parent/sim/nsm/simulated-nsm.js'
import { openSimPki } from '../../../../parent/sim/sim-pki.js'
import { measureBytes } from '../../../../shared/attestation/pcr.js'
import { trustRootCertificates } from '../../../../shared/attestation/trusted-roots.js'
import { verifyAttestation } from '../../../../shared/attestation/verify-attestation.js'
import {
  decodeNsmResponse,
  encodeNsmRequest,
  encodeNsmResponse,
  type NsmRequest,
} from '../../../../shared/nsm/nsm-messages.js'
import type { Channel } from '../../../../shared/protocol/framed-channel.js'
import { createChannelPair } from '../../../fakes/channel-pair.js'

const NOW = Date.UTC(2026, 10, 27, 12, 0, 0)
const MODULE_ID = 'i-0123456789abcdef0-enc0123456789abcdef'
const pcr0 = measureBytes(new TextEncoder().encode('image'))
const INTERNAL_ERROR = encodeNsmResponse({ type: 'Error', code: 'InternalError' })

/** The enclave's end: sends request frames and collects every answer frame. */
function enclaveEnd(enclave: Channel) {
  const answers: Uint8Array[] = []
  let notify: () => void = () => undefined
  enclave.onMessage((message) => {
    answers.push(message)
    notify()
  })
  return {
    answers,
    /** Sends `request` and resolves with its answer (the NSM takes one request at a time). */
    async ask(request: Uint8Array): Promise<Uint8Array> {
      const before = answers.length
      enclave.send(request)
      while (answers.length === before) {
        await new Promise<void>((resolve) => {
          notify = resolve
        })
      }
      return answers[before] as Uint8Array
    },
    /** Resolves once `count` answers have arrived. */
    async waitFor(count: number): Promise<Uint8Array[]> {
      while (answers.length < count) {
        await new Promise<void>((resolve) => {
          notify = resolve
        })
      }
      return answers
    },
  }
}

const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

t.test('every request gets the simulated NSM response', async (t) => {
  const pki = await openSimPki(join(mkdtempSync(join(tmpdir(), 'cloister-serve-nsm-')), 'sim'), NOW)
  const nsm = createSimulatedNsm({
    pki,
    clock: () => NOW,
    random: (length) => new Uint8Array(length).fill(3),
    moduleId: MODULE_ID,
    measurements: new Map([[0, pcr0]]),
    roleArn: undefined,
    instanceId: 'i-0123456789abcdef0',
    debug: false,
  })
  const [enclave, host] = createChannelPair()
  serveNsm(host, nsm)
  const end = enclaveEnd(enclave)
  const requests: NsmRequest[] = [
    { type: 'Attestation', userData: null, nonce: Uint8Array.of(1), publicKey: null },
    { type: 'DescribePCR', index: 0 },
    { type: 'GetRandom' },
    { type: 'DescribePCR', index: 40 },
  ]
  for (const request of requests) await end.ask(encodeNsmRequest(request))
  await end.ask(Uint8Array.of(0xff)) // not a request: the NSM's InvalidArgument
  const answers = end.answers
  t.equal(answers.length, 5)
  const attestation = decodeNsmResponse(answers[0] ?? new Uint8Array())
  t.equal(attestation.type, 'Attestation')
  if (attestation.type === 'Attestation') {
    const verified = verifyAttestation(attestation.document, {
      now: NOW,
      trustedRoots: trustRootCertificates([pki.root.pem]),
    })
    t.same(verified.nonce, Uint8Array.of(1))
  }
  t.same(answers[1], encodeNsmResponse({ type: 'DescribePCR', lock: true, data: pcr0 }))
  t.same(answers[2], encodeNsmResponse({ type: 'GetRandom', random: new Uint8Array(256).fill(3) }))
  t.same(answers[3], encodeNsmResponse({ type: 'Error', code: 'InvalidIndex' }))
  t.same(answers[4], encodeNsmResponse({ type: 'Error', code: 'InvalidArgument' }))
})

t.test('a request sent before the previous one is answered closes the channel', async (t) => {
  // The driver is one ioctl at a time: a pipelining client is not it, and queueing its requests
  // without bound would let an enclave exhaust the host's memory.
  const nsm: SimulatedNsm = {
    handle: () => Promise.reject(new Error('not used')),
    async handleBytes(bytes) {
      await delay(20)
      return bytes
    },
  }
  const [enclave, host] = createChannelPair()
  serveNsm(host, nsm)
  let closed = false
  enclave.onClose(() => {
    closed = true
  })
  enclave.send(Uint8Array.of(1))
  enclave.send(Uint8Array.of(2))
  await delay(40)
  t.ok(closed)
  t.notOk(host.send(Uint8Array.of(1)))
})

t.test('a failing host answers InternalError and keeps serving', async (t) => {
  const seen: number[] = []
  const nsm: SimulatedNsm = {
    handle: () => Promise.reject(new Error('not used')),
    handleBytes(bytes) {
      seen.push(bytes[0] ?? -1)
      // Say the PKI state cannot be written: the host itself fails, not the request.
      return bytes[0] === 2 ? Promise.reject(new Error('disk full')) : Promise.resolve(bytes)
    },
  }
  const [enclave, host] = createChannelPair()
  serveNsm(host, nsm)
  const end = enclaveEnd(enclave)
  for (const byte of [1, 2, 3, 2, 4]) await end.ask(Uint8Array.of(byte))
  const answers = end.answers
  t.same(answers, [
    Uint8Array.of(1),
    INTERNAL_ERROR,
    Uint8Array.of(3),
    INTERNAL_ERROR,
    Uint8Array.of(4),
  ])
  t.same(seen, [1, 2, 3, 2, 4])
  t.same(decodeNsmResponse(INTERNAL_ERROR), { type: 'Error', code: 'InternalError' })
})

t.test('a request whose answer finds the channel closed is dropped quietly', async (t) => {
  let release: () => void = () => undefined
  const nsm: SimulatedNsm = {
    handle: () => Promise.reject(new Error('not used')),
    async handleBytes(bytes) {
      await new Promise<void>((resolve) => {
        release = resolve
      })
      return bytes
    },
  }
  const [enclave, host] = createChannelPair()
  serveNsm(host, nsm)
  const end = enclaveEnd(enclave)
  enclave.send(Uint8Array.of(1))
  await delay(5)
  enclave.close()
  release()
  await delay(5)
  t.same(end.answers, [])
  t.notOk(host.send(Uint8Array.of(1)))
})

/** Typed NSM calls: each returns its own answer, an NSM error is its exact catalog code. */

import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { describeNsm, describePcr, requestAttestation } from '../../../enclave/nsm/nsm-calls.js'
import type { Nsm } from '../../../enclave/ports.js'
import { createSimulatedNsm } from '../../../parent/sim/nsm/simulated-nsm.js'
import { openSimPki } from '../../../parent/sim/sim-pki.js'
import { extendPcr, measureBytes, ZERO_PCR } from '../../../shared/attestation/pcr.js'
import { trustRootCertificates } from '../../../shared/attestation/trusted-roots.js'
import { verifyAttestation } from '../../../shared/attestation/verify-attestation.js'
import type { NsmErrorCode, NsmRequest, NsmResponse } from '../../../shared/nsm/nsm-messages.js'
import { exactCode } from '../../helpers/exact-code.js'

const NOW = Date.UTC(2026, 10, 27, 12, 0, 0)
const MODULE_ID = 'i-0123456789abcdef0-enc0123456789abcdef'
const text = new TextEncoder()
const pki = await openSimPki(join(mkdtempSync(join(tmpdir(), 'cloister-nsm-calls-')), 'sim'), NOW)
const pcr0 = measureBytes(text.encode('image'))
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

/** The simulated NSM as the enclave's port, recording what it was asked. */
function recordingNsm(): { nsm: Nsm; asked: NsmRequest[] } {
  const asked: NsmRequest[] = []
  return {
    asked,
    nsm: {
      request(request) {
        asked.push(request)
        return simulated.handle(request)
      },
    },
  }
}

/** An NSM that answers every request with `response`. */
function answering(response: NsmResponse): Nsm {
  return { request: () => Promise.resolve(response) }
}

const ATTESTATION_FIELDS = { userData: null, nonce: null, publicKey: null }

t.test('describePcr asks for one PCR and returns its value', async (t) => {
  const { nsm, asked } = recordingNsm()
  t.same(await describePcr(nsm, 0), pcr0)
  t.same(await describePcr(nsm, 4), extendPcr(ZERO_PCR, text.encode('i-0123456789abcdef0')))
  t.same(await describePcr(nsm, 3), ZERO_PCR)
  t.same(asked, [
    { type: 'DescribePCR', index: 0 },
    { type: 'DescribePCR', index: 4 },
    { type: 'DescribePCR', index: 3 },
  ])
})

t.test('describeNsm returns the whole description', async (t) => {
  const { nsm, asked } = recordingNsm()
  t.same(await describeNsm(nsm), {
    type: 'DescribeNSM',
    versionMajor: 1,
    versionMinor: 0,
    versionPatch: 0,
    moduleId: MODULE_ID,
    maxPcrs: 32,
    lockedPcrs: Array.from({ length: 16 }, (_, index) => index),
    digest: 'SHA384',
  })
  t.same(asked, [{ type: 'DescribeNSM' }])
})

t.test('requestAttestation passes its fields and returns the signed document', async (t) => {
  const { nsm, asked } = recordingNsm()
  const fields = {
    userData: text.encode('user data'),
    nonce: Uint8Array.of(1, 2, 3),
    publicKey: text.encode('public key'),
  }
  const document = await requestAttestation(nsm, fields)
  t.same(asked, [{ type: 'Attestation', ...fields }])
  const verified = verifyAttestation(document, {
    now: NOW,
    trustedRoots: trustRootCertificates([pki.root.pem]),
  })
  t.same(verified.userData, fields.userData)
  t.same(verified.nonce, fields.nonce)
  t.same(verified.publicKey, fields.publicKey)
  t.same(verified.pcrs.get(0), pcr0)
  const bare = verifyAttestation(await requestAttestation(nsm, ATTESTATION_FIELDS), {
    now: NOW,
    trustedRoots: trustRootCertificates([pki.root.pem]),
  })
  t.equal(bare.userData, null)
  t.equal(bare.nonce, null)
  t.equal(bare.publicKey, null)
})

t.test('the simulated NSM refusing a request is its exact catalog code', async (t) => {
  const { nsm } = recordingNsm()
  await t.rejects(describePcr(nsm, 32), { code: exactCode('ERR_NSM_INVALID_INDEX') })
  await t.rejects(requestAttestation(nsm, { ...ATTESTATION_FIELDS, nonce: new Uint8Array(1025) }), {
    code: exactCode('ERR_NSM_INPUT_TOO_LARGE'),
  })
})

const NSM_ERRORS: readonly (readonly [NsmErrorCode, string])[] = [
  ['InvalidArgument', 'ERR_NSM_INVALID_ARGUMENT'],
  ['InvalidIndex', 'ERR_NSM_INVALID_INDEX'],
  ['InvalidResponse', 'ERR_NSM_INVALID_RESPONSE'],
  ['ReadOnlyIndex', 'ERR_NSM_READ_ONLY_INDEX'],
  ['InvalidOperation', 'ERR_NSM_INVALID_OPERATION'],
  ['BufferTooSmall', 'ERR_NSM_BUFFER_TOO_SMALL'],
  ['InputTooLarge', 'ERR_NSM_INPUT_TOO_LARGE'],
  ['InternalError', 'ERR_NSM_INTERNAL'],
]

const CALLS: readonly (readonly [string, (nsm: Nsm) => Promise<unknown>])[] = [
  ['describePcr', (nsm) => describePcr(nsm, 0)],
  ['describeNsm', (nsm) => describeNsm(nsm)],
  ['requestAttestation', (nsm) => requestAttestation(nsm, ATTESTATION_FIELDS)],
]

t.test('every NSM error response maps to its exact ERR_NSM_* code, for every call', async (t) => {
  for (const [name, call] of CALLS) {
    for (const [nsmCode, code] of NSM_ERRORS) {
      await t.rejects(
        call(answering({ type: 'Error', code: nsmCode })),
        { name: 'CloisterError', code: exactCode(code) },
        `${name}: ${nsmCode} → ${code}`,
      )
    }
  }
})

t.test('an answer of another type is ERR_NSM_INVALID_RESPONSE', async (t) => {
  const others: readonly NsmResponse[] = [
    { type: 'LockPCR' },
    { type: 'GetRandom', random: new Uint8Array(256) },
    { type: 'ExtendPCR', data: pcr0 },
  ]
  for (const [name, call] of CALLS) {
    for (const other of others) {
      await t.rejects(
        call(answering(other)),
        { code: exactCode('ERR_NSM_INVALID_RESPONSE') },
        `${name} answered by ${other.type}`,
      )
    }
  }
  // Each call's answer is wrong for the other calls.
  await t.rejects(describePcr(answering({ type: 'Attestation', document: pcr0 }), 0), {
    code: exactCode('ERR_NSM_INVALID_RESPONSE'),
  })
  await t.rejects(
    requestAttestation(
      answering({ type: 'DescribePCR', lock: true, data: pcr0 }),
      ATTESTATION_FIELDS,
    ),
    { code: exactCode('ERR_NSM_INVALID_RESPONSE') },
  )
})

t.test('a failing port passes its error through unchanged', async (t) => {
  const failure = new Error('device gone')
  const nsm: Nsm = { request: () => Promise.reject(failure) }
  await t.rejects(describeNsm(nsm), failure)
})

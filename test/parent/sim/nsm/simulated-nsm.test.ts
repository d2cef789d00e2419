/** The simulated NSM answers like the real device and signs documents shaped like real ones. */

import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import {
  createSimulatedNsm,
  type SimulatedNsmConfig,
} from '../../../../parent/sim/nsm/simulated-nsm.js'
import { openSimPki } from '../../../../parent/sim/sim-pki.js'
import { toHex } from '../../../../shared/bytes/bytes.js'
import { decodeStrict } from '../../../../shared/cbor/decode-strict.js'
import { isCborMap } from '../../../../shared/cbor/cbor-value.js'
import { decodeSign1 } from '../../../../shared/cose/decode-sign1.js'
import { checkAttestationPolicy } from '../../../../shared/attestation/attestation-policy.js'
import { extendPcr, measureBytes, ZERO_PCR } from '../../../../shared/attestation/pcr.js'
import { trustRootCertificates } from '../../../../shared/attestation/trusted-roots.js'
import { verifyAttestation } from '../../../../shared/attestation/verify-attestation.js'
import {
  decodeNsmResponse,
  encodeNsmRequest,
  type NsmRequest,
  type NsmResponse,
} from '../../../../shared/nsm/nsm-messages.js'
import { vectorBytes } from '../../../helpers/shared-vectors.js'

const NOW = Date.UTC(2026, 10, 27, 12, 0, 0, 123)
const text = new TextEncoder()
const pki = await openSimPki(join(mkdtempSync(join(tmpdir(), 'cloister-nsm-')), 'sim'), NOW)
const roots = trustRootCertificates([pki.root.pem])
const measurements = new Map([
  [0, measureBytes(text.encode('image'))],
  [1, measureBytes(text.encode('runtime'))],
  [2, measureBytes(text.encode('bundle'))],
])

function nsmWith(overrides: Partial<SimulatedNsmConfig> = {}) {
  return createSimulatedNsm({
    pki,
    clock: () => NOW,
    random: (length) => new Uint8Array(length).fill(7),
    moduleId: 'i-0123456789abcdef0-enc0123456789abcdef',
    measurements,
    roleArn: 'arn:aws:iam::123456789012:role/cloister-parent',
    instanceId: 'i-0123456789abcdef0',
    debug: false,
    ...overrides,
  })
}

const attestation: NsmRequest = {
  type: 'Attestation',
  userData: text.encode('user data'),
  nonce: Uint8Array.of(1, 2, 3),
  publicKey: null,
}

async function documentOf(response: Promise<NsmResponse>): Promise<Uint8Array> {
  const answer = await response
  if (answer.type !== 'Attestation') throw new Error(`expected a document, got ${answer.type}`)
  return answer.document
}

t.test('documents verify under the simulated root only, with the configured PCRs', async (t) => {
  const document = await documentOf(nsmWith().handle(attestation))
  const verified = verifyAttestation(document, { now: NOW, trustedRoots: roots })
  t.equal(verified.moduleId, 'i-0123456789abcdef0-enc0123456789abcdef')
  t.equal(verified.timestamp, NOW)
  t.equal(verified.pcrs.size, 16)
  t.same(verified.pcrs.get(0), measurements.get(0))
  t.same(verified.pcrs.get(2), measurements.get(2))
  t.same(
    verified.pcrs.get(3),
    extendPcr(ZERO_PCR, text.encode('arn:aws:iam::123456789012:role/cloister-parent')),
  )
  t.same(verified.pcrs.get(4), extendPcr(ZERO_PCR, text.encode('i-0123456789abcdef0')))
  t.same(verified.pcrs.get(5), ZERO_PCR)
  t.same(verified.userData, text.encode('user data'))
  t.same(verified.nonce, Uint8Array.of(1, 2, 3))
  t.equal(verified.publicKey, null)
  checkAttestationPolicy(verified, { pcrs: [new Map([[0, measurements.get(0) ?? ZERO_PCR]])] }, NOW)
  t.throws(() => verifyAttestation(document, { now: NOW }), {
    code: /^ERR_ATTESTATION_UNTRUSTED_ROOT$/,
  })
  const noRole = verifyAttestation(
    await documentOf(nsmWith({ roleArn: undefined }).handle(attestation)),
    {
      now: NOW,
      trustedRoots: roots,
    },
  )
  t.same(noRole.pcrs.get(3), ZERO_PCR, 'no IAM role: PCR3 stays zero')
})

t.test('the byte shape matches real NSM output', async (t) => {
  const document = await documentOf(nsmWith().handle(attestation))
  const real = vectorBytes('nitro/base-2.cose') // the 2026 NSM, indefinite payload map
  // 84 (array of 4) 44 a1 01 38 22 (protected {1:-35}) a0 (unprotected {}) 59 (payload bstr, 2-byte length)
  t.equal(toHex(document.subarray(0, 8)), '8444a1013822a059')
  t.equal(toHex(real.subarray(0, 8)), '8444a1013822a059')
  const { payload, signature } = decodeSign1(document)
  const realPayload = decodeSign1(real).payload
  t.equal(payload[0], 0xbf, 'indefinite-length payload map, as the NSM writes it since 2026')
  t.equal(realPayload[0], 0xbf)
  t.equal(signature.byteLength, 96)
  const keys = (bytes: Uint8Array) => {
    const map = decodeStrict(bytes)
    return isCborMap(map) ? [...map.keys()] : []
  }
  t.same(keys(payload), keys(realPayload), 'the same nine keys in the same order')
  // timestamp: text key "timestamp", then 1b and eight bytes, as real documents encode it.
  const at = Buffer.from(payload).indexOf(Buffer.from('timestamp'))
  t.equal(payload[at + 'timestamp'.length], 0x1b)
  const absent = await documentOf(
    nsmWith().handle({ type: 'Attestation', userData: null, nonce: null, publicKey: null }),
  )
  const absentPayload = decodeStrict(decodeSign1(absent).payload)
  t.ok(
    isCborMap(absentPayload) && absentPayload.get('nonce') === null,
    'absent options are CBOR null',
  )
})

t.test('debug mode reports zero PCR0-2, which the default policy refuses', async (t) => {
  const document = await documentOf(nsmWith({ debug: true }).handle(attestation))
  const verified = verifyAttestation(document, { now: NOW, trustedRoots: roots })
  for (const index of [0, 1, 2]) t.same(verified.pcrs.get(index), ZERO_PCR)
  t.throws(() => checkAttestationPolicy(verified, { pcrs: 'any' }, NOW), {
    code: /^ERR_ATTESTATION_DEBUG$/,
  })
})

t.test(
  'PCRs 0-15 are locked at boot; 16-31 extend until locked, then appear in documents',
  async (t) => {
    const nsm = nsmWith()
    t.same(await nsm.handle({ type: 'ExtendPCR', index: 0, data: Uint8Array.of(1) }), {
      type: 'Error',
      code: 'ReadOnlyIndex',
    })
    const extended = await nsm.handle({ type: 'ExtendPCR', index: 16, data: text.encode('app') })
    const expected = extendPcr(ZERO_PCR, text.encode('app'))
    t.same(extended, { type: 'ExtendPCR', data: expected })
    t.same(await nsm.handle({ type: 'DescribePCR', index: 16 }), {
      type: 'DescribePCR',
      lock: false,
      data: expected,
    })
    t.same(await nsm.handle({ type: 'LockPCR', index: 16 }), { type: 'LockPCR' })
    t.same(await nsm.handle({ type: 'ExtendPCR', index: 16, data: Uint8Array.of(1) }), {
      type: 'Error',
      code: 'ReadOnlyIndex',
    })
    const verified = verifyAttestation(await documentOf(nsm.handle(attestation)), {
      now: NOW,
      trustedRoots: roots,
    })
    t.equal(verified.pcrs.size, 17)
    t.same(verified.pcrs.get(16), expected)
    t.same(await nsm.handle({ type: 'LockPCRs', range: 20 }), { type: 'LockPCRs' })
    const described = await nsm.handle({ type: 'DescribeNSM' })
    t.same(described, {
      type: 'DescribeNSM',
      versionMajor: 1,
      versionMinor: 0,
      versionPatch: 0,
      moduleId: 'i-0123456789abcdef0-enc0123456789abcdef',
      maxPcrs: 32,
      lockedPcrs: Array.from({ length: 20 }, (_, index) => index),
      digest: 'SHA384',
    })
  },
)

t.test('out-of-range indexes and oversized inputs are NSM errors', async (t) => {
  const nsm = nsmWith()
  const cases: [NsmRequest, string][] = [
    [{ type: 'DescribePCR', index: 32 }, 'InvalidIndex'],
    [{ type: 'ExtendPCR', index: 32, data: Uint8Array.of(1) }, 'InvalidIndex'],
    [{ type: 'ExtendPCR', index: 17, data: new Uint8Array(1025) }, 'InputTooLarge'],
    [{ type: 'LockPCR', index: 65535 }, 'InvalidIndex'],
    [{ type: 'LockPCRs', range: 33 }, 'InvalidIndex'],
    [{ ...attestation, publicKey: new Uint8Array(1025) }, 'InputTooLarge'],
  ]
  for (const [request, code] of cases) {
    t.same(await nsm.handle(request), { type: 'Error', code }, `${request.type} → ${code}`)
  }
  t.same(await nsm.handle({ type: 'ExtendPCR', index: 17, data: new Uint8Array(1024) }), {
    type: 'ExtendPCR',
    data: extendPcr(ZERO_PCR, new Uint8Array(1024)),
  })
  t.same(await nsm.handle({ type: 'GetRandom' }), {
    type: 'GetRandom',
    random: new Uint8Array(256).fill(7),
  })
})

t.test('over the wire: CBOR in, CBOR out; garbage is InvalidArgument', async (t) => {
  const nsm = nsmWith()
  const described = decodeNsmResponse(
    await nsm.handleBytes(encodeNsmRequest({ type: 'DescribePCR', index: 4 })),
  )
  t.same(described, {
    type: 'DescribePCR',
    lock: true,
    data: extendPcr(ZERO_PCR, text.encode('i-0123456789abcdef0')),
  })
  for (const garbage of [Uint8Array.of(0xff), text.encode('"Reboot"'), new Uint8Array(5000)]) {
    t.same(decodeNsmResponse(await nsm.handleBytes(garbage)), {
      type: 'Error',
      code: 'InvalidArgument',
    })
  }
})

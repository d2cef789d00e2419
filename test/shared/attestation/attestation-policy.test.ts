/** Policy decisions over authentic documents: fail-closed, in a fixed order, each with its code. */

import { createPublicKey, generateKeyPairSync } from 'node:crypto'
import { exactCode } from '../../helpers/exact-code.js'
import t from 'tap'
import type { AttestationDocument } from '../../../shared/attestation/attestation-document.js'
import { isDebugDocument } from '../../../shared/attestation/attestation-document.js'
import {
  assertReleasePolicy,
  checkAttestationPolicy,
  DEFAULT_MAX_FUTURE_SKEW_MS,
  type AttestationPolicy,
} from '../../../shared/attestation/attestation-policy.js'
import { asBytes } from '../../../shared/bytes/bytes.js'
import { pcrOf } from '../../fakes/test-pki.js'

const NOW = Date.UTC(2026, 5, 1)

function documentWith(overrides: Partial<AttestationDocument> = {}): AttestationDocument {
  return {
    moduleId: 'i-0123456789abcdef0-enc0123456789abcdef',
    digest: 'SHA384',
    timestamp: NOW,
    pcrs: new Map([
      [0, pcrOf(1)],
      [1, pcrOf(2)],
      [2, pcrOf(3)],
      [3, pcrOf(0)],
      [8, pcrOf(8)],
    ]),
    certificate: new Uint8Array([0x30]),
    cabundle: [new Uint8Array([0x30])],
    publicKey: null,
    userData: null,
    nonce: null,
    ...overrides,
  }
}

function spki(type: 'rsa' | 'ec', bits = 2048): Uint8Array {
  const { publicKey } =
    type === 'rsa'
      ? generateKeyPairSync('rsa', { modulusLength: bits })
      : generateKeyPairSync('ec', { namedCurve: 'P-256' })
  return asBytes(publicKey.export({ format: 'der', type: 'spki' }))
}

const pinned: AttestationPolicy = { pcrs: [new Map([[0, pcrOf(1)]])] }

t.test('matching PCR sets accept; any one set of several is enough', (t) => {
  checkAttestationPolicy(documentWith(), pinned, NOW)
  checkAttestationPolicy(
    documentWith(),
    {
      pcrs: [
        new Map([[0, pcrOf(9)]]),
        new Map([
          [0, pcrOf(1)],
          [8, pcrOf(8)],
        ]),
      ],
    },
    NOW,
  )
  t.pass('accepted')
  t.end()
})

t.test('mismatched, missing and empty-list PCR policies refuse', (t) => {
  const refuse = (policy: AttestationPolicy, code: string, name: string) => {
    t.throws(
      () => checkAttestationPolicy(documentWith(), policy, NOW),
      { code: exactCode(code) },
      name,
    )
  }
  refuse({ pcrs: [new Map([[0, pcrOf(9)]])] }, 'ERR_ATTESTATION_PCR_MISMATCH', 'PCR0 differs')
  refuse({ pcrs: [new Map([[31, pcrOf(0)]])] }, 'ERR_ATTESTATION_PCR_MISMATCH', 'PCR31 absent')
  refuse({ pcrs: [] }, 'ERR_ATTESTATION_PCR_MISMATCH', 'no set at all accepts nothing')
  refuse({ pcrs: [new Map()] }, 'ERR_POLICY_INVALID', 'an empty set would accept everything')
  refuse({ pcrs: [new Map([[32, pcrOf(1)]])] }, 'ERR_POLICY_INVALID', 'index 32')
  refuse({ pcrs: [new Map([[-1, pcrOf(1)]])] }, 'ERR_POLICY_INVALID', 'index -1')
  refuse({ pcrs: [new Map([[1.5, pcrOf(1)]])] }, 'ERR_POLICY_INVALID', 'index 1.5')
  refuse({ pcrs: [new Map([[0, new Uint8Array(47)]])] }, 'ERR_POLICY_INVALID', '47 bytes')
  refuse({ pcrs: 'any', maxAgeMs: -1 }, 'ERR_POLICY_INVALID', 'negative age')
  refuse({ pcrs: 'any', maxFutureSkewMs: Number.NaN }, 'ERR_POLICY_INVALID', 'NaN skew')
  refuse({ pcrs: 'any', nonce: new Uint8Array(0) }, 'ERR_POLICY_INVALID', 'an empty nonce')
  t.throws(() => checkAttestationPolicy(documentWith(), pinned, Number.NaN), {
    code: /^ERR_CLOCK_INVALID$/,
  })
  t.end()
})

t.test('debug documents are refused unless allowed, even when PCRs are pinned to zero', (t) => {
  const debug = documentWith({
    pcrs: new Map([
      [0, pcrOf(0)],
      [1, pcrOf(0)],
      [2, pcrOf(0)],
      [4, pcrOf(4)],
    ]),
  })
  t.ok(isDebugDocument(debug))
  t.ok(isDebugDocument(documentWith({ pcrs: new Map([[4, pcrOf(4)]]) })), 'absent counts as zero')
  t.notOk(isDebugDocument(documentWith({ pcrs: new Map([[2, pcrOf(1)]]) })))
  t.throws(() => checkAttestationPolicy(debug, { pcrs: 'any' }, NOW), {
    code: /^ERR_ATTESTATION_DEBUG$/,
  })
  t.throws(() => checkAttestationPolicy(debug, { pcrs: [new Map([[0, pcrOf(0)]])] }, NOW), {
    code: /^ERR_ATTESTATION_DEBUG$/,
  })
  checkAttestationPolicy(debug, { pcrs: [new Map([[0, pcrOf(0)]])], allowDebug: true }, NOW)
  // Debug is decided before PCRs: the code names the real reason.
  t.throws(() => checkAttestationPolicy(debug, pinned, NOW), { code: /^ERR_ATTESTATION_DEBUG$/ })
  t.end()
})

t.test('age and skew are measured against the caller clock', (t) => {
  const document = documentWith()
  checkAttestationPolicy(document, { ...pinned, maxAgeMs: 1000 }, NOW + 1000)
  t.throws(() => checkAttestationPolicy(document, { ...pinned, maxAgeMs: 1000 }, NOW + 1001), {
    code: /^ERR_ATTESTATION_STALE$/,
  })
  checkAttestationPolicy(document, pinned, NOW - DEFAULT_MAX_FUTURE_SKEW_MS)
  t.throws(() => checkAttestationPolicy(document, pinned, NOW - DEFAULT_MAX_FUTURE_SKEW_MS - 1), {
    code: /^ERR_ATTESTATION_FUTURE$/,
  })
  t.throws(() => checkAttestationPolicy(document, { ...pinned, maxFutureSkewMs: 0 }, NOW - 1), {
    code: /^ERR_ATTESTATION_FUTURE$/,
  })
  t.end()
})

t.test('the nonce must match byte for byte', (t) => {
  const nonce = new Uint8Array([1, 2, 3, 4])
  checkAttestationPolicy(
    documentWith({ nonce }),
    { ...pinned, nonce: Uint8Array.of(1, 2, 3, 4) },
    NOW,
  )
  for (const actual of [
    null,
    new Uint8Array(0),
    Uint8Array.of(1, 2, 3),
    Uint8Array.of(1, 2, 3, 5),
  ]) {
    t.throws(
      () => checkAttestationPolicy(documentWith({ nonce: actual }), { ...pinned, nonce }, NOW),
      { code: /^ERR_ATTESTATION_NONCE_MISMATCH$/ },
    )
  }
  t.end()
})

t.test('the public key kind is enforced', (t) => {
  const rsa = spki('rsa')
  const ec = spki('ec')
  const check = (publicKey: Uint8Array | null, kind: 'rsa-spki' | 'ec-spki' | 'present') => {
    checkAttestationPolicy(documentWith({ publicKey }), { ...pinned, publicKey: kind }, NOW)
  }
  const refuse = (publicKey: Uint8Array | null, kind: 'rsa-spki' | 'ec-spki' | 'present') => {
    t.throws(() => check(publicKey, kind), { code: /^ERR_ATTESTATION_PUBLIC_KEY$/ })
  }
  check(rsa, 'rsa-spki')
  check(ec, 'ec-spki')
  check(Uint8Array.of(4, 1, 2), 'present')
  refuse(null, 'present')
  refuse(new Uint8Array(0), 'present')
  refuse(ec, 'rsa-spki')
  refuse(rsa, 'ec-spki')
  refuse(spki('rsa', 1024), 'rsa-spki')
  const withExponent = (e: string) => {
    const jwk = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({
      format: 'jwk',
    })
    return asBytes(
      createPublicKey({ key: { ...jwk, e }, format: 'jwk' }).export({
        format: 'der',
        type: 'spki',
      }),
    )
  }
  check(withExponent('Aw'), 'rsa-spki') // e = 3
  refuse(withExponent('AQ'), 'rsa-spki') // e = 1: encryption is the identity
  refuse(withExponent('BA'), 'rsa-spki') // e = 4: even
  refuse(new TextEncoder().encode('my super secret key'), 'rsa-spki')
  // A P-384 SPKI whose point is at infinity: importable, but unusable (and fatal to use on Node 20).
  const infinity = Buffer.from('3016301006072a8648ce3d020106052b8104002203020000', 'hex')
  refuse(new Uint8Array(infinity), 'ec-spki')
  t.end()
})

t.test('a release policy must pin PCRs, refuse debug and bound age', (t) => {
  assertReleasePolicy({ ...pinned, maxAgeMs: 300_000 })
  for (const policy of [
    { pcrs: 'any', maxAgeMs: 1 },
    { pcrs: [], maxAgeMs: 1 },
    { ...pinned, maxAgeMs: 1, allowDebug: true },
    pinned,
    { pcrs: [new Map()], maxAgeMs: 1 },
  ] as AttestationPolicy[]) {
    t.throws(
      () => {
        assertReleasePolicy(policy)
      },
      { code: /^ERR_POLICY_INVALID$/ },
    )
  }
  t.end()
})

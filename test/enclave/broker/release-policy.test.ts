/** Release policies round-trip to equal bytes, and anything invalid or non-canonical is one code. */

import t from 'tap'
import {
  assertValidReleasePolicy,
  decodeReleasePolicy,
  encodeReleasePolicy,
  MAX_PCR_SETS,
  MAX_PCRS_PER_SET,
  MAX_RELEASE_AGE_MS,
  MAX_RELEASE_POLICY_BYTES,
  type ReleasePolicy,
} from '../../../enclave/broker/release-policy.js'
import { toHex } from '../../../shared/bytes/bytes.js'
import type { CborValue } from '../../../shared/cbor/cbor-value.js'
import { encodeCbor } from '../../../shared/cbor/encode.js'
import { caughtCode } from '../../helpers/caught-code.js'
import { pcrOf } from '../../fakes/test-pki.js'

const INVALID = 'ERR_RELEASE_POLICY_INVALID'

const firstSet = new Map([
  [0, pcrOf(1)],
  [8, pcrOf(8)],
])
const secondSet = new Map([[2, pcrOf(3)]])
const policy: ReleasePolicy = {
  pcrs: [firstSet, secondSet],
  signerPcr8: pcrOf(8),
  maxAgeMs: 300_000,
  requireNonce: true,
}

/** The canonical map, spelled out: RFC 8949 §4.2.1 bytewise key order. */
function canonical(fields: Partial<Record<string, CborValue>> = {}): Map<string, CborValue> {
  const map = new Map<string, CborValue>([
    [
      'pcrs',
      [
        new Map([
          [0, pcrOf(1)],
          [8, pcrOf(8)],
        ]),
        new Map([[2, pcrOf(3)]]),
      ],
    ],
    ['max_age_ms', 300_000],
    ['signer_pcr8', pcrOf(8)],
    ['require_nonce', true],
  ])
  for (const [key, value] of Object.entries(fields)) {
    if (value === undefined) map.delete(key)
    else map.set(key, value)
  }
  return map
}

t.test('encode writes the canonical map; decode gives the policy back; bytes round-trip', (t) => {
  const bytes = encodeReleasePolicy(policy)
  t.equal(toHex(bytes), toHex(encodeCbor(canonical())))
  t.equal(toHex(bytes.subarray(0, 6)), 'a46470637273', 'a map of 4, then "pcrs"')
  const decoded = decodeReleasePolicy(bytes)
  t.same(decoded, policy)
  t.equal(toHex(encodeReleasePolicy(decoded)), toHex(bytes))

  const unsigned: ReleasePolicy = { pcrs: policy.pcrs, maxAgeMs: 1, requireNonce: false }
  const unsignedBytes = encodeReleasePolicy(unsigned)
  t.equal(
    toHex(unsignedBytes),
    toHex(encodeCbor(canonical({ signer_pcr8: undefined, max_age_ms: 1, require_nonce: false }))),
  )
  const decodedUnsigned = decodeReleasePolicy(unsignedBytes)
  t.notOk('signerPcr8' in decodedUnsigned, 'no signer: the field is absent, not undefined')
  t.same(decodedUnsigned, unsigned)
  t.end()
})

t.test('PCRs are written in index order whatever the order given', (t) => {
  const shuffled: ReleasePolicy = {
    ...policy,
    pcrs: [
      new Map([
        [8, pcrOf(8)],
        [0, pcrOf(1)],
      ]),
      new Map([[2, pcrOf(3)]]),
    ],
  }
  t.equal(toHex(encodeReleasePolicy(shuffled)), toHex(encodeReleasePolicy(policy)))
  t.end()
})

t.test('the largest policy fits its byte limit and round-trips', (t) => {
  const full = new Map(Array.from({ length: MAX_PCRS_PER_SET }, (_, index) => [index, pcrOf(9)]))
  const largest: ReleasePolicy = {
    pcrs: Array.from({ length: MAX_PCR_SETS }, () => full),
    signerPcr8: pcrOf(8),
    maxAgeMs: MAX_RELEASE_AGE_MS,
    requireNonce: true,
  }
  const bytes = encodeReleasePolicy(largest)
  t.ok(bytes.byteLength <= MAX_RELEASE_POLICY_BYTES, `${bytes.byteLength} bytes`)
  t.same(decodeReleasePolicy(bytes), largest)
  t.end()
})

t.test('invalid policies are refused by assert, encode and decode alike', (t) => {
  const cases: [string, ReleasePolicy][] = [
    ['no PCR sets', { ...policy, pcrs: [] }],
    ['too many sets', { ...policy, pcrs: Array.from({ length: 17 }, () => secondSet) }],
    ['an empty set', { ...policy, pcrs: [new Map()] }],
    ['a negative index', { ...policy, pcrs: [new Map([[-1, pcrOf(1)]])] }],
    ['index 32', { ...policy, pcrs: [new Map([[32, pcrOf(1)]])] }],
    ['a fractional index', { ...policy, pcrs: [new Map([[1.5, pcrOf(1)]])] }],
    ['a 32-byte PCR', { ...policy, pcrs: [new Map([[0, new Uint8Array(32).fill(1)]])] }],
    ['debug PCR0', { ...policy, pcrs: [new Map([[0, pcrOf(0)]])] }],
    [
      'debug PCR1',
      {
        ...policy,
        pcrs: [
          new Map([
            [0, pcrOf(1)],
            [1, pcrOf(0)],
          ]),
        ],
      },
    ],
    ['debug PCR2 in a second set', { ...policy, pcrs: [firstSet, new Map([[2, pcrOf(0)]])] }],
    ['a short signer', { ...policy, signerPcr8: new Uint8Array(47).fill(8) }],
    ['a zero signer (an unsigned image)', { ...policy, signerPcr8: pcrOf(0) }],
    ['maxAgeMs 0', { ...policy, maxAgeMs: 0 }],
    ['maxAgeMs beyond an hour', { ...policy, maxAgeMs: MAX_RELEASE_AGE_MS + 1 }],
    ['a fractional maxAgeMs', { ...policy, maxAgeMs: 1.5 }],
    ['maxAgeMs NaN', { ...policy, maxAgeMs: NaN }],
  ]
  for (const [name, invalid] of cases) {
    t.equal(
      caughtCode(() => assertValidReleasePolicy(invalid)),
      INVALID,
      `assert: ${name}`,
    )
    t.equal(
      caughtCode(() => encodeReleasePolicy(invalid)),
      INVALID,
      `encode: ${name}`,
    )
  }
  // Zeros elsewhere are ordinary: PCR3/PCR4 are zero when the parent has no role or instance id.
  assertValidReleasePolicy({
    ...policy,
    pcrs: [
      new Map([
        [0, pcrOf(1)],
        [3, pcrOf(0)],
      ]),
    ],
  })
  t.end()
})

t.test('decode refuses bytes that are not exactly a canonical valid policy', (t) => {
  const cases: [string, Uint8Array][] = [
    ['empty input', new Uint8Array(0)],
    ['undecodable CBOR', Uint8Array.of(0xa4, 0x64)],
    ['trailing bytes', Uint8Array.of(...encodeReleasePolicy(policy), 0x00)],
    ['too large', new Uint8Array(MAX_RELEASE_POLICY_BYTES + 1)],
    ['not a map', encodeCbor([1, 2])],
    ['a missing field', encodeCbor(canonical({ require_nonce: undefined }))],
    ['an unknown field', encodeCbor(canonical({ version: 1 }))],
    ['an integer key', encodeCbor(new Map<number, CborValue>([[1, 1]]))],
    ['pcrs not an array', encodeCbor(canonical({ pcrs: new Map() }))],
    ['a set that is not a map', encodeCbor(canonical({ pcrs: [[pcrOf(1)]] }))],
    ['a text PCR index', encodeCbor(canonical({ pcrs: [new Map([['0', pcrOf(1)]])] }))],
    ['a 47-byte PCR', encodeCbor(canonical({ pcrs: [new Map([[0, new Uint8Array(47)]])] }))],
    ['a debug set', encodeCbor(canonical({ pcrs: [new Map([[1, pcrOf(0)]])] }))],
    [
      '17 sets',
      encodeCbor(canonical({ pcrs: Array.from({ length: 17 }, () => new Map([[0, pcrOf(1)]])) })),
    ],
    ['max_age_ms as text', encodeCbor(canonical({ max_age_ms: '300000' }))],
    ['max_age_ms negative', encodeCbor(canonical({ max_age_ms: -1 }))],
    ['max_age_ms zero', encodeCbor(canonical({ max_age_ms: 0 }))],
    ['require_nonce as 1', encodeCbor(canonical({ require_nonce: 1 }))],
    ['signer_pcr8 null', encodeCbor(canonical({ signer_pcr8: null }))],
    ['a zero signer', encodeCbor(canonical({ signer_pcr8: pcrOf(0) }))],
    ['a tag', Uint8Array.of(0xd8, 0x18, ...encodeReleasePolicy(policy))],
    [
      'keys out of order',
      encodeCbor(
        new Map<string, CborValue>([
          ['max_age_ms', 300_000],
          ['pcrs', [firstSet, secondSet]],
          ['signer_pcr8', pcrOf(8)],
          ['require_nonce', true],
        ]),
      ),
    ],
    [
      'PCR indexes out of order',
      encodeCbor(
        canonical({
          pcrs: [
            new Map([
              [8, pcrOf(8)],
              [0, pcrOf(1)],
            ]),
          ],
        }),
      ),
    ],
    ['a non-shortest integer head', nonShortestMaxAge()],
    ['an indefinite-length map', indefiniteTopMap()],
  ]
  for (const [name, bytes] of cases) {
    t.equal(
      caughtCode(() => decodeReleasePolicy(bytes)),
      INVALID,
      name,
    )
  }
  t.end()
})

/** The canonical bytes with max_age_ms 300000 (1a 00 04 93 e0) rewritten as an 8-byte head. */
function nonShortestMaxAge(): Uint8Array {
  const hex = toHex(encodeReleasePolicy(policy))
  const patched = hex.replace('1a000493e0', '1b00000000000493e0')
  return Uint8Array.from(Buffer.from(patched, 'hex'))
}

/** The canonical map re-framed as `bf … ff`: same entries, not the canonical form. */
function indefiniteTopMap(): Uint8Array {
  const bytes = encodeReleasePolicy(policy)
  return Uint8Array.of(0xbf, ...bytes.subarray(1), 0xff)
}

/** Every COSE WG example in ../shared/vectors/cose/ gets its exact verdict and its Sig_structure. */

import { createPublicKey, type JsonWebKey, type KeyObject } from 'node:crypto'
import { readdirSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { toHex } from '../../../shared/bytes/bytes.js'
import {
  CborTagged,
  isCborArray,
  isCborBytes,
  isCborMap,
  type CborKey,
  type CborMap,
  type CborValue,
} from '../../../shared/cbor/cbor-value.js'
import { decodeStrict } from '../../../shared/cbor/decode-strict.js'
import { encodeCbor } from '../../../shared/cbor/encode.js'
import { decodeSign1 } from '../../../shared/cose/decode-sign1.js'
import { buildSigStructure } from '../../../shared/cose/sig-structure.js'
import { verifySign1 } from '../../../shared/cose/verify-sign1.js'
import { VECTORS_DIR, vectorJson } from '../../helpers/shared-vectors.js'
import { caughtCode } from '../../helpers/caught-code.js'
import { hexBytes } from '../../helpers/hex-bytes.js'

/** The fields of a cose-wg/Examples Sign1 file that these tests read (SOURCES.md, "Format"). */
interface CoseExample {
  readonly title: string
  readonly fail?: boolean
  readonly input: {
    readonly plaintext: string
    readonly sign0: {
      readonly key: JsonWebKey
      readonly protected?: Readonly<Record<string, string | number>>
      readonly external?: string
    }
  }
  readonly intermediates: { readonly ToBeSign_hex: string }
  readonly output: { readonly cbor: string }
}

interface Expectation {
  /** What decodeSign1 then verifySign1 give: `'returned'` for accept, else the exact code. */
  readonly outcome: string
  /**
   * Whether the message still carries the protected bytes and payload the signer signed, so that
   * its own Sig_structure is `ToBeSign_hex`.
   */
  readonly signedPartsIntact: boolean
}

const PASS_01 = 'sign1-tests_sign-pass-01.json'

/** Our verdict on each file (SOURCES.md §1), and why. */
const EXPECTED: Readonly<Record<string, Expectation>> = {
  'ecdsa-examples_ecdsa-sig-02.json': { outcome: 'returned', signedPartsIntact: true },
  // Nitro-strict: alg only in the unprotected header. The message also carries h'a0' where the
  // signer's Sig_structure has h'' (RFC 9052 §4.4: no protected parameters → zero-length bstr).
  [PASS_01]: { outcome: 'ERR_COSE_ALGORITHM', signedPartsIntact: false },
  'sign1-tests_sign-pass-02.json': { outcome: 'returned', signedPartsIntact: true },
  'sign1-tests_sign-pass-03.json': { outcome: 'returned', signedPartsIntact: true },
  // Tag 998 around an otherwise intact message.
  'sign1-tests_sign-fail-01.json': { outcome: 'ERR_COSE_TAG', signedPartsIntact: true },
  // The payload's last byte changed ('.' → '/'); signature as in sign-pass-03.
  'sign1-tests_sign-fail-02.json': { outcome: 'ERR_COSE_SIGNATURE', signedPartsIntact: false },
  // Protected alg rewritten to -999 and to "unknown".
  'sign1-tests_sign-fail-03.json': { outcome: 'ERR_COSE_ALGORITHM', signedPartsIntact: false },
  'sign1-tests_sign-fail-04.json': { outcome: 'ERR_COSE_ALGORITHM', signedPartsIntact: false },
  // A protected ctyp added after signing, and one removed after signing.
  'sign1-tests_sign-fail-06.json': { outcome: 'ERR_COSE_SIGNATURE', signedPartsIntact: false },
  'sign1-tests_sign-fail-07.json': { outcome: 'ERR_COSE_SIGNATURE', signedPartsIntact: false },
}

/** The header labels and algorithms the examples name in `input.sign0.protected` (RFC 9052/9053). */
const LABELS: Readonly<Record<string, number>> = { alg: 1, ctyp: 3 }
const ALGORITHMS: Readonly<Record<string, number>> = { ES256: -7, ES384: -35 }

const files = readdirSync(join(VECTORS_DIR, 'cose'))
  .filter((name) => name.endsWith('.json'))
  .sort()

function readExample(file: string): CoseExample {
  return vectorJson(`cose/${file}`) as CoseExample
}

function publicKeyOf(example: CoseExample): KeyObject {
  return createPublicKey({ key: example.input.sign0.key, format: 'jwk' })
}

function externalOf(example: CoseExample): Uint8Array {
  return hexBytes(example.input.sign0.external ?? '')
}

/** The protected header the signer wrote: h'' when it had none (RFC 9052 §4.4). */
function signerProtectedBytes(example: CoseExample): Uint8Array {
  const entries = Object.entries(example.input.sign0.protected ?? {})
  if (entries.length === 0) return new Uint8Array(0)
  const header = new Map<CborKey, CborValue>()
  for (const [name, value] of entries) {
    const label = LABELS[name]
    if (label === undefined) throw new TypeError(`unknown header ${name}`)
    header.set(label, typeof value === 'string' ? (ALGORITHMS[value] ?? value) : value)
  }
  return encodeCbor(header)
}

/** The message decoded without COSE's rules, to look at what a rejected vector carries. */
interface RawSign1 {
  readonly tag: number | undefined
  readonly protectedBytes: Uint8Array
  readonly unprotected: CborMap
  readonly payload: Uint8Array
  readonly signature: Uint8Array
}

function decodeRaw(bytes: Uint8Array): RawSign1 {
  const top = decodeStrict(bytes, { allowTopLevelTag: true })
  const message = top instanceof CborTagged ? top.value : top
  if (!isCborArray(message)) throw new TypeError('not an array')
  const [protectedBytes, unprotected, payload, signature] = message
  if (
    !isCborBytes(protectedBytes) ||
    unprotected === undefined ||
    !isCborMap(unprotected) ||
    !isCborBytes(payload) ||
    !isCborBytes(signature)
  ) {
    throw new TypeError('not the four parts of a Sign1')
  }
  const tag = top instanceof CborTagged ? top.tag : undefined
  return { tag, protectedBytes, unprotected, payload, signature }
}

function protectedHeaderOf(raw: RawSign1): CborMap {
  const header = decodeStrict(raw.protectedBytes)
  if (!isCborMap(header)) throw new TypeError('protected header is not a map')
  return header
}

t.test('the folder holds exactly the ten examples we hold verdicts for', (t) => {
  t.strictSame(files, Object.keys(EXPECTED).sort())
  t.end()
})

for (const file of files) {
  t.test(file, (t) => {
    const example = readExample(file)
    const expected = EXPECTED[file]
    if (expected === undefined) throw new Error(`no expectation for ${file}`)
    const bytes = hexBytes(example.output.cbor)
    const outcome = caughtCode(() => {
      verifySign1(decodeSign1(bytes), publicKeyOf(example), externalOf(example))
    })
    t.equal(outcome, expected.outcome, `${example.title}: exact outcome`)
    // Upstream's verdict is ours, except for the deliberate Nitro-strict rejection of sign-pass-01.
    t.equal(example.fail === true, expected.outcome !== 'returned' && file !== PASS_01, 'fail flag')

    const toBeSigned = example.intermediates.ToBeSign_hex.toLowerCase()
    const fromSigner = buildSigStructure(
      signerProtectedBytes(example),
      new TextEncoder().encode(example.input.plaintext),
      externalOf(example),
    )
    t.equal(toHex(fromSigner), toBeSigned, 'Sig_structure of what the signer signed = ToBeSign_hex')

    const raw = decodeRaw(bytes)
    const fromMessage = buildSigStructure(raw.protectedBytes, raw.payload, externalOf(example))
    t.equal(
      toHex(fromMessage) === toBeSigned,
      expected.signedPartsIntact,
      'Sig_structure of the message as received = ToBeSign_hex exactly when nothing signed changed',
    )
    t.end()
  })
}

t.test('each rejection is for the reason its vector was built for', (t) => {
  t.test('sign-pass-01: empty protected header, alg -7 only in the unprotected one', (t) => {
    const raw = decodeRaw(hexBytes(readExample(PASS_01).output.cbor))
    t.equal(toHex(raw.protectedBytes), 'a0')
    t.equal(raw.unprotected.get(1), -7)
    t.end()
  })

  t.test('sign-fail-01: tag 998, and the same message in tag 18 verifies', (t) => {
    const example = readExample('sign1-tests_sign-fail-01.json')
    const top = decodeStrict(hexBytes(example.output.cbor), { allowTopLevelTag: true })
    if (!(top instanceof CborTagged)) throw new TypeError('expected a tag')
    t.equal(top.tag, 998)
    const retagged = encodeCbor(new CborTagged(18, top.value))
    t.equal(
      caughtCode(() => {
        verifySign1(decodeSign1(retagged), publicKeyOf(example))
      }),
      'returned',
    )
    t.end()
  })

  t.test('sign-fail-02: only the payload differs from sign-pass-03', (t) => {
    const failing = decodeRaw(hexBytes(readExample('sign1-tests_sign-fail-02.json').output.cbor))
    const passing = decodeRaw(hexBytes(readExample('sign1-tests_sign-pass-03.json').output.cbor))
    t.equal(toHex(failing.protectedBytes), toHex(passing.protectedBytes))
    t.equal(toHex(failing.signature), toHex(passing.signature))
    t.equal(new TextDecoder().decode(passing.payload), 'This is the content.')
    t.equal(new TextDecoder().decode(failing.payload), 'This is the content/')
    t.end()
  })

  t.test('sign-fail-03 and -04: the protected alg is -999, then "unknown"', (t) => {
    for (const [file, alg] of [
      ['sign1-tests_sign-fail-03.json', -999],
      ['sign1-tests_sign-fail-04.json', 'unknown'],
    ] as const) {
      const raw = decodeRaw(hexBytes(readExample(file).output.cbor))
      t.strictSame([...protectedHeaderOf(raw)], [[1, alg]], file)
    }
    t.end()
  })

  t.test(
    'sign-fail-06 and -07: decodable, with ctyp added to or removed from what was signed',
    (t) => {
      const added = readExample('sign1-tests_sign-fail-06.json')
      const removed = readExample('sign1-tests_sign-fail-07.json')
      t.equal(toHex(decodeSign1(hexBytes(added.output.cbor)).protectedBytes), 'a201260300')
      t.equal(toHex(signerProtectedBytes(added)), 'a10126')
      t.equal(toHex(decodeSign1(hexBytes(removed.output.cbor)).protectedBytes), 'a10126')
      t.equal(toHex(signerProtectedBytes(removed)), 'a201260300')
      t.end()
    },
  )

  t.test('sign-pass-02 verifies only with its external AAD', (t) => {
    const example = readExample('sign1-tests_sign-pass-02.json')
    t.equal(example.input.sign0.external, '11aa22bb33cc44dd55006699')
    const sign1 = decodeSign1(hexBytes(example.output.cbor))
    const key = publicKeyOf(example)
    t.equal(
      caughtCode(() => {
        verifySign1(sign1, key)
      }),
      'ERR_COSE_SIGNATURE',
    )
    t.equal(
      caughtCode(() => {
        verifySign1(sign1, key, hexBytes('11aa22bb33cc44dd55006698'))
      }),
      'ERR_COSE_SIGNATURE',
    )
    t.end()
  })

  t.end()
})

/** verifyEcdsaRaw answers every Wycheproof ES384 P1363 case as the file says, and false for bad keys. */

import {
  createPublicKey,
  createSecretKey,
  generateKeyPairSync,
  sign,
  type KeyObject,
} from 'node:crypto'
import t from 'tap'
import { toHex } from '../../../shared/bytes/bytes.js'
import { findCoseAlgorithm, type CoseEcdsaAlgorithm } from '../../../shared/cose/algorithms.js'
import { verifyEcdsaRaw } from '../../../shared/cose/verify-ecdsa.js'
import { vectorJson } from '../../helpers/shared-vectors.js'
import { hexBytes } from '../../helpers/hex-bytes.js'

/** The fields of an `EcdsaP1363Verify` file that these tests read (wycheproof/SOURCES.md). */
interface WycheproofFile {
  readonly algorithm: string
  readonly numberOfTests: number
  readonly testGroups: readonly {
    readonly type: string
    readonly sha: string
    readonly publicKey: { readonly curve: string }
    readonly publicKeyDer: string
    readonly tests: readonly {
      readonly tcId: number
      readonly comment: string
      readonly msg: string
      readonly sig: string
      readonly result: string
    }[]
  }[]
}

const wycheproof = vectorJson('wycheproof/ecdsa_secp384r1_sha384_p1363_test.json') as WycheproofFile

function algorithmOf(alg: number): CoseEcdsaAlgorithm {
  const algorithm = findCoseAlgorithm(alg)
  if (algorithm === undefined) throw new TypeError(`no algorithm ${alg}`)
  return algorithm
}

const ES384 = algorithmOf(-35)

function spkiKey(hex: string): KeyObject {
  return createPublicKey({ key: Buffer.from(hexBytes(hex)), format: 'der', type: 'spki' })
}

t.test('every case matches its result, and every case is checked', (t) => {
  t.equal(wycheproof.algorithm, 'ECDSA')
  let checked = 0
  const tally = { valid: 0, invalid: 0 }
  for (const group of wycheproof.testGroups) {
    t.equal(group.type, 'EcdsaP1363Verify')
    t.equal(group.sha, 'SHA-384')
    t.equal(group.publicKey.curve, 'secp384r1')
    const key = spkiKey(group.publicKeyDer)
    for (const test of group.tests) {
      if (test.result !== 'valid' && test.result !== 'invalid') {
        throw new Error(`tcId ${test.tcId}: unexpected result ${test.result}`)
      }
      const verdict = verifyEcdsaRaw(ES384, key, hexBytes(test.msg), hexBytes(test.sig))
      t.equal(verdict, test.result === 'valid', `tcId ${test.tcId}: ${test.comment}`)
      tally[test.result] += 1
      checked += 1
    }
  }
  t.equal(checked, wycheproof.numberOfTests)
  t.equal(checked, 280)
  t.strictSame(tally, { valid: 193, invalid: 87 })
  t.end()
})

/** The first valid case: a bad key must fail where its own key succeeds. */
const firstGroup = wycheproof.testGroups[0]
const firstValid = firstGroup?.tests.find((test) => test.result === 'valid')
if (firstGroup === undefined || firstValid === undefined) throw new Error('no valid case')
const goodKey = spkiKey(firstGroup.publicKeyDer)
const message = hexBytes(firstValid.msg)
const signature = hexBytes(firstValid.sig)

t.test('the reference case verifies under its own key', (t) => {
  t.equal(signature.byteLength, 96)
  t.equal(verifyEcdsaRaw(ES384, goodKey, message, signature), true)
  t.end()
})

t.test('a key on another curve is false', (t) => {
  for (const namedCurve of ['prime256v1', 'secp521r1', 'secp256k1']) {
    const { publicKey } = generateKeyPairSync('ec', { namedCurve })
    t.equal(verifyEcdsaRaw(ES384, publicKey, message, signature), false, namedCurve)
  }
  t.end()
})

t.test('an ES384 key under another algorithm is false', (t) => {
  // ES512 wants 132 bytes: pad the signature so only the curve check can refuse it.
  const padded = new Uint8Array(132)
  padded.set(signature)
  t.equal(verifyEcdsaRaw(algorithmOf(-36), goodKey, message, padded), false)
  t.equal(verifyEcdsaRaw(algorithmOf(-7), goodKey, message, signature.subarray(0, 64)), false)
  t.end()
})

t.test('a signature of the wrong length is false', (t) => {
  const longer = new Uint8Array(97)
  longer.set(signature)
  const cases: readonly [string, Uint8Array][] = [
    ['empty', new Uint8Array(0)],
    ['last byte dropped', signature.subarray(0, 95)],
    ['zero byte appended', longer],
    ['r only', signature.subarray(0, 48)],
    ['r‖s twice', new Uint8Array([...signature, ...signature])],
  ]
  for (const [name, bytes] of cases) {
    t.equal(verifyEcdsaRaw(ES384, goodKey, message, bytes), false, name)
  }
  t.end()
})

t.test('a key that is not an EC public key is false', (t) => {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'secp384r1' })
  const ownSignature = sign('sha384', message, { key: privateKey, dsaEncoding: 'ieee-p1363' })
  t.equal(verifyEcdsaRaw(ES384, publicKey, message, ownSignature), true, 'its public key')
  t.equal(verifyEcdsaRaw(ES384, privateKey, message, ownSignature), false, 'the private key')
  const secret = createSecretKey(new Uint8Array(48))
  t.equal(verifyEcdsaRaw(ES384, secret, message, ownSignature), false, 'a secret key')
  const ed25519 = generateKeyPairSync('ed25519').publicKey
  t.equal(verifyEcdsaRaw(ES384, ed25519, message, ownSignature), false, 'an Ed25519 key')
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey
  t.equal(verifyEcdsaRaw(ES384, rsa, message, ownSignature), false, 'an RSA key')
  t.end()
})

t.test('a P-384 key at the point at infinity is false, and does not crash the process', (t) => {
  // SPKI {id-ecPublicKey, secp384r1} with BIT STRING 00 00: the point at infinity (SEC 1 §2.3.3).
  // OpenSSL parses it; Node 20 then aborts on its asymmetricKeyDetails and crashes in verify.
  const infinity = spkiKey('3016301006072a8648ce3d020106052b8104002203020000')
  t.equal(infinity.asymmetricKeyType, 'ec')
  t.equal(verifyEcdsaRaw(ES384, infinity, message, signature), false)
  t.equal(verifyEcdsaRaw(ES384, infinity, message, new Uint8Array(96)), false)
  t.end()
})

t.test('a high-S signature is valid: s is not normalised', (t) => {
  const n = BigInt('0x' + 'ff'.repeat(24) + 'c7634d81f4372ddf581a0db248b0a77aecec196accc52973')
  const s = BigInt('0x' + toHex(signature.subarray(48)))
  const otherS = hexBytes((n - s).toString(16).padStart(96, '0'))
  const malleated = new Uint8Array([...signature.subarray(0, 48), ...otherS])
  t.not(toHex(malleated), toHex(signature))
  t.equal(verifyEcdsaRaw(ES384, goodKey, message, malleated), true)
  t.end()
})

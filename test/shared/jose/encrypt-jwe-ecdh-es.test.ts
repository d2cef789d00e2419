/** encryptJweEcdhEs writes compact JWEs that jose opens, with the exact header, and refuses other keys. */

import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto'
import { CompactEncrypt, compactDecrypt, importJWK, type CryptoKey } from 'jose'
import t from 'tap'
import {
  encryptJweEcdhEs,
  GCM_IV_BYTES,
  GCM_TAG_BYTES,
  isEcdhEsRecipientKey,
} from '../../../shared/jose/encrypt-jwe-ecdh-es.js'
import { caughtCode } from '../../helpers/caught-code.js'
import { mulberry32 } from '../../helpers/seeded-random.js'

const CURVES = ['P-256', 'P-384', 'P-521'] as const

function seededRandom(seed: number): (length: number) => Uint8Array {
  const next = mulberry32(seed)
  return (length) => Uint8Array.from({ length }, () => Math.floor(next() * 256))
}

function decodeSegment(segment: string | undefined): Buffer {
  return Buffer.from(segment ?? '', 'base64url')
}

// RFC 7518 Appendix C's keys: Alice's as the ephemeral key, Bob's as the recipient.
const ALICE_JWK = {
  kty: 'EC',
  crv: 'P-256',
  x: 'gI0GAILBdu7T53akrFmMyGcsF3n5dO7MmwNBHKW5SV0',
  y: 'SLW_xSffzlPWrHEVI30DHM_4egVwt3NQqeUD7nMFpps',
  d: '0_NxaRPUMQoAJt50Gz8YiTr8gRTwyEaCumd-MToTmIo',
}
const alice = createPrivateKey({ key: ALICE_JWK, format: 'jwk' })
const bob = createPrivateKey({
  key: {
    kty: 'EC',
    crv: 'P-256',
    x: 'weNJy2HscCSM6AEDTDg04biOvhFhyyWvOHQfeF_PxMQ',
    y: 'e8lnCO-AlStT-NJVX-crhB7QRYhiix03illJOVAOyck',
    d: 'VEmDZpDXXK8p8N0Cndsxs924q6nS1RXFASRl6BfUqdw',
  },
  format: 'jwk',
})

for (const crv of CURVES) {
  t.test(`jose's compactDecrypt opens a JWE to a ${crv} key`, async (t) => {
    const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: crv })
    t.ok(isEcdhEsRecipientKey(publicKey))
    for (const length of [0, 1, 32, 1000]) {
      const plaintext = Uint8Array.from({ length }, (_, index) => (index * 31 + 7) % 256)
      const jwe = encryptJweEcdhEs({ plaintext, recipientPublicKey: publicKey })
      const opened = await compactDecrypt(jwe, privateKey)
      t.same(new Uint8Array(opened.plaintext), plaintext, `${length} bytes`)
      t.same(Object.keys(opened.protectedHeader), ['alg', 'enc', 'epk'])
      t.equal(opened.protectedHeader.alg, 'ECDH-ES')
      t.equal(opened.protectedHeader.enc, 'A256GCM')
      t.equal((opened.protectedHeader.epk as { crv?: string } | undefined)?.crv, crv)
    }
    const other = generateKeyPairSync('ec', { namedCurve: crv }).privateKey
    const jwe = encryptJweEcdhEs({ plaintext: new Uint8Array(32), recipientPublicKey: publicKey })
    await t.rejects(compactDecrypt(jwe, other), { code: 'ERR_JWE_DECRYPTION_FAILED' })
    t.end()
  })
}

t.test('the compact form: exact header, empty encrypted key, 96-bit IV, 128-bit tag', async (t) => {
  const plaintext = new TextEncoder().encode('a released key')
  const recipientPublicKey = createPublicKey(bob)
  const random = seededRandom(7)
  const iv = seededRandom(7)(GCM_IV_BYTES)
  const jwe = encryptJweEcdhEs({
    plaintext,
    recipientPublicKey,
    ephemeralPrivateKey: alice,
    random,
  })
  const parts = jwe.split('.')
  t.equal(parts.length, 5)
  t.equal(
    decodeSegment(parts[0]).toString('utf8'),
    '{"alg":"ECDH-ES","enc":"A256GCM","epk":{"kty":"EC","crv":"P-256",' +
      '"x":"gI0GAILBdu7T53akrFmMyGcsF3n5dO7MmwNBHKW5SV0",' +
      '"y":"SLW_xSffzlPWrHEVI30DHM_4egVwt3NQqeUD7nMFpps"}}',
  )
  t.equal(parts[1], '', 'direct key agreement: no encrypted key')
  t.same(new Uint8Array(decodeSegment(parts[2])), iv, 'the IV comes from random')
  t.equal(decodeSegment(parts[3]).byteLength, plaintext.byteLength, 'GCM adds no padding')
  t.equal(decodeSegment(parts[4]).byteLength, GCM_TAG_BYTES)
  t.match(jwe, /^[A-Za-z0-9_-]+\.\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/)
  t.equal(
    encryptJweEcdhEs({
      plaintext,
      recipientPublicKey,
      ephemeralPrivateKey: alice,
      random: seededRandom(7),
    }),
    jwe,
    'deterministic given the ephemeral key and the IV',
  )
  t.same(new Uint8Array((await compactDecrypt(jwe, bob)).plaintext), plaintext)

  // jose, given the same ephemeral key and IV, derives the same key: the ciphertexts are equal
  // (GCM's ciphertext does not depend on the AAD; jose orders the epk members differently).
  const epk = (await importJWK(ALICE_JWK, 'ECDH-ES', { extractable: true })) as CryptoKey
  const reference = await new CompactEncrypt(plaintext)
    .setProtectedHeader({ alg: 'ECDH-ES', enc: 'A256GCM' })
    // eslint-disable-next-line @typescript-eslint/no-deprecated -- a vector check, as jose intends
    .setKeyManagementParameters({ epk })
    // eslint-disable-next-line @typescript-eslint/no-deprecated -- a vector check, as jose intends
    .setInitializationVector(iv)
    .encrypt(recipientPublicKey)
  t.equal(reference.split('.')[3], parts[3])
  t.end()
})

t.test('a fresh ephemeral key per message by default', (t) => {
  const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' })
  const random = () => new Uint8Array(GCM_IV_BYTES)
  const epkOf = (jwe: string) =>
    (JSON.parse(decodeSegment(jwe.split('.')[0]).toString('utf8')) as { epk: { x: string } }).epk
  const plaintext = new Uint8Array(16)
  const first = encryptJweEcdhEs({ plaintext, recipientPublicKey: publicKey, random })
  const second = encryptJweEcdhEs({ plaintext, recipientPublicKey: publicKey, random })
  t.not(epkOf(first).x, epkOf(second).x)
  t.end()
})

t.test('keys other than EC public keys on P-256, P-384 and P-521 are refused', (t) => {
  const pointAtInfinity = createPublicKey({
    // SPKI {id-ecPublicKey, secp384r1} with the key 00: the point at infinity (SEC 1 §2.3.1).
    key: Buffer.from('3016301006072a8648ce3d020106052b8104002203020000', 'hex'),
    format: 'der',
    type: 'spki',
  })
  const refused: [string, KeyObject][] = [
    ['RSA-2048', generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey],
    ['Ed25519', generateKeyPairSync('ed25519').publicKey],
    ['X25519', generateKeyPairSync('x25519').publicKey],
    ['secp256k1', generateKeyPairSync('ec', { namedCurve: 'secp256k1' }).publicKey],
    ['an EC private key', generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey],
    ['the point at infinity', pointAtInfinity],
  ]
  for (const [name, key] of refused) {
    t.notOk(isEcdhEsRecipientKey(key), name)
    t.equal(
      caughtCode(() => encryptJweEcdhEs({ plaintext: new Uint8Array(1), recipientPublicKey: key })),
      'ERR_JWE_UNSUPPORTED_KEY',
      name,
    )
  }
  t.end()
})

t.test('a wrong ephemeral key or IV length is a programming error', (t) => {
  const recipientPublicKey = createPublicKey(bob)
  const plaintext = new Uint8Array(1)
  const p384 = generateKeyPairSync('ec', { namedCurve: 'P-384' })
  for (const ephemeralPrivateKey of [p384.privateKey, createPublicKey(alice)]) {
    t.throws(
      () => encryptJweEcdhEs({ plaintext, recipientPublicKey, ephemeralPrivateKey }),
      TypeError,
    )
  }
  t.throws(
    () => encryptJweEcdhEs({ plaintext, recipientPublicKey, random: () => new Uint8Array(16) }),
    TypeError,
  )
  t.end()
})

/** The Concat KDF reproduces RFC 7518 Appendix C byte for byte, and derives keys longer than one hash. */

import { createHash, createPrivateKey, createPublicKey, diffieHellman } from 'node:crypto'
import t from 'tap'
import { concatKdf, MAX_KEY_DATA_LENGTH_BITS } from '../../../shared/jose/concat-kdf.js'

// RFC 7518 Appendix C: Alice's ephemeral key, Bob's key, the agreed Z and the derived key.
const APPENDIX_C = {
  alice: {
    kty: 'EC',
    crv: 'P-256',
    x: 'gI0GAILBdu7T53akrFmMyGcsF3n5dO7MmwNBHKW5SV0',
    y: 'SLW_xSffzlPWrHEVI30DHM_4egVwt3NQqeUD7nMFpps',
    d: '0_NxaRPUMQoAJt50Gz8YiTr8gRTwyEaCumd-MToTmIo',
  },
  bob: {
    kty: 'EC',
    crv: 'P-256',
    x: 'weNJy2HscCSM6AEDTDg04biOvhFhyyWvOHQfeF_PxMQ',
    y: 'e8lnCO-AlStT-NJVX-crhB7QRYhiix03illJOVAOyck',
    d: 'VEmDZpDXXK8p8N0Cndsxs924q6nS1RXFASRl6BfUqdw',
  },
  z: [
    158, 86, 217, 29, 129, 113, 53, 211, 114, 131, 66, 131, 191, 132, 38, 156, 251, 49, 110, 163,
    218, 128, 106, 72, 246, 218, 167, 121, 140, 254, 144, 196,
  ],
  algorithmId: 'A128GCM',
  apu: 'Alice',
  apv: 'Bob',
  keyDataLengthBits: 128,
  derived: [86, 170, 141, 234, 248, 35, 109, 32, 92, 34, 40, 205, 113, 167, 16, 26],
  derivedBase64url: 'VqqN6vgjbSBcIijNcacQGg',
}

t.test('RFC 7518 Appendix C: Z from the two keys, then the 128-bit key', (t) => {
  const alice = createPrivateKey({ key: APPENDIX_C.alice, format: 'jwk' })
  const bob = createPrivateKey({ key: APPENDIX_C.bob, format: 'jwk' })
  const z = Uint8Array.from(APPENDIX_C.z)
  t.same(new Uint8Array(diffieHellman({ privateKey: alice, publicKey: createPublicKey(bob) })), z)
  t.same(new Uint8Array(diffieHellman({ privateKey: bob, publicKey: createPublicKey(alice) })), z)
  const derived = concatKdf({
    sharedSecret: z,
    keyDataLengthBits: APPENDIX_C.keyDataLengthBits,
    algorithmId: APPENDIX_C.algorithmId,
    partyUInfo: new TextEncoder().encode(APPENDIX_C.apu),
    partyVInfo: new TextEncoder().encode(APPENDIX_C.apv),
  })
  t.same(derived, Uint8Array.from(APPENDIX_C.derived))
  t.equal(Buffer.from(derived).toString('base64url'), APPENDIX_C.derivedBase64url)
  t.end()
})

/** SP 800-56A §5.8.1 spelled out for one round, to check the KDF beyond the published vector. */
function round(counter: number, z: Uint8Array, algorithmId: string, bits: number): Buffer {
  const u32 = (value: number) => {
    const bytes = Buffer.alloc(4)
    bytes.writeUInt32BE(value)
    return bytes
  }
  const id = Buffer.from(algorithmId, 'ascii')
  const otherInfo = Buffer.concat([u32(id.length), id, u32(0), u32(0), u32(bits)])
  return createHash('sha256').update(u32(counter)).update(z).update(otherInfo).digest()
}

t.test('absent party info is empty; keys longer than 256 bits take further rounds', (t) => {
  const z = Uint8Array.from({ length: 48 }, (_, index) => index)
  const oneRound = concatKdf({ sharedSecret: z, keyDataLengthBits: 256, algorithmId: 'A256GCM' })
  t.same(oneRound, new Uint8Array(round(1, z, 'A256GCM', 256)))
  const explicitEmpty = concatKdf({
    sharedSecret: z,
    keyDataLengthBits: 256,
    algorithmId: 'A256GCM',
    partyUInfo: new Uint8Array(0),
    partyVInfo: new Uint8Array(0),
  })
  t.same(explicitEmpty, oneRound)
  const long = concatKdf({ sharedSecret: z, keyDataLengthBits: 264, algorithmId: 'X' })
  const expected = Buffer.concat([round(1, z, 'X', 264), round(2, z, 'X', 264)]).subarray(0, 33)
  t.same(long, new Uint8Array(expected))
  t.end()
})

t.test('a key length that is not a positive multiple of 8 bits is a programming error', (t) => {
  for (const bits of [0, -8, 7, 12.5, NaN, MAX_KEY_DATA_LENGTH_BITS + 8]) {
    t.throws(
      () =>
        concatKdf({ sharedSecret: new Uint8Array(32), keyDataLengthBits: bits, algorithmId: 'A' }),
      RangeError,
      String(bits),
    )
  }
  t.equal(
    concatKdf({
      sharedSecret: new Uint8Array(32),
      keyDataLengthBits: MAX_KEY_DATA_LENGTH_BITS,
      algorithmId: 'A',
    }).byteLength,
    MAX_KEY_DATA_LENGTH_BITS / 8,
  )
  t.end()
})

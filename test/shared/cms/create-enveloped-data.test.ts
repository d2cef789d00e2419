/** createEnvelopedData writes AWS's framing around a fresh AES-256-CBC key wrapped with RSAES-OAEP-SHA-256. */

import { createHash, createSecretKey, generateKeyPairSync } from 'node:crypto'
import t from 'tap'
import { toHex } from '../../../shared/bytes/bytes.js'
import {
  CONTENT_KEY_BYTES,
  createEnvelopedData,
  type RandomBytes,
} from '../../../shared/cms/create-enveloped-data.js'
import { openEnvelopedData } from '../../../shared/cms/open-enveloped-data.js'
import { MAX_BER_BYTES } from '../../../shared/cms/read-ber.js'
import { readEnvelopedData } from '../../../shared/cms/read-enveloped-data.js'
import { caughtCode } from '../../helpers/caught-code.js'
import { mulberry32 } from '../../helpers/seeded-random.js'
import { vectorBytes } from '../../helpers/shared-vectors.js'

const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })

/** A seeded `random` that also keeps every array it hands out. */
function seededRandom(seed: number): RandomBytes & { readonly drawn: Uint8Array[] } {
  const next = mulberry32(seed)
  const drawn: Uint8Array[] = []
  const random = (length: number): Uint8Array => {
    const bytes = Uint8Array.from({ length }, () => Math.floor(next() * 256))
    drawn.push(bytes)
    return bytes
  }
  return Object.assign(random, { drawn })
}

function patterned(length: number): Uint8Array {
  return Uint8Array.from({ length }, (_, index) => (index * 7 + 3) % 256)
}

t.test('round trips for empty, short, block-sized and long plaintexts', (t) => {
  const spki = publicKey.export({ type: 'spki', format: 'der' })
  const keyId = createHash('sha256').update(spki).digest('hex')
  for (const length of [0, 1, 15, 16, 17, 4112, 100 * 1024]) {
    const plaintext = patterned(length)
    const bytes = createEnvelopedData({ plaintext, recipientPublicKey: publicKey })
    const fields = readEnvelopedData(bytes)
    t.equal(toHex(fields.recipientKeyId), keyId, `${length}: rid is SHA-256 of the SPKI`)
    t.equal(fields.encryptedKey.byteLength, 256, `${length}: a 2048-bit RSA block`)
    // PKCS #7 always pads: one to sixteen bytes (RFC 5652 §6.3).
    t.equal(fields.encryptedContent.byteLength, (Math.floor(length / 16) + 1) * 16)
    t.equal(toHex(openEnvelopedData(bytes, privateKey)), toHex(plaintext), `${length}: opens`)
  }
  t.end()
})

t.test('the framing is the framing of real response 4, byte for byte', (t) => {
  const response = vectorBytes('kms/kms-ciphertext-for-recipient-4.ber')
  // 4,096 bytes of plaintext pad to response 4's 4,112 bytes of content.
  const bytes = createEnvelopedData({
    plaintext: patterned(4096),
    recipientPublicKey: publicKey,
    random: seededRandom(4),
  })
  t.equal(bytes.byteLength, response.byteLength)
  // Offsets of the rid, encrypted key, IV and content segments (openssl asn1parse -i): the rest is
  // framing, and must match.
  const fieldRanges = [
    [33, 65],
    [131, 387],
    [415, 431],
    [437, 1437],
    [1441, 2441],
    [2445, 3445],
    [3449, 4449],
    [4451, 4563],
  ] as const
  const framing = (input: Uint8Array): string => {
    const masked = input.slice()
    for (const [start, end] of fieldRanges) masked.fill(0, start, end)
    return toHex(masked)
  }
  t.equal(framing(bytes), framing(response))
  t.equal(toHex(bytes.subarray(0, 33)), toHex(response.subarray(0, 33)), 'the opening bytes')
  t.end()
})

t.test('the content key and IV come from `random`, and the key is zeroed once wrapped', (t) => {
  const plaintext = patterned(40)
  const first = seededRandom(7)
  const second = seededRandom(7)
  const a = readEnvelopedData(
    createEnvelopedData({ plaintext, recipientPublicKey: publicKey, random: first }),
  )
  const b = readEnvelopedData(
    createEnvelopedData({ plaintext, recipientPublicKey: publicKey, random: second }),
  )
  t.strictSame(
    first.drawn.map((bytes) => bytes.byteLength),
    [CONTENT_KEY_BYTES, 16],
  )
  t.equal(toHex(first.drawn[0] ?? Uint8Array.of(1)), '00'.repeat(32), 'the key array is zeroed')
  t.equal(toHex(a.iv), toHex(first.drawn[1] ?? new Uint8Array(0)), 'the IV is the second draw')
  t.equal(toHex(a.iv), toHex(b.iv))
  t.equal(toHex(a.encryptedContent), toHex(b.encryptedContent), 'same key, IV and plaintext')
  // RSAES-OAEP draws its own seed (RFC 8017 §7.1.1), so the wrapped keys differ.
  t.not(toHex(a.encryptedKey), toHex(b.encryptedKey))
  t.end()
})

t.test('recipientKeyId replaces the default rid', (t) => {
  for (const keyId of [new Uint8Array(0), Uint8Array.of(1, 2, 3), new Uint8Array(200).fill(9)]) {
    const bytes = createEnvelopedData({
      plaintext: Uint8Array.of(5),
      recipientPublicKey: publicKey,
      recipientKeyId: keyId,
    })
    t.equal(toHex(readEnvelopedData(bytes).recipientKeyId), toHex(keyId))
    t.equal(toHex(openEnvelopedData(bytes, privateKey, keyId)), '05')
  }
  t.end()
})

t.test('only an RSA public key is a recipient', (t) => {
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey
  const pss = generateKeyPairSync('rsa-pss', { modulusLength: 2048 }).publicKey
  const refused = [
    ['an EC key', ec],
    ['an RSA-PSS key', pss],
    ['an RSA private key', privateKey],
    ['a secret key', createSecretKey(new Uint8Array(32))],
  ] as const
  for (const [why, key] of refused) {
    t.throws(
      () => createEnvelopedData({ plaintext: new Uint8Array(1), recipientPublicKey: key }),
      TypeError,
      why,
    )
  }
  t.end()
})

t.test('createEnvelopedData never writes what readEnvelopedData would refuse as too large', (t) => {
  const create = (length: number): Uint8Array =>
    createEnvelopedData({ plaintext: new Uint8Array(length), recipientPublicKey: publicKey })
  t.equal(
    caughtCode(() => create(MAX_BER_BYTES + 1)),
    'ERR_CMS_TOO_LARGE',
    'plaintext over 1 MiB',
  )
  t.equal(
    caughtCode(() => create(MAX_BER_BYTES - 100)),
    'ERR_CMS_TOO_LARGE',
    'framing over 1 MiB',
  )
  const bytes = create(1_000_000)
  t.ok(bytes.byteLength <= MAX_BER_BYTES)
  t.equal(openEnvelopedData(bytes, privateKey).byteLength, 1_000_000)
  t.end()
})

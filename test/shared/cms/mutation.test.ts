/** Every byte of a created envelope, changed, gives back a catalog code or a plaintext: never another exception. */

import { generateKeyPairSync } from 'node:crypto'
import t from 'tap'
import { createEnvelopedData } from '../../../shared/cms/create-enveloped-data.js'
import { openEnvelopedData } from '../../../shared/cms/open-enveloped-data.js'
import { readEnvelopedData } from '../../../shared/cms/read-enveloped-data.js'
import { caughtCode } from '../../helpers/caught-code.js'
import { mulberry32 } from '../../helpers/seeded-random.js'

const CMS_CODES = new Set([
  'ERR_CMS_MALFORMED',
  'ERR_CMS_UNSUPPORTED',
  'ERR_CMS_DECRYPT',
  'ERR_CMS_TOO_LARGE',
])

const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })
const next = mulberry32(0x5eed)
const random = (length: number): Uint8Array =>
  Uint8Array.from({ length }, () => Math.floor(next() * 256))
const plaintext = new TextEncoder().encode('forty bytes of plaintext, three blocks..')
const envelope = createEnvelopedData({ plaintext, recipientPublicKey: publicKey, random })
const { recipientKeyId } = readEnvelopedData(envelope)

// Field offsets in the framing AWS uses (a 32-byte rid, a 256-byte key, 48 bytes of content).
const RID = [33, 65] as const
const IV = [415, 431] as const
const CONTENT = [435, 483] as const
const within = (offset: number, [start, end]: readonly [number, number]): boolean =>
  offset >= start && offset < end

t.test('the envelope has the expected framing', (t) => {
  t.equal(envelope.byteLength, 493, 'the size of real response 2, which has 48 bytes of content')
  t.end()
})

t.test(
  'each byte flipped three ways: catalog codes, or a plaintext only from rid, IV or content',
  (t) => {
    const outcomes = new Map<string, number>()
    const unexpected: string[] = []
    for (let offset = 0; offset < envelope.byteLength; offset += 1) {
      for (const mask of [0x01, 0x80, 0xff]) {
        const mutated = envelope.slice()
        mutated[offset] = (mutated[offset] ?? 0) ^ mask
        for (const keyId of [undefined, recipientKeyId]) {
          const outcome = caughtCode(() => openEnvelopedData(mutated, privateKey, keyId))
          outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1)
          const opened = outcome === 'returned'
          const allowed = opened
            ? (keyId === undefined && within(offset, RID)) ||
              within(offset, IV) ||
              within(offset, CONTENT)
            : CMS_CODES.has(outcome)
          if (!allowed)
            unexpected.push(`offset ${offset} mask ${mask} rid ${keyId !== undefined}: ${outcome}`)
        }
      }
    }
    t.strictSame(unexpected, [])
    // CBC decrypts whatever it is given: the rid when no key id is expected (32 × 3), the IV and the
    // first content block (16 × 3 × 2 each), and the second block's bytes over the last block's 8
    // plaintext bytes (8 × 3 × 2); the padding survives nothing else.
    t.equal(outcomes.get('returned'), 32 * 3 + 16 * 3 * 2 * 2 + 8 * 3 * 2)
    t.ok(outcomes.get('ERR_CMS_MALFORMED'), 'framing damage is seen')
    t.ok(outcomes.get('ERR_CMS_UNSUPPORTED'), 'changed OIDs and versions are seen')
    t.ok(outcomes.get('ERR_CMS_DECRYPT'), 'key, rid and padding damage is seen')
    t.comment(JSON.stringify(Object.fromEntries(outcomes)))
    t.end()
  },
)

t.test('random changes of one to eight bytes: catalog codes or a plaintext', (t) => {
  const draw = mulberry32(20_260_707)
  const pick = (limit: number): number => Math.floor(draw() * limit)
  const outcomes = new Set<string>()
  for (let round = 0; round < 3000; round += 1) {
    const mutated = envelope.slice()
    for (let change = pick(8); change >= 0; change -= 1)
      mutated[pick(mutated.byteLength)] = pick(256)
    const cut = pick(4) === 0 ? pick(mutated.byteLength) : mutated.byteLength
    outcomes.add(caughtCode(() => openEnvelopedData(mutated.subarray(0, cut), privateKey)))
  }
  outcomes.delete('returned')
  t.strictSame(
    [...outcomes].filter((outcome) => !CMS_CODES.has(outcome)),
    [],
  )
  t.end()
})

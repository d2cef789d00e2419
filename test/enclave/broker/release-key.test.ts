/** releaseKey: keys go only to verified, measured, fresh enclaves, encrypted to their own key. */

import { execFileSync, spawnSync } from 'node:child_process'
import { createPublicKey, generateKeyPairSync, type JsonWebKey, type KeyObject } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { compactDecrypt } from 'jose'
import t, { type Test } from 'tap'
import { createChallenges, type Challenges } from '../../../enclave/broker/challenges.js'
import { releaseKey, type ReleaseRequest } from '../../../enclave/broker/release-key.js'
import type { ReleasePolicy } from '../../../enclave/broker/release-policy.js'
import { createCertificateCache } from '../../../shared/attestation/certificate-cache.js'
import { asBytes, toHex } from '../../../shared/bytes/bytes.js'
import type { CborKey, CborValue } from '../../../shared/cbor/cbor-value.js'
import { openEnvelopedData } from '../../../shared/cms/open-enveloped-data.js'
import { createTestPki, forgeDocument, OMIT, pcrOf } from '../../fakes/test-pki.js'
import { caughtCode } from '../../helpers/caught-code.js'
import { mulberry32 } from '../../helpers/seeded-random.js'

const HAS_OPENSSL = spawnSync('openssl', ['version']).status === 0

const pki = await createTestPki()
const foreignPki = await createTestPki()
const cache = createCertificateCache()
const KEY_BYTES = Uint8Array.from({ length: 32 }, (_, index) => 0xa0 + index)
const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 })

/** The forged documents' default PCRs: 0–2 are 01…, 02…, 03…, the rest zero. */
const policy: ReleasePolicy = {
  pcrs: [
    new Map([
      [0, pcrOf(1)],
      [1, pcrOf(2)],
      [2, pcrOf(3)],
    ]),
  ],
  maxAgeMs: 300_000,
  requireNonce: true,
}

function spkiOf(publicKey: KeyObject): Uint8Array {
  return asBytes(publicKey.export({ format: 'der', type: 'spki' }))
}

function seededRandom(seed: number): (length: number) => Uint8Array {
  const next = mulberry32(seed)
  return (length) => Uint8Array.from({ length }, () => Math.floor(next() * 256))
}

/** Fresh challenges on the PKI's clock, so that each test owns its nonces. */
function freshChallenges(): Challenges {
  return createChallenges({ clock: () => pki.now, random: seededRandom(1) })
}

interface Attempt {
  readonly publicKey?: Uint8Array | null
  /** Fields of the document besides public_key and nonce. */
  readonly fields?: Readonly<Record<string, CborValue | typeof OMIT>>
  readonly policy?: ReleasePolicy
  readonly pki?: typeof pki
  /** The nonce in the document; the request's one unless `requestNonce` says otherwise. */
  readonly documentNonce?: Uint8Array | null
  readonly requestNonce?: Uint8Array | null
  readonly challenges?: Challenges
  readonly now?: number
}

/** Runs one release against a document forged as `attempt` says, with a freshly issued nonce. */
function attempt(options: Attempt = {}) {
  const challenges = options.challenges ?? freshChallenges()
  const issued = challenges.issue().nonce
  const documentNonce = options.documentNonce === undefined ? issued : options.documentNonce
  const requestNonce = options.requestNonce === undefined ? issued : options.requestNonce
  const document = forgeDocument({
    pki: options.pki ?? pki,
    fields: {
      public_key: options.publicKey === undefined ? spkiOf(rsa.publicKey) : options.publicKey,
      nonce: documentNonce,
      ...options.fields,
    },
  })
  const request: ReleaseRequest = {
    document,
    keyBytes: KEY_BYTES,
    policy: options.policy ?? policy,
    ...(requestNonce === null ? {} : { nonce: requestNonce }),
  }
  return {
    challenges,
    issued,
    request,
    run: () =>
      releaseKey(request, {
        now: options.now ?? pki.now,
        trustedRoots: pki.roots,
        cache,
        challenges,
      }),
  }
}

function pcrsWith(changes: Readonly<Record<number, Uint8Array | null>>): Map<CborKey, CborValue> {
  const pcrs = new Map<CborKey, CborValue>()
  for (let index = 0; index < 16; index += 1) pcrs.set(index, pcrOf(index < 3 ? index + 1 : 0))
  for (const [index, value] of Object.entries(changes)) {
    if (value === null) pcrs.delete(Number(index))
    else pcrs.set(Number(index), value)
  }
  return pcrs
}

/** Runs `openssl` with `args`; standard output, or a throw carrying standard error. */
function openssl(args: readonly string[]): Uint8Array {
  return asBytes(execFileSync('openssl', args, { stdio: ['ignore', 'pipe', 'pipe'] }))
}

function tempDir(t: Test): string {
  const dir = mkdtempSync(join(tmpdir(), 'cloister-release-'))
  t.teardown(() => {
    rmSync(dir, { recursive: true, force: true })
  })
  return dir
}

t.test('an RSA-2048 key gets KMS-shaped CMS that only its private key opens', (t) => {
  const released = attempt().run()
  t.equal(released.format, 'cms')
  t.equal(released.moduleId, 'i-0123456789abcdef0-enc0123456789abcdef')
  t.equal(toHex(released.pcr0), toHex(pcrOf(1)))
  t.equal(released.timestamp, pki.now)
  t.equal(released.envelope[0], 0x30, 'a BER SEQUENCE (ContentInfo)')
  t.same(openEnvelopedData(released.envelope, rsa.privateKey), KEY_BYTES)
  const other = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey
  t.equal(
    caughtCode(() => openEnvelopedData(released.envelope, other)),
    'ERR_CMS_DECRYPT',
  )
  t.end()
})

t.test(
  'openssl cms -decrypt opens the RSA envelope to the exact key bytes',
  { skip: HAS_OPENSSL ? false : 'the openssl command is not on PATH' },
  (t) => {
    const dir = tempDir(t)
    const keyPem = join(dir, 'key.pem')
    const envelopePath = join(dir, 'envelope.der')
    writeFileSync(keyPem, rsa.privateKey.export({ format: 'pem', type: 'pkcs8' }))
    writeFileSync(envelopePath, attempt().run().envelope)
    const printed = openssl([
      'cms',
      '-decrypt',
      '-inform',
      'DER',
      '-inkey',
      keyPem,
      '-in',
      envelopePath,
    ])
    t.equal(toHex(printed), toHex(KEY_BYTES))
    const otherPem = join(dir, 'other.pem')
    const other = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey
    writeFileSync(otherPem, other.export({ format: 'pem', type: 'pkcs8' }))
    t.throws(() =>
      openssl(['cms', '-decrypt', '-inform', 'DER', '-inkey', otherPem, '-in', envelopePath]),
    )
    t.end()
  },
)

for (const curve of ['P-256', 'P-384', 'P-521'] as const) {
  t.test(`a ${curve} key gets a compact JWE that only its private key opens`, async (t) => {
    const ec = generateKeyPairSync('ec', { namedCurve: curve })
    const released = attempt({ publicKey: spkiOf(ec.publicKey) }).run()
    t.equal(released.format, 'jwe')
    const jwe = new TextDecoder().decode(released.envelope)
    t.match(jwe, /^[A-Za-z0-9_-]+\.\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/)
    const opened = await compactDecrypt(jwe, ec.privateKey)
    t.same(new Uint8Array(opened.plaintext), KEY_BYTES)
    t.equal((opened.protectedHeader.epk as { crv?: string } | undefined)?.crv, curve)
    const other = generateKeyPairSync('ec', { namedCurve: curve }).privateKey
    await t.rejects(compactDecrypt(jwe, other), { code: 'ERR_JWE_DECRYPTION_FAILED' })
    t.end()
  })
}

t.test('a given random source draws the CMS content key and IV, or the JWE IV', (t) => {
  const run = (publicKey: Uint8Array) => {
    const { request, challenges } = attempt({ publicKey })
    return releaseKey(request, {
      now: pki.now,
      trustedRoots: pki.roots,
      cache,
      challenges,
      random: seededRandom(9),
    })
  }
  const cms = run(spkiOf(rsa.publicKey))
  t.same(openEnvelopedData(cms.envelope, rsa.privateKey), KEY_BYTES)
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' })
  const jwe = new TextDecoder().decode(run(spkiOf(ec.publicKey)).envelope)
  const iv = Buffer.from(jwe.split('.')[2] ?? '', 'base64url')
  t.same(new Uint8Array(iv), seededRandom(9)(12))
  t.end()
})

t.test('without requireNonce, a request without a nonce is decided on the rest', (t) => {
  const relaxed = { ...policy, requireNonce: false }
  const released = attempt({ policy: relaxed, documentNonce: null, requestNonce: null }).run()
  t.same(openEnvelopedData(released.envelope, rsa.privateKey), KEY_BYTES)
  // A nonce given anyway is still checked and consumed.
  const { run } = attempt({ policy: relaxed, documentNonce: pcrOf(5).subarray(0, 32) })
  t.equal(caughtCode(run), 'ERR_ATTESTATION_NONCE_MISMATCH')
  t.end()
})

t.test('a signer policy releases to the signed image only', (t) => {
  const signed = { ...policy, signerPcr8: pcrOf(8) }
  const released = attempt({ policy: signed, fields: { pcrs: pcrsWith({ 8: pcrOf(8) }) } }).run()
  t.equal(released.format, 'cms')
  t.equal(caughtCode(attempt({ policy: signed }).run), 'ERR_RELEASE_SIGNER_MISMATCH', 'zero PCR8')
  t.equal(
    caughtCode(attempt({ policy: signed, fields: { pcrs: pcrsWith({ 8: pcrOf(9) }) } }).run),
    'ERR_RELEASE_SIGNER_MISMATCH',
    'another signer',
  )
  t.equal(
    caughtCode(attempt({ policy: signed, fields: { pcrs: pcrsWith({ 8: null }) } }).run),
    'ERR_RELEASE_SIGNER_MISMATCH',
    'no PCR8',
  )
  t.end()
})

t.test('each denial has its exact code', (t) => {
  const rsa1024 = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey
  const ed25519 = generateKeyPairSync('ed25519').publicKey
  const x25519 = generateKeyPairSync('x25519').publicKey
  const secp256k1 = generateKeyPairSync('ec', { namedCurve: 'secp256k1' }).publicKey
  const rsaJwk = rsa.publicKey.export({ format: 'jwk' })
  const cases: [string, Attempt, string][] = [
    ['foreign root', { pki: foreignPki }, 'ERR_ATTESTATION_UNTRUSTED_ROOT'],
    ['not a document', { fields: { digest: 'SHA256' } }, 'ERR_ATTESTATION_MALFORMED'],
    [
      'certificates expired at now',
      { now: pki.now + 3 * 3_600_000 },
      'ERR_ATTESTATION_CERT_EXPIRED',
    ],
    ['nonce required', { requestNonce: null }, 'ERR_RELEASE_NONCE_REQUIRED'],
    [
      'nonce mismatch',
      { documentNonce: new Uint8Array(32).fill(1) },
      'ERR_ATTESTATION_NONCE_MISMATCH',
    ],
    ['document without a nonce', { documentNonce: null }, 'ERR_ATTESTATION_NONCE_MISMATCH'],
    [
      'nonce unknown',
      { documentNonce: new Uint8Array(32).fill(2), requestNonce: new Uint8Array(32).fill(2) },
      'ERR_RELEASE_NONCE_UNKNOWN',
    ],
    [
      'debug (PCR0–2 zero) against a policy of real PCRs',
      { fields: { pcrs: pcrsWith({ 0: pcrOf(0), 1: pcrOf(0), 2: pcrOf(0) }) } },
      'ERR_ATTESTATION_DEBUG',
    ],
    [
      'PCR mismatch',
      { fields: { pcrs: pcrsWith({ 2: pcrOf(4) }) } },
      'ERR_ATTESTATION_PCR_MISMATCH',
    ],
    ['stale', { fields: { timestamp: pki.now - 300_001 } }, 'ERR_ATTESTATION_STALE'],
    ['from the future', { fields: { timestamp: pki.now + 60_001 } }, 'ERR_ATTESTATION_FUTURE'],
    [
      'no PCR0, under a policy that does not pin it',
      {
        fields: { pcrs: pcrsWith({ 0: null }) },
        policy: { ...policy, pcrs: [new Map([[2, pcrOf(3)]])] },
      },
      'ERR_ATTESTATION_PCR_MISMATCH',
    ],
    ['public key null', { publicKey: null }, 'ERR_RELEASE_PUBLIC_KEY_MISSING'],
    [
      'public key absent',
      { publicKey: null, fields: { public_key: OMIT } },
      'ERR_RELEASE_PUBLIC_KEY_MISSING',
    ],
    ['public key empty', { publicKey: new Uint8Array(0) }, 'ERR_RELEASE_PUBLIC_KEY_MISSING'],
    [
      'public key not DER (a raw P-256 point)',
      { publicKey: Uint8Array.of(0x04, ...new Uint8Array(64).fill(7)) },
      'ERR_RELEASE_PUBLIC_KEY_UNSUPPORTED',
    ],
    ['RSA-1024', { publicKey: spkiOf(rsa1024) }, 'ERR_RELEASE_PUBLIC_KEY_UNSUPPORTED'],
    [
      'RSA-2048 with e = 1',
      { publicKey: spkiOfJwk({ ...rsaJwk, e: 'AQ' }) },
      'ERR_RELEASE_PUBLIC_KEY_UNSUPPORTED',
    ],
    [
      'RSA-2048 with an even exponent',
      { publicKey: spkiOfJwk({ ...rsaJwk, e: 'AQAC' }) },
      'ERR_RELEASE_PUBLIC_KEY_UNSUPPORTED',
    ],
    ['Ed25519', { publicKey: spkiOf(ed25519) }, 'ERR_RELEASE_PUBLIC_KEY_UNSUPPORTED'],
    ['X25519', { publicKey: spkiOf(x25519) }, 'ERR_RELEASE_PUBLIC_KEY_UNSUPPORTED'],
    ['secp256k1', { publicKey: spkiOf(secp256k1) }, 'ERR_RELEASE_PUBLIC_KEY_UNSUPPORTED'],
    [
      // SPKI {id-ecPublicKey, secp384r1} with the key 00: Node 20 aborts if such a key is used.
      'an EC point at infinity',
      {
        publicKey: Uint8Array.from(
          Buffer.from('3016301006072a8648ce3d020106052b8104002203020000', 'hex'),
        ),
      },
      'ERR_RELEASE_PUBLIC_KEY_UNSUPPORTED',
    ],
    ['an invalid policy', { policy: { ...policy, pcrs: [] } }, 'ERR_RELEASE_POLICY_INVALID'],
  ]
  for (const [name, options, code] of cases) t.equal(caughtCode(attempt(options).run), code, name)
  t.end()
})

/** The SPKI of an RSA public key given as a JWK, so that any exponent can be tried. */
function spkiOfJwk(jwk: JsonWebKey): Uint8Array {
  return spkiOf(createPublicKey({ key: jwk, format: 'jwk' }))
}

t.test('a nonce is single use, and a denied attempt burns it', (t) => {
  const first = attempt()
  first.run()
  t.equal(caughtCode(first.run), 'ERR_RELEASE_NONCE_REUSED', 'the same request again')

  // Refused for its PCRs after the nonce matched: the nonce is spent all the same.
  const challenges = freshChallenges()
  const denied = attempt({ challenges, fields: { pcrs: pcrsWith({ 2: pcrOf(4) }) } })
  t.equal(caughtCode(denied.run), 'ERR_ATTESTATION_PCR_MISMATCH')
  const retry = forgeDocument({
    pki,
    fields: { public_key: spkiOf(rsa.publicKey), nonce: denied.issued },
  })
  const context = { now: pki.now, trustedRoots: pki.roots, cache, challenges }
  t.equal(
    caughtCode(() => releaseKey({ ...denied.request, document: retry }, context)),
    'ERR_RELEASE_NONCE_REUSED',
    'a good document cannot reuse a nonce a refused one spent',
  )

  // A nonce mismatch comes before consumption: the issued nonce stays usable.
  const mismatched = attempt({ challenges, documentNonce: new Uint8Array(32).fill(3) })
  t.equal(caughtCode(mismatched.run), 'ERR_ATTESTATION_NONCE_MISMATCH')
  const good = forgeDocument({
    pki,
    fields: { public_key: spkiOf(rsa.publicKey), nonce: mismatched.issued },
  })
  t.equal(
    caughtCode(() => releaseKey({ ...mismatched.request, document: good }, context)),
    'returned',
  )
  t.end()
})

t.test('no error carries the key bytes', (t) => {
  const { run } = attempt({ publicKey: null })
  try {
    run()
    t.fail('released')
  } catch (error) {
    const text = JSON.stringify(error, Object.getOwnPropertyNames(error))
    t.notMatch(text, toHex(KEY_BYTES))
    t.notMatch(text, Buffer.from(KEY_BYTES).toString('base64'))
  }
  t.end()
})

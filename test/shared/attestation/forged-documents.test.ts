/** Documents forged by a test PKI cover what real vectors cannot: each defect gets its own code. */

import { createPrivateKey, sign } from 'node:crypto'
import { exactCode } from '../../helpers/exact-code.js'
import t, { type Test } from 'tap'
import { x509 } from '../../../parent/sim/x509.js'
import { issueCertificate, type IssuedCertificate } from '../../../parent/sim/issue-certificate.js'
import { encodeCbor } from '../../../shared/cbor/encode.js'
import { CborTagged, type CborValue } from '../../../shared/cbor/cbor-value.js'
import { decodeSign1 } from '../../../shared/cose/decode-sign1.js'
import { buildSigStructure } from '../../../shared/cose/sig-structure.js'
import { createCertificateCache } from '../../../shared/attestation/certificate-cache.js'
import {
  verifyAttestation,
  type VerifyAttestationOptions,
} from '../../../shared/attestation/verify-attestation.js'
import { sha256Hex, trustRootCertificates } from '../../../shared/attestation/trusted-roots.js'
import { createTestPki, forgeDocument, OMIT, pcrOf, type TestPki } from '../../fakes/test-pki.js'

const HOUR = 3_600_000
const pki: TestPki = await createTestPki()
const warmCache = createCertificateCache()
const base: VerifyAttestationOptions = { now: pki.now, trustedRoots: pki.roots }
verifyAttestation(forgeDocument({ pki }), { ...base, cache: warmCache })

/** Asserts `code` both cold and through a warm cache: the cache never changes an answer. */
function rejects(
  t: Test,
  bytes: Uint8Array,
  code: string,
  options: VerifyAttestationOptions = base,
): void {
  t.throws(() => verifyAttestation(bytes, options), { code: exactCode(code) }, `cold: ${code}`)
  t.throws(
    () => verifyAttestation(bytes, { ...options, cache: warmCache }),
    { code: exactCode(code) },
    'warm',
  )
}

function accepts(t: Test, bytes: Uint8Array, options: VerifyAttestationOptions = base) {
  const cold = verifyAttestation(bytes, options)
  const warm = verifyAttestation(bytes, { ...options, cache: warmCache })
  t.same(warm, cold)
  return cold
}

/** A Sign1 whose protected header is `protectedHeader`, signed by the leaf over `document`'s payload. */
function signWithProtected(protectedHeader: Map<number, CborValue>, document: Uint8Array) {
  const { payload } = decodeSign1(document)
  const protectedBytes = encodeCbor(protectedHeader)
  const signature = sign('sha384', buildSigStructure(protectedBytes, payload), {
    key: pki.leaf.privateKey,
    dsaEncoding: 'ieee-p1363',
  })
  return encodeCbor([protectedBytes, new Map(), payload, new Uint8Array(signature)])
}

t.test('a well-formed forged document verifies under its own root only', (t) => {
  const document = accepts(t, forgeDocument({ pki }))
  t.equal(document.moduleId, 'i-0123456789abcdef0-enc0123456789abcdef')
  t.equal(document.timestamp, pki.now)
  t.equal(document.pcrs.size, 16)
  t.equal(document.publicKey, null)
  t.throws(() => verifyAttestation(forgeDocument({ pki }), { now: pki.now }), {
    code: /^ERR_ATTESTATION_UNTRUSTED_ROOT$/,
  })
  t.end()
})

t.test('optional fields may be absent, null or empty; the map may be indefinite', (t) => {
  const document = accepts(
    t,
    forgeDocument({
      pki,
      indefinite: true,
      fields: { public_key: OMIT, user_data: new Uint8Array(0), nonce: new Uint8Array(1024) },
    }),
  )
  t.equal(document.publicKey, null)
  t.same(document.userData, new Uint8Array(0))
  t.equal(document.nonce?.byteLength, 1024)
  accepts(t, forgeDocument({ pki, fields: { pcrs: new Map([[31, pcrOf(9)]]) } }))
  t.end()
})

t.test('COSE-level defects', (t) => {
  rejects(t, forgeDocument({ pki, unprotectedHeader: new Map([[4, 'kid']]) }), 'ERR_COSE_HEADER')
  const good = forgeDocument({ pki })
  rejects(
    t,
    signWithProtected(
      new Map<number, CborValue>([
        [1, -35],
        [4, 'kid'],
      ]),
      good,
    ),
    'ERR_COSE_HEADER',
  )
  rejects(t, signWithProtected(new Map([[1, -7]]), good), 'ERR_COSE_ALGORITHM')
  t.ok(verifyAttestation(signWithProtected(new Map([[1, -35]]), good), base))
  rejects(t, encodeCbor(new CborTagged(18, 'x')), 'ERR_COSE_MALFORMED')
  t.end()
})

t.test('payload schema defects are ERR_ATTESTATION_MALFORMED', (t) => {
  const cases: Record<string, Readonly<Record<string, CborValue | typeof OMIT>>> = {
    'missing module_id': { module_id: OMIT },
    'empty module_id': { module_id: '' },
    'module_id over 255 characters': { module_id: 'i'.repeat(256) },
    'numeric module_id': { module_id: 7 },
    'digest SHA256': { digest: 'SHA256' },
    'missing timestamp': { timestamp: OMIT },
    'zero timestamp': { timestamp: 0 },
    'timestamp beyond 2^53': { timestamp: 1n << 60n },
    'text timestamp': { timestamp: '1700000000000' },
    'unknown key': { extra: 1 },
    'PCR index 32': { pcrs: new Map([[32, pcrOf(1)]]) },
    'negative PCR index': { pcrs: new Map([[-1, pcrOf(1)]]) },
    'text PCR index': { pcrs: new Map([['0', pcrOf(1)]]) },
    '47-byte PCR': { pcrs: new Map([[0, new Uint8Array(47)]]) },
    'PCR as text': { pcrs: new Map([[0, 'a'.repeat(48)]]) },
    'empty PCR map': { pcrs: new Map() },
    'PCRs as array': { pcrs: [pcrOf(1)] },
    'empty cabundle': { cabundle: [] },
    'cabundle as bytes': { cabundle: pki.root.der },
    'empty certificate': { certificate: new Uint8Array(0) },
    'certificate over 1024 bytes': { certificate: new Uint8Array(1025) },
    'certificate as text': { certificate: 'cert' },
    'user_data over 1024 bytes': { user_data: new Uint8Array(1025) },
    'nonce as text': { nonce: 'nonce' },
    'public_key as integer': { public_key: 1 },
  }
  for (const [name, fields] of Object.entries(cases)) {
    t.throws(
      () => verifyAttestation(forgeDocument({ pki, fields }), base),
      { code: /^ERR_ATTESTATION_MALFORMED$/ },
      name,
    )
  }
  const nonTextKey = encodeCbor(new Map<number, CborValue>([[1, 'x']]))
  t.throws(() => verifyAttestation(signWithPayload(nonTextKey), base), {
    code: /^ERR_ATTESTATION_MALFORMED$/,
  })
  t.throws(() => verifyAttestation(signWithPayload(encodeCbor(['not', 'a', 'map'])), base), {
    code: /^ERR_ATTESTATION_MALFORMED$/,
  })
  t.throws(() => verifyAttestation(signWithPayload(encodeCbor([[[[1]]]])), base), {
    code: /^ERR_CBOR_TOO_DEEP$/,
  })
  t.end()
})

function signWithPayload(payload: Uint8Array): Uint8Array {
  const protectedBytes = encodeCbor(new Map([[1, -35]]))
  const signature = sign('sha384', buildSigStructure(protectedBytes, payload), {
    key: pki.leaf.privateKey,
    dsaEncoding: 'ieee-p1363',
  })
  return encodeCbor([protectedBytes, new Map(), payload, new Uint8Array(signature)])
}

t.test('validity is checked at the caller instant', (t) => {
  const document = forgeDocument({ pki })
  rejects(t, document, 'ERR_ATTESTATION_CERT_EXPIRED', { ...base, now: pki.now + 2 * HOUR + 1 })
  rejects(t, document, 'ERR_ATTESTATION_CERT_NOT_YET_VALID', { ...base, now: pki.now - HOUR - 1 })
  // Both ends of a validity window are inclusive (RFC 5280 §4.1.2.5).
  accepts(t, document, { ...base, now: pki.now + 2 * HOUR })
  accepts(t, document, { ...base, now: pki.now - HOUR })
  t.end()
})

t.test('chain order, foreign roots and broken links', (t) => {
  const bundle = [pki.root.der, pki.regional.der, pki.zonal.der, pki.instance.der]
  rejects(
    t,
    forgeDocument({ pki, fields: { cabundle: [...bundle].reverse() } }),
    'ERR_ATTESTATION_CHAIN',
  )
  rejects(
    t,
    forgeDocument({ pki, fields: { cabundle: [pki.root.der, pki.zonal.der, pki.instance.der] } }),
    'ERR_ATTESTATION_CHAIN',
  )
  rejects(
    t,
    forgeDocument({
      pki,
      fields: { cabundle: [pki.root.der, pki.regional.der, pki.instance.der] },
    }),
    'ERR_ATTESTATION_CHAIN',
  )
  rejects(
    t,
    forgeDocument({ pki, fields: { cabundle: bundle.slice(1) } }),
    'ERR_ATTESTATION_UNTRUSTED_ROOT',
  )
  rejects(
    t,
    forgeDocument({ pki, fields: { cabundle: bundle.slice(0, 3), certificate: pki.leaf.der } }),
    'ERR_ATTESTATION_CHAIN',
  )
  t.end()
})

t.test('a document signed by another key fails its signature check', (t) => {
  const other = createPrivateKey(pki.instance.privateKey.export({ format: 'pem', type: 'pkcs8' }))
  rejects(t, forgeDocument({ pki, signingKey: other }), 'ERR_ATTESTATION_SIGNATURE')
  t.end()
})

/** A document whose chain ends in `leaf` issued below a replaced `instance`. */
async function withChain(
  instanceOptions: Partial<Parameters<typeof issueCertificate>[0]>,
  leafOptions: Partial<Parameters<typeof issueCertificate>[0]> = {},
): Promise<Uint8Array> {
  const instance = await issueCertificate({
    subject: 'CN=instance.cloister-test',
    issuer: pki.zonal,
    ca: true,
    pathLength: 0,
    notBefore: pki.now - 2 * HOUR,
    notAfter: pki.now + 24 * HOUR,
    ...instanceOptions,
  })
  const leaf = await issueCertificate({
    subject: 'CN=enclave.cloister-test',
    issuer: instance,
    ca: false,
    notBefore: pki.now - HOUR,
    notAfter: pki.now + 2 * HOUR,
    ...leafOptions,
  })
  return forgeWith(instance, leaf)
}

function forgeWith(instance: IssuedCertificate, leaf: IssuedCertificate): Uint8Array {
  return forgeDocument({
    pki,
    signingKey: leaf.privateKey,
    fields: {
      certificate: leaf.der,
      cabundle: [pki.root.der, pki.regional.der, pki.zonal.der, instance.der],
    },
  })
}

t.test('certificate profiles: CA flag, keyUsage, pathLen, critical extensions', async (t) => {
  accepts(t, await withChain({}))
  accepts(t, await withChain({}, { keyUsage: null }))
  accepts(t, await withChain({ keyUsage: null }))
  accepts(
    t,
    await withChain({
      extraExtensions: [new x509.Extension('1.2.3.4', false, new Uint8Array([5, 0]))],
    }),
  )
  rejects(t, await withChain({ ca: false }), 'ERR_ATTESTATION_CHAIN')
  rejects(t, await withChain({ omitBasicConstraints: true }), 'ERR_ATTESTATION_CHAIN')
  rejects(
    t,
    await withChain({ keyUsage: x509.KeyUsageFlags.digitalSignature }),
    'ERR_ATTESTATION_CHAIN',
  )
  rejects(t, await withChain({}, { ca: true }), 'ERR_ATTESTATION_CHAIN')
  rejects(
    t,
    await withChain({}, { keyUsage: x509.KeyUsageFlags.keyCertSign }),
    'ERR_ATTESTATION_CHAIN',
  )
  rejects(
    t,
    await withChain({
      extraExtensions: [new x509.Extension('1.2.3.4', true, new Uint8Array([5, 0]))],
    }),
    'ERR_ATTESTATION_CHAIN',
  )
  // pathLen: an instance CA allowing none below it, with one more CA inserted below it.
  const middle = await issueCertificate({
    subject: 'CN=extra.cloister-test',
    issuer: pki.instance,
    ca: true,
    notBefore: pki.now - HOUR,
    notAfter: pki.now + 2 * HOUR,
  })
  const leaf = await issueCertificate({
    subject: 'CN=enclave.cloister-test',
    issuer: middle,
    ca: false,
    notBefore: pki.now - HOUR,
    notAfter: pki.now + 2 * HOUR,
  })
  rejects(
    t,
    forgeDocument({
      pki,
      signingKey: leaf.privateKey,
      fields: {
        certificate: leaf.der,
        cabundle: [pki.root.der, pki.regional.der, pki.zonal.der, pki.instance.der, middle.der],
      },
    }),
    'ERR_ATTESTATION_CHAIN',
  )
})

t.test('a link whose names match but whose signature does not is a broken chain', async (t) => {
  const impostor = await issueCertificate({
    subject: 'CN=instance.cloister-test',
    issuer: pki.zonal,
    ca: true,
    pathLength: 0,
    notBefore: pki.now - 2 * HOUR,
    notAfter: pki.now + 24 * HOUR,
  })
  const leaf = await issueCertificate({
    subject: 'CN=enclave.cloister-test',
    issuer: impostor,
    ca: false,
    notBefore: pki.now - HOUR,
    notAfter: pki.now + 2 * HOUR,
  })
  // The leaf names the instance CA as issuer but was signed by the impostor's key.
  rejects(t, forgeWith(pki.instance, leaf), 'ERR_ATTESTATION_CHAIN')
})

t.test('a leaf on another curve cannot sign an ES384 document', async (t) => {
  const algorithm = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' }
  const leaf = await issueCertificate({
    subject: 'CN=enclave.cloister-test',
    issuer: pki.instance,
    ca: false,
    notBefore: pki.now - HOUR,
    notAfter: pki.now + 2 * HOUR,
    algorithm,
  })
  // Signed by a P-384 key, but the certificate carries a P-256 one: it cannot be the signer.
  const document = forgeDocument({
    pki,
    fields: {
      certificate: leaf.der,
      cabundle: [pki.root.der, pki.regional.der, pki.zonal.der, pki.instance.der],
    },
  })
  rejects(t, document, 'ERR_ATTESTATION_SIGNATURE')
})

t.test(
  'a leaf key at the point at infinity is a failed signature, not a crashed process',
  async (t) => {
    // SPKI {id-ecPublicKey, secp384r1} with the key 00: the point at infinity (SEC 1 §2.3.1).
    // OpenSSL imports it; Node 20 aborts the process when such a key is used unchecked.
    const infinity = Buffer.from('3016301006072a8648ce3d020106052b8104002203020000', 'hex')
    const leaf = await issueCertificate({
      subject: 'CN=enclave.cloister-test',
      issuer: pki.instance,
      ca: false,
      notBefore: pki.now - HOUR,
      notAfter: pki.now + 2 * HOUR,
      subjectPublicKeyInfo: new Uint8Array(infinity),
    })
    const document = forgeDocument({
      pki,
      fields: {
        certificate: leaf.der,
        cabundle: [pki.root.der, pki.regional.der, pki.zonal.der, pki.instance.der],
      },
    })
    rejects(t, document, 'ERR_ATTESTATION_SIGNATURE')
  },
)

t.test('undecodable certificates are ERR_ATTESTATION_CERT_MALFORMED', (t) => {
  rejects(
    t,
    forgeDocument({ pki, fields: { certificate: new Uint8Array([0x30, 0x03, 0x02, 0x01, 0x01]) } }),
    'ERR_ATTESTATION_CERT_MALFORMED',
  )
  rejects(
    t,
    forgeDocument({ pki, fields: { certificate: new TextEncoder().encode(pki.leaf.pem) } }),
    'ERR_ATTESTATION_CERT_MALFORMED',
  )
  t.throws(() => trustRootCertificates(['not a certificate']), {
    code: /^ERR_ATTESTATION_CERT_MALFORMED$/,
  })
  t.end()
})

t.test('the cache is bounded and forgets the least recently used first', async (t) => {
  const cache = createCertificateCache(6)
  verifyAttestation(forgeDocument({ pki }), { ...base, cache })
  t.equal(cache.size, 4, 'regional, zonal, instance and leaf; the root is pinned, not cached')
  const print = (certificate: IssuedCertificate) => sha256Hex(certificate.der)
  const regional = () => cache.get(print(pki.regional), print(pki.root))
  const leaf = () => cache.get(print(pki.leaf), print(pki.instance))
  t.equal(regional()?.fingerprint, print(pki.regional))
  t.equal(cache.get(print(pki.regional), print(pki.zonal)), undefined, 'only under its own issuer')
  const other = await createTestPki(pki.now)
  verifyAttestation(forgeDocument({ pki: other }), {
    now: pki.now,
    trustedRoots: other.roots,
    cache,
  })
  t.equal(cache.size, 6)
  // regional was touched by the lookup above, so zonal was the oldest, then instance.
  t.equal(cache.get(print(pki.zonal), print(pki.regional)), undefined, 'evicted')
  t.equal(cache.get(print(pki.instance), print(pki.zonal)), undefined, 'evicted')
  t.equal(leaf()?.fingerprint, print(pki.leaf))
  t.end()
})

/** DER ECDSA-Sig-Value (RFC 3279 §2.2.3) of a raw r‖s signature. */
function toDerSignature(raw: Uint8Array): Uint8Array {
  const integer = (value: Uint8Array) => {
    let start = 0
    while (start < value.length - 1 && value[start] === 0) start += 1
    const trimmed = value.subarray(start)
    const body = (trimmed[0] ?? 0) & 0x80 ? Uint8Array.from([0, ...trimmed]) : trimmed
    return Uint8Array.from([0x02, body.length, ...body])
  }
  const half = raw.length / 2
  const content = Uint8Array.from([
    ...integer(raw.subarray(0, half)),
    ...integer(raw.subarray(half)),
  ])
  return Uint8Array.from([0x30, content.length, ...content]) // under 128 bytes for P-384
}

t.test('every kind of bad input gets its own code', (t) => {
  const good = forgeDocument({ pki })
  const sign1 = decodeSign1(good)
  // A forged document is 84 44 a1013822 a0 59 LLLL <payload> 58 60 <signature>.
  t.same([...good.subarray(0, 8)], [0x84, 0x44, 0xa1, 0x01, 0x38, 0x22, 0xa0, 0x59])
  const duplicateKey = Uint8Array.from([
    0xaa, // the payload map now claims 10 entries…
    ...sign1.payload.subarray(1),
    ...encodeCbor('nonce'), // …the tenth repeating "nonce"
    ...encodeCbor(null),
  ])
  const cases: Record<string, [Uint8Array, string]> = {
    'over 64 KiB': [new Uint8Array(64 * 1024 + 1), 'ERR_ATTESTATION_TOO_LARGE'],
    truncated: [good.subarray(0, good.length - 10), 'ERR_CBOR_TRUNCATED'],
    'a payload length of 2^64 - 1': [
      Uint8Array.from([
        ...good.subarray(0, 7),
        0x5b,
        ...new Uint8Array(8).fill(0xff),
        ...good.subarray(10),
      ]),
      'ERR_CBOR_LENGTH_OVERFLOW',
    ],
    'deep nesting': [signWithPayload(encodeCbor([[[[1]]]])), 'ERR_CBOR_TOO_DEEP'],
    'a duplicate payload key': [signWithPayload(duplicateKey), 'ERR_CBOR_DUPLICATE_KEY'],
    'a wrong field type': [
      forgeDocument({ pki, fields: { module_id: 7 } }),
      'ERR_ATTESTATION_MALFORMED',
    ],
    'a tag inside the payload': [
      forgeDocument({ pki, fields: { timestamp: new CborTagged(1, pki.now) } }),
      'ERR_CBOR_TAG_NOT_ALLOWED',
    ],
    'tag 98 around the message': [encodeCbor(new CborTagged(98, [])), 'ERR_COSE_TAG'],
    'a DER signature': [
      encodeCbor([sign1.protectedBytes, new Map(), sign1.payload, toDerSignature(sign1.signature)]),
      'ERR_COSE_SIGNATURE_FORMAT',
    ],
    'an extra header parameter': [
      forgeDocument({ pki, unprotectedHeader: new Map([[4, 'kid']]) }),
      'ERR_COSE_HEADER',
    ],
    'a reversed chain': [
      forgeDocument({
        pki,
        fields: { cabundle: [pki.instance.der, pki.zonal.der, pki.regional.der, pki.root.der] },
      }),
      'ERR_ATTESTATION_CHAIN',
    ],
    'a foreign chain': [forgeDocument({ pki }), 'ERR_ATTESTATION_UNTRUSTED_ROOT'],
  }
  for (const [name, [bytes, code]] of Object.entries(cases)) {
    const options = name === 'a foreign chain' ? { now: pki.now } : base
    rejects(t, bytes, code, options)
  }
  t.equal(new Set(Object.values(cases).map(([, code]) => code)).size, Object.keys(cases).length)
  t.end()
})

t.test('the review findings stay fixed', (t) => {
  // M1: an instant that is not a whole number of ms would switch every time check off.
  for (const now of [Number.NaN, undefined, '2021-03-17', -1, 1.5, 8.64e15 + 1]) {
    t.throws(() => verifyAttestation(forgeDocument({ pki }), { ...base, now: now as number }), {
      code: /^ERR_CLOCK_INVALID$/,
    })
  }
  // L2: a timestamp past what a Date can hold is not a date.
  rejects(
    t,
    forgeDocument({ pki, fields: { timestamp: 8.64e15 + 1 } }),
    'ERR_ATTESTATION_MALFORMED',
  )
  // L6: at most 8 certificates in cabundle.
  const long = Array.from({ length: 9 }, () => pki.root.der)
  rejects(t, forgeDocument({ pki, fields: { cabundle: long } }), 'ERR_ATTESTATION_MALFORMED')
  // H1: a 64 KiB header of colliding integer keys is refused before it is hashed at length.
  const many = new Map<number, CborValue>(
    Array.from({ length: 65 }, (_, index) => [index * 2 ** 20, null]),
  )
  rejects(t, forgeDocument({ pki, unprotectedHeader: many }), 'ERR_CBOR_TOO_MANY_ITEMS')
  // L3: wiping a returned document does not poison the cache.
  const cache = createCertificateCache()
  const bytes = forgeDocument({ pki })
  const document = verifyAttestation(bytes, { ...base, cache })
  document.certificate.fill(0)
  for (const der of document.cabundle) der.fill(0)
  t.ok(verifyAttestation(bytes, { ...base, cache }), 'still accepted through the warm cache')
  t.end()
})

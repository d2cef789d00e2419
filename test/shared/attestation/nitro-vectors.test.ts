/** Every document in ../shared/vectors/nitro/manifest.json gets its expected verdict, cached or not. */

import { exactCode } from '../../helpers/exact-code.js'
import t from 'tap'
import { toHex } from '../../../shared/bytes/bytes.js'
import { isDebugDocument } from '../../../shared/attestation/attestation-document.js'
import { checkAttestationPolicy } from '../../../shared/attestation/attestation-policy.js'
import { createCertificateCache } from '../../../shared/attestation/certificate-cache.js'
import { verifyAttestation } from '../../../shared/attestation/verify-attestation.js'
import {
  AWS_NITRO_ROOTS,
  AWS_NITRO_ROOT_G1_SHA256,
  sha256Hex,
  trustRootCertificates,
} from '../../../shared/attestation/trusted-roots.js'
import { nitroManifest, vectorBytes, vectorText } from '../../helpers/shared-vectors.js'

/** Why each negative vector fails (SOURCES.md §3–4), as the exact code we report. */
const REJECTIONS: Readonly<Record<string, string>> = {
  'base-invalid-truncated-cbor.cose': 'ERR_CBOR_MALFORMED',
  'brave-core-invalid-array3.cose': 'ERR_COSE_MALFORMED',
  'brave-core-invalid-root-text.cose': 'ERR_COSE_MALFORMED',
  'brave-core-invalid-sig-text.cose': 'ERR_COSE_MALFORMED',
  'derived-invalid-alg-es256-anjuna-1.cose': 'ERR_COSE_ALGORITHM',
  'derived-invalid-payload-bitflip-anjuna-1.cose': 'ERR_ATTESTATION_SIGNATURE',
  'derived-invalid-short-sig-anjuna-1.cose': 'ERR_COSE_SIGNATURE_FORMAT',
  'derived-invalid-sig-bitflip-anjuna-1.cose': 'ERR_ATTESTATION_SIGNATURE',
  'derived-invalid-tag98-anjuna-1.cose': 'ERR_COSE_TAG',
  'derived-invalid-trailing-byte-anjuna-1.cose': 'ERR_CBOR_TRAILING_BYTES',
  'marlin-invalid-wrong-root-1.cose': 'ERR_ATTESTATION_UNTRUSTED_ROOT',
  'marlin-invalid-wrong-root-2.cose': 'ERR_ATTESTATION_UNTRUSTED_ROOT',
  'uid2-invalid-tampered-protected.cose': 'ERR_CBOR_TRUNCATED',
}

const manifest = nitroManifest()
const sharedCache = createCertificateCache()

t.test('the manifest lists every vector we expect to judge', (t) => {
  t.equal(manifest.filter((entry) => entry.expect === 'accept').length, 19)
  t.same(
    manifest
      .filter((entry) => entry.expect === 'reject')
      .map((entry) => entry.file)
      .sort(),
    Object.keys(REJECTIONS).sort(),
  )
  t.end()
})

t.test('the pinned AWS root is the one in the vectors', (t) => {
  const roots = trustRootCertificates([vectorText('nitro/aws-nitro-root-g1.pem')])
  t.same([...roots.anchors.keys()], [AWS_NITRO_ROOT_G1_SHA256])
  t.same([...AWS_NITRO_ROOTS.anchors.keys()], [AWS_NITRO_ROOT_G1_SHA256], 'the embedded PEM')
  t.end()
})

for (const entry of manifest) {
  t.test(`${entry.file}: ${entry.expect}`, (t) => {
    const bytes = vectorBytes(`nitro/${entry.file}`)
    // Cold (no cache), then twice through a shared cache (first fills, second hits).
    for (const cache of [undefined, sharedCache, sharedCache]) {
      const options = cache === undefined ? { now: entry.at } : { now: entry.at, cache }
      if (entry.expect === 'reject') {
        t.throws(() => verifyAttestation(bytes, options), {
          code: exactCode(REJECTIONS[entry.file] ?? ''),
        })
        continue
      }
      const document = verifyAttestation(bytes, options)
      t.equal(document.moduleId, entry.module_id)
      t.equal(document.digest, 'SHA384')
      t.equal(isDebugDocument(document), entry.debug)
      t.same(
        Object.fromEntries(
          [...document.pcrs].map(([index, value]) => [String(index), toHex(value)]),
        ),
        Object.fromEntries(
          Object.entries(entry.pcrs ?? {}).filter(([index]) => document.pcrs.has(Number(index))),
        ),
      )
      t.equal(document.pcrs.size, Object.keys(entry.pcrs ?? {}).length)
      t.equal(document.publicKey?.byteLength ?? null, entry.public_key_len)
      t.equal(document.userData?.byteLength ?? null, entry.user_data_len)
      t.equal(document.nonce?.byteLength ?? null, entry.nonce_len)
      t.equal(sha256Hex(document.cabundle[0] ?? new Uint8Array()), AWS_NITRO_ROOT_G1_SHA256)
      if (entry.debug === true) {
        t.throws(() => checkAttestationPolicy(document, { pcrs: 'any' }, entry.at), {
          code: /^ERR_ATTESTATION_DEBUG$/,
        })
      } else {
        t.doesNotThrow(() => checkAttestationPolicy(document, { pcrs: 'any' }, entry.at))
      }
    }
    t.end()
  })
}

t.test('every real document is expired now', (t) => {
  for (const entry of manifest.filter((item) => item.expect === 'accept')) {
    t.throws(
      () => verifyAttestation(vectorBytes(`nitro/${entry.file}`), { now: Date.now() }),
      { code: /^ERR_ATTESTATION_CERT_EXPIRED$/ },
      entry.file,
    )
  }
  t.end()
})

t.test('a real document under another pinned root is untrusted', (t) => {
  const bytes = vectorBytes('nitro/anjuna-1.cose')
  const roots = { anchors: new Map() }
  t.throws(() => verifyAttestation(bytes, { now: 1616018515685, trustedRoots: roots }), {
    code: /^ERR_ATTESTATION_UNTRUSTED_ROOT$/,
  })
  t.end()
})

t.test('marlin-3 and marlin-4 share a chain: the second costs no chain verification', (t) => {
  const cache = createCertificateCache()
  verifyAttestation(vectorBytes('nitro/marlin-3.cose'), { now: 1723012689640, cache })
  t.equal(cache.size, 4, 'four certificates below the pinned root')
  verifyAttestation(vectorBytes('nitro/marlin-4.cose'), { now: 1723012992231, cache })
  t.equal(cache.size, 4)
  t.end()
})

t.test('a document over 64 KiB is refused before decoding', (t) => {
  t.throws(() => verifyAttestation(new Uint8Array(64 * 1024 + 1), { now: 0 }), {
    code: /^ERR_ATTESTATION_TOO_LARGE$/,
  })
  t.end()
})

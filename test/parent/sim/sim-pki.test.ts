/** The simulated PKI: a Nitro-shaped chain the verifier accepts under its own root, persisted and renewed. */

import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { X509Certificate } from 'node:crypto'
import t from 'tap'
import { openSimPki } from '../../../parent/sim/sim-pki.js'
import { trustRootCertificates } from '../../../shared/attestation/trusted-roots.js'
import { verifyAttestation } from '../../../shared/attestation/verify-attestation.js'
import { readCertificateFields } from '../../../shared/attestation/certificate-fields.js'
import { forgeDocument } from '../../fakes/test-pki.js'

const HOUR = 3_600_000
const NOW = Date.UTC(2026, 10, 27, 12)

function stateDir(): string {
  return join(mkdtempSync(join(tmpdir(), 'cloister-sim-')), 'sim')
}

t.test(
  'a fresh PKI signs documents the verifier accepts under the simulated root only',
  async (t) => {
    const directory = stateDir()
    const pki = await openSimPki(directory, NOW)
    const { cabundle, leaf } = await pki.signerAt(NOW)
    t.equal(cabundle.length, 4)
    const fields = [...cabundle, leaf.der].map((der) => readCertificateFields(der))
    t.same(
      fields.map(({ isCa, pathLength }) => [isCa, pathLength]),
      [
        [true, undefined],
        [true, 2],
        [true, 1],
        [true, 0],
        [false, undefined],
      ],
      'the basicConstraints profile of the real chain',
    )
    t.equal(fields[4]?.notAfter, NOW + 3 * HOUR, 'the leaf lives three hours')
    t.equal(fields[0]?.curve, 'secp384r1')
    for (const der of [...cabundle, leaf.der]) {
      const { subject, issuer } = new X509Certificate(der)
      t.notMatch(`${subject}\n${issuer}`, /aws|amazon/i, 'names never claim to be AWS')
    }
    const roots = trustRootCertificates([pki.root.pem])
    const document = forgeDocument({ pki: { cabundle, leaf, now: NOW } })
    t.ok(verifyAttestation(document, { now: NOW, trustedRoots: roots }))
    t.throws(() => verifyAttestation(document, { now: NOW }), {
      code: /^ERR_ATTESTATION_UNTRUSTED_ROOT$/,
    })
    t.equal(statSync(directory).mode & 0o777, 0o700)
    t.equal(statSync(join(directory, 'root.key.pem')).mode & 0o777, 0o600)
    t.equal(statSync(join(directory, 'instance.key.pem')).mode & 0o777, 0o600)
  },
)

const fingerprints = (signer: { cabundle: readonly Uint8Array[]; leaf: { der: Uint8Array } }) =>
  [...signer.cabundle, signer.leaf.der].map((der) => new X509Certificate(der).fingerprint256)

t.test('the chain persists across restarts; only the in-memory leaf is new', async (t) => {
  const directory = stateDir()
  const first = await (await openSimPki(directory, NOW)).signerAt(NOW)
  const again = await (await openSimPki(directory, NOW + HOUR)).signerAt(NOW + HOUR)
  const [before, after] = [fingerprints(first), fingerprints(again)]
  t.same(after.slice(0, 4), before.slice(0, 4))
  t.not(after[4], before[4])
  t.equal(
    readFileSync(join(directory, 'root.cert.pem'), 'utf8'),
    (await openSimPki(directory, NOW)).root.pem,
  )
})

t.test('each level is renewed when it nears expiry, and everything below it with it', async (t) => {
  const pki = await openSimPki(stateDir(), NOW)
  const start = fingerprints(await pki.signerAt(NOW))
  const same = fingerprints(await pki.signerAt(NOW + 2 * HOUR))
  t.same(same, start, 'a leaf with more than 30 minutes left is kept')
  const newLeaf = fingerprints(await pki.signerAt(NOW + 2.6 * HOUR))
  t.same(newLeaf.slice(0, 4), start.slice(0, 4))
  t.not(newLeaf[4], start[4])
  const newInstance = fingerprints(await pki.signerAt(NOW + 27 * HOUR))
  t.same(newInstance.slice(0, 3), start.slice(0, 3))
  t.not(newInstance[3], start[3])
  const newZonal = fingerprints(await pki.signerAt(NOW + 5.5 * 24 * HOUR))
  t.same(newZonal.slice(0, 2), start.slice(0, 2))
  t.not(newZonal[2], start[2])
  const backwards = fingerprints(await pki.signerAt(NOW - 2 * HOUR))
  t.same(
    backwards.slice(0, 1),
    start.slice(0, 1),
    'a clock before a validity window renews below the root',
  )
  t.not(backwards[1], newZonal[1])
  const concurrent = await Promise.all([
    pki.signerAt(NOW + 40 * HOUR),
    pki.signerAt(NOW + 40 * HOUR),
  ])
  t.same(
    fingerprints(concurrent[0]),
    fingerprints(concurrent[1]),
    'concurrent callers share one renewal',
  )
  const { cabundle, leaf } = concurrent[0]
  const leafFields = readCertificateFields(leaf.der)
  const instanceFields = readCertificateFields(cabundle[3] ?? new Uint8Array())
  t.ok(leafFields.notAfter <= instanceFields.notAfter, 'a leaf never outlives its issuer')
})

t.test('a renewal that cannot be stored fails, and the next one succeeds', async (t) => {
  const directory = stateDir()
  const pki = await openSimPki(directory, NOW)
  await pki.signerAt(NOW)
  rmSync(join(directory, 'instance.key.pem'))
  mkdirSync(join(directory, 'instance.key.pem'))
  await t.rejects(pki.signerAt(NOW + 30 * HOUR), { code: 'EISDIR' })
  rmSync(join(directory, 'instance.key.pem'), { recursive: true })
  t.equal((await pki.signerAt(NOW + 30 * HOUR)).cabundle.length, 4)
})

t.test('unreadable or inconsistent state is ERR_SIM_STATE, never a silent new root', async (t) => {
  const corrupt = async (name: string, content: string) => {
    const directory = stateDir()
    await (await openSimPki(directory, NOW)).signerAt(NOW)
    const path = join(directory, name)
    if (content === 'directory') {
      // A directory where the file should be: reading it fails with EISDIR.
      rmSync(path)
      mkdirSync(path)
    } else {
      writeFileSync(path, content)
    }
    return openSimPki(directory, NOW)
  }
  await t.rejects(corrupt('root.cert.pem', 'not a certificate'), { code: /^ERR_SIM_STATE$/ })
  await t.rejects(corrupt('root.key.pem', 'not a key'), { code: /^ERR_SIM_STATE$/ })
  await t.rejects(corrupt('root.key.pem', 'directory'), { code: /^ERR_SIM_STATE$/ })
  const other = stateDir()
  await openSimPki(other, NOW)
  const wrongKey = readFileSync(join(other, 'root.key.pem'), 'utf8')
  await t.rejects(corrupt('regional.key.pem', wrongKey), { code: /^ERR_SIM_STATE$/ })
})

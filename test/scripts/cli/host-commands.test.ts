/** `cloister measure`, `sim root`, `sim attest` and `start`, driven in-process. */

import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { AddressInfo } from 'node:net'
import { DisableKeyCommand, EnableKeyCommand } from '@aws-sdk/client-kms'
import t from 'tap'
import { ensureEnclaveKey } from '../../../parent/keys/pin-enclave-key.js'
import { createLocalKmsClient } from '../../../parent/kms/local-kms-client.js'
import { openLocalKms } from '../../../parent/kms/open-local-kms.js'
import { runCli } from '../../../scripts/cli/run-cli.js'
import { runStart } from '../../../scripts/cli/start-command.js'
import { buildEnclaveBundle } from '../../../parent/sim/build-enclave-bundle.js'
import { hasBubblewrap } from '../../../parent/sim/launch-enclave.js'
import { trustRootCertificates } from '../../../shared/attestation/trusted-roots.js'
import { verifyAttestation } from '../../../shared/attestation/verify-attestation.js'
import { isDebugDocument } from '../../../shared/attestation/attestation-document.js'
import { toHex } from '../../../shared/bytes/bytes.js'
import { createRecordingIo, type RecordingIoOptions } from '../../fakes/fake-cli-io.js'

const NOW = Date.now()
const state = () => mkdtempSync(join(tmpdir(), 'cloister-cli-host-'))
const bundle = await buildEnclaveBundle()

async function run(argv: string[], options: RecordingIoOptions = {}) {
  const io = createRecordingIo({ now: NOW, ...options })
  const status = await runCli(argv, io)
  return { status, out: io.out(), err: io.err(), written: io.written }
}

t.test('measure prints nitro-cli JSON; sim attest documents carry the same PCRs', async (t) => {
  const directory = state()
  const files = { 'bundle.mjs': bundle }
  const measured = await run(['measure', 'bundle.mjs', '--state', directory], { files })
  t.equal(measured.status, 0)
  const { Measurements } = JSON.parse(measured.out) as {
    Measurements: Record<'HashAlgorithm' | 'PCR0' | 'PCR1' | 'PCR2', string>
  }
  t.equal(Measurements.HashAlgorithm, 'Sha384 { ... }')
  for (const pcr of [Measurements.PCR0, Measurements.PCR1, Measurements.PCR2]) {
    t.match(pcr, /^[0-9a-f]{96}$/)
  }
  const own = await run(['measure', '--state', directory])
  t.same(JSON.parse(own.out), JSON.parse(measured.out), 'the default bundle is the project’s own')
  const unshare = await run(['measure', '--state', directory, '--sandbox', 'unshare'])
  t.not(
    (JSON.parse(unshare.out) as { Measurements: { PCR0: string } }).Measurements.PCR0,
    Measurements.PCR0,
    'the sandbox mode is part of the measured image',
  )
  // Without --state the state directory is .cloister/ in the working directory (git-ignored).
  t.match((await run(['sim', 'root'])).out, /^-----BEGIN CERTIFICATE-----\n/)

  const root = await run(['sim', 'root', '--state', directory])
  t.match(root.out, /^-----BEGIN CERTIFICATE-----\n/)
  const rootFile = await run(['sim', 'root', '--state', directory, '--out', 'root.pem'])
  t.equal(rootFile.written.get('root.pem'), root.out)
  const roots = trustRootCertificates([root.out])

  const attested = await run(
    [
      'sim',
      'attest',
      '--state',
      directory,
      '--nonce',
      '0102',
      '--user-data',
      'aa',
      '--public-key',
      'key.der',
      '--bundle',
      'bundle.mjs',
    ],
    { files: { ...files, 'key.der': Uint8Array.of(1, 2, 3) } },
  )
  t.equal(attested.status, 0, attested.err)
  const document = verifyAttestation(new Uint8Array(Buffer.from(attested.out, 'base64')), {
    now: NOW,
    trustedRoots: roots,
  })
  t.equal(toHex(document.pcrs.get(0) ?? new Uint8Array()), Measurements.PCR0)
  t.equal(toHex(document.pcrs.get(2) ?? new Uint8Array()), Measurements.PCR2)
  t.same(document.nonce, Uint8Array.of(1, 2))
  t.same(document.userData, Uint8Array.of(0xaa))
  t.same(document.publicKey, Uint8Array.of(1, 2, 3))
  const debug = await run(['sim', 'attest', '--state', directory, '--debug', '--out', 'doc.cose'])
  const written = debug.written.get('doc.cose') as Uint8Array
  t.ok(isDebugDocument(verifyAttestation(written, { now: NOW, trustedRoots: roots })))
})

t.test('host commands refuse bad usage with status 2', async (t) => {
  const directory = state()
  const files = { big: new Uint8Array(1025), huge: new Uint8Array(16 * 1024 * 1024 + 1) }
  const cases: string[][] = [
    ['measure', 'a', 'b'],
    ['measure', '/nonexistent/bundle.mjs'],
    ['measure', 'huge', '--state', directory],
    ['measure', '--sandbox', 'docker', '--state', directory],
    ['sim', 'root', 'extra'],
    ['sim', 'attest', '--nonce', 'xyz', '--state', directory],
    ['sim', 'attest', '--user-data', '0', '--state', directory],
    ['sim', 'attest', '--public-key', 'big', '--state', directory],
    ['sim', 'attest', '--public-key', '/nonexistent/key', '--state', directory],
    ['sim', 'attest', '--bundle', '/nonexistent/bundle', '--state', directory],
    ['sim', 'attest', '--bundle', 'huge', '--state', directory],
    ['start', '--frobnicate'],
  ]
  for (const argv of cases) {
    const result = await run(argv, { files })
    t.equal(result.status, 2, argv.join(' '))
  }
})

t.test('start boots a supervised enclave, reports it, and stops on shutdown', async (t) => {
  const directory = state()
  const io = createRecordingIo({ now: NOW })
  t.equal(await runStart(['--state', directory], io), 0)
  t.match(io.out(), /^enclave ready: i-0[0-9a-f]{16}-enc[0-9a-f]{16}\n/)
  t.match(
    io.out(),
    new RegExp(`\\n {2}sandbox {3}${hasBubblewrap() ? 'bubblewrap' : 'unshare'}\\n`),
  )
  t.match(io.out(), /\n {2}PCR0 {6}[0-9a-f]{96}\n/)
  t.match(io.err(), /enclave: ready\nenclave: stopped\n/)
  t.match(io.err(), /key policy pinned to the new measurements/)
  t.match(io.out(), /\n {2}keys {6}4 versions loaded through attested KMS\n/)
  const fallback = createRecordingIo({ now: NOW })
  t.equal(await runStart(['--state', directory], fallback, () => false), 0)
  t.match(fallback.err(), /^WARNING: bubblewrap is not installed/)
  t.match(fallback.out(), /\n {2}sandbox {3}unshare\n/)
  const none = createRecordingIo({ now: NOW })
  t.equal(await runCli(['start', '--state', directory, '--no-sandbox'], none), 0)
  t.match(none.err(), /^WARNING: --no-sandbox: the enclave runs WITHOUT ANY ISOLATION/)
  t.match(none.out(), /\n {2}sandbox {3}none\n/)
})

t.test(
  'start reports why the enclave is not ready, and becomes ready once KMS allows it',
  async (t) => {
    const directory = state()
    t.equal(await runStart(['--state', directory], createRecordingIo({ now: NOW })), 0)
    // Disable the enclave's key: KMS now refuses every call the enclave makes.
    const local = await openLocalKms(directory, () => Date.now())
    await new Promise<void>((resolve) => local.server.listen(0, '127.0.0.1', resolve))
    const admin = createLocalKmsClient(local.state, (local.server.address() as AddressInfo).port)
    const keyArn = await ensureEnclaveKey(admin)
    await admin.send(new DisableKeyCommand({ KeyId: keyArn }))
    const io = createRecordingIo({ now: NOW })
    const started = runStart(['--state', directory], io)
    while (!io.err().includes('not ready')) await new Promise((resolve) => setTimeout(resolve, 50))
    t.match(io.err(), /enclave: not ready: ERR_KMS_REQUEST_FAILED: KMS refused the request\.\n/)
    await admin.send(new EnableKeyCommand({ KeyId: keyArn }))
    t.equal(await started, 0)
    t.match(io.out(), /\n {2}keys {6}4 versions loaded through attested KMS\n/)
    admin.destroy()
    await new Promise<void>((resolve) => {
      local.server.close(() => {
        resolve()
      })
    })
    local.close()
  },
)

/** The simulated host end to end: a measured, sandboxed enclave that attests, verifies and can crash. */

import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Socket } from 'node:net'
import t from 'tap'
import { buildEnclaveBundle, findRepositoryRoot } from '../../../parent/sim/build-enclave-bundle.js'
import { measureImage } from '../../../parent/sim/enclave-image.js'
import { hasBubblewrap } from '../../../parent/sim/launch-enclave.js'
import {
  createHostNsm,
  prepareImage,
  startSimulatedEnclave,
} from '../../../parent/sim/start-simulated-enclave.js'
import { checkAttestationPolicy } from '../../../shared/attestation/attestation-policy.js'
import { extendPcr, measureBytes, ZERO_PCR } from '../../../shared/attestation/pcr.js'
import { trustRootCertificates } from '../../../shared/attestation/trusted-roots.js'
import { verifyAttestation } from '../../../shared/attestation/verify-attestation.js'
import { isCloisterError } from '../../../shared/errors/cloister-error.js'
import { toHex } from '../../../shared/bytes/bytes.js'
import { decodeReply, encodeRequest } from '../../../shared/protocol/envelope.js'
import { createFrameReader, encodeFrame } from '../../../shared/protocol/frame.js'

const sandbox = hasBubblewrap() ? 'bubblewrap' : 'unshare'
const state = () => mkdtempSync(join(tmpdir(), 'cloister-host-'))
const bundle = await buildEnclaveBundle()
const text = new TextEncoder()

t.test('the bundle is deterministic and the measurement follows every byte', async (t) => {
  t.same(await buildEnclaveBundle(), bundle, 'the same sources give the same bytes')
  t.throws(() => findRepositoryRoot('/'), /not inside the cloister repository/)
  const root = findRepositoryRoot()
  t.equal(
    findRepositoryRoot(join(root, 'node_modules', 'esbuild', 'lib')),
    root,
    'past other packages',
  )
  const runtime = text.encode('runtime')
  const configuration = text.encode('configuration')
  const base = measureImage({ runtime, bundle, configuration })
  t.same(base.pcr1, measureBytes(runtime))
  t.same(base.pcr2, measureBytes(bundle))
  const changed = Uint8Array.from(bundle)
  changed[changed.length - 2] = (changed[changed.length - 2] ?? 0) ^ 1
  const other = measureImage({ runtime, bundle: changed, configuration })
  t.not(toHex(other.pcr0), toHex(base.pcr0), 'one bundle byte changes PCR0')
  t.not(toHex(other.pcr2), toHex(base.pcr2), 'and PCR2')
  t.equal(toHex(other.pcr1), toHex(base.pcr1), 'but not PCR1')
  const reconfigured = measureImage({ runtime, bundle, configuration: text.encode('other') })
  t.not(toHex(reconfigured.pcr0), toHex(base.pcr0), 'the configuration is part of PCR0')
  t.equal(toHex(reconfigured.pcr2), toHex(base.pcr2))
})

t.test('a booted enclave describes, attests and verifies with the measured PCRs', async (t) => {
  const directory = state()
  const enclave = await startSimulatedEnclave({
    stateDirectory: directory,
    sandbox,
    bundle,
    roleArn: 'arn:aws:iam::123456789012:role/parent',
  })
  t.teardown(() => enclave.stop())
  const image = await prepareImage({ stateDirectory: directory, sandbox, bundle })
  t.same(enclave.measurements, image.measurements, 'the same image measures the same')
  const description = await enclave.client.call('describe', {})
  t.equal(description.protocolVersion, 1)
  t.equal(description.sandbox, sandbox)
  t.equal(description.moduleId, enclave.moduleId)
  t.match(description.moduleId, /^i-0[0-9a-f]{16}-enc[0-9a-f]{16}$/)
  t.same(description.pcrs.get(0), image.measurements.pcr0)
  t.same(description.pcrs.get(1), image.measurements.pcr1)
  t.same(description.pcrs.get(2), image.measurements.pcr2)
  t.same(
    description.pcrs.get(3),
    extendPcr(ZERO_PCR, text.encode('arn:aws:iam::123456789012:role/parent')),
  )
  t.same(description.pcrs.get(4), extendPcr(ZERO_PCR, text.encode(image.instanceId)))

  const nonce = Uint8Array.of(9, 8, 7, 6)
  const { document } = await enclave.client.call('attest', { nonce })
  const roots = trustRootCertificates([enclave.pki.root.pem])
  const verified = verifyAttestation(document, { now: Date.now(), trustedRoots: roots })
  checkAttestationPolicy(
    verified,
    {
      pcrs: [new Map([[0, image.measurements.pcr0]])],
      nonce,
      publicKey: 'rsa-spki',
      maxAgeMs: 60_000,
    },
    Date.now(),
  )
  t.throws(() => verifyAttestation(document, { now: Date.now() }), {
    code: /^ERR_ATTESTATION_UNTRUSTED_ROOT$/,
  })

  const summary = await enclave.client.call('verifyAttestation', {
    document,
    policy: { pcrs: [new Map([[0, image.measurements.pcr0]])], allowDebug: false, nonce },
  })
  t.equal(summary.moduleId, enclave.moduleId)
  t.equal(summary.debug, false)
  await t.rejects(
    enclave.client.call('verifyAttestation', {
      document,
      policy: { pcrs: [new Map([[0, ZERO_PCR.map(() => 1)]])], allowDebug: false },
    }),
    { code: /^ERR_ATTESTATION_PCR_MISMATCH$/ },
  )
  t.ok((await enclave.client.call('ping', {})).now > 0)
})

t.test('hostile frames get a code or a closed connection, never a crashed parent', async (t) => {
  const enclave = await startSimulatedEnclave({ stateDirectory: state(), sandbox, bundle })
  const socket = enclave.process.stdio[3] as Socket
  const reader = createFrameReader()
  const replies: ReturnType<typeof decodeReply>[] = []
  socket.on('data', (chunk: Buffer) => {
    for (const frame of reader.push(new Uint8Array(chunk))) replies.push(decodeReply(frame))
  })
  socket.write(encodeFrame(encodeRequest({ id: 900_001, op: 'reboot', body: new Map() })))
  const badBody = new Map([['nonce', 'not bytes']])
  socket.write(encodeFrame(encodeRequest({ id: 900_002, op: 'attest', body: badBody })))
  while (replies.length < 2) await new Promise((resolve) => setTimeout(resolve, 10))
  t.same(replies, [
    { kind: 'response', id: 900_001, ok: false, code: 'ERR_PROTOCOL_UNKNOWN_OP' },
    { kind: 'response', id: 900_002, ok: false, code: 'ERR_PROTOCOL_BAD_REQUEST' },
  ])
  // A length prefix of 0xFFFFFFFF: the enclave refuses before allocating, closes, and exits.
  socket.write(Uint8Array.of(0xff, 0xff, 0xff, 0xff))
  await enclave.exited
  await t.rejects(enclave.client.call('ping', {}), { code: /^ERR_ENCLAVE_UNAVAILABLE$/ })
  await enclave.stop()
})

t.test('the host NSM of an image gives entropy and names itself after the instance', async (t) => {
  const image = await prepareImage({ stateDirectory: state(), sandbox, bundle })
  const { nsm, moduleId } = createHostNsm(image, {})
  t.match(moduleId, new RegExp(`^${image.instanceId}-enc[0-9a-f]{16}$`))
  const first = await nsm.handle({ type: 'GetRandom' })
  const second = await nsm.handle({ type: 'GetRandom' })
  t.equal(first.type === 'GetRandom' && first.random.byteLength, 256)
  t.not(JSON.stringify(first), JSON.stringify(second), 'fresh bytes each time')
})

t.test(
  'kill -9 under load: every pending call fails fast with ERR_ENCLAVE_UNAVAILABLE',
  async (t) => {
    const enclave = await startSimulatedEnclave({ stateDirectory: state(), sandbox, bundle })
    const calls = Array.from({ length: 300 }, () =>
      enclave.client.call('attest', { nonce: Uint8Array.of(1) }),
    )
    enclave.process.kill('SIGKILL')
    const outcomes = await Promise.allSettled(calls)
    const failures = outcomes.filter((outcome) => outcome.status === 'rejected')
    t.ok(failures.length > 0, 'some calls were still in flight')
    for (const failure of failures) {
      const reason: unknown = failure.reason
      t.ok(isCloisterError(reason) && reason.code === 'ERR_ENCLAVE_UNAVAILABLE')
    }
    await t.rejects(enclave.client.call('ping', {}), { code: /^ERR_ENCLAVE_UNAVAILABLE$/ })
    await enclave.stop()
  },
)

t.test('an enclave that never says ready, or dies first, is unavailable', async (t) => {
  const idle = text.encode('setInterval(() => {}, 1000)\n')
  await t.rejects(
    startSimulatedEnclave({ stateDirectory: state(), sandbox, bundle: idle, readyTimeoutMs: 300 }),
    { code: /^ERR_ENCLAVE_UNAVAILABLE$/ },
  )
  const crash = text.encode('process.exit(3)\n')
  await t.rejects(startSimulatedEnclave({ stateDirectory: state(), sandbox, bundle: crash }), {
    code: /^ERR_ENCLAVE_UNAVAILABLE$/,
  })
})

t.test('debug mode and the other sandbox modes boot too', async (t) => {
  const debug = await startSimulatedEnclave({
    stateDirectory: state(),
    sandbox,
    bundle,
    debug: true,
  })
  t.same((await debug.client.call('describe', {})).pcrs.get(0), ZERO_PCR)
  await debug.stop()
  for (const mode of ['unshare', 'none'] as const) {
    const enclave = await startSimulatedEnclave({ stateDirectory: state(), sandbox: mode, bundle })
    t.equal((await enclave.client.call('describe', {})).sandbox, mode)
    await enclave.stop()
  }
})

/** `npm run bench:keys`: boot-to-ready with the key ring restored through attested KMS, and key releases per second, beside their baselines. */

import { generateKeyPairSync, randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { encodeReleasePolicy } from '../../enclave/broker/release-policy.js'
import { startLocalStack } from '../../parent/local/start-local-stack.js'
import { buildEnclaveBundle } from '../../parent/sim/build-enclave-bundle.js'
import { hasBubblewrap } from '../../parent/sim/launch-enclave.js'
import { createSimulatedNsm } from '../../parent/sim/nsm/simulated-nsm.js'
import { openSimPki } from '../../parent/sim/sim-pki.js'
import { startSimulatedEnclave } from '../../parent/sim/start-simulated-enclave.js'
import { createCertificateCache } from '../../shared/attestation/certificate-cache.js'
import { trustRootCertificates } from '../../shared/attestation/trusted-roots.js'
import { verifyAttestation } from '../../shared/attestation/verify-attestation.js'

const RUNS = 5
const RELEASES = 2000
const IN_FLIGHT = 16
const sandbox = hasBubblewrap() ? 'bubblewrap' : 'unshare'
const directory = mkdtempSync(join(tmpdir(), 'cloister-bench-keys-'))
const bundle = await buildEnclaveBundle()
const seconds = (start: bigint) => Number(process.hrtime.bigint() - start) / 1e9
const median = (values: number[]) =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0

// Baseline: the same enclave booted to its `ready` event with no key ring.
const bare: number[] = []
for (let run = 0; run < RUNS; run += 1) {
  const start = process.hrtime.bigint()
  const enclave = await startSimulatedEnclave({ stateDirectory: directory, sandbox, bundle })
  bare.push(seconds(start))
  await enclave.stop()
}

// First start creates the key and the ring (4 attested GenerateDataKey); later ones restore it.
const first = await startLocalStack({ stateDirectory: directory, sandbox, bundle })
await first.supervisor.whenReady()
await first.stop()
const restored: number[] = []
for (let run = 0; run < RUNS; run += 1) {
  const start = process.hrtime.bigint()
  const stack = await startLocalStack({ stateDirectory: directory, sandbox, bundle })
  await stack.supervisor.whenReady()
  restored.push(seconds(start))
  if (run < RUNS - 1) await stack.stop()
  else await releases(stack)
}

/** Releases/s of one broker key to RSA requesters, `IN_FLIGHT` at a time, beside the verify rate. */
async function releases(stack: Awaited<ReturnType<typeof startLocalStack>>) {
  const pcr0 = new Uint8Array(48).fill(0x42)
  const policy = encodeReleasePolicy({
    pcrs: [new Map([[0, pcr0]])],
    maxAgeMs: 300_000,
    requireNonce: true,
  })
  const { keyId } = await stack.supervisor.call('keys.create', { policy })
  const pki = await openSimPki(join(directory, 'sim'), Date.now())
  const nsm = createSimulatedNsm({
    pki,
    clock: () => Date.now(),
    random: (length) => new Uint8Array(randomBytes(length)),
    moduleId: 'i-0requester-enc0000000000000001',
    measurements: new Map([[0, pcr0]]),
    roleArn: undefined,
    instanceId: 'i-0requester',
    debug: false,
  })
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 })
  const publicKey = new Uint8Array(rsa.publicKey.export({ format: 'der', type: 'spki' }))
  // Requests prepared first (a challenge and a document each) so only releases are timed.
  const requests: { keyId: string; document: Uint8Array; nonce: Uint8Array }[] = []
  for (let index = 0; index < RELEASES; index += 1) {
    const { nonce } = await stack.supervisor.call('keys.challenge', {})
    const answer = await nsm.handle({ type: 'Attestation', userData: null, nonce, publicKey })
    if (answer.type !== 'Attestation') throw new Error('the simulated NSM gave no document')
    requests.push({ keyId, document: answer.document, nonce })
  }
  const trustedRoots = trustRootCertificates([pki.root.pem])
  const cache = createCertificateCache()
  const document = requests[0]?.document ?? new Uint8Array()
  let start = process.hrtime.bigint()
  for (let index = 0; index < RELEASES; index += 1) {
    verifyAttestation(document, { now: Date.now(), trustedRoots, cache })
  }
  const verifyRate = RELEASES / seconds(start)
  start = process.hrtime.bigint()
  let next = 0
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async () => {
      while (next < requests.length) {
        const request = requests[next] as { keyId: string; document: Uint8Array; nonce: Uint8Array }
        next += 1
        await stack.supervisor.call('keys.release', request)
      }
    }),
  )
  const releaseRate = RELEASES / seconds(start)
  await stack.stop()
  const ms = (value: number) => `${(value * 1000).toFixed(0).padStart(6)} ms`
  console.log(
    `bench:keys: node ${process.version}, sandbox ${sandbox}, median of ${String(RUNS)} boots; ${String(RELEASES)} releases, ${String(IN_FLIGHT)} in flight`,
  )
  console.log(`baseline: enclave boot to ready, no key ring          ${ms(median(bare))}`)
  console.log(
    `boot to ready with 4 keys restored (attested Decrypt)  ${ms(median(restored))}   target <= 2000 ms`,
  )
  console.log(
    `ceiling: verifyAttestation, chain cached (in-process) ${verifyRate.toFixed(0).padStart(6)} /s`,
  )
  console.log(
    `keys.release (verify + policy + RSA-OAEP CMS, via the protocol) ${releaseRate.toFixed(0).padStart(6)} /s   ${((100 * releaseRate) / verifyRate).toFixed(0)}% of the ceiling; target >= 100/s`,
  )
}
rmSync(directory, { recursive: true, force: true })

/** `npm run bench:kms`: Encrypt, Decrypt and attested Decrypt through the AWS SDK, beside the verify rate. */

import { generateKeyPairSync, randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { Agent } from 'node:https'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { CreateKeyCommand, DecryptCommand, EncryptCommand, KMSClient } from '@aws-sdk/client-kms'
import { NodeHttpHandler } from '@smithy/node-http-handler'
import { openLocalKms } from '../../parent/kms/open-local-kms.js'
import { createSimulatedNsm } from '../../parent/sim/nsm/simulated-nsm.js'
import { openSimPki } from '../../parent/sim/sim-pki.js'
import { createCertificateCache } from '../../shared/attestation/certificate-cache.js'
import { measureBytes } from '../../shared/attestation/pcr.js'
import { trustRootCertificates } from '../../shared/attestation/trusted-roots.js'
import { verifyAttestation } from '../../shared/attestation/verify-attestation.js'

const SECONDS = 3
const IN_FLIGHT = 16

const directory = mkdtempSync(join(tmpdir(), 'cloister-bench-kms-'))
const { server, state, close } = await openLocalKms(directory, () => Date.now())
const pki = await openSimPki(join(directory, 'sim'), Date.now())
const trustedRoots = trustRootCertificates([pki.root.pem])
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
const { port } = server.address() as AddressInfo
const client = new KMSClient({
  region: 'us-east-1',
  endpoint: `https://localhost:${String(port)}`,
  credentials: { accessKeyId: state.accessKeyId, secretAccessKey: state.secretAccessKey },
  requestHandler: new NodeHttpHandler({
    httpsAgent: new Agent({ ca: state.caPem, keepAlive: true, maxSockets: IN_FLIGHT }),
  }),
})

/** Calls per second of `run` with `IN_FLIGHT` concurrent callers for `SECONDS`. */
async function rate(run: () => Promise<unknown>): Promise<number> {
  let count = 0
  const deadline = Date.now() + SECONDS * 1000
  const start = process.hrtime.bigint()
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async () => {
      while (Date.now() < deadline) {
        await run()
        count += 1
      }
    }),
  )
  return count / (Number(process.hrtime.bigint() - start) / 1e9)
}

const keyId = (await client.send(new CreateKeyCommand({}))).KeyMetadata?.KeyId
const plaintext = new Uint8Array(32).fill(7)
const { CiphertextBlob } = await client.send(
  new EncryptCommand({ KeyId: keyId, Plaintext: plaintext }),
)
const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 })
const nsm = createSimulatedNsm({
  pki,
  clock: () => Date.now(),
  random: (length) => new Uint8Array(randomBytes(length)),
  moduleId: 'i-0123456789abcdef0-enc0123456789abcdef',
  measurements: new Map([[0, measureBytes(new Uint8Array(1))]]),
  roleArn: undefined,
  instanceId: 'i-0123456789abcdef0',
  debug: false,
})
const answer = await nsm.handle({
  type: 'Attestation',
  userData: null,
  nonce: null,
  publicKey: new Uint8Array(rsa.publicKey.export({ format: 'der', type: 'spki' })),
})
if (answer.type !== 'Attestation') throw new Error('the simulated NSM gave no document')
const recipient = {
  AttestationDocument: answer.document,
  KeyEncryptionAlgorithm: 'RSAES_OAEP_SHA_256' as const,
}

const cache = createCertificateCache()
const verifyRate = await rate(() => {
  verifyAttestation(answer.document, { now: Date.now(), trustedRoots, cache })
  return Promise.resolve()
})
const encrypt = await rate(() =>
  client.send(new EncryptCommand({ KeyId: keyId, Plaintext: plaintext })),
)
const decrypt = await rate(() => client.send(new DecryptCommand({ CiphertextBlob })))
const attested = await rate(() =>
  client.send(new DecryptCommand({ CiphertextBlob, Recipient: recipient })),
)

const row = (label: string, value: number, note = '') =>
  `${label.padEnd(52)} ${value.toFixed(0).padStart(7)} /s  ${note}`
console.log(
  `bench:kms: node ${process.version}, @aws-sdk/client-kms over HTTPS + SigV4, ${String(IN_FLIGHT)} in flight, ${String(SECONDS)} s each`,
)
console.log(row('baseline: verifyAttestation, chain cached (in-process)', verifyRate))
console.log(row('Encrypt', encrypt))
console.log(row('Decrypt', decrypt))
console.log(
  row(
    'Decrypt with Recipient (verify + RSA-OAEP + CMS)',
    attested,
    `${((100 * attested) / verifyRate).toFixed(0)}% of the verify rate`,
  ),
)
client.destroy()
await new Promise((resolve) => server.close(resolve))
close()
rmSync(directory, { recursive: true, force: true })

/** `npm run bench:attest`: cold and warm document verification against this machine's P-384 verify rate. */

import { existsSync, readFileSync } from 'node:fs'
import { createPublicKey, verify } from 'node:crypto'
import { dirname, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseAttestationPayload } from '../../shared/attestation/attestation-document.js'
import { createCertificateCache } from '../../shared/attestation/certificate-cache.js'
import { readCertificateFacts } from '../../shared/attestation/certificate-facts.js'
import { sha256Hex } from '../../shared/attestation/trusted-roots.js'
import { verifyAttestation } from '../../shared/attestation/verify-attestation.js'
import { decodeSign1 } from '../../shared/cose/decode-sign1.js'
import { buildSigStructure } from '../../shared/cose/sig-structure.js'

const ROUNDS = 7
const ROUND_MS = 700

/** Operations per second of `run`, over about `ms` milliseconds. */
function rate(run: () => void, ms: number): number {
  let count = 0
  const start = process.hrtime.bigint()
  const deadline = start + BigInt(ms) * 1_000_000n
  let now = start
  while (now < deadline) {
    for (let index = 0; index < 20; index += 1) run()
    count += 20
    now = process.hrtime.bigint()
  }
  return count / (Number(now - start) / 1e9)
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)] ?? 0
}

const here = dirname(fileURLToPath(import.meta.url))
// From dist/scripts/bench/ or scripts/bench/: the team's vectors sit beside the repository.
const candidates = [
  resolve(here, '../../../../shared/vectors'),
  resolve(here, '../../../shared/vectors'),
]
const vectors = candidates.find((dir) => existsSync(`${dir}/nitro/manifest.json`))
if (vectors === undefined) {
  console.error('bench:attest needs ../shared/vectors beside the repository')
  process.exit(2)
}
const FILE = 'anjuna-2.cose'
const bytes = new Uint8Array(readFileSync(`${vectors}/nitro/${FILE}`))
const sign1 = decodeSign1(bytes)
const document = parseAttestationPayload(sign1.payload)
const now = document.timestamp
const leafKey = readCertificateFacts(
  document.certificate,
  sha256Hex(document.certificate),
).publicKey
const toBeSigned = buildSigStructure(sign1.protectedBytes, sign1.payload)
const warmCache = createCertificateCache()
verifyAttestation(bytes, { now, cache: warmCache })

const leafSpki = leafKey.export({ format: 'der', type: 'spki' })

const runs = {
  baseline: () => {
    if (
      !verify('sha384', toBeSigned, { key: leafKey, dsaEncoding: 'ieee-p1363' }, sign1.signature)
    ) {
      throw new Error('baseline verification failed')
    }
  },
  cold: () => verifyAttestation(bytes, { now }),
  warm: () => verifyAttestation(bytes, { now, cache: warmCache }),
  // What OpenSSL charges to decode one P-384 public key: a cold document needs four of them.
  keyDecode: () => createPublicKey({ key: leafSpki, format: 'der', type: 'spki' }),
}
const samples: Record<keyof typeof runs, number[]> = {
  baseline: [],
  cold: [],
  warm: [],
  keyDecode: [],
}
for (const run of Object.values(runs)) rate(run, 200) // warm up the JIT and OpenSSL
// Interleaved rounds: a noisy neighbour slows all three alike, so the ratios hold.
for (let round = 0; round < ROUNDS; round += 1) {
  for (const [name, run] of Object.entries(runs) as [keyof typeof runs, () => void][]) {
    samples[name].push(rate(run, ROUND_MS))
  }
}
const baseline = median(samples.baseline)
const cold = median(samples.cold)
const warm = median(samples.warm)
const keyDecode = median(samples.keyDecode)
// No cold verification can beat five signature checks plus four key decodes (the root is pinned).
const ceiling = 1 / (5 / baseline + 4 / keyDecode)
const percent = (value: number) => `${((100 * value) / baseline).toFixed(1).padStart(5)}%`
const line = (label: string, value: number, verdict: string) =>
  `${label.padEnd(50)} ${value.toFixed(0).padStart(7)} /s  ${percent(value)} of baseline  ${verdict}`
console.log(
  `bench:attest: ${FILE} (${String(bytes.byteLength)} bytes, 5-certificate chain) at its own instant`,
)
console.log(
  `node ${process.version}, ${String(ROUNDS)} interleaved rounds of ${String(ROUND_MS)} ms, medians`,
)
console.log(line('baseline: one P-384 crypto.verify (ES384)', baseline, ''))
console.log(line('warm: verifyAttestation, chain cached', warm, verdict(warm, 0.8)))
console.log(line('cold: verifyAttestation, no cache', cold, verdict(cold, 0.18)))
console.log(line('  P-384 public key decode (createPublicKey)', keyDecode, ''))
console.log(line('  cold ceiling: 5 verifies + 4 key decodes', ceiling, ''))

function verdict(value: number, target: number): string {
  const met = value >= target * baseline
  return `target >= ${String(100 * target)}%: ${met ? 'met' : 'MISSED'}`
}

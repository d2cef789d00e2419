/** 10,000 mutants of real documents: none accepted, none throwing outside the catalog, cache-neutral. */

import t from 'tap'
import { equalBytes } from '../../../shared/bytes/bytes.js'
import { isCloisterError } from '../../../shared/errors/cloister-error.js'
import { createCertificateCache } from '../../../shared/attestation/certificate-cache.js'
import { verifyAttestation } from '../../../shared/attestation/verify-attestation.js'
import { mulberry32 } from '../../helpers/seeded-random.js'
import { nitroManifest, vectorBytes } from '../../helpers/shared-vectors.js'

const MUTANTS = 10_000

/** Draws integers below `limit` (as floats to floor) from a seeded generator. */
function createRandom(seed: number): (limit: number) => number {
  const next = mulberry32(seed)
  return (limit) => next() * limit
}

const originals = nitroManifest()
  .filter((entry) => entry.expect === 'accept')
  .map((entry) => ({ file: entry.file, at: entry.at, bytes: vectorBytes(`nitro/${entry.file}`) }))

type Mutation = 'bit-flip' | 'byte-set' | 'truncate' | 'splice' | 'insert' | 'delete'
const MUTATIONS: readonly Mutation[] = [
  'bit-flip',
  'byte-set',
  'truncate',
  'splice',
  'insert',
  'delete',
]

function mutate(bytes: Uint8Array, kind: Mutation, random: (limit: number) => number): Uint8Array {
  const at = Math.floor(random(bytes.byteLength))
  const out = Uint8Array.from(bytes)
  switch (kind) {
    case 'bit-flip': {
      const flips = 1 + Math.floor(random(3))
      for (let index = 0; index < flips; index += 1) {
        const position = index === 0 ? at : Math.floor(random(bytes.byteLength))
        out[position] = (out[position] ?? 0) ^ (1 << Math.floor(random(8)))
      }
      return out
    }
    case 'byte-set':
      out[at] = Math.floor(random(256))
      return out
    case 'truncate':
      return bytes.slice(0, at)
    case 'splice': {
      // Bytes of another real document pasted over this one.
      const donor = originals[Math.floor(random(originals.length))]?.bytes ?? bytes
      const length = 1 + Math.floor(random(64))
      const from = Math.floor(random(Math.max(1, donor.byteLength - length)))
      out.set(donor.subarray(from, from + length).subarray(0, out.byteLength - at), at)
      return out
    }
    case 'insert': {
      const inserted = Uint8Array.from({ length: 1 + Math.floor(random(8)) }, () =>
        Math.floor(random(256)),
      )
      return Uint8Array.from([...bytes.subarray(0, at), ...inserted, ...bytes.subarray(at)])
    }
    case 'delete':
      return Uint8Array.from([
        ...bytes.subarray(0, at),
        ...bytes.subarray(at + 1 + Math.floor(random(8))),
      ])
  }
}

/** 'accepted', a catalog code, or 'THREW <name>' for anything outside the catalog. */
function outcome(bytes: Uint8Array, at: number, cache?: ReturnType<typeof createCertificateCache>) {
  try {
    verifyAttestation(bytes, cache === undefined ? { now: at } : { now: at, cache })
    return 'accepted'
  } catch (error) {
    return isCloisterError(error) ? error.code : `THREW ${String(error)}`
  }
}

t.test(`${MUTANTS} mutants of ${originals.length} real documents`, (t) => {
  const random = createRandom(0xc10157e5)
  const warm = createCertificateCache()
  for (const original of originals) t.equal(outcome(original.bytes, original.at, warm), 'accepted')

  const codes = new Map<string, number>()
  const kinds = new Map<Mutation, number>()
  const failures: string[] = []
  let tested = 0
  while (tested < MUTANTS) {
    const original = originals[tested % originals.length]
    if (original === undefined) break
    const kind = MUTATIONS[Math.floor(random(MUTATIONS.length))] ?? 'bit-flip'
    const mutant = mutate(original.bytes, kind, random)
    // A mutation that changed nothing (same byte written back) is not a mutant.
    if (originals.some((item) => equalBytes(item.bytes, mutant))) continue
    tested += 1
    kinds.set(kind, (kinds.get(kind) ?? 0) + 1)
    const cold = outcome(mutant, original.at)
    const cached = outcome(mutant, original.at, warm)
    codes.set(cold, (codes.get(cold) ?? 0) + 1)
    if (cold === 'accepted' || cold.startsWith('THREW') || cold !== cached) {
      failures.push(`${original.file} ${kind}: cold ${cold}, cached ${cached}`)
    }
  }
  t.equal(tested, MUTANTS)
  t.same(failures, [], 'no mutant accepted, none threw outside the catalog, cache never differs')
  t.equal(codes.get('accepted') ?? 0, 0)
  t.comment(`mutations: ${JSON.stringify(Object.fromEntries(kinds))}`)
  t.comment(`outcomes: ${JSON.stringify(Object.fromEntries([...codes].sort()))}`)
  t.end()
})

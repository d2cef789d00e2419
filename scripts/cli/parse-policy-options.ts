/** Parses the policy and clock options shared by the attestation commands. */

import { fromHex } from '../../shared/bytes/bytes.js'
import type { AttestationPolicy, PcrSet } from '../../shared/attestation/attestation-policy.js'
import { MAX_PCR_INDEX, PCR_BYTES } from '../../shared/attestation/attestation-document.js'
import { UsageError } from './usage-error.js'

/** `--at`: the document's own timestamp, or a fixed instant. */
export type VerificationInstant = 'document' | 'now' | number

const PCR_OPTION = /^(\d{1,2})=([0-9a-fA-F]+)$/
const DIGITS = /^\d+$/

/** Parses `--at document|<ms>|<ISO-8601>`; absent means the system clock. */
export function parseInstant(value: string | undefined): VerificationInstant {
  if (value === undefined) return 'now'
  if (value === 'document') return 'document'
  const instant = DIGITS.test(value) ? Number(value) : Date.parse(value)
  if (!Number.isSafeInteger(instant) || instant < 0) {
    throw new UsageError(
      `--at takes "document", milliseconds or an ISO-8601 instant, not "${value}"`,
    )
  }
  return instant
}

/** Parses repeated `--pcr N=HEX` into one set (every listed PCR must match). */
export function parsePcrSet(values: readonly string[]): PcrSet | undefined {
  if (values.length === 0) return undefined
  const set = new Map<number, Uint8Array>()
  for (const value of values) {
    const match = PCR_OPTION.exec(value)
    const index = Number(match?.[1])
    const bytes = fromHex(match?.[2] ?? '')
    if (!(index <= MAX_PCR_INDEX) || bytes?.byteLength !== PCR_BYTES) {
      throw new UsageError(`--pcr takes N=HEX with N in 0..31 and 96 hex digits, not "${value}"`)
    }
    if (set.has(index)) throw new UsageError(`--pcr ${String(index)} is given twice`)
    set.set(index, bytes)
  }
  return set
}

/** Parses `--max-age SECONDS` into milliseconds. */
export function parseMaxAge(value: string | undefined): number | undefined {
  if (value === undefined) return undefined
  const seconds = Number(value)
  if (value.trim() === '' || !Number.isFinite(seconds) || seconds < 0) {
    throw new UsageError(`--max-age takes a number of seconds, not "${value}"`)
  }
  return Math.round(seconds * 1000)
}

/** Parses `--nonce HEX`. */
export function parseNonce(value: string | undefined): Uint8Array | undefined {
  if (value === undefined) return undefined
  const nonce = fromHex(value)
  if (nonce === undefined) throw new UsageError('--nonce takes an even number of hex digits')
  return nonce
}

export interface PolicyOptions {
  readonly pcr: readonly string[]
  readonly allowDebug: boolean
  readonly maxAge: string | undefined
  readonly nonce: string | undefined
}

/** The policy the options describe; without `--pcr`, any measurement is accepted. */
export function buildPolicy(options: PolicyOptions): AttestationPolicy {
  const pcrs = parsePcrSet(options.pcr)
  const maxAgeMs = parseMaxAge(options.maxAge)
  const nonce = parseNonce(options.nonce)
  return {
    pcrs: pcrs === undefined ? 'any' : [pcrs],
    allowDebug: options.allowDebug,
    ...(maxAgeMs === undefined ? {} : { maxAgeMs }),
    ...(nonce === undefined ? {} : { nonce }),
  }
}

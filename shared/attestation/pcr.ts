/** PCR arithmetic: extending a register and measuring bytes, as the NSM and nitro-cli do. */

import { createHash } from 'node:crypto'
import { asBytes } from '../bytes/bytes.js'
import { PCR_BYTES } from './attestation-document.js'

/** A register's value before anything is extended into it: 48 zero bytes. */
export const ZERO_PCR: Uint8Array = new Uint8Array(PCR_BYTES)

/** The NSM's ExtendPCR: `SHA384(previous ‖ data)`. */
export function extendPcr(previous: Uint8Array, data: Uint8Array): Uint8Array {
  return asBytes(createHash('sha384').update(previous).update(data).digest())
}

/**
 * nitro-cli's measurement of an image part: `SHA384(48 zero bytes ‖ SHA384(bytes))`, the value
 * PCR0, PCR1 and PCR2 take when that part is extended once into a fresh register.
 */
export function measureBytes(bytes: Uint8Array): Uint8Array {
  return extendPcr(ZERO_PCR, asBytes(createHash('sha384').update(bytes).digest()))
}

/** The Nitro attestation document payload: its type and its strict schema check. */

import { decodeStrict } from '../cbor/decode-strict.js'
import { isCborArray, isCborBytes, isCborMap, type CborValue } from '../cbor/cbor-value.js'
import { isAllZero } from '../bytes/bytes.js'
import { CloisterError } from '../errors/cloister-error.js'
import { MAX_INSTANT_MS } from './instant.js'

/**
 * An attestation document payload (aws-nitro-enclaves-nsm-api `attestation_process.md` §3.2.2).
 * Optional fields are `null` when absent or CBOR null, and an empty array when present but empty.
 */
export interface AttestationDocument {
  readonly moduleId: string
  readonly digest: 'SHA384'
  /** Milliseconds since the Unix epoch, as the NSM signed it. */
  readonly timestamp: number
  /** PCR index (0–31) to its 48-byte SHA-384 value. */
  readonly pcrs: ReadonlyMap<number, Uint8Array>
  /** The signing (leaf) certificate, DER. */
  readonly certificate: Uint8Array
  /** The issuing chain, root first (`cabundle[0]`), DER. */
  readonly cabundle: readonly Uint8Array[]
  readonly publicKey: Uint8Array | null
  readonly userData: Uint8Array | null
  readonly nonce: Uint8Array | null
}

export const PCR_BYTES = 48 // SHA-384 digest size
export const MAX_PCR_INDEX = 31 // attestation_process.md §3.2.2: index 0..31
/** Our parse limit for public_key, user_data and nonce: real documents reach 746 bytes (SOURCES.md). */
export const MAX_OPTIONAL_FIELD_BYTES = 1024
/** attestation_process.md §3.2.2: certificate and cabundle entries are 1..1024 bytes. */
export const MAX_CERTIFICATE_BYTES = 1024
/** Real bundles hold 4 certificates; each one costs a parse before any signature is checked. */
export const MAX_CABUNDLE_CERTIFICATES = 8
const MAX_MODULE_ID_LENGTH = 255 // attestation_process.md: module_id is 1..255 characters
const MAX_PAYLOAD_DEPTH = 3 // map → pcrs map / cabundle array → value

const KNOWN_KEYS = new Set([
  'module_id',
  'digest',
  'timestamp',
  'pcrs',
  'certificate',
  'cabundle',
  'public_key',
  'user_data',
  'nonce',
])

function malformed(): never {
  throw new CloisterError('ERR_ATTESTATION_MALFORMED')
}

/**
 * Decodes and checks the COSE payload of an attestation document. Decoding is strict CBOR; the map
 * may be definite or indefinite (the NSM writes an indefinite map since 2026). Unknown keys are
 * refused: a key the NSM never writes is a sign of a forged or foreign document.
 *
 * @throws {CloisterError} `ERR_CBOR_*` for undecodable bytes, `ERR_ATTESTATION_MALFORMED` for a
 *   schema violation.
 */
export function parseAttestationPayload(payload: Uint8Array): AttestationDocument {
  const map = decodeStrict(payload, { maxBytes: payload.byteLength, maxDepth: MAX_PAYLOAD_DEPTH })
  if (!isCborMap(map)) malformed()
  for (const key of map.keys()) if (typeof key !== 'string' || !KNOWN_KEYS.has(key)) malformed()

  const moduleId = map.get('module_id')
  if (typeof moduleId !== 'string' || moduleId.length === 0) malformed()
  if (moduleId.length > MAX_MODULE_ID_LENGTH) malformed()
  if (map.get('digest') !== 'SHA384') malformed() // §3.2.2: the only digest Nitro uses
  const timestamp = map.get('timestamp')
  // Our decoder yields a number up to 2^53 - 1 and a bigint beyond; a Date ends at 8.64e15 ms.
  if (typeof timestamp !== 'number' || timestamp <= 0 || timestamp > MAX_INSTANT_MS) malformed()

  return {
    moduleId,
    digest: 'SHA384',
    timestamp,
    pcrs: readPcrs(map.get('pcrs')),
    certificate: readCertificate(map.get('certificate')),
    cabundle: readCabundle(map.get('cabundle')),
    publicKey: readOptional(map.get('public_key')),
    userData: readOptional(map.get('user_data')),
    nonce: readOptional(map.get('nonce')),
  }
}

function readPcrs(value: CborValue | undefined): ReadonlyMap<number, Uint8Array> {
  if (value === undefined || !isCborMap(value) || value.size === 0) malformed()
  const pcrs = new Map<number, Uint8Array>()
  for (const [index, pcr] of value) {
    if (typeof index !== 'number' || index < 0 || index > MAX_PCR_INDEX) malformed()
    if (!isCborBytes(pcr) || pcr.byteLength !== PCR_BYTES) malformed()
    pcrs.set(index, pcr)
  }
  return pcrs
}

function readCertificate(value: CborValue | undefined): Uint8Array {
  if (!isCborBytes(value) || value.byteLength === 0) malformed()
  if (value.byteLength > MAX_CERTIFICATE_BYTES) malformed()
  return value
}

function readCabundle(value: CborValue | undefined): Uint8Array[] {
  if (!isCborArray(value) || value.length === 0 || value.length > MAX_CABUNDLE_CERTIFICATES) {
    malformed()
  }
  return value.map(readCertificate)
}

function readOptional(value: CborValue | undefined): Uint8Array | null {
  if (value === undefined || value === null) return null
  if (!isCborBytes(value) || value.byteLength > MAX_OPTIONAL_FIELD_BYTES) malformed()
  return value
}

/**
 * Whether the document comes from an enclave started in debug mode: the NSM then reports PCR0, PCR1
 * and PCR2 as zeros (nitro-cli `--debug-mode`). A missing PCR among them counts as zero, so a
 * document cannot escape this check by leaving them out.
 */
export function isDebugDocument(document: AttestationDocument): boolean {
  for (const index of [0, 1, 2]) {
    const pcr = document.pcrs.get(index)
    if (pcr !== undefined && !isAllZero(pcr)) return false
  }
  return true
}

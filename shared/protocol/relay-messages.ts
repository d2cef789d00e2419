/** The messages of the relay channel: TCP streams the parent carries for the enclave, as strict CBOR. */

import { decodeStrict } from '../cbor/decode-strict.js'
import { isCborMap } from '../cbor/cbor-value.js'
import { encodeCbor } from '../cbor/encode.js'
import { ERROR_CATALOG, type ErrorCode } from '../errors/catalog.js'
import { CloisterError } from '../errors/cloister-error.js'
import {
  bytesField,
  choiceField,
  portField,
  readBody,
  textField,
  toCbor,
  type BodySpec,
  type FieldReader,
} from './body-fields.js'

/**
 * One relay message. The enclave opens streams (it picks the ids) and the parent answers; data,
 * end (half-close, like a TCP FIN) and close (abort, with a catalog code when the parent refused
 * or lost the connection) flow both ways. The parent only ever sees the bytes the enclave's TLS
 * writes: it relays, it never terminates anything (DESIGN.md §1).
 */
export type RelayMessage =
  /** enclave → parent: connect `stream` to `host:port`, if the allow-list has it. */
  | { readonly type: 'open'; readonly stream: number; readonly host: string; readonly port: number }
  /** parent → enclave: the TCP connection for `stream` is up. */
  | { readonly type: 'opened'; readonly stream: number }
  | { readonly type: 'data'; readonly stream: number; readonly bytes: Uint8Array }
  | { readonly type: 'end'; readonly stream: number }
  | { readonly type: 'close'; readonly stream: number; readonly code?: ErrorCode }

/** Bytes in one `data` message: TLS records are at most 16 KiB + 2 KiB, so 64 KiB is ample. */
export const MAX_RELAY_CHUNK_BYTES = 64 * 1024
/** The largest relay frame: a full data chunk and its envelope. */
export const MAX_RELAY_FRAME_BYTES = MAX_RELAY_CHUNK_BYTES + 256
/** DNS names are at most 253 characters (RFC 1035 §2.3.4). */
const MAX_HOST_LENGTH = 253
const MAX_STREAM_ID = 0xffff_ffff

const streamField: FieldReader<number> = (value) =>
  typeof value === 'number' && Number.isInteger(value) && value >= 1 && value <= MAX_STREAM_ID
    ? value
    : undefined
const codeField: FieldReader<ErrorCode> = (value) =>
  typeof value === 'string' && Object.hasOwn(ERROR_CATALOG, value)
    ? (value as ErrorCode)
    : undefined

const SPECS: Readonly<Record<RelayMessage['type'], BodySpec>> = {
  open: {
    required: {
      type: choiceField(['open']),
      stream: streamField,
      host: textField(MAX_HOST_LENGTH),
      port: portField,
    },
  },
  opened: { required: { type: choiceField(['opened']), stream: streamField } },
  data: {
    required: {
      type: choiceField(['data']),
      stream: streamField,
      bytes: bytesField(MAX_RELAY_CHUNK_BYTES),
    },
  },
  end: { required: { type: choiceField(['end']), stream: streamField } },
  close: {
    required: { type: choiceField(['close']), stream: streamField },
    optional: { code: codeField },
  },
}

/** The bytes of one relay message. */
export function encodeRelayMessage(message: RelayMessage): Uint8Array {
  return encodeCbor(toCbor(message))
}

/**
 * Reads one relay message: strict CBOR, a known `type`, exactly its fields, stream ids 1 to
 * 2^32 - 1, ports 1 to 65535, data of at most {@link MAX_RELAY_CHUNK_BYTES}.
 *
 * @throws {CloisterError} `ERR_CBOR_*` or `ERR_FRAME_MALFORMED`.
 */
export function decodeRelayMessage(bytes: Uint8Array): RelayMessage {
  const value = decodeStrict(bytes, { maxBytes: MAX_RELAY_FRAME_BYTES, maxDepth: 2 })
  const type = isCborMap(value) ? value.get('type') : undefined
  if (!isCborMap(value) || typeof type !== 'string' || !Object.hasOwn(SPECS, type)) {
    throw new CloisterError('ERR_FRAME_MALFORMED')
  }
  const spec = SPECS[type as RelayMessage['type']]
  return readBody(value, spec, 'ERR_FRAME_MALFORMED') as unknown as RelayMessage
}

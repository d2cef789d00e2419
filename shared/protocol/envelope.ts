/** The messages inside parent ↔ enclave frames: requests, responses and events, as strict CBOR maps. */

import { decodeStrict } from '../cbor/decode-strict.js'
import { isCborMap, type CborMap, type CborValue } from '../cbor/cbor-value.js'
import { encodeCbor } from '../cbor/encode.js'
import { ERROR_CATALOG, type ErrorCode } from '../errors/catalog.js'
import { CloisterError } from '../errors/cloister-error.js'
import { MAX_FRAME_BYTES } from './frame.js'

/** `{"id", "op", "body"}`: one call; `id` is unique among the sender's calls in flight. */
export interface RequestEnvelope {
  readonly id: number
  readonly op: string
  readonly body: CborMap
}

/** `{"id", "ok": true, "body"}` or `{"id", "ok": false, "code"}`: exactly one per request. */
export type ResponseEnvelope =
  | { readonly kind: 'response'; readonly id: number; readonly ok: true; readonly body: CborMap }
  | { readonly kind: 'response'; readonly id: number; readonly ok: false; readonly code: ErrorCode }

/** `{"event", "body"}`: something the enclave reports unasked, such as being ready. */
export interface EventEnvelope {
  readonly kind: 'event'
  readonly event: string
  readonly body: CborMap
}

const MAX_DEPTH = 8 // envelope → body → policy → PCR sets → PCR map → value
const MAX_ID = Number.MAX_SAFE_INTEGER

function malformed(): never {
  throw new CloisterError('ERR_FRAME_MALFORMED')
}

function decodeMessage(bytes: Uint8Array, keys: readonly string[]): CborMap {
  const message = decodeStrict(bytes, { maxBytes: MAX_FRAME_BYTES, maxDepth: MAX_DEPTH })
  if (!isCborMap(message) || message.size !== keys.length) malformed()
  for (const key of keys) if (!message.has(key)) malformed()
  return message
}

function readId(message: CborMap): number {
  const id = message.get('id')
  if (typeof id !== 'number' || !Number.isInteger(id) || id < 1 || id > MAX_ID) malformed()
  return id
}

function readBody(message: CborMap): CborMap {
  const body = message.get('body')
  if (body === undefined || !isCborMap(body)) malformed()
  return body
}

/** The bytes of a request. */
export function encodeRequest(request: RequestEnvelope): Uint8Array {
  return encodeCbor(
    new Map<string, CborValue>([
      ['id', request.id],
      ['op', request.op],
      ['body', request.body],
    ]),
  )
}

/**
 * Decodes a request from the parent: strict CBOR, exactly the keys `id` (1 to 2^53 - 1), `op`
 * (text) and `body` (a map). Whether `op` exists and the body fits it is the Ops codec's call.
 *
 * @throws {CloisterError} `ERR_CBOR_*` or `ERR_FRAME_MALFORMED`.
 */
export function decodeRequest(bytes: Uint8Array): RequestEnvelope {
  const message = decodeMessage(bytes, ['id', 'op', 'body'])
  const op = message.get('op')
  if (typeof op !== 'string') malformed()
  return { id: readId(message), op, body: readBody(message) }
}

/** The bytes of a response or an event. */
export function encodeReply(reply: ResponseEnvelope | EventEnvelope): Uint8Array {
  if (reply.kind === 'event') {
    return encodeCbor(
      new Map<string, CborValue>([
        ['event', reply.event],
        ['body', reply.body],
      ]),
    )
  }
  const entries: [string, CborValue][] = [
    ['id', reply.id],
    ['ok', reply.ok],
  ]
  entries.push(reply.ok ? ['body', reply.body] : ['code', reply.code])
  return encodeCbor(new Map(entries))
}

/**
 * Decodes what the enclave sends: a response (a catalog `code` when it failed) or an event.
 *
 * @throws {CloisterError} `ERR_CBOR_*` or `ERR_FRAME_MALFORMED`.
 */
export function decodeReply(bytes: Uint8Array): ResponseEnvelope | EventEnvelope {
  const probe = decodeStrict(bytes, { maxBytes: MAX_FRAME_BYTES, maxDepth: MAX_DEPTH })
  if (isCborMap(probe) && probe.has('event')) {
    const message = decodeMessage(bytes, ['event', 'body'])
    const event = message.get('event')
    if (typeof event !== 'string') malformed()
    return { kind: 'event', event, body: readBody(message) }
  }
  const okMessage = isCborMap(probe) && probe.get('ok') === true
  const message = decodeMessage(bytes, ['id', 'ok', okMessage ? 'body' : 'code'])
  const id = readId(message)
  if (okMessage) return { kind: 'response', id, ok: true, body: readBody(message) }
  const code = message.get('code')
  if (
    message.get('ok') !== false ||
    typeof code !== 'string' ||
    !Object.hasOwn(ERROR_CATALOG, code)
  ) {
    malformed()
  }
  return { kind: 'response', id, ok: false, code: code as ErrorCode }
}

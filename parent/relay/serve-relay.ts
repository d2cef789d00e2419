/** The parent's end of the relay channel: TCP connections to allow-listed endpoints, for the enclave. */

import { connect as connectTcp } from 'node:net'
import type { ErrorCode } from '../../shared/errors/catalog.js'
import { expectCatalogError } from '../../shared/errors/expect-catalog-error.js'
import type { Channel } from '../../shared/protocol/framed-channel.js'
import {
  decodeRelayMessage,
  encodeRelayMessage,
  MAX_RELAY_CHUNK_BYTES,
  type RelayMessage,
} from '../../shared/protocol/relay-messages.js'

/** A TCP endpoint: a DNS name or an IP literal, and a port. */
export interface RelayEndpoint {
  readonly host: string
  readonly port: number
}

/**
 * The part of a `net.Socket` the relay uses; tests pass a fake. It must be half-open capable
 * (`allowHalfOpen: true`): the endpoint's FIN must not end the enclave's side of the stream.
 */
export interface RelaySocket {
  /** Bytes written and not yet handed to the kernel, including those written before connect. */
  readonly writableLength: number
  write(chunk: Uint8Array): boolean
  end(): void
  destroy(): void
  on(event: 'connect' | 'end' | 'close', listener: () => void): unknown
  on(event: 'data', listener: (chunk: Buffer) => void): unknown
  on(event: 'error', listener: (error: Error) => void): unknown
}

/**
 * What the relay tells its logs. Host, port, stream id, byte counts and codes only: never a byte
 * of what a stream carries (it is the enclave's TLS; lengths and timing are all a log needs).
 */
export type RelayEvent =
  /** The TCP connection for `stream` is up and the enclave was told. */
  | {
      readonly kind: 'opened'
      readonly stream: number
      readonly host: string
      readonly port: number
    }
  /** An `open` was answered with a `close` before any connection attempt. */
  | {
      readonly kind: 'refused'
      readonly stream: number
      readonly host: string
      readonly port: number
      readonly code: ErrorCode
    }
  /**
   * `stream` is gone. `code` is absent after a clean close (both sides ended, or the enclave
   * closed it); otherwise it is the code the enclave was sent, or `ERR_RELAY_CLOSED` when the
   * channel itself closed.
   */
  | {
      readonly kind: 'closed'
      readonly stream: number
      readonly host: string
      readonly port: number
      readonly bytesToEndpoint: number
      readonly bytesToEnclave: number
      readonly code?: ErrorCode
    }
  /** The enclave broke the relay protocol and the channel was closed. */
  | { readonly kind: 'violation'; readonly code: ErrorCode }

export interface RelayOptions {
  /**
   * The endpoints the enclave may reach; anything else is refused with `ERR_RELAY_ENDPOINT_DENIED`.
   * Exact match: the host compared case-insensitively (DNS names are, RFC 4343), the port equal.
   */
  readonly allowList: readonly RelayEndpoint[]
  /** Streams open at once, connecting ones included; one more gets `ERR_RELAY_STREAM_LIMIT`. */
  readonly maxStreams?: number
  /** How long a connection may take, in ms, before it fails with `ERR_RELAY_CONNECT_FAILED`. */
  readonly connectTimeoutMs?: number
  /** Opens a half-open-capable TCP connection; `node:net` by default. */
  readonly connect?: (endpoint: RelayEndpoint) => RelaySocket
  /** Told of each stream's open, refusal and close, and of a protocol violation; must not throw. */
  readonly onEvent?: (event: RelayEvent) => void
}

/** A running relay. */
export interface Relay {
  /** Streams open now, connecting ones included. */
  readonly openStreams: number
  /** Closes the channel, which destroys every socket. */
  close(): void
}

export const DEFAULT_MAX_STREAMS = 16
export const DEFAULT_CONNECT_TIMEOUT_MS = 5_000
/**
 * Bytes from the enclave a socket may hold unsent (before connect, or while the endpoint does not
 * read) before the stream is aborted with `ERR_RELAY_CLOSED`: 1 << 20 = 1 MiB, 16 full data chunks.
 */
export const MAX_RELAY_BUFFERED_BYTES = 1 << 20

interface Stream {
  readonly id: number
  readonly endpoint: RelayEndpoint
  readonly socket: RelaySocket
  readonly timer: NodeJS.Timeout
  connected: boolean
  enclaveEnded: boolean
  endpointEnded: boolean
  bytesToEndpoint: number
  bytesToEnclave: number
}

const connectWithNet = (endpoint: RelayEndpoint): RelaySocket =>
  connectTcp({ host: endpoint.host, port: endpoint.port, allowHalfOpen: true })

/**
 * Serves the relay on `channel`, which carries only relay messages and must allow frames of
 * `MAX_RELAY_FRAME_BYTES` (`createFramedChannel(stream, MAX_RELAY_FRAME_BYTES)`).
 *
 * The enclave picks stream ids and opens streams; the parent answers:
 * - `open {stream, host, port}`: a stream id already in use is a protocol violation and closes the
 *   channel (checked first: any answer would be read as one about the live stream). An endpoint
 *   not on the allow-list gets `close {code: ERR_RELAY_ENDPOINT_DENIED}`, with no connection
 *   attempted; past `maxStreams`, `close {code: ERR_RELAY_STREAM_LIMIT}`. Otherwise the parent
 *   connects: `opened {stream}` when up, `close {code: ERR_RELAY_CONNECT_FAILED}` on an error or
 *   the timeout (also when the socket closes before connecting).
 * - `data` is written to the socket (before connect the socket buffers it); more than
 *   {@link MAX_RELAY_BUFFERED_BYTES} unsent, or data after the enclave's own `end`, aborts the
 *   stream with `close {code: ERR_RELAY_CLOSED}`. `end` half-closes the socket (TCP FIN); `close`
 *   destroys it and the stream is forgotten, with no answer.
 * - `data`, `end` or `close` for a stream the parent does not know are ignored: they crossed a
 *   `close` the parent sent.
 * - The endpoint's bytes go back as `data` of at most `MAX_RELAY_CHUNK_BYTES`, its FIN as `end`.
 *   When both sides have ended the stream closes with a bare `close {stream}`; any other loss of
 *   the socket sends `close {code: ERR_RELAY_CLOSED}`.
 * - A frame that does not decode, or an `opened` from the enclave, closes the channel; closing the
 *   channel, from either end, destroys every socket.
 *
 * There is no backpressure beyond these caps: `Channel` gives no signal when the enclave reads
 * slowly, and the enclave's TLS exchanges with KMS are small request/response pairs.
 *
 * @example
 * ```ts
 * const relay = serveRelay(createFramedChannel(socket, MAX_RELAY_FRAME_BYTES), {
 *   allowList: [{ host: 'kms.eu-west-1.amazonaws.com', port: 443 }],
 *   onEvent: (event) => log.info(event),
 * })
 * ```
 */
export function serveRelay(channel: Channel, options: RelayOptions): Relay {
  const allowed = new Set(options.allowList.map((endpoint) => endpointKey(endpoint)))
  const maxStreams = options.maxStreams ?? DEFAULT_MAX_STREAMS
  const connectTimeoutMs = options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS
  const connect = options.connect ?? connectWithNet
  const report = options.onEvent ?? (() => undefined)
  const streams = new Map<number, Stream>()

  const send = (message: RelayMessage) => channel.send(encodeRelayMessage(message))

  const violation = (code: ErrorCode) => {
    report({ kind: 'violation', code })
    channel.close()
  }

  /** Forgets `stream`, tells the enclave with `close {code}` and the log, and drops the socket. */
  const finish = (stream: Stream, code: ErrorCode | undefined) => {
    streams.delete(stream.id)
    clearTimeout(stream.timer)
    stream.socket.destroy()
    send(
      code === undefined
        ? { type: 'close', stream: stream.id }
        : { type: 'close', stream: stream.id, code },
    )
    report(closedEvent(stream, code))
  }

  /** Attaches a socket's events to `stream` while it is the live stream with that id. */
  const watch = (stream: Stream) => {
    const { socket } = stream
    // An id is reused only after its stream is forgotten: a late event of an old socket is dropped.
    const live = () => streams.get(stream.id) === stream
    socket.on('connect', () => {
      if (!live()) return
      stream.connected = true
      clearTimeout(stream.timer)
      send({ type: 'opened', stream: stream.id })
      report({ kind: 'opened', stream: stream.id, ...stream.endpoint })
    })
    socket.on('data', (chunk) => {
      if (!live()) return
      stream.bytesToEnclave += chunk.byteLength
      for (let offset = 0; offset < chunk.byteLength; offset += MAX_RELAY_CHUNK_BYTES) {
        const bytes = chunk.subarray(offset, offset + MAX_RELAY_CHUNK_BYTES)
        send({ type: 'data', stream: stream.id, bytes })
      }
    })
    socket.on('end', () => {
      if (!live()) return
      stream.endpointEnded = true
      send({ type: 'end', stream: stream.id })
    })
    // Node emits `close` after `error`: the error decides the code, the close then finds no stream.
    socket.on('error', () => {
      if (live()) finish(stream, lostCode(stream))
    })
    socket.on('close', () => {
      if (!live()) return
      finish(stream, stream.enclaveEnded && stream.endpointEnded ? undefined : lostCode(stream))
    })
  }

  const open = (message: Extract<RelayMessage, { type: 'open' }>) => {
    const { stream: id, host, port } = message
    if (streams.has(id)) {
      violation('ERR_PROTOCOL_BAD_REQUEST')
      return
    }
    const refusal: ErrorCode | undefined = !allowed.has(endpointKey({ host, port }))
      ? 'ERR_RELAY_ENDPOINT_DENIED'
      : streams.size >= maxStreams
        ? 'ERR_RELAY_STREAM_LIMIT'
        : undefined
    if (refusal !== undefined) {
      send({ type: 'close', stream: id, code: refusal })
      report({ kind: 'refused', stream: id, host, port, code: refusal })
      return
    }
    let socket: RelaySocket
    try {
      socket = connect({ host, port })
    } catch {
      // An address `node:net` rejects outright is as unreachable as one that refuses.
      send({ type: 'close', stream: id, code: 'ERR_RELAY_CONNECT_FAILED' })
      report({ kind: 'refused', stream: id, host, port, code: 'ERR_RELAY_CONNECT_FAILED' })
      return
    }
    const stream: Stream = {
      id,
      endpoint: { host, port },
      socket,
      timer: setTimeout(() => {
        finish(stream, 'ERR_RELAY_CONNECT_FAILED')
      }, connectTimeoutMs),
      connected: false,
      enclaveEnded: false,
      endpointEnded: false,
      bytesToEndpoint: 0,
      bytesToEnclave: 0,
    }
    streams.set(id, stream)
    watch(stream)
  }

  const write = (stream: Stream, bytes: Uint8Array) => {
    if (stream.enclaveEnded) {
      finish(stream, 'ERR_RELAY_CLOSED') // the enclave's own FIN came first: the stream is confused
      return
    }
    stream.bytesToEndpoint += bytes.byteLength
    stream.socket.write(bytes)
    if (stream.socket.writableLength > MAX_RELAY_BUFFERED_BYTES) finish(stream, 'ERR_RELAY_CLOSED')
  }

  channel.onMessage((frame) => {
    let message: RelayMessage
    try {
      message = decodeRelayMessage(frame)
    } catch (error) {
      violation(expectCatalogError(error).code)
      return
    }
    if (message.type === 'open') {
      open(message)
      return
    }
    if (message.type === 'opened') {
      violation('ERR_PROTOCOL_BAD_REQUEST') // only the parent says a stream is up
      return
    }
    const stream = streams.get(message.stream)
    if (stream === undefined) return // crossed a `close` from the parent
    switch (message.type) {
      case 'data':
        write(stream, message.bytes)
        return
      case 'end':
        if (stream.enclaveEnded) return
        stream.enclaveEnded = true
        stream.socket.end()
        return
      case 'close':
        streams.delete(stream.id)
        clearTimeout(stream.timer)
        stream.socket.destroy()
        report(closedEvent(stream, undefined))
        return
    }
  })

  channel.onClose(() => {
    for (const stream of [...streams.values()]) {
      streams.delete(stream.id)
      clearTimeout(stream.timer)
      stream.socket.destroy()
      report(closedEvent(stream, 'ERR_RELAY_CLOSED'))
    }
  })

  return {
    get openStreams() {
      return streams.size
    },
    close() {
      channel.close()
    },
  }
}

/** The allow-list key of an endpoint: DNS names are case-insensitive (RFC 4343). */
function endpointKey(endpoint: RelayEndpoint): string {
  return `${endpoint.host.toLowerCase()}:${endpoint.port}`
}

/** The code for a socket lost before both sides ended: it never connected, or it broke. */
function lostCode(stream: Stream): ErrorCode {
  return stream.connected ? 'ERR_RELAY_CLOSED' : 'ERR_RELAY_CONNECT_FAILED'
}

function closedEvent(stream: Stream, code: ErrorCode | undefined): RelayEvent {
  return {
    kind: 'closed',
    stream: stream.id,
    ...stream.endpoint,
    bytesToEndpoint: stream.bytesToEndpoint,
    bytesToEnclave: stream.bytesToEnclave,
    ...(code === undefined ? {} : { code }),
  }
}

/** The AWS SDK's HTTP handler inside the enclave: one TLS connection per request, over the relay. */

import { request as httpRequest, type IncomingHttpHeaders } from 'node:http'
import { connect as tlsConnect } from 'node:tls'
import type { HttpRequest, HttpResponse } from '@smithy/types'
import { asBytes, concatBytes } from '../../shared/bytes/bytes.js'
import { CloisterError, isCloisterError } from '../../shared/errors/cloister-error.js'
import type { RelayConnector } from '../relay/relay-connector.js'

/** What a request handler of `@aws-sdk/client-kms` must do (`requestHandler` in its config). */
export interface EnclaveHttpHandler {
  handle(request: HttpRequest): Promise<{ response: HttpResponse }>
}

export interface RelayHttpHandlerOptions {
  readonly relay: RelayConnector
  /**
   * PEM certificates that may anchor the server's chain: from the enclave's measured
   * configuration, never from the parent. They replace the runtime's default root store.
   */
  readonly trustAnchors: readonly string[]
  /** The name the server certificate must carry (RFC 6125), from the measured configuration. */
  readonly serverName: string
  /** Connect, handshake, request and response together, in ms. */
  readonly timeoutMs?: number
}

/** KMS JSON responses are small (the largest real CiphertextForRecipient is 4,573 bytes). */
export const MAX_RESPONSE_BYTES = 1 << 20 // 1 MiB
const DEFAULT_TIMEOUT_MS = 10_000

/**
 * A handler that opens a relayed stream to the request's host and port, runs TLS 1.2+ over it
 * verifying the server against `trustAnchors` and `serverName`, sends the request as HTTP/1.1 and
 * reads the whole response (at most {@link MAX_RESPONSE_BYTES}). The parent relaying the bytes sees
 * only TLS records; any tampering fails the handshake or a record MAC.
 *
 * A connection is used for one request and closed: no state to resynchronise after a failure, and
 * a retry starts clean. Every failure rejects with a catalog error: the relay's refusal codes as
 * they are (`ERR_RELAY_*`), everything else (certificate, TLS, HTTP parse, timeout, truncation)
 * as `ERR_KMS_UNREACHABLE`; the dependency's message never leaves this function.
 */
export function createRelayHttpHandler(options: RelayHttpHandlerOptions): EnclaveHttpHandler {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS
  return {
    handle: (request) =>
      new Promise((resolve, reject) => {
        const relayed = options.relay.open(request.hostname, request.port ?? 443)
        const socket = tlsConnect({
          socket: relayed,
          host: options.serverName,
          servername: options.serverName,
          ca: [...options.trustAnchors],
          minVersion: 'TLSv1.2',
          rejectUnauthorized: true,
        })
        let relayError: unknown
        relayed.on('error', (error) => {
          relayError = error
        })
        let settled = false
        const fail = (error?: unknown) => {
          if (settled) return
          settled = true
          clearTimeout(timer)
          socket.destroy()
          relayed.destroy()
          const cause = relayError ?? error
          reject(
            isCloisterError(cause) &&
              cause.code.startsWith('ERR_RELAY_') &&
              cause.code !== 'ERR_RELAY_CLOSED'
              ? cause
              : new CloisterError('ERR_KMS_UNREACHABLE'),
          )
        }
        const timer = setTimeout(fail, timeoutMs)
        const outgoing = httpRequest(
          {
            method: request.method,
            path: pathOf(request),
            headers: request.headers,
            createConnection: () => socket,
          },
          (incoming) => {
            const chunks: Uint8Array[] = []
            let length = 0
            incoming.on('data', (chunk: Buffer) => {
              length += chunk.byteLength
              if (length > MAX_RESPONSE_BYTES) {
                fail()
                return
              }
              chunks.push(asBytes(chunk))
            })
            incoming.on('end', () => {
              if (settled) return
              settled = true
              clearTimeout(timer)
              socket.destroy()
              resolve({
                response: {
                  // Always set on a response node:http parsed (http.IncomingMessage docs).
                  statusCode: incoming.statusCode as number,
                  headers: flattenHeaders(incoming.headers),
                  body: concatBytes(chunks),
                },
              })
            })
            incoming.on('aborted', fail)
            incoming.on('error', fail)
          },
        )
        outgoing.on('error', fail)
        socket.on('error', fail)
        outgoing.end(request.body as Uint8Array | string | undefined)
      }),
  }
}

/** The request target: the path and its query string (the KMS JSON protocol sends `/` alone). */
function pathOf(request: HttpRequest): string {
  const query = new URLSearchParams()
  for (const [name, value] of Object.entries(request.query ?? {})) {
    for (const item of Array.isArray(value) ? value : [value ?? '']) query.append(name, item)
  }
  const search = query.toString()
  return search === '' ? request.path : `${request.path}?${search}`
}

/** Node's headers as the SDK's bag: lower-case names, repeated values joined with ", ". */
function flattenHeaders(headers: IncomingHttpHeaders): Record<string, string> {
  const bag: Record<string, string> = {}
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined) bag[name] = Array.isArray(value) ? value.join(', ') : value
  }
  return bag
}

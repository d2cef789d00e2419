/** The parent's side of the enclave protocol: typed calls with ids, deadlines and a bound in flight. */

import { CloisterError } from '../../shared/errors/cloister-error.js'
import { decodeReply, encodeRequest, type EventEnvelope } from '../../shared/protocol/envelope.js'
import type { Channel } from '../../shared/protocol/framed-channel.js'
import {
  decodeOpResponse,
  encodeBody,
  type OpName,
  type OpRequest,
  type OpResponse,
} from '../../shared/protocol/ops.js'

export interface EnclaveClientOptions {
  /** Deadline of a call unless it gives its own, in ms. */
  readonly timeoutMs?: number
  /** Calls waiting for an answer at most; more are refused at once (backpressure). */
  readonly maxInFlight?: number
}

/** Calls into one running enclave. */
export interface EnclaveClient {
  /**
   * Sends `op` and resolves with its typed response.
   *
   * @throws {CloisterError} the enclave's catalog code; `ERR_ENCLAVE_TIMEOUT` past the deadline;
   *   `ERR_ENCLAVE_UNAVAILABLE` when the channel closes first (a crash) or is closed;
   *   `ERR_ENCLAVE_BUSY` when too many calls are in flight; `ERR_PROTOCOL_BAD_RESPONSE`.
   */
  call<K extends OpName>(
    op: K,
    request: OpRequest<K>,
    options?: { readonly timeoutMs?: number },
  ): Promise<OpResponse<K>>
  onEvent(listener: (event: EventEnvelope) => void): void
  /** Fails every call in flight with `ERR_ENCLAVE_UNAVAILABLE` and closes the channel. */
  close(): void
  readonly inFlight: number
}

export const DEFAULT_CALL_TIMEOUT_MS = 5_000
export const DEFAULT_MAX_IN_FLIGHT = 4_096

interface Pending {
  readonly op: OpName
  readonly resolve: (body: unknown) => void
  readonly reject: (error: CloisterError) => void
  readonly timer: NodeJS.Timeout
}

/** A client over `channel`, which carries one enclave's frames. */
export function createEnclaveClient(
  channel: Channel,
  options: EnclaveClientOptions = {},
): EnclaveClient {
  const pending = new Map<number, Pending>()
  const eventListeners: ((event: EventEnvelope) => void)[] = []
  let nextId = 1
  let open = true

  const settle = (id: number): Pending | undefined => {
    const call = pending.get(id)
    if (call !== undefined) {
      pending.delete(id)
      clearTimeout(call.timer)
    }
    return call
  }
  const failAll = () => {
    open = false
    for (const id of [...pending.keys()]) {
      settle(id)?.reject(new CloisterError('ERR_ENCLAVE_UNAVAILABLE'))
    }
  }

  channel.onMessage((message) => {
    let reply
    try {
      reply = decodeReply(message)
    } catch {
      channel.close() // a peer that breaks the protocol cannot be trusted with more calls
      return
    }
    if (reply.kind === 'event') {
      for (const listener of eventListeners) listener(reply)
      return
    }
    const call = settle(reply.id) // an unknown id is a call that already timed out
    if (call === undefined) return
    if (!reply.ok) {
      call.reject(new CloisterError(reply.code))
      return
    }
    try {
      call.resolve(decodeOpResponse(call.op, reply.body))
    } catch (error) {
      call.reject(error as CloisterError)
    }
  })
  channel.onClose(failAll)

  return {
    call(op, request, callOptions) {
      if (!open) return Promise.reject(new CloisterError('ERR_ENCLAVE_UNAVAILABLE'))
      if (pending.size >= (options.maxInFlight ?? DEFAULT_MAX_IN_FLIGHT)) {
        return Promise.reject(new CloisterError('ERR_ENCLAVE_BUSY'))
      }
      const id = nextId
      nextId += 1
      const timeoutMs = callOptions?.timeoutMs ?? options.timeoutMs ?? DEFAULT_CALL_TIMEOUT_MS
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          settle(id)?.reject(new CloisterError('ERR_ENCLAVE_TIMEOUT'))
        }, timeoutMs)
        pending.set(id, { op, resolve: resolve as (body: unknown) => void, reject, timer })
        try {
          channel.send(encodeRequest({ id, op, body: encodeBody(request) }))
        } catch (error) {
          // Never sent (say, over the frame limit): it is not in flight and has no deadline.
          settle(id)
          throw error
        }
      })
    },
    onEvent(listener) {
      eventListeners.push(listener)
    },
    close() {
      failAll()
      channel.close()
    },
    get inFlight() {
      return pending.size
    },
  }
}

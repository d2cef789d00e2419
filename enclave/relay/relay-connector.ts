/** The enclave's end of the relay: TCP streams opened through the parent, as Node duplex streams. */

import { Duplex } from 'node:stream'
import { CloisterError } from '../../shared/errors/cloister-error.js'
import type { Channel } from '../../shared/protocol/framed-channel.js'
import {
  decodeRelayMessage,
  encodeRelayMessage,
  MAX_RELAY_CHUNK_BYTES,
  type RelayMessage,
} from '../../shared/protocol/relay-messages.js'

/** Opens relayed streams; each is a duplex that `node:tls` can run over. */
export interface RelayConnector {
  /** A stream to `host:port` through the parent's relay (its allow-list decides). */
  open(host: string, port: number): Duplex
}

/**
 * The connector over `channel`. The parent is hostile: it may refuse, drop, reorder or alter
 * anything, so nothing it sends is trusted beyond "bytes for stream N". What runs over a stream
 * (TLS) must authenticate every byte; a refusal or loss surfaces as the stream's error with the
 * parent's catalog code (or `ERR_RELAY_CLOSED`). A malformed relay message closes the channel and
 * every stream: the peer is not following the protocol.
 */
export function createRelayConnector(channel: Channel): RelayConnector {
  const streams = new Map<number, Duplex>()
  let nextId = 1

  const send = (message: RelayMessage) => channel.send(encodeRelayMessage(message))

  channel.onMessage((bytes) => {
    let message: RelayMessage
    try {
      message = decodeRelayMessage(bytes)
    } catch {
      channel.close()
      return
    }
    const stream = streams.get(message.stream)
    // A message for a stream already gone is a race with our own close: nothing to do.
    if (stream === undefined) return
    switch (message.type) {
      case 'data':
        stream.push(Buffer.from(message.bytes))
        break
      case 'end':
        stream.push(null)
        break
      case 'close':
        streams.delete(message.stream)
        stream.destroy(new CloisterError(message.code ?? 'ERR_RELAY_CLOSED'))
        break
      case 'opened':
        break
      case 'open':
        // Only the enclave opens streams.
        channel.close()
        break
    }
  })
  channel.onClose(() => {
    for (const stream of streams.values()) stream.destroy(new CloisterError('ERR_RELAY_CLOSED'))
    streams.clear()
  })

  return {
    open(host, port) {
      // Ids only grow: relay-messages.ts allows up to 2^32 - 1, four billion connections, far more
      // than one enclave's lifetime makes (one per KMS call).
      const id = nextId
      nextId += 1
      const stream = new Duplex({
        read() {
          // Data is pushed as it arrives; the relay has no flow control to resume.
        },
        write(chunk: Buffer, _encoding, callback) {
          for (let offset = 0; offset < chunk.byteLength; offset += MAX_RELAY_CHUNK_BYTES) {
            const bytes = chunk.subarray(offset, offset + MAX_RELAY_CHUNK_BYTES)
            send({ type: 'data', stream: id, bytes })
          }
          callback()
        },
        final(callback) {
          send({ type: 'end', stream: id })
          callback()
        },
        destroy(error, callback) {
          if (streams.get(id) === stream) {
            streams.delete(id)
            send({ type: 'close', stream: id })
          }
          callback(error)
        },
      })
      streams.set(id, stream)
      if (!send({ type: 'open', stream: id, host, port })) {
        // The channel is already closed: the stream fails on the next turn, as a refusal would.
        streams.delete(id)
        process.nextTick(() => stream.destroy(new CloisterError('ERR_RELAY_CLOSED')))
      }
      return stream
    },
  }
}

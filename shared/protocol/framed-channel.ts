/** A message channel over any byte stream: frames out, whole messages in, and one close signal. */

import { expectCatalogError } from '../errors/expect-catalog-error.js'
import { createFrameReader, encodeFrame, MAX_FRAME_BYTES } from './frame.js'

/** The part of a Node stream (a socket) a channel uses; tests pass a fake. */
export interface ByteStream {
  write(chunk: Uint8Array): boolean
  end(): void
  destroy(): void
  on(event: 'data', listener: (chunk: Buffer) => void): unknown
  on(event: 'close', listener: () => void): unknown
  on(event: 'error', listener: (error: Error) => void): unknown
}

/** Whole messages over a stream, in order. */
export interface Channel {
  /** Sends one message; false once the channel has closed. */
  send(message: Uint8Array): boolean
  /** Closes the stream; `onClose` listeners run once. */
  close(): void
  onMessage(listener: (message: Uint8Array) => void): void
  onClose(listener: () => void): void
}

/**
 * A channel on `stream`. A frame over `maxFrameBytes` or an empty frame from the peer closes the
 * channel (the stream cannot be resynchronised); a stream error closes it too. Listeners must not
 * throw: they run inside the stream's event handlers.
 */
export function createFramedChannel(stream: ByteStream, maxFrameBytes = MAX_FRAME_BYTES): Channel {
  const reader = createFrameReader(maxFrameBytes)
  const messageListeners: ((message: Uint8Array) => void)[] = []
  const closeListeners: (() => void)[] = []
  let open = true
  const close = () => {
    if (!open) return
    open = false
    stream.destroy()
    for (const listener of closeListeners) listener()
  }
  /** Hands each message to every listener, until one of them closes the channel. */
  const deliver = (messages: readonly Uint8Array[]) => {
    for (const message of messages) {
      for (const listener of messageListeners) {
        if (!open) return // nothing more from this peer is delivered once the channel has closed
        listener(message)
      }
    }
  }
  stream.on('data', (chunk) => {
    if (!open) return
    let messages: Uint8Array[]
    try {
      messages = reader.push(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength))
    } catch (error) {
      expectCatalogError(error)
      close()
      return
    }
    deliver(messages)
  })
  stream.on('close', close)
  stream.on('error', close)
  return {
    send(message) {
      if (!open) return false
      stream.write(encodeFrame(message, maxFrameBytes))
      return true
    },
    close,
    onMessage(listener) {
      messageListeners.push(listener)
    },
    onClose(listener) {
      closeListeners.push(listener)
    },
  }
}

/** Two in-memory `Channel`s joined back to back: what one end sends, the other receives a turn later. */

import type { Channel } from '../../shared/protocol/framed-channel.js'

type Listener = (message: Uint8Array) => void

/**
 * A connected pair, like the two ends of a socket. A message reaches the peer's `onMessage`
 * listeners on a later turn of the event loop (`setImmediate`), in order, unless the pair has
 * closed by then. `close()` on either end closes both: `send` returns false from then on and every
 * `onClose` listener registered so far runs once; one registered after the close never runs, as
 * with `createFramedChannel`.
 */
export function createChannelPair(): readonly [Channel, Channel] {
  let open = true
  const closeListeners: (() => void)[] = []
  const close = () => {
    if (!open) return
    open = false
    for (const listener of closeListeners) listener()
  }
  const end = (own: Listener[], peer: Listener[]): Channel => ({
    send(message) {
      if (!open) return false
      setImmediate(() => {
        for (const listener of peer) {
          if (!open) return // closed before or while this message is delivered: it is lost
          listener(message)
        }
      })
      return true
    },
    close,
    onMessage(listener) {
      own.push(listener)
    },
    onClose(listener) {
      if (open) closeListeners.push(listener)
    },
  })
  const left: Listener[] = []
  const right: Listener[] = []
  return [end(left, right), end(right, left)]
}

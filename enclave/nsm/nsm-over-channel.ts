/** The `Nsm` port over a message channel, as the simulated host serves the NSM: one call at a time. */

import { CloisterError } from '../../shared/errors/cloister-error.js'
import {
  decodeNsmResponse,
  encodeNsmRequest,
  type NsmResponse,
} from '../../shared/nsm/nsm-messages.js'
import type { Channel } from '../../shared/protocol/framed-channel.js'
import type { Nsm } from '../ports.js'

/**
 * Like the /dev/nsm ioctl, each request gets exactly one response and requests do not overlap:
 * they queue. A closed channel fails the waiting call and every later one with
 * `ERR_NSM_INTERNAL`; an undecodable answer fails its call.
 */
export function createNsmOverChannel(channel: Channel): Nsm {
  let waiting: ((answer: Uint8Array | undefined) => void) | undefined
  let queue: Promise<unknown> = Promise.resolve()
  let closed = false
  channel.onMessage((message) => {
    const resolve = waiting
    waiting = undefined
    resolve?.(message)
  })
  channel.onClose(() => {
    closed = true
    waiting?.(undefined)
    waiting = undefined
  })
  const call = async (bytes: Uint8Array): Promise<NsmResponse> => {
    const answer = await new Promise<Uint8Array | undefined>((resolve) => {
      waiting = resolve
      if (closed || !channel.send(bytes)) resolve(undefined)
    })
    if (answer === undefined) throw new CloisterError('ERR_NSM_INTERNAL')
    return decodeNsmResponse(answer)
  }
  return {
    request(request) {
      const next = queue.then(() => call(encodeNsmRequest(request)))
      queue = next.catch(() => undefined)
      return next
    },
  }
}

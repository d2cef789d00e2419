/** Serves the simulated NSM to one enclave over its NSM channel: one request, one response, in order. */

import { encodeNsmResponse } from '../../../shared/nsm/nsm-messages.js'
import type { Channel } from '../../../shared/protocol/framed-channel.js'
import type { SimulatedNsm } from './simulated-nsm.js'

const INTERNAL_ERROR = encodeNsmResponse({ type: 'Error', code: 'InternalError' })

/**
 * Answers every request frame on `channel` with the NSM's response frame, strictly in order. A
 * failure of the host itself (say, its PKI state cannot be written) is the NSM's `InternalError`.
 */
export function serveNsm(channel: Channel, nsm: SimulatedNsm): void {
  let queue: Promise<unknown> = Promise.resolve()
  channel.onMessage((request) => {
    queue = queue.then(async () => {
      channel.send(await nsm.handleBytes(request).catch(() => INTERNAL_ERROR))
    })
  })
}

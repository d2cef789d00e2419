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
  let busy = false
  channel.onMessage((request) => {
    // Like the ioctl, one request at a time: a client that pipelines is not the driver, and
    // queueing its requests without bound would let an enclave exhaust the host's memory.
    if (busy) {
      channel.close()
      return
    }
    busy = true
    void nsm
      .handleBytes(request)
      .catch(() => INTERNAL_ERROR)
      .then((response) => {
        busy = false
        channel.send(response)
      })
  })
}

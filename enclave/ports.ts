/** The enclave's boundaries to hardware, time and randomness, each small enough to fake on one screen. */

import type { NsmRequest, NsmResponse } from '../shared/nsm/nsm-messages.js'

/**
 * The Nitro Secure Module in its own terms (aws-nitro-enclaves-nsm-api `Request`/`Response`). The
 * simulated host serves it over a channel; on Nitro the adapter is an ioctl on /dev/nsm.
 */
export interface Nsm {
  request(request: NsmRequest): Promise<NsmResponse>
}

/** Milliseconds since the epoch. */
export type Clock = () => number

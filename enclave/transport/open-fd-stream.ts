/** The enclave's only socket code: a stream on a file descriptor inherited from its launcher. */

import { Socket } from 'node:net'
import type { ByteStream } from '../../shared/protocol/framed-channel.js'

/**
 * The AF_UNIX socketpair end the simulated host passed as `fd` (no filesystem path exists). On a
 * Nitro host this adapter is replaced by a vsock connector to `(cid, port)`; nothing else changes.
 */
export function openFdStream(fd: number): ByteStream {
  return new Socket({ fd, readable: true, writable: true })
}

/** Where the parent ↔ enclave stream runs: a socketpair in simulation, vsock on a Nitro host. */

/**
 * The endpoint of the enclave's channel. In simulation the launcher creates an AF_UNIX socketpair
 * and the enclave inherits one end as fd 3. On a Nitro host the parent connects to the enclave's
 * vsock `(cid, port)` and, inside the enclave, `socat` bridges that port to fd 3 of the runtime;
 * either way the enclave program reads frames from fd 3, and only the parent's connector differs.
 */
export type TransportAddress =
  | { readonly kind: 'socketpair'; readonly fd: number }
  | { readonly kind: 'vsock'; readonly cid: number; readonly port: number }

/** fd 3 of the enclave: requests, responses, events. */
export const PARENT_CHANNEL = { kind: 'socketpair', fd: 3 } as const satisfies TransportAddress
/** fd 4 of the enclave: the simulated NSM device (on Nitro, /dev/nsm instead). */
export const NSM_CHANNEL = { kind: 'socketpair', fd: 4 } as const satisfies TransportAddress
/**
 * fd 6 of the enclave: the relay, TCP streams the parent carries for the enclave's own TLS (on
 * Nitro, a vsock port served by a `vsock-proxy`-like relay on the parent).
 */
export const RELAY_CHANNEL = { kind: 'socketpair', fd: 6 } as const satisfies TransportAddress

/** Request dispatch inside the enclave: one handler per operation, every failure a catalog code. */

import { checkAttestationPolicy } from '../shared/attestation/attestation-policy.js'
import { isDebugDocument } from '../shared/attestation/attestation-document.js'
import type { CertificateCache } from '../shared/attestation/certificate-cache.js'
import type { TrustedRoots } from '../shared/attestation/trusted-roots.js'
import { verifyAttestation } from '../shared/attestation/verify-attestation.js'
import type { CborMap } from '../shared/cbor/cbor-value.js'
import { isCloisterError } from '../shared/errors/cloister-error.js'
import type { ErrorCode } from '../shared/errors/catalog.js'
import { decodeRequest, encodeReply } from '../shared/protocol/envelope.js'
import {
  assertOpName,
  decodeOpRequest,
  encodeBody,
  PROTOCOL_VERSION,
  type OpHandlers,
  type OpName,
  type SandboxMode,
} from '../shared/protocol/ops.js'
import type { KeyBroker } from './broker/key-broker.js'
import type { EnclaveKeys } from './keys/enclave-keys.js'
import type { KeyStore } from './keys/key-store.js'
import { requestAttestation } from './nsm/nsm-calls.js'
import type { Clock, Nsm } from './ports.js'

/** What the handlers work with, wired by the composition root (`main.ts`). */
export interface EnclaveContext {
  readonly nsm: Nsm
  readonly clock: Clock
  readonly keys: EnclaveKeys
  readonly moduleId: string
  readonly sandbox: SandboxMode
  /** PCR0–4, read from the NSM at boot: they are locked and never change. */
  readonly pcrs: ReadonlyMap<number, Uint8Array>
  /** From the measured configuration, never from the parent. */
  readonly trustedRoots: TrustedRoots
  readonly cache: CertificateCache
  /** The key ring and broker keys, from KMS as measured code. */
  readonly keyStore: KeyStore
  readonly broker: KeyBroker
}

/** The enclave's implementation of every operation in `OPS`. */
export function createHandlers(context: EnclaveContext): OpHandlers {
  return {
    ping: () => Promise.resolve({ now: context.clock() }),
    describe: () =>
      Promise.resolve({
        protocolVersion: PROTOCOL_VERSION,
        moduleId: context.moduleId,
        sandbox: context.sandbox,
        pcrs: context.pcrs,
      }),
    // public_key: the RSA recipient key (what KMS encrypts to); user_data: the ECDH key's SPKI.
    attest: async ({ nonce }) => ({
      document: await requestAttestation(context.nsm, {
        nonce,
        publicKey: context.keys.recipientSpki,
        userData: context.keys.agreementSpki,
      }),
    }),
    // In a Promise executor: a refusal is a rejection, as for every handler, never a synchronous throw.
    verifyAttestation: ({ document, policy }) =>
      new Promise((resolve) => {
        const now = context.clock()
        const verified = verifyAttestation(document, {
          now,
          trustedRoots: context.trustedRoots,
          cache: context.cache,
        })
        checkAttestationPolicy(verified, policy, now)
        resolve({
          moduleId: verified.moduleId,
          timestamp: verified.timestamp,
          debug: isDebugDocument(verified),
          pcrs: verified.pcrs,
          publicKey: verified.publicKey,
          userData: verified.userData,
          nonce: verified.nonce,
        })
      }),
    'keys.load': (request) => context.keyStore.load(request),
    'keys.rotate': ({ tenant, purpose }) => context.keyStore.rotate(tenant, purpose),
    'keys.activate': ({ tenant, purpose, version }) =>
      new Promise((resolve) => {
        context.keyStore.activate(tenant, purpose, version)
        resolve({})
      }),
    'keys.retire': ({ tenant, purpose, version }) =>
      new Promise((resolve) => {
        context.keyStore.retire(tenant, purpose, version)
        resolve({})
      }),
    'keys.list': () => Promise.resolve(context.keyStore.list()),
    'keys.create': ({ policy }) => context.broker.create(policy),
    'keys.challenge': () =>
      new Promise((resolve) => {
        resolve(context.broker.challenge())
      }),
    'keys.release': (request) =>
      new Promise((resolve) => {
        resolve(context.broker.release(request))
      }),
  }
}

/**
 * Answers one request frame. A frame that is not a request envelope gets no answer (`undefined`):
 * without its id nothing can be answered, so the caller closes the connection. Otherwise the
 * answer carries the handler's result or a catalog code; an unexpected exception becomes
 * `ERR_ENCLAVE_INTERNAL` and its details stay inside the enclave.
 */
export async function dispatch(
  handlers: OpHandlers,
  frame: Uint8Array,
): Promise<Uint8Array | undefined> {
  let request
  try {
    request = decodeRequest(frame)
  } catch {
    return undefined
  }
  try {
    assertOpName(request.op)
    const body = await run(handlers, request.op, request.body)
    return encodeReply({ kind: 'response', id: request.id, ok: true, body })
  } catch (error) {
    const code: ErrorCode = isCloisterError(error) ? error.code : 'ERR_ENCLAVE_INTERNAL'
    return encodeReply({ kind: 'response', id: request.id, ok: false, code })
  }
}

async function run(handlers: OpHandlers, op: OpName, body: CborMap): Promise<CborMap> {
  // One handler per op: the request decoded for `op` is exactly what handlers[op] takes.
  const handler = handlers[op] as (request: unknown) => Promise<object>
  return encodeBody(await handler(decodeOpRequest(op, body)))
}

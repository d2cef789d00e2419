/** Brings a booted enclave's keys up: loads every stored blob, then gives each tenant an active key per purpose. */

import { KEY_PURPOSES } from '../../shared/keys/key-names.js'
import type { OpRequest } from '../../shared/protocol/ops.js'
import type { EnclaveClient } from '../host/enclave-client.js'
import type { WrappedKeyStore } from './wrapped-key-store.js'

export interface LoadKeyRingOptions {
  readonly client: Pick<EnclaveClient, 'call'>
  readonly store: WrappedKeyStore
  /** The relay port of KMS and the credentials the enclave signs its KMS calls with. */
  readonly kms: OpRequest<'keys.load'>['kms']
  /** Tenants that must have an active key for every purpose once loaded. */
  readonly tenants: readonly string[]
  readonly clock: () => number
}

/** `keys.load` makes one attested KMS call per blob: a minute covers thousands of them. */
const LOAD_TIMEOUT_MS = 60_000
const ROTATE_TIMEOUT_MS = 30_000

/**
 * Loads the key ring into the enclave: versions never activated are dropped first (nothing was
 * protected with them), the active and readable versions and the broker keys are sent with
 * `keys.load` (the enclave opens each through attested KMS and refuses a blob stored under the
 * wrong name), and every tenant and purpose still without an active key gets one: the enclave
 * makes it (`keys.rotate`), the parent stores its blob durably, and only then is it activated in
 * the enclave and in the store. Returns how many versions were loaded and created.
 *
 * @throws {CloisterError} the enclave's code: `ERR_KMS_ACCESS_DENIED` when the key policy does
 *   not admit the enclave's measurements, `ERR_KEYS_CONTEXT_MISMATCH` for a swapped blob,
 *   `ERR_KMS_UNREACHABLE` when KMS cannot be reached over verified TLS.
 */
export async function loadKeyRing(
  options: LoadKeyRingOptions,
): Promise<{ readonly loaded: number; readonly created: number }> {
  const { client, store } = options
  store.dropPending()
  // Only versions in use are loaded: pending ones were dropped, retired ones stay wiped.
  const ring = store
    .ringKeys()
    .flatMap(({ tenant, purpose, version, state, ciphertextBlob }) =>
      state === 'active' || state === 'readable'
        ? [{ tenant, purpose, version, state, ciphertextBlob }]
        : [],
    )
  const { loaded } = await client.call(
    'keys.load',
    { kms: options.kms, ring, broker: [...store.brokerKeys()] },
    { timeoutMs: LOAD_TIMEOUT_MS },
  )
  let created = 0
  for (const tenant of options.tenants) {
    for (const purpose of KEY_PURPOSES) {
      if (
        ring.some(
          (key) => key.tenant === tenant && key.purpose === purpose && key.state === 'active',
        )
      ) {
        continue
      }
      const { version, ciphertextBlob } = await client.call(
        'keys.rotate',
        { tenant, purpose },
        { timeoutMs: ROTATE_TIMEOUT_MS },
      )
      store.addPending({ tenant, purpose, version, ciphertextBlob }, options.clock())
      await client.call('keys.activate', { tenant, purpose, version })
      store.activate(tenant, purpose, version)
      created += 1
    }
  }
  return { loaded, created }
}

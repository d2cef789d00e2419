/** The enclave's keys from KMS: the key ring and the broker keys, loaded, made and wiped as measured code. */

import { createHash } from 'node:crypto'
import { CloisterError } from '../../shared/errors/cloister-error.js'
import type { KmsConfiguration } from '../../shared/image/enclave-configuration.js'
import type { KeyPurpose } from '../../shared/keys/key-names.js'
import { MAX_BROKER_KEYS, MAX_KEY_VERSION } from '../../shared/keys/key-names.js'
import type { OpRequest, OpResponse } from '../../shared/protocol/ops.js'
import type { AttestedKms, KmsAccess } from '../kms/attested-kms.js'
import { createKeyRing, keyRingContext, type KeyRing } from './key-ring.js'

/** A broker key: its bytes and the release policy bound to it, as encoded bytes. */
export interface BrokerKey {
  readonly key: Uint8Array
  readonly policy: Uint8Array
}

export interface KeyStore {
  /** `keys.load`: every blob opened through attested KMS, or nothing changes. */
  load(request: OpRequest<'keys.load'>): Promise<OpResponse<'keys.load'>>
  rotate(tenant: string, purpose: KeyPurpose): Promise<OpResponse<'keys.rotate'>>
  activate(tenant: string, purpose: KeyPurpose, version: number): void
  retire(tenant: string, purpose: KeyPurpose, version: number): void
  list(): OpResponse<'keys.list'>
  /** A new broker key bound to `policy` (already validated by the caller). */
  createBrokerKey(policy: Uint8Array): Promise<OpResponse<'keys.create'>>
  /** The broker key `keyId`; `ERR_KEYS_UNKNOWN` when there is none. */
  brokerKey(keyId: string): BrokerKey
  /** The ring, for the operations that use its keys; `ERR_KEYS_NOT_LOADED` before `load`. */
  ring(): KeyRing
}

export interface KeyStoreOptions {
  /** From the measured configuration; without it there is no key ring (`ERR_KMS_NOT_CONFIGURED`). */
  readonly configuration: KmsConfiguration | undefined
  /** An attested KMS client for the parent's access details (the composition root wires it). */
  readonly connect: (access: KmsAccess) => AttestedKms
  /** Random bytes for broker key ids. */
  readonly random: (length: number) => Uint8Array
}

/**
 * The KMS encryption context of a broker key: its id and the SHA-256 of its encoded release
 * policy. KMS refuses to decrypt the blob under any other id or policy, so the parent, which
 * stores both, cannot loosen a key's policy by editing what it stores.
 */
export function brokerKeyContext(keyId: string, policy: Uint8Array): Record<string, string> {
  return {
    'cloister:use': 'broker',
    'cloister:key': keyId,
    'cloister:policy': createHash('sha256').update(policy).digest('hex'),
  }
}

/**
 * The enclave's key store. Nothing is usable before `load` has succeeded once; a second `load`
 * is refused (`ERR_KEYS_VERSION_CONFLICT`) so that the parent cannot swap the ring under running
 * operations. A failed load wipes whatever it had opened and leaves the store unloaded.
 */
export function createKeyStore(options: KeyStoreOptions): KeyStore {
  let kms: AttestedKms | undefined
  let ring: KeyRing | undefined
  let loading = false
  const broker = new Map<string, BrokerKey>()

  const loaded = (): { kms: AttestedKms; ring: KeyRing } => {
    if (kms === undefined || ring === undefined) throw new CloisterError('ERR_KEYS_NOT_LOADED')
    return { kms, ring }
  }

  return {
    async load(request) {
      if (options.configuration === undefined) throw new CloisterError('ERR_KMS_NOT_CONFIGURED')
      if (loading || ring !== undefined) throw new CloisterError('ERR_KEYS_VERSION_CONFLICT')
      loading = true
      const client = options.connect(request.kms)
      const staged = createKeyRing()
      const stagedBroker = new Map<string, BrokerKey>()
      try {
        for (const entry of request.ring) {
          const { tenant, purpose, version, state } = entry
          const context = keyRingContext(tenant, purpose, version)
          const key = await client.decryptDataKey(entry.ciphertextBlob, context)
          try {
            staged.add({ tenant, purpose, version, state }, key)
          } catch (error) {
            key.fill(0)
            throw error
          }
        }
        for (const entry of request.broker) {
          if (stagedBroker.has(entry.keyId)) throw new CloisterError('ERR_KEYS_VERSION_CONFLICT')
          const context = brokerKeyContext(entry.keyId, entry.policy)
          const key = await client.decryptDataKey(entry.ciphertextBlob, context)
          stagedBroker.set(entry.keyId, { key, policy: entry.policy })
        }
      } catch (error) {
        staged.wipe()
        for (const { key } of stagedBroker.values()) key.fill(0)
        throw error
      } finally {
        loading = false
      }
      kms = client
      ring = staged
      for (const [keyId, key] of stagedBroker) broker.set(keyId, key)
      return { loaded: request.ring.length + request.broker.length }
    },
    async rotate(tenant, purpose) {
      const current = loaded()
      const version = current.ring.latestVersion(tenant, purpose) + 1
      if (version > MAX_KEY_VERSION) throw new CloisterError('ERR_KEYS_LIMIT')
      const { key, ciphertextBlob } = await current.kms.generateDataKey(
        keyRingContext(tenant, purpose, version),
      )
      try {
        // Another rotation of the same key may have finished while KMS answered: its version wins.
        current.ring.add({ tenant, purpose, version, state: 'pending' }, key)
      } catch (error) {
        key.fill(0)
        throw error
      }
      return { version, ciphertextBlob }
    },
    activate(tenant, purpose, version) {
      loaded().ring.activate(tenant, purpose, version)
    },
    retire(tenant, purpose, version) {
      loaded().ring.retire(tenant, purpose, version)
    },
    list() {
      return {
        loaded: ring !== undefined,
        ring: ring?.list() ?? [],
        broker: [...broker.keys()].sort(),
      }
    },
    async createBrokerKey(policy) {
      const current = loaded()
      if (broker.size >= MAX_BROKER_KEYS) throw new CloisterError('ERR_KEYS_LIMIT')
      const keyId = `bk-${Buffer.from(options.random(16)).toString('hex')}`
      const { key, ciphertextBlob } = await current.kms.generateDataKey(
        brokerKeyContext(keyId, policy),
      )
      broker.set(keyId, { key, policy: Uint8Array.from(policy) })
      return { keyId, ciphertextBlob }
    },
    brokerKey(keyId) {
      loaded()
      const key = broker.get(keyId)
      if (key === undefined) throw new CloisterError('ERR_KEYS_UNKNOWN')
      return key
    },
    ring: () => loaded().ring,
  }
}

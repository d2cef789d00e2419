/** The enclave's data keys per tenant and purpose, with versions: one active, older ones readable. */

import { CloisterError } from '../../shared/errors/cloister-error.js'
import { MAX_RING_KEYS, type KeyPurpose, type KeyState } from '../../shared/keys/key-names.js'

/** One version's facts, without its bytes. */
export interface KeyVersionInfo {
  readonly tenant: string
  readonly purpose: KeyPurpose
  readonly version: number
  readonly state: KeyState
}

export interface KeyRing {
  /** Adds a version (its bytes are the ring's from now on); a second active version is refused. */
  add(info: KeyVersionInfo, key: Uint8Array): void
  /** The active version of `tenant`/`purpose`. */
  active(
    tenant: string,
    purpose: KeyPurpose,
  ): { readonly version: number; readonly key: Uint8Array }
  /** Version `version` of `tenant`/`purpose`, if active or readable. */
  get(tenant: string, purpose: KeyPurpose, version: number): Uint8Array
  /** The highest version held for `tenant`/`purpose`, 0 when none. */
  latestVersion(tenant: string, purpose: KeyPurpose): number
  /** Makes a pending version active; the version active so far becomes readable. */
  activate(tenant: string, purpose: KeyPurpose, version: number): void
  /** Removes a version that is not active and overwrites its bytes with zeros. */
  retire(tenant: string, purpose: KeyPurpose, version: number): void
  /** Every version, without bytes, ordered by tenant, purpose and version. */
  list(): readonly KeyVersionInfo[]
  /** Overwrites every key with zeros and empties the ring. */
  wipe(): void
}

interface Entry {
  info: KeyVersionInfo
  readonly key: Uint8Array
}

const entryName = (tenant: string, purpose: KeyPurpose, version: number) =>
  `${tenant}/${purpose}/${String(version)}`

/**
 * An empty ring. It checks its own invariants (one active version per tenant and purpose, unique
 * versions, bounded size) and throws `ERR_KEYS_VERSION_CONFLICT`, `ERR_KEYS_LIMIT` or
 * `ERR_KEYS_UNKNOWN`, changing nothing, when an operation would break them.
 */
export function createKeyRing(): KeyRing {
  const entries = new Map<string, Entry>()

  const find = (tenant: string, purpose: KeyPurpose, version: number): Entry => {
    const entry = entries.get(entryName(tenant, purpose, version))
    if (entry === undefined) throw new CloisterError('ERR_KEYS_UNKNOWN')
    return entry
  }
  const activeEntry = (tenant: string, purpose: KeyPurpose): Entry | undefined =>
    [...entries.values()].find(
      ({ info }) => info.tenant === tenant && info.purpose === purpose && info.state === 'active',
    )

  return {
    add(info, key) {
      const name = entryName(info.tenant, info.purpose, info.version)
      if (entries.has(name)) throw new CloisterError('ERR_KEYS_VERSION_CONFLICT')
      if (info.state === 'active' && activeEntry(info.tenant, info.purpose) !== undefined) {
        throw new CloisterError('ERR_KEYS_VERSION_CONFLICT')
      }
      if (entries.size >= MAX_RING_KEYS) throw new CloisterError('ERR_KEYS_LIMIT')
      entries.set(name, { info: { ...info }, key })
    },
    active(tenant, purpose) {
      const entry = activeEntry(tenant, purpose)
      if (entry === undefined) throw new CloisterError('ERR_KEYS_UNKNOWN')
      return { version: entry.info.version, key: entry.key }
    },
    get(tenant, purpose, version) {
      const entry = find(tenant, purpose, version)
      if (entry.info.state === 'pending') throw new CloisterError('ERR_KEYS_UNKNOWN')
      return entry.key
    },
    latestVersion(tenant, purpose) {
      let latest = 0
      for (const { info } of entries.values()) {
        if (info.tenant === tenant && info.purpose === purpose) {
          latest = Math.max(latest, info.version)
        }
      }
      return latest
    },
    activate(tenant, purpose, version) {
      const entry = find(tenant, purpose, version)
      if (entry.info.state !== 'pending') throw new CloisterError('ERR_KEYS_VERSION_CONFLICT')
      const previous = activeEntry(tenant, purpose)
      if (previous !== undefined) previous.info = { ...previous.info, state: 'readable' }
      entry.info = { ...entry.info, state: 'active' }
    },
    retire(tenant, purpose, version) {
      const entry = find(tenant, purpose, version)
      if (entry.info.state === 'active') throw new CloisterError('ERR_KEYS_VERSION_CONFLICT')
      entries.delete(entryName(tenant, purpose, version))
      entry.key.fill(0)
    },
    list() {
      return [...entries.values()]
        .map(({ info }) => info)
        .sort(
          (a, b) =>
            a.tenant.localeCompare(b.tenant) ||
            a.purpose.localeCompare(b.purpose) ||
            a.version - b.version,
        )
    },
    wipe() {
      for (const { key } of entries.values()) key.fill(0)
      entries.clear()
    },
  }
}

/**
 * The KMS encryption context of a key-ring data key. KMS binds it into the ciphertext blob
 * (AAD), so the blob decrypts only under the same tenant, purpose and version: a blob the parent
 * stores under another name is refused by KMS before the enclave ever sees a key.
 */
export function keyRingContext(
  tenant: string,
  purpose: KeyPurpose,
  version: number,
): Record<string, string> {
  return {
    'cloister:use': 'key-ring',
    'cloister:tenant': tenant,
    'cloister:purpose': purpose,
    'cloister:version': String(version),
  }
}

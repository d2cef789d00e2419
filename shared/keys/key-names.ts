/** The names in the key ring's vocabulary: purposes, version states and tenant ids, shared by both sides. */

/** What a data key is for; each tenant has one key (with versions) per purpose. */
export const KEY_PURPOSES = ['tokenization', 'vault', 'fingerprint', 'audit'] as const
export type KeyPurpose = (typeof KEY_PURPOSES)[number]

/**
 * `pending`: made, not yet stored durably by the parent, never used; `active`: the one new data
 * is protected with; `readable`: an older version, kept to read what it protected.
 */
export const KEY_STATES = ['pending', 'active', 'readable'] as const
export type KeyState = (typeof KEY_STATES)[number]

/** Tenant ids: lower-case letters, digits and hyphens, 1–63 characters (a DNS label). */
export const TENANT_PATTERN = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/
/** Versions 1 to 2^31 - 1: ample for one rotation a minute for 4,000 years. */
export const MAX_KEY_VERSION = 0x7fff_ffff
/**
 * Key versions the ring holds at most, across tenants and purposes: all of them travel in one
 * `keys.load` frame (1 MiB), at about 300 bytes each.
 */
export const MAX_RING_KEYS = 2048
/** Broker keys (released to other enclaves) held at most, loaded in the same frame. */
export const MAX_BROKER_KEYS = 256
/** Broker key ids: `bk-` and 32 hex digits (16 random bytes). */
export const BROKER_KEY_ID_PATTERN = /^bk-[0-9a-f]{32}$/

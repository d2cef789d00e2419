/** Single-use challenge nonces for key release: issued with an expiry, consumed at most once. */

import { toHex } from '../../shared/bytes/bytes.js'
import { CloisterError } from '../../shared/errors/cloister-error.js'

export const NONCE_BYTES = 32 // 256 bits: unguessable, and never repeated by chance
export const DEFAULT_CHALLENGE_TTL_MS = 60_000 // 1 minute
export const DEFAULT_MAX_OUTSTANDING = 10_000 // × a 64-character key and a small record ≈ 2 MB at most

/** A nonce to put in an attestation document, and the instant (ms) it stops being accepted. */
export interface Challenge {
  readonly nonce: Uint8Array
  readonly expiresAt: number
}

/** The challenges one enclave has issued; see {@link createChallenges}. */
export interface Challenges {
  /**
   * Issues a fresh nonce, valid until `expiresAt`.
   *
   * @throws {CloisterError} `ERR_RELEASE_CHALLENGE_LIMIT` when `maxOutstanding` nonces are held.
   */
  issue(): Challenge
  /**
   * Accepts `nonce` once, before it expires.
   *
   * @throws {CloisterError} `ERR_RELEASE_NONCE_UNKNOWN` for a nonce never issued or expired,
   *   `ERR_RELEASE_NONCE_REUSED` for one already consumed.
   */
  consume(nonce: Uint8Array): void
}

export interface ChallengesOptions {
  /** Milliseconds since the epoch. */
  readonly clock: () => number
  readonly random: (length: number) => Uint8Array
  /** How long a nonce is accepted, in ms; {@link DEFAULT_CHALLENGE_TTL_MS}. */
  readonly ttlMs?: number
  /** Most nonces held at once, consumed ones included; {@link DEFAULT_MAX_OUTSTANDING}. */
  readonly maxOutstanding?: number
}

interface Entry {
  readonly expiresAt: number
  consumed: boolean
}

/**
 * A store of challenge nonces that makes an attestation document fresh and single-use (DESIGN.md
 * §4, key release: "nonce issued by us"): a nonce is accepted once, only while
 * `clock() < expiresAt`. A consumed nonce is remembered until its
 * expiry, so a replay gets `ERR_RELEASE_NONCE_REUSED`; after that it is forgotten and a replay gets
 * `ERR_RELEASE_NONCE_UNKNOWN`. Forgetting can only turn one refusal into another, never into an
 * acceptance, so a clock that jumps (or returns NaN) fails closed.
 *
 * Memory stays bounded: every held nonce, consumed or not, counts toward `maxOutstanding`, and
 * expired ones are pruned (oldest first) before each call.
 *
 * @throws {RangeError} for a `ttlMs` or `maxOutstanding` that is not a positive safe integer.
 * @example
 * ```ts
 * const challenges = createChallenges({ clock: Date.now, random: (n) => randomBytes(n) })
 * const { nonce } = challenges.issue() // sent to the peer, who asks its NSM for a document with it
 * challenges.consume(nonce) // when the document comes back; a second call throws
 * ```
 */
export function createChallenges(options: ChallengesOptions): Challenges {
  const { clock, random } = options
  const ttlMs = options.ttlMs ?? DEFAULT_CHALLENGE_TTL_MS
  const maxOutstanding = options.maxOutstanding ?? DEFAULT_MAX_OUTSTANDING
  for (const bound of [ttlMs, maxOutstanding]) {
    if (!Number.isSafeInteger(bound) || bound <= 0) {
      throw new RangeError('ttlMs and maxOutstanding must be positive integers')
    }
  }
  // Keyed by hex; a Map keeps insertion order, which is expiry order while the clock runs forward.
  const entries = new Map<string, Entry>()

  /** Drops expired entries from the oldest on; one that is not expired stops the sweep. */
  function prune(now: number): void {
    for (const [key, entry] of entries) {
      if (now < entry.expiresAt) break
      entries.delete(key)
    }
  }

  return {
    issue() {
      const now = clock()
      prune(now)
      if (entries.size >= maxOutstanding) throw new CloisterError('ERR_RELEASE_CHALLENGE_LIMIT')
      const nonce = random(NONCE_BYTES)
      if (nonce.byteLength !== NONCE_BYTES)
        throw new TypeError('random must return the length asked')
      const key = toHex(nonce)
      // Re-issuing a held nonce would clear its consumed mark: only a broken source repeats 256 bits.
      if (entries.has(key)) throw new Error('the random source repeated a nonce')
      const expiresAt = now + ttlMs
      entries.set(key, { expiresAt, consumed: false })
      return { nonce: nonce.slice(), expiresAt }
    },
    consume(nonce) {
      const now = clock()
      prune(now)
      const entry = nonce.byteLength === NONCE_BYTES ? entries.get(toHex(nonce)) : undefined
      // Written as !(now < …) so that NaN on either side counts as expired.
      if (entry === undefined || !(now < entry.expiresAt)) {
        throw new CloisterError('ERR_RELEASE_NONCE_UNKNOWN')
      }
      if (entry.consumed) throw new CloisterError('ERR_RELEASE_NONCE_REUSED')
      entry.consumed = true
    },
  }
}

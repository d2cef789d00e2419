/** A bounded cache of certificates already verified under a given issuer. */

import type { CertificateFacts } from './certificate-facts.js'

/** The issuer mark of a pinned root: it is trusted by its fingerprint, not by a signature. */
export const PINNED_ROOT = 'pinned-root'

const DEFAULT_MAX_ENTRIES = 1024

/**
 * Remembers a certificate by the SHA-256 of its DER together with the fingerprint of the issuer it
 * was verified under; its validity window travels with it in {@link CertificateFacts}. A hit lets a
 * document from a known enclave skip four of its five ECDSA verifications; validity is still checked
 * at every call's own instant. Least recently used entries are evicted beyond `maxEntries`.
 *
 * @example
 * ```ts
 * const cache = createCertificateCache()
 * verifyAttestation(bytes, { now: Date.now(), cache })
 * ```
 */
export interface CertificateCache {
  /** Facts of `fingerprint` if it was verified under `issuerFingerprint`. */
  get(fingerprint: string, issuerFingerprint: string): CertificateFacts | undefined
  /** Records that `facts` verified under `issuerFingerprint`. */
  remember(facts: CertificateFacts, issuerFingerprint: string): void
  readonly size: number
}

/** A new, empty cache holding at most `maxEntries` certificates. */
export function createCertificateCache(maxEntries = DEFAULT_MAX_ENTRIES): CertificateCache {
  const entries = new Map<string, CertificateFacts>()
  return {
    get(fingerprint, issuerFingerprint) {
      const key = `${fingerprint}<${issuerFingerprint}`
      const facts = entries.get(key)
      if (facts !== undefined) {
        entries.delete(key) // re-insert: Map order is the recency order
        entries.set(key, facts)
      }
      return facts
    },
    remember(facts, issuerFingerprint) {
      entries.set(`${facts.fingerprint}<${issuerFingerprint}`, facts)
      for (const oldest of entries.keys()) {
        if (entries.size <= maxEntries) break
        entries.delete(oldest)
      }
    },
    get size() {
      return entries.size
    },
  }
}

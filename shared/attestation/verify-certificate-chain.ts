/** Path validation of the attestation chain `certificate ← cabundle[n-1] ← … ← cabundle[0]`. */

import { CloisterError } from '../errors/cloister-error.js'
import { PINNED_ROOT, type CertificateCache } from './certificate-cache.js'
import {
  hasKeyUsage,
  KEY_USAGE_DIGITAL_SIGNATURE,
  KEY_USAGE_KEY_CERT_SIGN,
} from './certificate-fields.js'
import { readCertificateFacts, type CertificateFacts } from './certificate-facts.js'
import { sha256Hex, type TrustedRoots } from './trusted-roots.js'

/** One certificate of a chain, root first, and whether its link is already known to be valid. */
export interface ChainLink {
  readonly facts: CertificateFacts
  /** Fingerprint of the issuer it must verify under ({@link PINNED_ROOT} for the root). */
  readonly issuerFingerprint: string
  /** Found in the cache under this very issuer: its signature was verified before. */
  readonly known: boolean
}

export interface ChainOptions {
  /** The instant, ms since the epoch, at which every certificate must be valid. */
  readonly now: number
  readonly trustedRoots: TrustedRoots
  readonly cache: CertificateCache | undefined
}

/**
 * Everything about the chain short of its signatures, cheapest first (attestation_process.md
 * §3.2.3): `cabundle[0]` is a pinned root; each certificate parses, is valid at `now`, carries no
 * critical extension we do not process, and has the profile of its place: CAs with cA set,
 * keyCertSign and a pathLenConstraint that admits the CAs below them; the leaf not a CA and allowed
 * digitalSignature. Cached certificates skip parsing; every check still runs on every call.
 *
 * @throws {CloisterError} `ERR_ATTESTATION_UNTRUSTED_ROOT`, `ERR_ATTESTATION_CHAIN`,
 *   `ERR_ATTESTATION_CERT_MALFORMED`, `ERR_ATTESTATION_CERT_EXPIRED` or
 *   `ERR_ATTESTATION_CERT_NOT_YET_VALID`.
 */
export function inspectChain(
  cabundle: readonly Uint8Array[],
  certificate: Uint8Array,
  options: ChainOptions,
): ChainLink[] {
  const ders = [...cabundle, certificate]
  const fingerprints = ders.map(sha256Hex)
  const { anchors } = options.trustedRoots
  // The root is the pinned anchor itself, parsed when it was pinned; the rest may be cached.
  const root = anchors.get(fingerprints[0] as string)
  if (root === undefined) {
    // A pinned root elsewhere in the bundle is a chain in the wrong order, not a foreign one.
    const misplaced = fingerprints.some((print) => anchors.has(print))
    throw new CloisterError(misplaced ? 'ERR_ATTESTATION_CHAIN' : 'ERR_ATTESTATION_UNTRUSTED_ROOT')
  }
  const links: ChainLink[] = []
  const leafIndex = ders.length - 1
  ders.forEach((der, index) => {
    const fingerprint = fingerprints[index] as string
    const issuerFingerprint = index === 0 ? PINNED_ROOT : (fingerprints[index - 1] as string)
    const cached = index === 0 ? root : options.cache?.get(fingerprint, issuerFingerprint)
    const facts = cached ?? readCertificateFacts(der, fingerprint)
    // Written to fail closed: a comparison with anything but a number is false.
    if (!(options.now >= facts.notBefore)) {
      throw new CloisterError('ERR_ATTESTATION_CERT_NOT_YET_VALID')
    }
    if (!(options.now <= facts.notAfter)) throw new CloisterError('ERR_ATTESTATION_CERT_EXPIRED')
    // RFC 5280 §6.1.4: path length counts the CA certificates between this one and the leaf.
    const casBelow = leafIndex - 1 - index
    const profileHolds =
      !facts.hasUnknownCritical &&
      (index === leafIndex
        ? !facts.isCa &&
          (facts.keyUsage === undefined || hasKeyUsage(facts.keyUsage, KEY_USAGE_DIGITAL_SIGNATURE))
        : facts.isCa &&
          (facts.keyUsage === undefined || hasKeyUsage(facts.keyUsage, KEY_USAGE_KEY_CERT_SIGN)) &&
          (facts.pathLength === undefined || facts.pathLength >= casBelow))
    if (!profileHolds) throw new CloisterError('ERR_ATTESTATION_CHAIN')
    links.push({ facts, issuerFingerprint, known: cached !== undefined })
  })
  return links
}

/**
 * Verifies the signature and issuer/subject link of every certificate not already known, then
 * remembers it in the cache. The root is trusted by its pin, not by its self-signature.
 *
 * @throws {CloisterError} `ERR_ATTESTATION_CHAIN` for a broken link.
 */
export function verifyChainLinks(
  links: readonly ChainLink[],
  cache: CertificateCache | undefined,
): void {
  links.forEach((link, index) => {
    if (link.known) return
    const issuer = links[index - 1]?.facts
    if (issuer !== undefined) {
      const { certificate } = link.facts
      if (!certificate.checkIssued(issuer.certificate) || !certificate.verify(issuer.publicKey)) {
        throw new CloisterError('ERR_ATTESTATION_CHAIN')
      }
    }
    cache?.remember(link.facts, link.issuerFingerprint)
  })
}

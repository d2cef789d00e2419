/** The key broker: broker keys made under a release policy, challenges, and audited releases. */

import type { CertificateCache } from '../../shared/attestation/certificate-cache.js'
import type { TrustedRoots } from '../../shared/attestation/trusted-roots.js'
import { isCloisterError } from '../../shared/errors/cloister-error.js'
import type { ErrorCode } from '../../shared/errors/catalog.js'
import type { OpRequest, OpResponse } from '../../shared/protocol/ops.js'
import type { KeyStore } from '../keys/key-store.js'
import type { Clock } from '../ports.js'
import type { Challenges } from './challenges.js'
import { releaseKey } from './release-key.js'
import { decodeReleasePolicy } from './release-policy.js'

/** One broker decision, as the enclave reports it for the audit log: never key bytes. */
export interface ReleaseAuditRecord {
  readonly at: number
  readonly op: 'keys.create' | 'keys.release'
  readonly keyId: string
  readonly decision: 'created' | 'released' | 'denied'
  /** Why a release was denied. */
  readonly code?: ErrorCode
  /** The requester, once its document verified. */
  readonly moduleId?: string
  readonly pcr0?: Uint8Array
  readonly format?: 'cms' | 'jwe'
}

export interface KeyBroker {
  create(policy: Uint8Array): Promise<OpResponse<'keys.create'>>
  challenge(): OpResponse<'keys.challenge'>
  release(request: OpRequest<'keys.release'>): OpResponse<'keys.release'>
}

export interface KeyBrokerOptions {
  readonly store: KeyStore
  readonly challenges: Challenges
  readonly clock: Clock
  /** From the measured configuration: the roots a requester's document must chain to. */
  readonly trustedRoots: TrustedRoots
  readonly cache: CertificateCache
  /** Receives a record for every decision, before the caller sees the answer. */
  readonly audit: (record: ReleaseAuditRecord) => void
}

/**
 * The broker. Every decision is taken here, inside the enclave, from the requester's own
 * attestation document verified against the measured roots and the key's release policy, which
 * KMS bound to the key (`brokerKeyContext`); the parent only carries the request. Every create,
 * release and denial is audited with its catalog code.
 */
export function createKeyBroker(options: KeyBrokerOptions): KeyBroker {
  return {
    async create(policy) {
      // Decoding validates: a policy that would admit debug documents or nothing at all is refused.
      decodeReleasePolicy(policy)
      const created = await options.store.createBrokerKey(policy)
      options.audit({
        at: options.clock(),
        op: 'keys.create',
        keyId: created.keyId,
        decision: 'created',
      })
      return created
    },
    challenge() {
      const { nonce, expiresAt } = options.challenges.issue()
      return { nonce, expiresAt }
    },
    release(request) {
      const at = options.clock()
      try {
        const { key, policy } = options.store.brokerKey(request.keyId)
        const released = releaseKey(
          {
            document: request.document,
            keyBytes: key,
            policy: decodeReleasePolicy(policy),
            ...(request.nonce === undefined ? {} : { nonce: request.nonce }),
          },
          {
            now: at,
            trustedRoots: options.trustedRoots,
            cache: options.cache,
            challenges: options.challenges,
          },
        )
        options.audit({
          at,
          op: 'keys.release',
          keyId: request.keyId,
          decision: 'released',
          moduleId: released.moduleId,
          pcr0: released.pcr0,
          format: released.format,
        })
        return { format: released.format, envelope: released.envelope }
      } catch (error) {
        const code: ErrorCode = isCloisterError(error) ? error.code : 'ERR_ENCLAVE_INTERNAL'
        options.audit({ at, op: 'keys.release', keyId: request.keyId, decision: 'denied', code })
        throw error
      }
    },
  }
}

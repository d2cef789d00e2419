/** Assembles the local KMS from a state directory: keys, sealed store, TLS server, trusted roots. */

import { randomBytes } from 'node:crypto'
import type { Server } from 'node:https'
import { join } from 'node:path'
import { AWS_NITRO_ROOT_G1_PEM } from '../../shared/attestation/aws-nitro-root-g1.js'
import { createCertificateCache } from '../../shared/attestation/certificate-cache.js'
import { trustRootCertificates } from '../../shared/attestation/trusted-roots.js'
import { openSimPki } from '../sim/sim-pki.js'
import { accountDefaultKeyPolicy } from './policy/account-default-key-policy.js'
import { createKmsServer } from './server/kms-server.js'
import { openKmsState, type KmsState } from './state/kms-state.js'
import { openKmsStore } from './store/kms-store.js'

/** The account the local KMS pretends to be: clearly not a real AWS account. */
export const LOCAL_ACCOUNT_ID = '000000000000'
export const LOCAL_REGION = 'us-east-1'

/** A local KMS ready to `listen`; `close` releases the store once the server has stopped. */
export interface LocalKms {
  readonly server: Server
  readonly state: KmsState
  readonly close: () => void
}

/**
 * Opens (creating on first use) the local KMS kept in `directory`/kms/. Attested `Recipient`
 * documents may come from real Nitro hardware or from this host's simulation, so both the AWS
 * Nitro root and the simulated host's root (`directory`/sim/) are trusted.
 */
export async function openLocalKms(directory: string, clock: () => number): Promise<LocalKms> {
  const state = await openKmsState(directory, clock())
  const store = openKmsStore(join(directory, 'kms', 'kms.db'), state.masterKey)
  const simulatedHost = await openSimPki(join(directory, 'sim'), clock())
  const server = createKmsServer({
    context: {
      store,
      clock,
      random: (length) => new Uint8Array(randomBytes(length)),
      region: LOCAL_REGION,
      accountId: LOCAL_ACCOUNT_ID,
      defaultPolicy: accountDefaultKeyPolicy,
      recipients: {
        trustedRoots: trustRootCertificates([AWS_NITRO_ROOT_G1_PEM, simulatedHost.root.pem]),
        cache: createCertificateCache(),
      },
    },
    tls: { certificatePem: state.tlsCertificatePem, keyPem: state.tlsKeyPem },
    credentials: state,
  })
  return {
    server,
    state,
    close: () => {
      store.close()
    },
  }
}

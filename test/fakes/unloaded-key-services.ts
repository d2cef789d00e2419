/** The key store and broker of an enclave with no KMS in its configuration: every key operation refused. */

import { createChallenges } from '../../enclave/broker/challenges.js'
import { createKeyBroker, type KeyBroker } from '../../enclave/broker/key-broker.js'
import { createKeyStore, type KeyStore } from '../../enclave/keys/key-store.js'
import { createCertificateCache } from '../../shared/attestation/certificate-cache.js'
import { trustRootCertificates } from '../../shared/attestation/trusted-roots.js'
import { AWS_NITRO_ROOT_G1_PEM } from '../../shared/attestation/aws-nitro-root-g1.js'
import { createFakeAttestedKms } from './fake-attested-kms.js'

/** What `EnclaveContext` needs besides attestation, for tests of the other operations. */
export function unloadedKeyServices(): { keyStore: KeyStore; broker: KeyBroker } {
  const keyStore = createKeyStore({
    configuration: undefined,
    connect: () => createFakeAttestedKms(),
    random: (length) => new Uint8Array(length),
  })
  const broker = createKeyBroker({
    store: keyStore,
    challenges: createChallenges({ clock: () => 0, random: (length) => new Uint8Array(length) }),
    clock: () => 0,
    trustedRoots: trustRootCertificates([AWS_NITRO_ROOT_G1_PEM]),
    cache: createCertificateCache(),
    audit: () => undefined,
  })
  return { keyStore, broker }
}

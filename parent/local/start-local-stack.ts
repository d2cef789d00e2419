/** The local stack of `cloister start`: local KMS, the enclave's pinned key, the relay, and a supervised enclave with its key ring. */

import { mkdir } from 'node:fs/promises'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import type { ErrorCode } from '../../shared/errors/catalog.js'
import type { KmsConfiguration } from '../../shared/image/enclave-configuration.js'
import type { SandboxMode } from '../../shared/protocol/ops.js'
import { startSupervisor, type Supervisor, type SupervisorState } from '../host/supervisor.js'
import { loadKeyRing } from '../keys/load-key-ring.js'
import { ensureEnclaveKey, pinEnclaveKeyPolicy } from '../keys/pin-enclave-key.js'
import { recordReleaseAudits } from '../keys/read-release-audit.js'
import { openWrappedKeyStore, type WrappedKeyStore } from '../keys/wrapped-key-store.js'
import { createLocalKmsClient } from '../kms/local-kms-client.js'
import { LOCAL_ACCOUNT_ID, LOCAL_REGION, openLocalKms } from '../kms/open-local-kms.js'
import type { ImageMeasurements } from '../sim/enclave-image.js'
import { prepareImage, startSimulatedEnclave } from '../sim/start-simulated-enclave.js'

export interface LocalStackOptions {
  readonly stateDirectory: string
  readonly sandbox: SandboxMode
  /** Tenants that get an active key for every purpose (default: `default`). */
  readonly tenants?: readonly string[]
  /** The enclave bundle; the project's own, freshly built, by default. */
  readonly bundle?: Uint8Array
  /** Boot the enclave in debug mode (its PCR0–2 read as zeros, so KMS refuses it). */
  readonly debug?: boolean
  readonly onStateChange?: (state: SupervisorState) => void
  readonly onBootFailure?: (code: ErrorCode) => void
  /** Told when the enclave sends an audit record that does not read (it is not stored). */
  readonly onAuditRefused?: (code: ErrorCode) => void
}

export interface LocalStack {
  readonly supervisor: Supervisor
  readonly keyArn: string
  readonly kmsPort: number
  readonly measurements: ImageMeasurements
  /** Whether this start rewrote the key policy (new measurements). */
  readonly policyUpdated: boolean
  readonly store: WrappedKeyStore
  /** The measured KMS part of the enclave's configuration. */
  readonly kms: KmsConfiguration
  stop(): Promise<void>
}

/** The name the local KMS's certificate carries (kms-state.ts issues it for localhost). */
const LOCAL_KMS_SERVER_NAME = 'localhost'

/**
 * Starts everything `npm start` runs, in deployment order: the local KMS listens; the enclave's
 * key exists; the image is measured with the key ARN and the KMS trust anchor in its configuration;
 * the key policy is pinned to those measurements (rewritten when they changed); then the
 * supervisor boots the enclave with a relay allowed to reach only the KMS port, and counts it ready
 * only once `loadKeyRing` has loaded every stored blob through attested KMS. A boot the key policy
 * refuses fails with `ERR_KMS_ACCESS_DENIED`, reported to `onBootFailure` and retried with backoff.
 */
export async function startLocalStack(options: LocalStackOptions): Promise<LocalStack> {
  const clock = () => Date.now()
  const local = await openLocalKms(options.stateDirectory, clock)
  await new Promise<void>((resolve) => local.server.listen(0, '127.0.0.1', resolve))
  const kmsPort = (local.server.address() as AddressInfo).port
  const admin = createLocalKmsClient(local.state, kmsPort)
  const keyArn = await ensureEnclaveKey(admin)
  const kms: KmsConfiguration = {
    keyArn,
    region: LOCAL_REGION,
    serverName: LOCAL_KMS_SERVER_NAME,
    trustAnchors: [local.state.caPem],
  }
  const { bundle, measurements } = await prepareImage({
    stateDirectory: options.stateDirectory,
    sandbox: options.sandbox,
    kms,
    ...(options.bundle === undefined ? {} : { bundle: options.bundle }),
  })
  const policyUpdated = await pinEnclaveKeyPolicy(admin, keyArn, LOCAL_ACCOUNT_ID, measurements)
  admin.destroy()
  await mkdir(join(options.stateDirectory, 'keys'), { recursive: true, mode: 0o700 })
  const store = openWrappedKeyStore(join(options.stateDirectory, 'keys', 'keys.db'))
  const supervisor = startSupervisor({
    boot: async () => {
      const enclave = await startSimulatedEnclave({
        stateDirectory: options.stateDirectory,
        sandbox: options.sandbox,
        bundle,
        kms,
        relayAllowList: [{ host: LOCAL_KMS_SERVER_NAME, port: kmsPort }],
        ...(options.debug === undefined ? {} : { debug: options.debug }),
      })
      enclave.client.onEvent(recordReleaseAudits(store, options.onAuditRefused))
      try {
        await loadKeyRing({
          client: enclave.client,
          store,
          kms: {
            port: kmsPort,
            accessKeyId: local.state.accessKeyId,
            secretAccessKey: local.state.secretAccessKey,
          },
          tenants: options.tenants ?? ['default'],
          clock,
        })
      } catch (error) {
        await enclave.stop()
        throw error
      }
      return enclave
    },
    onStateChange: (state) => options.onStateChange?.(state),
    onBootFailure: (code) => options.onBootFailure?.(code),
  })
  return {
    supervisor,
    keyArn,
    kmsPort,
    measurements,
    policyUpdated,
    store,
    kms,
    async stop() {
      await supervisor.stop()
      await new Promise<void>((resolve) => {
        local.server.close(() => {
          resolve()
        })
        local.server.closeAllConnections()
      })
      local.close()
      store.close()
    },
  }
}

/** A local KMS on a free port with the enclave's key pinned to chosen PCRs, and an in-process relay to it. */

import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { KMSClient } from '@aws-sdk/client-kms'
import { createAttestedKms, type AttestedKmsOptions } from '../../enclave/kms/attested-kms.js'
import { generateEnclaveKeys, type EnclaveKeys } from '../../enclave/keys/enclave-keys.js'
import type { Nsm } from '../../enclave/ports.js'
import { createRelayConnector, type RelayConnector } from '../../enclave/relay/relay-connector.js'
import { ensureEnclaveKey, pinEnclaveKeyPolicy } from '../../parent/keys/pin-enclave-key.js'
import { createLocalKmsClient } from '../../parent/kms/local-kms-client.js'
import { LOCAL_ACCOUNT_ID, LOCAL_REGION, openLocalKms } from '../../parent/kms/open-local-kms.js'
import type { KmsState } from '../../parent/kms/state/kms-state.js'
import { serveRelay } from '../../parent/relay/serve-relay.js'
import type { ImageMeasurements } from '../../parent/sim/enclave-image.js'
import { createSimulatedNsm } from '../../parent/sim/nsm/simulated-nsm.js'
import { openSimPki, type SimPki } from '../../parent/sim/sim-pki.js'
import type { KmsConfiguration } from '../../shared/image/enclave-configuration.js'
import type { Channel } from '../../shared/protocol/framed-channel.js'
import { createChannelPair } from './channel-pair.js'

export interface LocalKmsHarness {
  readonly directory: string
  readonly port: number
  readonly state: KmsState
  readonly pki: SimPki
  readonly admin: KMSClient
  readonly configuration: KmsConfiguration
  readonly measurements: ImageMeasurements
  readonly keys: EnclaveKeys
  /** An NSM of this host reporting `measurements` (or zeros with `debug`). */
  nsm(options?: { debug?: boolean; measurements?: ImageMeasurements }): Nsm
  /** A relay to the local KMS; `wrap` may tamper with the enclave's end of the channel. */
  relay(wrap?: (channel: Channel) => Channel): RelayConnector
  /** An attested KMS client of an enclave with these measurements. */
  attestedKms(options?: Partial<AttestedKmsOptions>): ReturnType<typeof createAttestedKms>
  close(): Promise<void>
}

/** Measurements made of one repeated byte, like test-pki's `pcrOf`. */
export function measurementsOf(fill: number): ImageMeasurements {
  return {
    pcr0: new Uint8Array(48).fill(fill),
    pcr1: new Uint8Array(48).fill(fill + 1),
    pcr2: new Uint8Array(48).fill(fill + 2),
  }
}

/** Starts the harness; `close` stops the server and removes the directory. */
export async function startLocalKmsHarness(
  measurements = measurementsOf(0x10),
): Promise<LocalKmsHarness> {
  const directory = mkdtempSync(join(tmpdir(), 'cloister-kms-harness-'))
  const local = await openLocalKms(directory, () => Date.now())
  await new Promise<void>((resolve) => local.server.listen(0, '127.0.0.1', resolve))
  const { port } = local.server.address() as AddressInfo
  const admin = createLocalKmsClient(local.state, port)
  const keyArn = await ensureEnclaveKey(admin)
  await pinEnclaveKeyPolicy(admin, keyArn, LOCAL_ACCOUNT_ID, measurements)
  const pki = await openSimPki(join(directory, 'sim'), Date.now())
  const configuration: KmsConfiguration = {
    keyArn,
    region: LOCAL_REGION,
    serverName: 'localhost',
    trustAnchors: [local.state.caPem],
  }
  const keys = generateEnclaveKeys()
  const relays: { close(): void }[] = []
  const nsm = (options: { debug?: boolean; measurements?: ImageMeasurements } = {}): Nsm => {
    const measured = options.measurements ?? measurements
    const simulated = createSimulatedNsm({
      pki,
      clock: () => Date.now(),
      random: (length) => new Uint8Array(randomBytes(length)),
      moduleId: 'i-0harness-enc0000000000000001',
      measurements: new Map([
        [0, measured.pcr0],
        [1, measured.pcr1],
        [2, measured.pcr2],
      ]),
      roleArn: undefined,
      instanceId: 'i-0harness',
      debug: options.debug ?? false,
    })
    return { request: (request) => simulated.handle(request) }
  }
  const relay = (wrap: (channel: Channel) => Channel = (channel) => channel) => {
    const [enclaveEnd, parentEnd] = createChannelPair()
    relays.push(serveRelay(parentEnd, { allowList: [{ host: 'localhost', port }] }))
    return createRelayConnector(wrap(enclaveEnd))
  }
  return {
    directory,
    port,
    state: local.state,
    pki,
    admin,
    configuration,
    measurements,
    keys,
    nsm,
    relay,
    attestedKms: (options = {}) =>
      createAttestedKms({
        configuration,
        access: {
          port,
          accessKeyId: local.state.accessKeyId,
          secretAccessKey: local.state.secretAccessKey,
        },
        relay: options.relay ?? relay(),
        nsm: options.nsm ?? nsm(),
        keys,
        sleep: () => Promise.resolve(),
        ...options,
      }),
    async close() {
      for (const served of relays) served.close()
      admin.destroy()
      await new Promise<void>((resolve) => {
        local.server.close(() => {
          resolve()
        })
        local.server.closeAllConnections()
      })
      local.close()
      rmSync(directory, { recursive: true, force: true })
    },
  }
}

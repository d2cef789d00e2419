/** Boots one enclave on the simulated Nitro host: PKI, bundle, measurement, NSM, sandbox, client. */

import { randomBytes } from 'node:crypto'
import type { ChildProcess } from 'node:child_process'
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { AWS_NITRO_ROOT_G1_PEM } from '../../shared/attestation/aws-nitro-root-g1.js'
import { sha256Hex } from '../../shared/attestation/trusted-roots.js'
import {
  encodeEnclaveConfiguration,
  type KmsConfiguration,
} from '../../shared/image/enclave-configuration.js'
import { CloisterError } from '../../shared/errors/cloister-error.js'
import { NSM_REQUEST_MAX_BYTES } from '../../shared/nsm/nsm-messages.js'
import { createFramedChannel } from '../../shared/protocol/framed-channel.js'
import { MAX_RELAY_FRAME_BYTES } from '../../shared/protocol/relay-messages.js'
import type { SandboxMode } from '../../shared/protocol/ops.js'
import { createEnclaveClient, type EnclaveClient } from '../host/enclave-client.js'
import { serveRelay, type RelayEndpoint } from '../relay/serve-relay.js'
import { buildEnclaveBundle } from './build-enclave-bundle.js'
import { measureImage, type ImageMeasurements } from './enclave-image.js'
import { launchEnclave } from './launch-enclave.js'
import { createSimulatedNsm, type SimulatedNsm } from './nsm/simulated-nsm.js'
import { serveNsm } from './nsm/serve-nsm.js'
import { openSimPki, type SimPki } from './sim-pki.js'

export interface SimulatedHostOptions {
  /** The state directory (`.cloister/` by default in the CLI). */
  readonly stateDirectory: string
  readonly sandbox: SandboxMode
  /** The enclave bundle; the project's own, freshly built, by default. */
  readonly bundle?: Uint8Array
  /** The host's clock for documents and the PKI. */
  readonly clock?: () => number
  readonly roleArn?: string
  readonly debug?: boolean
  /** How long to wait for the enclave's `ready` event, in ms. */
  readonly readyTimeoutMs?: number
  /** The KMS key and TLS trust of the enclave's key ring: part of the measured configuration. */
  readonly kms?: KmsConfiguration
  /** Where the relay may connect for the enclave (parent configuration, not measured). */
  readonly relayAllowList?: readonly RelayEndpoint[]
}

/** An enclave that said it is ready. */
export interface RunningEnclave {
  readonly client: EnclaveClient
  readonly measurements: ImageMeasurements
  readonly moduleId: string
  readonly pki: SimPki
  readonly process: ChildProcess
  /** Resolves when the enclave process has exited, whatever the reason. */
  readonly exited: Promise<void>
  /** Kills the enclave (SIGKILL: it holds no state worth a clean shutdown). */
  stop(): Promise<void>
}

const DEFAULT_READY_TIMEOUT_MS = 10_000

let runtimeMemo: { key: string; runtime: Uint8Array } | undefined

/** The runtime binary's bytes, read once per process unless the file changes. */
async function readRuntime(path: string): Promise<Uint8Array> {
  const info = await stat(path)
  // inode and ctime too: a same-size binary with its mtime restored is still a different file.
  const key = [path, info.dev, info.ino, info.size, info.mtimeMs, info.ctimeMs].join(':')
  if (runtimeMemo?.key !== key) runtimeMemo = { key, runtime: await readFile(path) }
  return runtimeMemo.runtime
}

/** An image ready to launch: built, written, configured and measured. */
export interface PreparedImage {
  readonly pki: SimPki
  readonly bundle: Uint8Array
  readonly bundlePath: string
  readonly configuration: Uint8Array
  readonly measurements: ImageMeasurements
  /** Stays the same for a state directory, like the EC2 instance of a real parent. */
  readonly instanceId: string
}

/**
 * Builds (or takes) the bundle, writes it under the state directory, makes the measured
 * configuration (trusted roots: AWS's and this host's; the sandbox mode; the KMS key and its TLS
 * trust anchors when given) and measures the image.
 */
export async function prepareImage(
  options: Pick<SimulatedHostOptions, 'stateDirectory' | 'sandbox' | 'bundle' | 'clock' | 'kms'>,
): Promise<PreparedImage> {
  const clock = options.clock ?? (() => Date.now())
  const pki = await openSimPki(join(options.stateDirectory, 'sim'), clock())
  const bundle = options.bundle ?? (await buildEnclaveBundle())
  const bundleDirectory = join(options.stateDirectory, 'enclave')
  await mkdir(bundleDirectory, { recursive: true, mode: 0o755 })
  const bundlePath = join(bundleDirectory, 'enclave.mjs')
  await writeFile(bundlePath, bundle, { mode: 0o644 })
  const configuration = encodeEnclaveConfiguration({
    version: 1,
    trustedRoots: [AWS_NITRO_ROOT_G1_PEM, pki.root.pem],
    sandbox: options.sandbox,
    ...(options.kms === undefined ? {} : { kms: options.kms }),
  })
  const runtime = await readRuntime(process.execPath)
  const measurements = measureImage({ runtime, bundle, configuration })
  const instanceId = `i-0${sha256Hex(pki.root.der).slice(0, 16)}`
  return { pki, bundle, bundlePath, configuration, measurements, instanceId }
}

/** The simulated NSM of a host that booted `image`, with a fresh module id. */
export function createHostNsm(
  image: PreparedImage,
  options: Pick<SimulatedHostOptions, 'clock' | 'roleArn' | 'debug'>,
): { readonly nsm: SimulatedNsm; readonly moduleId: string } {
  const moduleId = `${image.instanceId}-enc${randomBytes(8).toString('hex')}`
  const nsm = createSimulatedNsm({
    pki: image.pki,
    clock: options.clock ?? (() => Date.now()),
    random: (length) => new Uint8Array(randomBytes(length)),
    moduleId,
    measurements: new Map([
      [0, image.measurements.pcr0],
      [1, image.measurements.pcr1],
      [2, image.measurements.pcr2],
    ]),
    roleArn: options.roleArn,
    instanceId: image.instanceId,
    debug: options.debug ?? false,
  })
  return { nsm, moduleId }
}

/**
 * Measures the image and boots it: the NSM reports the measured PCR0–2 (zeros in debug mode), PCR3
 * from the role ARN and PCR4 from an instance id that stays the same for a state directory.
 *
 * @throws {CloisterError} `ERR_ENCLAVE_UNAVAILABLE` when the enclave exits or stays silent before
 *   it is ready.
 */
export async function startSimulatedEnclave(
  options: SimulatedHostOptions,
): Promise<RunningEnclave> {
  const image = await prepareImage(options)
  const { nsm, moduleId } = createHostNsm(image, options)
  const launched = launchEnclave({
    runtimePath: process.execPath,
    bundle: image.bundle,
    configuration: image.configuration,
    sandbox: options.sandbox,
    asRoot: process.getuid?.() === 0,
  })
  const { exited } = launched
  // The NSM takes requests of at most 4 KiB (nsm-api NSM_REQUEST_MAX_SIZE), one at a time.
  serveNsm(createFramedChannel(launched.nsmStream, NSM_REQUEST_MAX_BYTES), nsm)
  const client = createEnclaveClient(createFramedChannel(launched.parentStream))
  const relay = serveRelay(createFramedChannel(launched.relayStream, MAX_RELAY_FRAME_BYTES), {
    allowList: options.relayAllowList ?? [],
  })
  const stop = async () => {
    client.close()
    relay.close()
    launched.process.kill('SIGKILL')
    await exited
  }
  const ready = await new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => {
      resolve(false)
    }, options.readyTimeoutMs ?? DEFAULT_READY_TIMEOUT_MS)
    client.onEvent((event) => {
      if (event.event === 'ready') {
        clearTimeout(timer)
        resolve(true)
      }
    })
    void exited.then(() => {
      clearTimeout(timer)
      resolve(false)
    })
  })
  if (!ready) {
    await stop()
    throw new CloisterError('ERR_ENCLAVE_UNAVAILABLE')
  }
  return {
    client,
    measurements: image.measurements,
    moduleId,
    pki: image.pki,
    process: launched.process,
    exited,
    stop,
  }
}

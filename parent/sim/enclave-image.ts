/** The simulated enclave image: runtime, bundle, measured configuration and launch command, and its PCRs. */

import { createHash } from 'node:crypto'
import { asBytes } from '../../shared/bytes/bytes.js'
import { encodeCbor } from '../../shared/cbor/encode.js'
import { measureBytes } from '../../shared/attestation/pcr.js'

/** Where the sandbox shows the bundle to the runtime. */
export const BUNDLE_PATH_IN_SANDBOX = '/enclave/enclave.mjs'
/** Where the sandbox shows the runtime binary. */
export const RUNTIME_PATH_IN_SANDBOX = '/enclave/node'
/** V8 heap cap for the enclave, in MiB. */
export const ENCLAVE_HEAP_MIB = 256

/** Everything that makes up what runs in the enclave, as nitro-cli's EIF does. */
export interface EnclaveImage {
  /** The Node runtime binary (the EIF's kernel and init: PCR1). */
  readonly runtime: Uint8Array
  /** The enclave bundle (the EIF's application: PCR2). */
  readonly bundle: Uint8Array
  /** The measured configuration (`encodeEnclaveConfiguration`). */
  readonly configuration: Uint8Array
}

/** PCR0–2 of an image, each `SHA384(48 zero bytes ‖ SHA384(part))` as nitro-cli computes them. */
export interface ImageMeasurements {
  readonly pcr0: Uint8Array
  readonly pcr1: Uint8Array
  readonly pcr2: Uint8Array
}

/**
 * The runtime's arguments inside the sandbox: Node's permission model with file reads limited to
 * the bundle (a second belt inside bubblewrap), no code from strings, a capped heap, and the
 * configuration as the first argument of the program. Part of the measurement.
 */
export function launchArguments(configuration: Uint8Array): string[] {
  return [
    '--experimental-permission',
    `--allow-fs-read=${BUNDLE_PATH_IN_SANDBOX}`,
    '--disable-warning=ExperimentalWarning',
    '--disallow-code-generation-from-strings',
    `--max-old-space-size=${ENCLAVE_HEAP_MIB}`,
    BUNDLE_PATH_IN_SANDBOX,
    Buffer.from(configuration).toString('base64'),
  ]
}

const sha384 = (bytes: Uint8Array) => asBytes(createHash('sha384').update(bytes).digest())

/**
 * PCR1 measures the runtime, PCR2 the bundle, and PCR0 the whole image: a CBOR manifest of the
 * runtime's and bundle's digests, the configuration and the launch command. One changed byte in
 * any of them changes PCR0.
 */
export function measureImage(image: EnclaveImage): ImageMeasurements {
  const manifest = encodeCbor(
    new Map<string, Uint8Array | string | string[]>([
      ['format', 'cloister-enclave-image/1'],
      ['runtime', sha384(image.runtime)],
      ['bundle', sha384(image.bundle)],
      ['configuration', image.configuration],
      ['command', [RUNTIME_PATH_IN_SANDBOX, ...launchArguments(image.configuration)]],
    ]),
  )
  return {
    pcr0: measureBytes(manifest),
    pcr1: measureBytes(image.runtime),
    pcr2: measureBytes(image.bundle),
  }
}

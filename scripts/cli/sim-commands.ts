/** `cloister sim root` and `cloister sim attest`: the simulated host's root and test documents. */

import { parseArgs } from 'node:util'
import { join } from 'node:path'
import { openSimPki } from '../../parent/sim/sim-pki.js'
import { createHostNsm, prepareImage } from '../../parent/sim/start-simulated-enclave.js'
import { fromHex, toBase64 } from '../../shared/bytes/bytes.js'
import type { NsmRequest } from '../../shared/nsm/nsm-messages.js'
import { requestAttestation } from '../../enclave/nsm/nsm-calls.js'
import type { CliIo } from './cli-io.js'
import { sandboxOf, stateDirectoryOf } from './state-options.js'
import { readFailure, UsageError } from './usage-error.js'

export const SIM_ROOT_USAGE = `Usage: cloister sim root [--state DIR] [--out FILE]

Prints (or writes) the PEM root certificate of the simulated Nitro host, creating the host's PKI
under the state directory (.cloister/ by default) if it does not exist. Pin it with
"cloister attest verify --root FILE" to verify the host's documents.
`

export const SIM_ATTEST_USAGE = `Usage: cloister sim attest [options]

Issues an attestation document from the simulated NSM for the image measured from a bundle
(the project's own enclave bundle, built now, by default): a test vector for integrators.

Options:
  --state DIR             state directory (default .cloister/)
  --bundle FILE           measure this bundle instead of the project's own
  --sandbox MODE          bubblewrap (default), unshare or none: part of the measured image
  --public-key DER_FILE   public_key field (any bytes, up to 1024)
  --user-data HEX         user_data field
  --nonce HEX             nonce field
  --debug                 a debug-mode document: PCR0-2 read as zeros
  --out FILE              write the raw document here (default: base64 on stdout)
`

const MAX_FIELD_FILE_BYTES = 1024

/** Runs `sim root`. */
export async function runSimRoot(args: readonly string[], io: CliIo): Promise<number> {
  const { values } = parseArgs({
    args: [...args],
    options: { state: { type: 'string' }, out: { type: 'string' } },
    allowPositionals: false,
    strict: true,
  })
  const pki = await openSimPki(join(stateDirectoryOf(values.state), 'sim'), io.now())
  if (values.out === undefined) io.stdout(pki.root.pem)
  else await io.writeOutput(values.out, pki.root.pem)
  return 0
}

/** Runs `sim attest`. */
export async function runSimAttest(args: readonly string[], io: CliIo): Promise<number> {
  const { values } = parseArgs({
    args: [...args],
    options: {
      state: { type: 'string' },
      bundle: { type: 'string' },
      sandbox: { type: 'string' },
      'public-key': { type: 'string' },
      'user-data': { type: 'string' },
      nonce: { type: 'string' },
      debug: { type: 'boolean', default: false },
      out: { type: 'string' },
    },
    allowPositionals: false,
    strict: true,
  })
  const userData = hexOption('--user-data', values['user-data'])
  const nonce = hexOption('--nonce', values.nonce)
  const publicKey =
    values['public-key'] === undefined ? null : await readSmallFile(io, values['public-key'])
  const bundle = values.bundle === undefined ? undefined : await readBundle(io, values.bundle)
  const image = await prepareImage({
    stateDirectory: stateDirectoryOf(values.state),
    sandbox: sandboxOf(values.sandbox),
    clock: io.now,
    ...(bundle === undefined ? {} : { bundle }),
  })
  const { nsm } = createHostNsm(image, { clock: io.now, debug: values.debug })
  const port = { request: (request: NsmRequest) => nsm.handle(request) }
  const document = await requestAttestation(port, { userData, nonce, publicKey })
  if (values.out === undefined) io.stdout(`${toBase64(document)}\n`)
  else await io.writeOutput(values.out, document)
  return 0
}

function hexOption(name: string, value: string | undefined): Uint8Array | null {
  if (value === undefined) return null
  const bytes = fromHex(value)
  if (bytes === undefined) throw new UsageError(`${name} takes an even number of hex digits`)
  return bytes
}

async function readSmallFile(io: CliIo, path: string): Promise<Uint8Array> {
  let bytes: Uint8Array
  try {
    bytes = await io.readInput(path, MAX_FIELD_FILE_BYTES)
  } catch (error) {
    throw readFailure(path, error)
  }
  if (bytes.byteLength > MAX_FIELD_FILE_BYTES) {
    throw new UsageError(`${path} is larger than ${String(MAX_FIELD_FILE_BYTES)} bytes`)
  }
  return bytes
}

const MAX_BUNDLE_BYTES = 16 * 1024 * 1024 // 16 MiB

async function readBundle(io: CliIo, path: string): Promise<Uint8Array> {
  let bytes: Uint8Array
  try {
    bytes = await io.readInput(path, MAX_BUNDLE_BYTES)
  } catch (error) {
    throw readFailure(path, error)
  }
  if (bytes.byteLength > MAX_BUNDLE_BYTES) throw new UsageError(`${path} is larger than 16 MiB`)
  return bytes
}

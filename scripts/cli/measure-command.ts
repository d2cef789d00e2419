/** `cloister measure`: the PCRs of an enclave image, printed as nitro-cli prints them. */

import { parseArgs } from 'node:util'
import { prepareImage } from '../../parent/sim/start-simulated-enclave.js'
import { toHex } from '../../shared/bytes/bytes.js'
import type { CliIo } from './cli-io.js'
import { sandboxOf, stateDirectoryOf } from './state-options.js'
import { readFailure, UsageError } from './usage-error.js'

export const MEASURE_USAGE = `Usage: cloister measure [BUNDLE] [--state DIR] [--sandbox MODE]

Prints PCR0, PCR1 and PCR2 of the enclave image built from BUNDLE (the project's own enclave
bundle, built now, by default) as "nitro-cli describe-eif" does:
PCR1 measures the Node runtime, PCR2 the bundle, PCR0 the whole image (runtime, bundle, measured
configuration with this host's trusted roots, sandbox mode and launch command).
`

const MAX_BUNDLE_BYTES = 16 * 1024 * 1024 // 16 MiB

/** Runs `measure`. */
export async function runMeasure(args: readonly string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args: [...args],
    options: { state: { type: 'string' }, sandbox: { type: 'string' } },
    allowPositionals: true,
    strict: true,
  })
  const [path, ...extra] = positionals
  if (extra.length > 0) throw new UsageError('give at most one BUNDLE')
  let bundle: Uint8Array | undefined
  if (path !== undefined) {
    try {
      bundle = await io.readInput(path, MAX_BUNDLE_BYTES)
    } catch (error) {
      throw readFailure(path, error)
    }
    if (bundle.byteLength > MAX_BUNDLE_BYTES) throw new UsageError(`${path} is larger than 16 MiB`)
  }
  const { measurements } = await prepareImage({
    stateDirectory: stateDirectoryOf(values.state),
    sandbox: sandboxOf(values.sandbox),
    clock: io.now,
    ...(bundle === undefined ? {} : { bundle }),
  })
  const output = {
    Measurements: {
      HashAlgorithm: 'Sha384 { ... }',
      PCR0: toHex(measurements.pcr0),
      PCR1: toHex(measurements.pcr1),
      PCR2: toHex(measurements.pcr2),
    },
  }
  io.stdout(`${JSON.stringify(output, null, 2)}\n`)
  return 0
}

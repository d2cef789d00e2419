/** Options shared by the commands that work on the simulated host's state directory. */

import { resolve } from 'node:path'
import { SANDBOX_MODES, type SandboxMode } from '../../shared/protocol/ops.js'
import { UsageError } from './usage-error.js'

/** The state directory: `--state DIR`, or `.cloister/` in the working directory. */
export function stateDirectoryOf(option: string | undefined): string {
  return resolve(option ?? '.cloister')
}

/** `--sandbox MODE` for measurement: the image is measured as it would be launched. */
export function sandboxOf(option: string | undefined): SandboxMode {
  const mode = option ?? 'bubblewrap'
  const found = SANDBOX_MODES.find((candidate) => candidate === mode)
  if (found === undefined) {
    throw new UsageError(`--sandbox takes ${SANDBOX_MODES.join(', ')}, not "${mode}"`)
  }
  return found
}

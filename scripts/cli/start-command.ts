/** `cloister start`: boots the simulated Nitro host and a supervised, sandboxed enclave. */

import { parseArgs } from 'node:util'
import { startLocalStack } from '../../parent/local/start-local-stack.js'
import { hasBubblewrap } from '../../parent/sim/launch-enclave.js'
import { ERROR_CATALOG, type ErrorCode } from '../../shared/errors/catalog.js'
import { toHex } from '../../shared/bytes/bytes.js'
import type { SandboxMode } from '../../shared/protocol/ops.js'
import type { CliIo } from './cli-io.js'
import { stateDirectoryOf } from './state-options.js'

export const START_USAGE = `Usage: cloister start [--state DIR] [--no-sandbox]

Boots the simulated Nitro host: its PKI and NSM, the measured enclave image, and the enclave in a
bubblewrap sandbox (no network, no disk, uid 65534, no capabilities), supervised and restarted if
it dies. Runs until interrupted (Ctrl-C).

Options:
  --state DIR      state directory (default .cloister/)
  --no-sandbox     run the enclave without isolation, for debugging only (announced loudly,
                   reported by describe, and measured into a different PCR0)
`

/** Runs `start` until the process is asked to stop. */
export async function runStart(args: readonly string[], io: CliIo, hasSandbox = hasBubblewrap) {
  const { values } = parseArgs({
    args: [...args],
    options: { state: { type: 'string' }, 'no-sandbox': { type: 'boolean', default: false } },
    allowPositionals: false,
    strict: true,
  })
  const sandbox: SandboxMode = values['no-sandbox']
    ? 'none'
    : hasSandbox()
      ? 'bubblewrap'
      : 'unshare'
  if (sandbox === 'none') {
    io.stderr('WARNING: --no-sandbox: the enclave runs WITHOUT ANY ISOLATION. Debugging only.\n')
  } else if (sandbox === 'unshare') {
    io.stderr(
      'WARNING: bubblewrap is not installed: falling back to unshare + setpriv + the Node ' +
        'permission model. The host file system stays visible to the enclave. Install bubblewrap.\n',
    )
  }
  const stateDirectory = stateDirectoryOf(values.state)
  const report = (what: string) => (code: ErrorCode) => {
    io.stderr(`enclave: ${what}: ${code}: ${ERROR_CATALOG[code].message}\n`)
  }
  const stack = await startLocalStack({
    stateDirectory,
    sandbox,
    onStateChange: (state) => {
      io.stderr(`enclave: ${state}\n`)
    },
    onBootFailure: report('not ready'),
    onAuditRefused: report('audit record refused'),
  })
  const { supervisor } = stack
  io.stderr(
    `local KMS on https://localhost:${String(stack.kmsPort)}; enclave key ${stack.keyArn}` +
      (stack.policyUpdated ? ' (key policy pinned to the new measurements)' : '') +
      '\n',
  )
  await supervisor.whenReady()
  const { ring } = await supervisor.call('keys.list', {})
  const description = await supervisor.call('describe', {})
  io.stdout(
    [
      `enclave ready: ${description.moduleId}`,
      `  sandbox   ${description.sandbox}`,
      ...[...description.pcrs].map(
        ([index, value]) => `  PCR${String(index)}      ${toHex(value)}`,
      ),
      `  keys      ${String(ring.length)} versions loaded through attested KMS`,
      `  state     ${stateDirectory}`,
      '',
    ].join('\n'),
  )
  await io.waitForShutdown()
  await stack.stop()
  return 0
}

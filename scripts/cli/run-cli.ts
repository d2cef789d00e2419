/** The `cloister` command line: dispatches a subcommand and turns every outcome into an exit status. */

import { ATTEST_INSPECT_USAGE, runAttestInspect } from './attest-inspect.js'
import { ATTEST_VERIFY_USAGE, runAttestVerify } from './attest-verify.js'
import type { CliIo } from './cli-io.js'
import { KMS_SERVE_USAGE, runKmsServe } from './kms-serve-command.js'
import { MEASURE_USAGE, runMeasure } from './measure-command.js'
import { POLICY_USAGE, runPolicy } from './policy-command.js'
import { runSimAttest, runSimRoot, SIM_ATTEST_USAGE, SIM_ROOT_USAGE } from './sim-commands.js'
import { runStart, START_USAGE } from './start-command.js'
import { UsageError } from './usage-error.js'
import { ERROR_CATALOG } from '../../shared/errors/catalog.js'
import { isCloisterError } from '../../shared/errors/cloister-error.js'

export const USAGE = `Usage: cloister <command> [options]

Commands:
  start                  boot the simulated Nitro host and a sandboxed, supervised enclave
  attest verify FILE|-   verify a Nitro attestation document and a policy (exit 0, 1 or 2)
  attest inspect FILE|-  print a document's fields and certificates without verifying it
  measure [BUNDLE]       print the PCRs of an enclave image, as nitro-cli does
  kms serve              serve the local KMS (AWS KMS JSON protocol over HTTPS, SigV4)
  sim root               print the simulated host's root certificate
  sim attest             issue a document from the simulated NSM (a test vector)
  policy --pcr0 HEX      print a KMS key policy that releases keys only to that enclave

Run "cloister <command> --help" for the options of a command.
`

type Command = (args: readonly string[], io: CliIo) => Promise<number>

const COMMANDS: ReadonlyMap<string, { readonly run: Command; readonly usage: string }> = new Map([
  ['start', { run: (args, io) => runStart(args, io), usage: START_USAGE }],
  ['attest verify', { run: runAttestVerify, usage: ATTEST_VERIFY_USAGE }],
  ['attest inspect', { run: runAttestInspect, usage: ATTEST_INSPECT_USAGE }],
  ['measure', { run: runMeasure, usage: MEASURE_USAGE }],
  ['kms serve', { run: runKmsServe, usage: KMS_SERVE_USAGE }],
  ['sim root', { run: runSimRoot, usage: SIM_ROOT_USAGE }],
  ['sim attest', { run: runSimAttest, usage: SIM_ATTEST_USAGE }],
  ['policy', { run: runPolicy, usage: POLICY_USAGE }],
])

/** Exit statuses: 0 success, 1 rejected or failed, 2 usage error. */
export const EXIT_OK = 0
export const EXIT_REJECTED = 1
export const EXIT_USAGE = 2

/**
 * Runs `cloister` with `argv` (without the node and script paths) and returns the exit status.
 * Never throws: a usage error prints the usage, a catalog error its code, anything else a generic
 * line (details of unexpected errors are not printed, they may carry input).
 *
 * @example
 * ```ts
 * process.exitCode = await runCli(['attest', 'verify', 'doc.cose', '--at', 'document'], createProcessIo())
 * ```
 */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  // Commands are one word (`start`) or two (`attest verify`).
  const twoWords = argv.slice(0, 2).join(' ')
  const name = COMMANDS.has(twoWords) ? twoWords : (argv[0] ?? '')
  const command = COMMANDS.get(name)
  if (command === undefined) {
    const help = argv.length === 0 || argv[0] === '--help' || argv[0] === 'help'
    ;(help ? io.stdout : io.stderr)(USAGE)
    return help ? EXIT_OK : EXIT_USAGE
  }
  const args = argv.slice(name.split(' ').length)
  if (args.includes('--help')) {
    io.stdout(command.usage)
    return EXIT_OK
  }
  try {
    return await command.run(args, io)
  } catch (error) {
    if (error instanceof UsageError || isParseArgsError(error)) {
      io.stderr(`cloister ${name}: ${(error as Error).message}\n\n${command.usage}`)
      return EXIT_USAGE
    }
    if (isCloisterError(error)) {
      io.stdout(`rejected: ${error.code}: ${ERROR_CATALOG[error.code].message}\n`)
      return EXIT_REJECTED
    }
    io.stderr(`cloister ${name}: internal error\n`)
    return EXIT_REJECTED
  }
}

/** node:util parseArgs reports unknown options and missing values with ERR_PARSE_ARGS_* codes. */
function isParseArgsError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code
  return typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS_')
}

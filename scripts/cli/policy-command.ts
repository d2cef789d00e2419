/** `cloister policy`: prints the AWS KMS key policy that binds a key to an enclave's measurements. */

import { parseArgs } from 'node:util'
import {
  defaultEnclaveKeyPolicy,
  MEASUREMENT_HEX_PATTERN,
  type EnclaveMeasurements,
} from '../../parent/kms/policy/default-enclave-key-policy.js'
import { ACCOUNT_ID_PATTERN, parsePrincipalArn } from '../../parent/kms/policy/principal-arn.js'
import type { CliIo } from './cli-io.js'
import { UsageError } from './usage-error.js'

export const POLICY_USAGE = `Usage: cloister policy --pcr0 HEX [--pcr1 HEX] [--pcr2 HEX] [--pcr8 HEX]
                       [--principal ARN] [--account ID]

Prints an AWS KMS key policy (JSON, usable unchanged with PutKeyPolicy or CreateKey, and by the
local KMS) under which only an enclave with these measurements receives key material, always
encrypted to its attested public key (CiphertextForRecipient):

  --pcr0 HEX       the image measurement, kms:RecipientAttestation:ImageSha384 (required)
  --pcr1 HEX       also require this kernel and bootstrap measurement
  --pcr2 HEX       also require this application measurement
  --pcr8 HEX       also require this signing certificate measurement
  --principal ARN  the IAM role or user that calls KMS for the enclave (default: the account)
  --account ID     the 12-digit account that owns and administers the key
                   (default: the account of --principal)

Each HEX is 96 hex digits ("cloister measure" prints them). All-zero measurements are those of
a debug-mode enclave: they are refused (exit 1).
`

const PCR_OPTIONS = [
  ['pcr0', 0],
  ['pcr1', 1],
  ['pcr2', 2],
  ['pcr8', 8],
] as const

/** Runs `policy`; a usage or catalog error rejects the promise. */
export function runPolicy(args: readonly string[], io: CliIo): Promise<number> {
  return new Promise((resolve) => {
    resolve(printPolicy(args, io))
  })
}

/** Prints the policy the options describe and returns the exit status. */
function printPolicy(args: readonly string[], io: CliIo): number {
  const { values } = parseArgs({
    args: [...args],
    options: {
      pcr0: { type: 'string', multiple: true },
      pcr1: { type: 'string', multiple: true },
      pcr2: { type: 'string', multiple: true },
      pcr8: { type: 'string', multiple: true },
      principal: { type: 'string', multiple: true },
      account: { type: 'string', multiple: true },
    },
    allowPositionals: false,
    strict: true,
  })
  const pcrs: Partial<Record<0 | 1 | 2 | 8, string>> = {}
  for (const [name, index] of PCR_OPTIONS) {
    const hex = once(name, values[name])
    if (hex === undefined) continue
    if (!MEASUREMENT_HEX_PATTERN.test(hex)) throw new UsageError(`--${name} takes 96 hex digits`)
    pcrs[index] = hex
  }
  const pcr0 = pcrs[0]
  if (pcr0 === undefined) throw new UsageError('--pcr0 is required')
  const principal = once('principal', values.principal)
  const caller = principal === undefined ? undefined : parsePrincipalArn(principal)
  if (principal !== undefined && caller === undefined) {
    throw new UsageError('--principal takes an IAM role, user or root ARN, or an assumed-role ARN')
  }
  const accountId = once('account', values.account) ?? caller?.account
  if (accountId === undefined) throw new UsageError('--account is required without --principal')
  if (!ACCOUNT_ID_PATTERN.test(accountId)) throw new UsageError('--account takes 12 digits')
  const measurements: EnclaveMeasurements = { ...pcrs, 0: pcr0 }
  const policy = defaultEnclaveKeyPolicy({
    accountId,
    ...(principal === undefined ? {} : { principal }),
    pcrs: measurements,
  })
  io.stdout(`${JSON.stringify(policy, null, 2)}\n`)
  return 0
}

/** The value of an option given at most once. */
function once(name: string, given: readonly string[] | undefined): string | undefined {
  if (given !== undefined && given.length > 1) throw new UsageError(`--${name} is given twice`)
  return given?.[0]
}

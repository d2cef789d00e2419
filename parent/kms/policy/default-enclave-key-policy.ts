/** Writes the key policy that lets only an enclave with given measurements use a KMS key. */

import { CloisterError } from '../../../shared/errors/cloister-error.js'
import { KEY_POLICY_VERSION, type Effect } from './key-policy.js'
import { ACCOUNT_ID_PATTERN, accountRootArn, parsePrincipalArn } from './principal-arn.js'

/** A PCR as nitro-cli prints it: SHA-384, 48 bytes = 96 hex digits, either case. */
export const MEASUREMENT_HEX_PATTERN = /^[0-9a-fA-F]{96}$/

/** The measurements a key is bound to; PCR0 is required (nitro-cli "describe-eif" names). */
export interface EnclaveMeasurements {
  /** The image (`kms:RecipientAttestation:ImageSha384`). */
  readonly 0: string
  /** Kernel and bootstrap (`kms:RecipientAttestation:PCR1`). */
  readonly 1?: string
  /** The application (`kms:RecipientAttestation:PCR2`). */
  readonly 2?: string
  /** The image signing certificate (`kms:RecipientAttestation:PCR8`). */
  readonly 8?: string
}

export interface EnclaveKeyPolicyOptions {
  /** The account that owns the key; its root principal administers it. */
  readonly accountId: string
  /** Who may call KMS for the enclave (the parent's IAM role); the account itself by default. */
  readonly principal?: string
  readonly pcrs: EnclaveMeasurements
}

/** One statement of the generated policy, in AWS's JSON shape. */
export interface KeyPolicyStatementJson {
  readonly Sid: string
  readonly Effect: Effect
  readonly Principal: '*' | { readonly AWS: string }
  readonly Action: readonly string[]
  readonly Resource: '*'
  readonly Condition?: Readonly<Record<string, Readonly<Record<string, string>>>>
}

/** A key policy document in AWS's JSON shape, ready for `JSON.stringify` and PutKeyPolicy. */
export interface KeyPolicyJson {
  readonly Version: typeof KEY_POLICY_VERSION
  readonly Statement: readonly KeyPolicyStatementJson[]
}

// AWS KMS Developer Guide "Default key policy" § "Allows key administrators to administer the KMS
// key", less kms:Create* (it includes CreateGrant: a grant could allow Decrypt with no
// attestation condition) and with no cryptographic operation. "AWS KMS condition keys for AWS
// Nitro Enclaves" warns that the default "kms:*" for the account allows Decrypt: conditions on
// the enclave's Allow cannot narrow another Allow, so the account must not hold one.
const ADMINISTRATION_ACTIONS = [
  'kms:CreateAlias',
  'kms:Describe*',
  'kms:Enable*',
  'kms:List*',
  'kms:Put*',
  'kms:Update*',
  'kms:Revoke*',
  'kms:Disable*',
  'kms:Get*',
  'kms:Delete*',
  'kms:TagResource',
  'kms:UntagResource',
  'kms:ScheduleKeyDeletion',
  'kms:CancelKeyDeletion',
  'kms:RotateKeyOnDemand',
] as const

// "AWS KMS condition keys for AWS Nitro Enclaves": the operations that take a Recipient.
const ENCLAVE_ACTIONS = ['kms:Decrypt', 'kms:GenerateDataKey', 'kms:GenerateRandom'] as const
const RELEASING_ACTIONS = ['kms:Decrypt', 'kms:GenerateDataKey'] as const

// "AWS KMS condition keys for AWS Nitro Enclaves": ImageSha384 is PCR0; PCR<N> for the others.
const IMAGE_KEY = 'kms:RecipientAttestation:ImageSha384'
const PCR_KEYS = [
  [0, IMAGE_KEY],
  [1, 'kms:RecipientAttestation:PCR1'],
  [2, 'kms:RecipientAttestation:PCR2'],
  [8, 'kms:RecipientAttestation:PCR8'],
] as const

/**
 * The key policy for a key only an attested enclave may use, as the AWS KMS Developer Guide
 * "AWS KMS condition keys for AWS Nitro Enclaves" writes it, in three statements:
 *
 * 1. The account's root principal administers the key (describe, enable/disable, policy, aliases,
 *    tags, rotation, deletion) but holds no cryptographic operation and cannot create grants.
 * 2. `principal` (the account by default) may call Decrypt, GenerateDataKey and GenerateRandom
 *    when the request's attestation document carries these measurements
 *    (`StringEqualsIgnoreCase` on `kms:RecipientAttestation:ImageSha384` and `…:PCR<N>`).
 * 3. Everyone is denied Decrypt and GenerateDataKey when the request carries no attestation
 *    document (`Null` on `kms:RecipientAttestation:ImageSha384`): plaintext never leaves KMS
 *    outside a `CiphertextForRecipient`, whatever an IAM policy grants.
 *
 * On AWS, GenerateRandom is authorized by IAM policies, not key policies; it is listed so the
 * statement reads the same on both. Measurements are written in lower case.
 *
 * Throws `ERR_KMS_POLICY_PRINCIPAL_INVALID` for an account ID that is not 12 digits or a principal
 * that is not an IAM/STS ARN; `ERR_KMS_POLICY_PCR_INVALID` for a measurement that is not 96 hex
 * digits; `ERR_KMS_POLICY_DEBUG_PCR` for an all-zero measurement (a debug-mode enclave reports
 * zero PCR0–2, so such a condition would admit any enclave run in debug mode).
 *
 * @example
 * ```ts
 * const policy = defaultEnclaveKeyPolicy({
 *   accountId: '111122223333',
 *   principal: 'arn:aws:iam::111122223333:role/cloister-parent',
 *   pcrs: { 0: measurements.pcr0Hex, 8: signingCertificatePcrHex },
 * })
 * await kms.putKeyPolicy({ KeyId, PolicyName: 'default', Policy: JSON.stringify(policy) })
 * ```
 */
export function defaultEnclaveKeyPolicy(options: EnclaveKeyPolicyOptions): KeyPolicyJson {
  const { accountId, principal, pcrs } = options
  if (!ACCOUNT_ID_PATTERN.test(accountId)) {
    throw new CloisterError('ERR_KMS_POLICY_PRINCIPAL_INVALID')
  }
  const caller = principal === undefined ? undefined : parsePrincipalArn(principal)
  if (principal !== undefined && caller === undefined) {
    throw new CloisterError('ERR_KMS_POLICY_PRINCIPAL_INVALID')
  }
  const root = accountRootArn(accountId, caller?.partition)
  const measurements: Record<string, string> = {}
  for (const [index, key] of PCR_KEYS) {
    const hex = pcrs[index]
    if (hex === undefined && index !== 0) continue
    // PCR0 is required: without it the enclave's Allow would not name an image at all.
    if (hex === undefined || !MEASUREMENT_HEX_PATTERN.test(hex)) {
      throw new CloisterError('ERR_KMS_POLICY_PCR_INVALID')
    }
    if (/^0+$/.test(hex)) throw new CloisterError('ERR_KMS_POLICY_DEBUG_PCR')
    measurements[key] = hex.toLowerCase()
  }
  return {
    Version: KEY_POLICY_VERSION,
    Statement: [
      {
        Sid: 'Allow administration of the key by the account',
        Effect: 'Allow',
        Principal: { AWS: root },
        Action: ADMINISTRATION_ACTIONS,
        Resource: '*',
      },
      {
        Sid: 'Allow use of the key only by the attested enclave',
        Effect: 'Allow',
        Principal: { AWS: principal ?? root },
        Action: ENCLAVE_ACTIONS,
        Resource: '*',
        Condition: { StringEqualsIgnoreCase: measurements },
      },
      {
        Sid: 'Deny plaintext to requests without an attested recipient',
        Effect: 'Deny',
        Principal: '*',
        Action: RELEASING_ACTIONS,
        Resource: '*',
        Condition: { Null: { [IMAGE_KEY]: 'true' } },
      },
    ],
  }
}

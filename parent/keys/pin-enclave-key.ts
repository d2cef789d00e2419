/** The deployment step before a rollout: the enclave's KMS key exists and its policy admits exactly the new measurements. */

import {
  CreateAliasCommand,
  CreateKeyCommand,
  DescribeKeyCommand,
  GetKeyPolicyCommand,
  PutKeyPolicyCommand,
  type KMSClient,
} from '@aws-sdk/client-kms'
import { toHex } from '../../shared/bytes/bytes.js'
import type { ImageMeasurements } from '../sim/enclave-image.js'
import { defaultEnclaveKeyPolicy } from '../kms/policy/default-enclave-key-policy.js'

/** The alias of the enclave's key in the local KMS. */
export const ENCLAVE_KEY_ALIAS = 'alias/cloister-enclave'

/**
 * The ARN of the key behind `alias`, creating both on first use. A new key starts with KMS's
 * default policy; {@link pinEnclaveKeyPolicy} narrows it before any data key exists.
 */
export async function ensureEnclaveKey(kms: KMSClient, alias = ENCLAVE_KEY_ALIAS): Promise<string> {
  try {
    const { KeyMetadata } = await kms.send(new DescribeKeyCommand({ KeyId: alias }))
    return KeyMetadata?.Arn as string
  } catch (error) {
    if ((error as { name?: unknown }).name !== 'NotFoundException') throw error
  }
  const { KeyMetadata } = await kms.send(
    new CreateKeyCommand({ Description: 'Cloister enclave key ring (local)' }),
  )
  const arn = KeyMetadata?.Arn as string
  await kms.send(new CreateAliasCommand({ AliasName: alias, TargetKeyId: arn }))
  return arn
}

/**
 * Writes the policy of `cloister policy` for these measurements (PCR0, PCR1 and PCR2) on `keyArn`,
 * unless it is already there, and says whether it changed. A rollout of a new image must do this
 * first: until then KMS refuses the new enclave (`AccessDeniedException`), and afterwards it
 * refuses the old one.
 */
export async function pinEnclaveKeyPolicy(
  kms: KMSClient,
  keyArn: string,
  accountId: string,
  measurements: ImageMeasurements,
): Promise<boolean> {
  const policy = JSON.stringify(
    defaultEnclaveKeyPolicy({
      accountId,
      pcrs: {
        0: toHex(measurements.pcr0),
        1: toHex(measurements.pcr1),
        2: toHex(measurements.pcr2),
      },
    }),
  )
  const current = await kms.send(new GetKeyPolicyCommand({ KeyId: keyArn, PolicyName: 'default' }))
  if (current.Policy === policy) return false
  await kms.send(new PutKeyPolicyCommand({ KeyId: keyArn, PolicyName: 'default', Policy: policy }))
  return true
}

/** AWS KMS's default key policy: the account's root may do everything with the key. */

/**
 * The policy AWS KMS gives a key created without one ("Default key policy", statement "Enable IAM
 * User Permissions"). Keys for enclaves get `defaultEnclaveKeyPolicy` instead, which pins
 * measurements; this one is for keys an operator manages by hand.
 */
export function accountDefaultKeyPolicy(accountId: string): string {
  return JSON.stringify({
    Version: '2012-10-17',
    Id: 'key-default-1',
    Statement: [
      {
        Sid: 'Enable IAM User Permissions',
        Effect: 'Allow',
        Principal: { AWS: `arn:aws:iam::${accountId}:root` },
        Action: 'kms:*',
        Resource: '*',
      },
    ],
  })
}

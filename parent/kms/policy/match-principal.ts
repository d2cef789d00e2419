/** Decides whether the principal that made a request is one a key policy statement names. */

import { ACCOUNT_ID_PATTERN, parsePrincipalArn } from './principal-arn.js'

/**
 * Whether `requester` (the ARN of the caller) is `named` (one value of a statement's Principal),
 * following IAM User Guide "AWS JSON policy elements: Principal":
 *
 * - `*` names everyone.
 * - A 12-digit account ID, or that account's `root` ARN, names every principal of the account
 *   ("AWS account principals"). There is no IAM here to narrow it further, so a local stand-in
 *   treats the account's own principals as allowed by such a statement.
 * - A role ARN also names every session of that role, `arn:…:sts::ACCOUNT:assumed-role/NAME/…`
 *   ("Role session principals"); the session ARN carries the role name without its path.
 * - Any other ARN names exactly itself, compared with regard to case.
 */
export function matchPrincipal(named: string, requester: string): boolean {
  if (named === '*') return true
  const caller = parsePrincipalArn(requester)
  if (ACCOUNT_ID_PATTERN.test(named)) return caller?.account === named
  if (named === requester) return true
  const policy = parsePrincipalArn(named)
  if (policy === undefined || caller === undefined) return false
  if (policy.partition !== caller.partition || policy.account !== caller.account) return false
  if (policy.resource === 'root') return true
  if (!policy.resource.startsWith('role/') || caller.service !== 'sts') return false
  const roleName = policy.resource.slice(policy.resource.lastIndexOf('/') + 1)
  return caller.resource.startsWith(`assumed-role/${roleName}/`)
}

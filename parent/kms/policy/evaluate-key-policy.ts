/** Decides whether a key policy allows one request, with AWS's precedence of explicit Deny over Allow. */

import { evaluateCondition } from './evaluate-condition.js'
import type { KeyPolicy, PolicyStatement } from './key-policy.js'
import { matchPrincipal } from './match-principal.js'
import { matchWildcard } from './match-wildcard.js'
import { createContextLookup, type ContextLookup, type RequestContext } from './request-context.js'

/** What a request asks of a key, as the key policy sees it. */
export interface PolicyRequest {
  /** The caller's ARN (`arn:aws:sts::111122223333:assumed-role/parent/i-0abc`). */
  readonly principal: string
  /** The operation, `kms:Decrypt`. */
  readonly action: string
  /** The key's ARN. */
  readonly resource: string
  /**
   * The request context: `kms:RecipientAttestation:ImageSha384` and `…:PCR<N>` (lower-case hex)
   * when the request carries a verified attestation document, `kms:EncryptionContext:<key>`,
   * `kms:EncryptionContextKeys` (a set), `aws:SecureTransport` (a boolean)…
   */
  readonly context: RequestContext
}

/** `'deny'` is an explicit Deny; `'implicit-deny'` means no statement allowed the request. */
export type PolicyDecision = 'allow' | 'deny' | 'implicit-deny'

/**
 * The key policy's decision on `request`. IAM User Guide "Policy evaluation logic" § "Determining
 * whether a request is allowed or denied within an account": an explicit Deny in any applicable
 * statement wins; otherwise an applicable Allow allows; otherwise the request is implicitly
 * denied. A statement applies when its principal, action and resource match the request and every
 * condition holds ("Conditions with multiple context keys or values": operators and keys AND'ed).
 * Conditions therefore only ever narrow the statement they sit in: a condition on an Allow cannot
 * take away what another Allow grants, only a Deny can.
 *
 * Throws `ERR_KMS_POLICY_CONTEXT_AMBIGUOUS` when a condition tests a key that the context holds
 * twice in different letter cases (see `createContextLookup`).
 *
 * @example
 * ```ts
 * const policy = parseKeyPolicy(text)
 * const decision = evaluateKeyPolicy(policy, {
 *   principal: 'arn:aws:iam::111122223333:role/parent',
 *   action: 'kms:Decrypt',
 *   resource: keyArn,
 *   context: new Map([['kms:RecipientAttestation:ImageSha384', pcr0Hex]]),
 * })
 * if (decision !== 'allow') throw new CloisterError('…')
 * ```
 */
export function evaluateKeyPolicy(policy: KeyPolicy, request: PolicyRequest): PolicyDecision {
  const lookup = createContextLookup(request.context)
  let allowed = false
  for (const statement of policy.statements) {
    if (!statementApplies(statement, request, lookup)) continue
    if (statement.effect === 'Deny') return 'deny'
    allowed = true
  }
  return allowed ? 'allow' : 'implicit-deny'
}

/** Whether `statement` covers `request`: principal, action, resource, then every condition. */
function statementApplies(
  statement: PolicyStatement,
  request: PolicyRequest,
  lookup: ContextLookup,
): boolean {
  return (
    statement.principals.some((named) => matchPrincipal(named, request.principal)) &&
    // "IAM JSON policy elements: Action": action names are case-insensitive.
    statement.actions.some((pattern) => matchWildcard(pattern, request.action, true)) &&
    // "IAM JSON policy elements: Resource": ARNs are case-sensitive.
    statement.resources.some((pattern) => matchWildcard(pattern, request.resource, false)) &&
    statement.conditions.every((condition) => evaluateCondition(condition, lookup(condition.key)))
  )
}

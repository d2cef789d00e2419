/** The parsed form of an AWS KMS key policy: what `parseKeyPolicy` returns and the evaluator reads. */

/** IAM User Guide "IAM JSON policy elements: Version": the current policy language version. */
export const KEY_POLICY_VERSION = '2012-10-17'

/** AWS KMS Developer Guide "Quotas" § "Key policy document size": 32 KiB (32,768 bytes). */
export const MAX_KEY_POLICY_BYTES = 32 * 1024 // 32 KiB

/** IAM User Guide "IAM JSON policy elements: Effect". */
export type Effect = 'Allow' | 'Deny'

/**
 * The condition operators this evaluator implements (IAM User Guide "IAM JSON policy elements:
 * Condition operators"): a closed set, so a policy using any other operator is refused instead of
 * being half understood.
 */
export const CONDITION_OPERATORS = [
  'StringEquals',
  'StringNotEquals',
  'StringEqualsIgnoreCase',
  'StringLike',
  'Null',
  'Bool',
] as const

/** One of {@link CONDITION_OPERATORS}. */
export type ConditionOperator = (typeof CONDITION_OPERATORS)[number]

/** IAM User Guide "Set operators for multivalued context keys". */
export const SET_OPERATORS = ['ForAnyValue', 'ForAllValues'] as const

/** One of {@link SET_OPERATORS}. */
export type SetOperator = (typeof SET_OPERATORS)[number]

/** One context key tested by one operator: `{"StringLike": {"kms:EncryptionContext:app": "a*"}}`. */
export interface PolicyCondition {
  readonly operator: ConditionOperator
  /** Present when the operator was written `ForAnyValue:…` or `ForAllValues:…`. */
  readonly setOperator?: SetOperator
  /** The context key as written; it is compared without regard to case. */
  readonly key: string
  /** The policy values, OR'ed (NOR'ed for a negated operator); `"true"`/`"false"` for Null and Bool. */
  readonly values: readonly string[]
}

/** One statement; every list is non-empty and `'*'` stands for "any". */
export interface PolicyStatement {
  readonly sid?: string
  readonly effect: Effect
  /** `'*'`, 12-digit account IDs or IAM/STS principal ARNs. */
  readonly principals: readonly string[]
  /** Action patterns (`kms:Decrypt`, `kms:Generate*`, `*`), matched without regard to case. */
  readonly actions: readonly string[]
  /** Resource patterns (`*` or ARNs with `*` and `?`), matched with regard to case. */
  readonly resources: readonly string[]
  /** AND'ed; empty when the statement has no Condition element. */
  readonly conditions: readonly PolicyCondition[]
}

/** A key policy that `parseKeyPolicy` accepted, statements in document order. */
export interface KeyPolicy {
  readonly id?: string
  readonly statements: readonly PolicyStatement[]
}

/** Decides one key policy condition (one operator on one context key) against the request's value. */

import type { PolicyCondition } from './key-policy.js'
import { matchWildcard } from './match-wildcard.js'
import type { ContextValue } from './request-context.js'

/**
 * Whether `condition` holds for `value`, the request's value of its key (`undefined` when the
 * request lacks the key). Rules, from the IAM User Guide:
 *
 * - "Condition operators" § "String condition operators": StringEquals and StringNotEquals compare
 *   exactly, StringEqualsIgnoreCase without regard to case, StringLike with `*` and `?`.
 * - "Conditions with multiple context keys or values": the policy values of one key are OR'ed;
 *   for the negated StringNotEquals they are NOR'ed (the request value equals none of them).
 * - "Condition operators" (the note at the top): a key absent from the request makes the values
 *   not match, so the condition is false, except for a negated operator (StringNotEquals), which
 *   is then true; Null tests presence itself.
 * - "Single-valued vs. multivalued context keys": a multivalued key needs a set operator. Without
 *   one, a set of values is not a value: it is treated like an absent key (no value matches).
 * - "Set operators for multivalued context keys": `ForAnyValue:` holds when at least one request
 *   value satisfies the operator (never for an empty or absent set); `ForAllValues:` holds when
 *   every request value does, and so also when the set is empty or absent. A single string is a
 *   set of one.
 * - "Condition operators" § "Condition operator to check existence of condition keys": Null
 *   `"true"` holds when the key is absent (or an empty set), `"false"` when it is present.
 * - § "Boolean condition operators": Bool compares a boolean (or the string `true`/`false`, in any
 *   case) with the policy's `true`/`false`; anything else does not match.
 *
 * A boolean request value reads as the string `true` or `false` under the string operators.
 */
export function evaluateCondition(
  condition: PolicyCondition,
  value: ContextValue | undefined,
): boolean {
  const { operator, setOperator, values } = condition
  switch (operator) {
    case 'Null': {
      const absent = value === undefined || (Array.isArray(value) && value.length === 0)
      return values.some((wanted) => (wanted === 'true') === absent)
    }
    case 'Bool': {
      const given = booleanOf(value)
      return given !== undefined && values.some((wanted) => (wanted === 'true') === given)
    }
    case 'StringEquals':
    case 'StringNotEquals':
    case 'StringEqualsIgnoreCase':
    case 'StringLike': {
      const negated = operator === 'StringNotEquals'
      const holds = (given: string) =>
        negated !== values.some((wanted) => compareString(operator, wanted, given))
      if (setOperator === undefined) {
        const single = singleStringOf(value)
        return single === undefined ? negated : holds(single)
      }
      const all = stringSetOf(value)
      return setOperator === 'ForAnyValue' ? all.some(holds) : all.every(holds)
    }
  }
}

/** Whether `given` (from the request) matches `wanted` (from the policy) under a string operator. */
function compareString(
  operator: 'StringEquals' | 'StringNotEquals' | 'StringEqualsIgnoreCase' | 'StringLike',
  wanted: string,
  given: string,
): boolean {
  switch (operator) {
    case 'StringEquals':
    case 'StringNotEquals':
      return wanted === given
    case 'StringEqualsIgnoreCase':
      return wanted.toLowerCase() === given.toLowerCase()
    case 'StringLike':
      return matchWildcard(wanted, given, false)
  }
}

/** The value as one string, or `undefined` for an absent key or a set of values. */
function singleStringOf(value: ContextValue | undefined): string | undefined {
  if (typeof value === 'boolean') return String(value)
  return typeof value === 'string' ? value : undefined
}

/** The value as a set of strings: empty for an absent key, one element for a single value. */
function stringSetOf(value: ContextValue | undefined): readonly string[] {
  if (value === undefined) return []
  if (typeof value === 'string' || typeof value === 'boolean') return [String(value)]
  return value
}

/** The value as a boolean, or `undefined` when it is not one. */
function booleanOf(value: ContextValue | undefined): boolean | undefined {
  if (typeof value === 'boolean') return value
  if (typeof value !== 'string') return undefined
  const lower = value.toLowerCase()
  return lower === 'true' ? true : lower === 'false' ? false : undefined
}

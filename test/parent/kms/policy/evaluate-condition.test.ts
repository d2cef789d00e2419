/** One condition against one request value: each operator, set operators, absent keys and sets. */

import t from 'tap'
import { evaluateCondition } from '../../../../parent/kms/policy/evaluate-condition.js'
import type { PolicyCondition } from '../../../../parent/kms/policy/key-policy.js'
import type { ContextValue } from '../../../../parent/kms/policy/request-context.js'

const KEY = 'kms:EncryptionContextKeys'

function condition(name: string, values: readonly string[]): PolicyCondition {
  const [first, second] = name.split(':') as [string, string | undefined]
  return second === undefined
    ? ({ operator: first, key: KEY, values } as PolicyCondition)
    : ({ operator: second, setOperator: first, key: KEY, values } as PolicyCondition)
}

// [operator as written in a policy, policy values, request value, expected, why]
type Case = [string, readonly string[], ContextValue | undefined, boolean, string]

const CASES: readonly Case[] = [
  // StringEquals: exact and case-sensitive; policy values OR'ed.
  ['StringEquals', ['tenant'], 'tenant', true, 'equal'],
  ['StringEquals', ['tenant'], 'Tenant', false, 'case matters'],
  ['StringEquals', ['a', 'tenant'], 'tenant', true, 'values are OR-ed'],
  ['StringEquals', ['ten*'], 'tenant', false, 'no wildcards'],
  ['StringEquals', ['tenant'], undefined, false, 'absent key: the values do not match'],
  ['StringEquals', ['tenant'], ['tenant'], false, 'a set needs a set operator'],
  ['StringEquals', ['true'], true, true, 'booleans read as true/false'],
  ['StringEquals', ['false'], false, true, 'booleans read as true/false'],
  // StringNotEquals: negated, values NOR'ed, true when the key is absent.
  ['StringNotEquals', ['tenant'], 'other', true, 'differs'],
  ['StringNotEquals', ['tenant'], 'tenant', false, 'equal'],
  ['StringNotEquals', ['a', 'b'], 'b', false, 'values are NOR-ed'],
  ['StringNotEquals', ['a', 'b'], 'c', true, 'equals none'],
  ['StringNotEquals', ['tenant'], 'TENANT', true, 'case matters'],
  ['StringNotEquals', ['tenant'], undefined, true, 'absent key: negated operator holds'],
  ['StringNotEquals', ['tenant'], ['tenant'], true, 'a set is no value: negated holds'],
  // StringEqualsIgnoreCase.
  ['StringEqualsIgnoreCase', ['ABCDEF'], 'abcdef', true, 'case ignored'],
  ['StringEqualsIgnoreCase', ['abc'], 'abcd', false, 'still whole value'],
  ['StringEqualsIgnoreCase', ['abc'], undefined, false, 'absent key'],
  // StringLike: * and ?, case-sensitive.
  ['StringLike', ['ten*'], 'tenant', true, 'prefix'],
  ['StringLike', ['t?nant'], 'tenant', true, 'one character'],
  ['StringLike', ['Ten*'], 'tenant', false, 'case matters'],
  ['StringLike', ['x*', '*ant'], 'tenant', true, 'values are OR-ed'],
  ['StringLike', ['*'], undefined, false, 'absent key: even * does not match'],
  // ForAnyValue: at least one request value satisfies the operator; never for an empty set.
  ['ForAnyValue:StringEquals', ['tenant'], ['purpose', 'tenant'], true, 'one matches'],
  ['ForAnyValue:StringEquals', ['tenant'], ['purpose'], false, 'none matches'],
  ['ForAnyValue:StringEquals', ['tenant'], [], false, 'empty set'],
  ['ForAnyValue:StringEquals', ['tenant'], undefined, false, 'absent set'],
  ['ForAnyValue:StringEquals', ['tenant'], 'tenant', true, 'a single value is a set of one'],
  ['ForAnyValue:StringEquals', ['true'], true, true, 'a boolean is a set of one'],
  ['ForAnyValue:StringLike', ['ten*'], ['purpose', 'tenant-id'], true, 'wildcards'],
  ['ForAnyValue:StringEqualsIgnoreCase', ['TENANT'], ['tenant'], true, 'case ignored'],
  ['ForAnyValue:StringNotEquals', ['tenant'], ['tenant', 'purpose'], true, 'one is not tenant'],
  ['ForAnyValue:StringNotEquals', ['tenant'], ['tenant'], false, 'all are tenant'],
  ['ForAnyValue:StringNotEquals', ['tenant'], [], false, 'empty set'],
  // ForAllValues: every request value satisfies the operator; true for an empty or absent set.
  ['ForAllValues:StringEquals', ['tenant', 'purpose'], ['purpose', 'tenant'], true, 'subset'],
  ['ForAllValues:StringEquals', ['tenant'], ['purpose', 'tenant'], false, 'not a subset'],
  ['ForAllValues:StringEquals', ['tenant'], [], true, 'empty set: vacuously true'],
  ['ForAllValues:StringEquals', ['tenant'], undefined, true, 'absent set: vacuously true'],
  ['ForAllValues:StringLike', ['key1*'], ['key1:hr', 'key1:personnel'], true, 'all match'],
  ['ForAllValues:StringLike', ['key1*'], ['key1:hr', 'key2:audit'], false, 'one does not match'],
  // The IAM User Guide example "Deny policy with condition set operator ForAllValues".
  ['ForAllValues:StringNotEquals', ['key1'], ['key1'], false, 'IAM example: no match'],
  ['ForAllValues:StringNotEquals', ['key1'], ['key2'], true, 'IAM example: match'],
  ['ForAllValues:StringNotEquals', ['key1'], ['key1', 'key2'], false, 'one is key1'],
  ['ForAllValues:StringNotEquals', ['key1'], undefined, true, 'IAM example: absent matches'],
  // Null: "true" holds when the key is absent (or an empty set), "false" when present.
  ['Null', ['true'], undefined, true, 'absent'],
  ['Null', ['true'], [], true, 'empty set is no value'],
  ['Null', ['true'], 'x', false, 'present'],
  ['Null', ['true'], '', false, 'an empty string is a value'],
  ['Null', ['true'], false, false, 'false is a value'],
  ['Null', ['false'], 'x', true, 'present'],
  ['Null', ['false'], ['x'], true, 'a set is present'],
  ['Null', ['false'], undefined, false, 'absent'],
  ['Null', ['true', 'false'], undefined, true, 'values are OR-ed'],
  // Bool.
  ['Bool', ['true'], true, true, 'true'],
  ['Bool', ['true'], false, false, 'false'],
  ['Bool', ['false'], false, true, 'false'],
  ['Bool', ['true'], 'TRUE', true, 'a string true in any case'],
  ['Bool', ['false'], 'False', true, 'a string false in any case'],
  ['Bool', ['true'], 'yes', false, 'not a boolean'],
  ['Bool', ['true'], undefined, false, 'absent'],
  ['Bool', ['true'], ['true'], false, 'a set is not a boolean'],
  ['Bool', ['true', 'false'], false, true, 'values are OR-ed'],
]

t.test('condition table', (t) => {
  for (const [name, values, value, expected, why] of CASES) {
    t.equal(
      evaluateCondition(condition(name, values), value),
      expected,
      `${name} ${JSON.stringify(values)} vs ${JSON.stringify(value)}: ${why}`,
    )
  }
  t.end()
})

/** Parses AWS KMS key policy JSON strictly into the {@link KeyPolicy} the evaluator reads. */

import { CloisterError } from '../../../shared/errors/cloister-error.js'
import {
  CONDITION_OPERATORS,
  KEY_POLICY_VERSION,
  SET_OPERATORS,
  type ConditionOperator,
  type Effect,
  type KeyPolicy,
  type PolicyCondition,
  type PolicyStatement,
  type SetOperator,
} from './key-policy.js'
import { parsePolicyJson } from './parse-policy-json.js'
import { ACCOUNT_ID_PATTERN, parsePrincipalArn } from './principal-arn.js'

// IAM User Guide "IAM JSON policy elements: Action": service-prefix:action-name, wildcards allowed
// in the action name only.
const ACTION_PATTERN = /^[a-z0-9-]+:[A-Za-z0-9*?]+$/i
// "IAM JSON policy elements: Resource" and "IAM identifiers" § ARN format:
// arn:partition:service:region:account-id:resource, wildcards allowed in every field.
const RESOURCE_PATTERN = /^arn:[^:\s]+:[^:\s]+:[^:\s]*:[^:\s]*:\S+$/
// "IAM JSON policy elements: Condition" § "Condition keys": service-prefix:key-name. Key names may
// carry an encryption context key (any printable text) but no control characters.
const CONDITION_KEY_PATTERN = /^[a-z0-9-]+:\P{Cc}+$/iu
// "IAM policy elements: Variables and tags": in a 2012-10-17 policy, ${…} is a variable. This
// evaluator substitutes none, so a policy that uses one would be read differently than AWS reads
// it: it is refused.
const POLICY_VARIABLE = '${'

const POLICY_FIELDS = ['Version', 'Id', 'Statement'] as const
const STATEMENT_FIELDS = ['Sid', 'Effect', 'Principal', 'Action', 'Resource', 'Condition'] as const

/**
 * The key policy in `text`, or a catalog error: `ERR_KMS_POLICY_TOO_LARGE` above 32 KiB (AWS KMS
 * Developer Guide "Quotas" § "Key policy document size"), `ERR_KMS_POLICY_MALFORMED` for anything
 * else this evaluator would not read exactly as AWS does. Errors never carry the input.
 *
 * Accepted (IAM User Guide "IAM JSON policy element reference" and "Grammar of the IAM JSON policy
 * language"): `Version` `"2012-10-17"` (required); optional `Id`; `Statement`, one object or a
 * non-empty array. A statement has an optional `Sid`; `Effect` `Allow` or `Deny`; `Principal` `"*"`
 * or `{"AWS": …}` with `*`, account IDs or IAM/STS ARNs; `Action` and `Resource`, a string or a
 * non-empty array; an optional `Condition` of the operators StringEquals, StringNotEquals,
 * StringEqualsIgnoreCase, StringLike (each also with `ForAnyValue:` or `ForAllValues:`), Null and
 * Bool. Refused: any other field (`NotAction`, `NotPrincipal`, `NotResource`, other principal
 * types), any other operator (`…IfExists`, numeric, date, ARN, IP), wildcards inside a principal,
 * policy variables, empty lists and blocks, and objects that repeat a key.
 *
 * @example
 * ```ts
 * const policy = parseKeyPolicy(await readFile('key-policy.json', 'utf8'))
 * ```
 */
export function parseKeyPolicy(text: string): KeyPolicy {
  const document = parsePolicyJson(text)
  const fields = expectFields(document, POLICY_FIELDS, ['Version', 'Statement'])
  if (fields.Version !== KEY_POLICY_VERSION) throw malformed()
  const id = fields.Id
  if (id !== undefined && typeof id !== 'string') throw malformed()
  const statements = Array.isArray(fields.Statement) ? fields.Statement : [fields.Statement]
  if (statements.length === 0) throw malformed()
  return {
    ...(id === undefined ? {} : { id }),
    statements: statements.map(parseStatement),
  }
}

/** One element of `Statement`. */
function parseStatement(value: unknown): PolicyStatement {
  const fields = expectFields(value, STATEMENT_FIELDS, [
    'Effect',
    'Principal',
    'Action',
    'Resource',
  ])
  const sid = fields.Sid
  if (sid !== undefined && typeof sid !== 'string') throw malformed()
  return {
    ...(sid === undefined ? {} : { sid }),
    effect: parseEffect(fields.Effect),
    principals: parsePrincipals(fields.Principal),
    actions: stringList(fields.Action).map((action) => {
      if (action !== '*' && !ACTION_PATTERN.test(action)) throw malformed()
      return action
    }),
    resources: stringList(fields.Resource).map((resource) => {
      if (resource !== '*' && !RESOURCE_PATTERN.test(resource)) throw malformed()
      if (resource.includes(POLICY_VARIABLE)) throw malformed()
      return resource
    }),
    conditions: fields.Condition === undefined ? [] : parseConditions(fields.Condition),
  }
}

/** `Effect`: exactly `Allow` or `Deny` (case matters, as in AWS). */
function parseEffect(value: unknown): Effect {
  if (value === 'Allow' || value === 'Deny') return value
  throw malformed()
}

/**
 * `Principal`: `"*"` or `{"AWS": string | string[]}` (IAM User Guide "AWS JSON policy elements:
 * Principal"). Each AWS value is `*`, an account ID or an IAM/STS ARN without wildcards.
 */
function parsePrincipals(value: unknown): readonly string[] {
  if (value === '*') return ['*']
  const fields = expectFields(value, ['AWS'], ['AWS'])
  return stringList(fields.AWS).map((principal) => {
    const valid =
      principal === '*' ||
      ACCOUNT_ID_PATTERN.test(principal) ||
      parsePrincipalArn(principal) !== undefined
    if (!valid) throw malformed()
    return principal
  })
}

/** `Condition`: `{ operator: { key: value(s) } }`, flattened to one entry per operator and key. */
function parseConditions(value: unknown): readonly PolicyCondition[] {
  const conditions: PolicyCondition[] = []
  for (const [name, block] of nonEmptyEntries(value)) {
    const { operator, setOperator } = parseOperatorName(name)
    for (const [key, values] of nonEmptyEntries(block)) {
      if (!CONDITION_KEY_PATTERN.test(key)) throw malformed()
      conditions.push({
        operator,
        ...(setOperator === undefined ? {} : { setOperator }),
        key,
        values:
          operator === 'Null' || operator === 'Bool'
            ? booleanList(values)
            : conditionStrings(values),
      })
    }
  }
  return conditions
}

/**
 * `StringLike`, `ForAnyValue:StringLike`… Set operators qualify the string operators only: Null
 * tests presence, and Bool keys are single-valued.
 */
function parseOperatorName(name: string): {
  operator: ConditionOperator
  setOperator: SetOperator | undefined
} {
  const colon = name.indexOf(':')
  const prefix = colon < 0 ? undefined : name.slice(0, colon)
  const setOperator = SET_OPERATORS.find((candidate) => candidate === prefix)
  if (prefix !== undefined && setOperator === undefined) throw malformed()
  const bare = name.slice(colon + 1)
  const operator = CONDITION_OPERATORS.find((candidate) => candidate === bare)
  if (operator === undefined) throw malformed()
  if (setOperator !== undefined && (operator === 'Null' || operator === 'Bool')) throw malformed()
  return { operator, setOperator }
}

/** String operator values: strings without policy variables. */
function conditionStrings(value: unknown): readonly string[] {
  return stringList(value).map((text) => {
    if (text.includes(POLICY_VARIABLE)) throw malformed()
    return text
  })
}

/** Null and Bool values: `true`/`false` as JSON booleans or lower-case strings, one or a list. */
function booleanList(value: unknown): readonly string[] {
  const items = Array.isArray(value) ? (value as unknown[]) : [value]
  if (items.length === 0) throw malformed()
  return items.map((item) => {
    if (item === true || item === 'true') return 'true'
    if (item === false || item === 'false') return 'false'
    throw malformed()
  })
}

/** A string, or a non-empty array of strings, as a list. */
function stringList(value: unknown): readonly string[] {
  const items = Array.isArray(value) ? (value as unknown[]) : [value]
  if (items.length === 0) throw malformed()
  return items.map((item) => {
    if (typeof item !== 'string') throw malformed()
    return item
  })
}

/** The fields of a JSON object holding only `allowed` fields and every `required` one. */
function expectFields<Name extends string>(
  value: unknown,
  allowed: readonly Name[],
  required: readonly Name[],
): Partial<Record<Name, unknown>> {
  if (!isObject(value)) throw malformed()
  const names: readonly string[] = allowed
  if (!Object.keys(value).every((name) => names.includes(name))) throw malformed()
  if (!required.every((name) => Object.hasOwn(value, name))) throw malformed()
  return value as Partial<Record<Name, unknown>>
}

/** The entries of a non-empty JSON object. */
function nonEmptyEntries(value: unknown): [string, unknown][] {
  if (!isObject(value)) throw malformed()
  const entries = Object.entries(value)
  if (entries.length === 0) throw malformed()
  return entries
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function malformed(): CloisterError {
  return new CloisterError('ERR_KMS_POLICY_MALFORMED')
}

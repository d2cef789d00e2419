/** Key policy decisions with AWS semantics: explicit Deny wins, Allow allows, nothing else does. */

import t from 'tap'
import {
  evaluateKeyPolicy,
  type PolicyRequest,
} from '../../../../parent/kms/policy/evaluate-key-policy.js'
import { parseKeyPolicy } from '../../../../parent/kms/policy/parse-key-policy.js'
import { createContextLookup } from '../../../../parent/kms/policy/request-context.js'
import { caughtCode } from '../../../helpers/caught-code.js'

const ACCOUNT = '111122223333'
const KEY_ARN = `arn:aws:kms:eu-west-1:${ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`
const OTHER_KEY = `arn:aws:kms:eu-west-1:${ACCOUNT}:key/ffffffff-12ab-34cd-56ef-1234567890ab`
const ROLE = `arn:aws:iam::${ACCOUNT}:role/cloister-parent`
const SESSION = `arn:aws:sts::${ACCOUNT}:assumed-role/cloister-parent/i-0abc1234`
const STRANGER = 'arn:aws:iam::444455556666:role/stranger'
const PCR0 = 'a1'.repeat(48)

type Statement = Record<string, unknown>

const allow = (extra: Statement = {}): Statement => ({
  Effect: 'Allow',
  Principal: { AWS: ROLE },
  Action: 'kms:Decrypt',
  Resource: '*',
  ...extra,
})
const deny = (extra: Statement = {}): Statement => ({ ...allow(extra), Effect: 'Deny', ...extra })

function decide(statements: Statement[], request: Partial<PolicyRequest> = {}) {
  const policy = parseKeyPolicy(JSON.stringify({ Version: '2012-10-17', Statement: statements }))
  return evaluateKeyPolicy(policy, {
    principal: SESSION,
    action: 'kms:Decrypt',
    resource: KEY_ARN,
    context: new Map(),
    ...request,
  })
}

t.test('explicit Deny wins over Allow, wherever it stands', (t) => {
  t.equal(decide([allow()]), 'allow')
  t.equal(decide([allow(), deny()]), 'deny')
  t.equal(decide([deny(), allow()]), 'deny')
  t.equal(decide([deny()]), 'deny')
  // A broader Allow does not help either.
  t.equal(decide([allow({ Principal: '*', Action: '*' }), deny()]), 'deny')
  t.end()
})

t.test('without a matching Allow the answer is an implicit deny', (t) => {
  t.equal(decide([allow()], { action: 'kms:Encrypt' }), 'implicit-deny')
  t.equal(decide([allow()], { principal: STRANGER }), 'implicit-deny')
  t.equal(decide([allow({ Resource: OTHER_KEY })]), 'implicit-deny')
  // A Deny that does not apply is not an Allow.
  t.equal(decide([deny({ Action: 'kms:Encrypt' })]), 'implicit-deny')
  t.equal(
    decide([allow({ Action: 'kms:Encrypt' }), deny({ Action: 'kms:Encrypt' })]),
    'implicit-deny',
  )
  t.end()
})

t.test('actions: wildcards, and case ignored', (t) => {
  const generate = { action: 'kms:GenerateDataKey' }
  t.equal(decide([allow({ Action: 'kms:*' })], generate), 'allow')
  t.equal(decide([allow({ Action: '*' })], generate), 'allow')
  t.equal(decide([allow({ Action: 'kms:Generate*' })], generate), 'allow')
  t.equal(decide([allow({ Action: 'kms:Generate*' })]), 'implicit-deny')
  t.equal(decide([allow({ Action: 'kms:?ecrypt' })]), 'allow')
  t.equal(decide([allow({ Action: 'KMS:DECRYPT' })]), 'allow')
  t.equal(decide([allow({ Action: 'kms:decrypt' })], { action: 'kms:Decrypt' }), 'allow')
  t.equal(decide([allow({ Action: ['kms:Encrypt', 'kms:Decrypt'] })]), 'allow')
  t.equal(decide([allow({ Action: 's3:*' })]), 'implicit-deny')
  t.end()
})

t.test('resources: "*" is the key, ARNs match with wildcards and case', (t) => {
  t.equal(decide([allow({ Resource: KEY_ARN })]), 'allow')
  t.equal(decide([allow({ Resource: `arn:aws:kms:*:${ACCOUNT}:key/*` })]), 'allow')
  t.equal(decide([allow({ Resource: `arn:aws:kms:eu-west-?:${ACCOUNT}:key/*` })]), 'allow')
  t.equal(
    decide([allow({ Resource: KEY_ARN.toUpperCase().replace('ARN:AWS:KMS', 'arn:aws:kms') })]),
    'implicit-deny',
  )
  t.equal(decide([allow({ Resource: [OTHER_KEY, KEY_ARN] })]), 'allow')
  t.end()
})

t.test('principals: account, role, its sessions, and everyone', (t) => {
  t.equal(decide([allow({ Principal: { AWS: ACCOUNT } })]), 'allow')
  t.equal(decide([allow({ Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` } })]), 'allow')
  t.equal(decide([allow({ Principal: { AWS: ROLE } })], { principal: ROLE }), 'allow')
  t.equal(decide([allow({ Principal: { AWS: [STRANGER, ROLE] } })]), 'allow')
  t.equal(decide([allow({ Principal: '*' })], { principal: STRANGER }), 'allow')
  t.equal(decide([allow({ Principal: { AWS: '*' } })], { principal: STRANGER }), 'allow')
  t.equal(decide([allow({ Principal: { AWS: STRANGER } })]), 'implicit-deny')
  t.end()
})

t.test('conditions: operators and keys AND-ed, values OR-ed, key names in any case', (t) => {
  const context = new Map<string, string | readonly string[] | boolean>([
    ['kms:RecipientAttestation:ImageSha384', PCR0],
    ['kms:EncryptionContext:tenant', 'acme'],
    ['kms:EncryptionContextKeys', ['tenant']],
    ['aws:SecureTransport', true],
  ])
  const condition = (Condition: unknown) => decide([allow({ Condition })], { context })
  t.equal(
    condition({
      StringEqualsIgnoreCase: { 'kms:RecipientAttestation:ImageSha384': PCR0.toUpperCase() },
      StringEquals: { 'kms:EncryptionContext:tenant': ['other', 'acme'] },
      'ForAllValues:StringEquals': { 'kms:EncryptionContextKeys': ['tenant', 'purpose'] },
      Bool: { 'aws:SecureTransport': true },
    }),
    'allow',
  )
  // One failing operator fails the statement.
  t.equal(
    condition({
      StringEqualsIgnoreCase: { 'kms:RecipientAttestation:ImageSha384': PCR0 },
      StringEquals: { 'kms:EncryptionContext:tenant': 'other' },
    }),
    'implicit-deny',
  )
  // One failing key within an operator fails the statement.
  t.equal(
    condition({
      StringEquals: {
        'kms:EncryptionContext:tenant': 'acme',
        'kms:EncryptionContext:purpose': 'x',
      },
    }),
    'implicit-deny',
  )
  // Condition key names are compared without regard to case; values are not.
  t.equal(condition({ StringEquals: { 'KMS:ENCRYPTIONCONTEXT:TENANT': 'acme' } }), 'allow')
  t.equal(condition({ StringEquals: { 'kms:encryptioncontext:Tenant': 'ACME' } }), 'implicit-deny')
  t.equal(
    decide([allow({ Condition: { StringEquals: { 'kms:EncryptionContext:tenant': 'acme' } } })], {
      context: new Map([['KMS:EncryptionContext:TENANT', 'acme']]),
    }),
    'allow',
  )
  t.end()
})

t.test('kms:EncryptionContextKeys with set operators, on Allow and on Deny', (t) => {
  const keys = (value: readonly string[]) => ({
    context: new Map([['kms:EncryptionContextKeys', value]]),
  })
  const onlyKnownKeys = allow({
    Condition: {
      'ForAllValues:StringEquals': { 'kms:EncryptionContextKeys': ['tenant', 'purpose'] },
    },
  })
  t.equal(decide([onlyKnownKeys], keys(['tenant'])), 'allow')
  t.equal(decide([onlyKnownKeys], keys(['tenant', 'purpose'])), 'allow')
  t.equal(decide([onlyKnownKeys], keys(['tenant', 'debug'])), 'implicit-deny')
  // AWS: ForAllValues is also true with no encryption context at all.
  t.equal(decide([onlyKnownKeys], keys([])), 'allow')
  t.equal(decide([onlyKnownKeys]), 'allow')
  const requiresTenant = allow({
    Condition: { 'ForAnyValue:StringEquals': { 'kms:EncryptionContextKeys': 'tenant' } },
  })
  t.equal(decide([requiresTenant], keys(['purpose', 'tenant'])), 'allow')
  t.equal(decide([requiresTenant], keys(['purpose'])), 'implicit-deny')
  t.equal(decide([requiresTenant]), 'implicit-deny')
  // The IAM User Guide pattern: deny when any key falls outside the allowed prefix.
  const denyForeignKeys = deny({
    Condition: { 'ForAnyValue:StringNotEquals': { 'kms:EncryptionContextKeys': ['tenant'] } },
  })
  t.equal(decide([allow(), denyForeignKeys], keys(['tenant'])), 'allow')
  t.equal(decide([allow(), denyForeignKeys], keys(['tenant', 'debug'])), 'deny')
  t.equal(decide([allow(), denyForeignKeys], keys([])), 'allow')
  t.end()
})

t.test('kms:EncryptionContext:<key> with StringLike and StringNotEquals', (t) => {
  const tenant = (value: string) => ({
    context: new Map([['kms:EncryptionContext:tenant', value]]),
  })
  const like = allow({ Condition: { StringLike: { 'kms:EncryptionContext:tenant': 'acme-*' } } })
  t.equal(decide([like], tenant('acme-eu')), 'allow')
  t.equal(decide([like], tenant('ACME-eu')), 'implicit-deny')
  t.equal(decide([like]), 'implicit-deny')
  const notTest = deny({
    Condition: { StringNotEquals: { 'kms:EncryptionContext:tenant': 'acme' } },
  })
  t.equal(decide([allow(), notTest], tenant('acme')), 'allow')
  t.equal(decide([allow(), notTest], tenant('test')), 'deny')
  // The key is absent: a negated operator holds, so this Deny applies.
  t.equal(decide([allow(), notTest]), 'deny')
  t.end()
})

t.test('a context key held twice in different cases cannot be tested', (t) => {
  const context = new Map([
    ['kms:EncryptionContext:Dept', 'a'],
    ['kms:EncryptionContext:dept', 'b'],
    ['kms:EncryptionContext:tenant', 'acme'],
  ])
  const tests = (key: string) =>
    caughtCode(() => decide([allow({ Condition: { StringEquals: { [key]: 'a' } } })], { context }))
  t.equal(tests('kms:EncryptionContext:DEPT'), 'ERR_KMS_POLICY_CONTEXT_AMBIGUOUS')
  t.equal(tests('kms:EncryptionContext:tenant'), 'returned', 'other keys are unaffected')
  t.equal(
    caughtCode(() => decide([allow()], { context })),
    'returned',
    'no condition, no lookup',
  )
  const lookup = createContextLookup(context)
  t.equal(lookup('KMS:ENCRYPTIONCONTEXT:TENANT'), 'acme')
  t.equal(lookup('kms:EncryptionContext:absent'), undefined)
  t.end()
})

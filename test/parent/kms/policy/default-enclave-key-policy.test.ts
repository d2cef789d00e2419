/** The generated enclave key policy: its exact JSON, its round trip, and what it allows and denies. */

import t from 'tap'
import { defaultEnclaveKeyPolicy } from '../../../../parent/kms/policy/default-enclave-key-policy.js'
import {
  evaluateKeyPolicy,
  type PolicyDecision,
} from '../../../../parent/kms/policy/evaluate-key-policy.js'
import { parseKeyPolicy } from '../../../../parent/kms/policy/parse-key-policy.js'
import type { KeyPolicy } from '../../../../parent/kms/policy/key-policy.js'
import { caughtCode } from '../../../helpers/caught-code.js'

const ACCOUNT = '111122223333'
const ROOT = `arn:aws:iam::${ACCOUNT}:root`
const ROLE = `arn:aws:iam::${ACCOUNT}:role/cloister-parent`
const SESSION = `arn:aws:sts::${ACCOUNT}:assumed-role/cloister-parent/i-0abc1234`
const ADMIN = `arn:aws:iam::${ACCOUNT}:user/key-admin`
const STRANGER = 'arn:aws:iam::444455556666:role/cloister-parent'
const KEY_ARN = `arn:aws:kms:eu-west-1:${ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`
const PCR0 = 'a0'.repeat(48)
const PCR1 = 'b1'.repeat(48)
const PCR2 = 'c2'.repeat(48)
const PCR8 = 'd8'.repeat(48)
const ZERO = '00'.repeat(48)

const ADMINISTRATION = [
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
]

t.test('the policy document, as AWS KMS reads it', (t) => {
  const policy = defaultEnclaveKeyPolicy({
    accountId: ACCOUNT,
    principal: ROLE,
    pcrs: { 0: PCR0.toUpperCase(), 1: PCR1, 2: PCR2, 8: PCR8 },
  })
  t.same(JSON.parse(JSON.stringify(policy)), {
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'Allow administration of the key by the account',
        Effect: 'Allow',
        Principal: { AWS: ROOT },
        Action: ADMINISTRATION,
        Resource: '*',
      },
      {
        Sid: 'Allow use of the key only by the attested enclave',
        Effect: 'Allow',
        Principal: { AWS: ROLE },
        Action: ['kms:Decrypt', 'kms:GenerateDataKey', 'kms:GenerateRandom'],
        Resource: '*',
        Condition: {
          StringEqualsIgnoreCase: {
            'kms:RecipientAttestation:ImageSha384': PCR0,
            'kms:RecipientAttestation:PCR1': PCR1,
            'kms:RecipientAttestation:PCR2': PCR2,
            'kms:RecipientAttestation:PCR8': PCR8,
          },
        },
      },
      {
        Sid: 'Deny plaintext to requests without an attested recipient',
        Effect: 'Deny',
        Principal: '*',
        Action: ['kms:Decrypt', 'kms:GenerateDataKey'],
        Resource: '*',
        Condition: { Null: { 'kms:RecipientAttestation:ImageSha384': 'true' } },
      },
    ],
  })
  t.end()
})

t.test('PCR0 alone, and the account as the default principal', (t) => {
  const policy = defaultEnclaveKeyPolicy({ accountId: ACCOUNT, pcrs: { 0: PCR0 } })
  const enclave = policy.Statement[1]
  t.same(enclave?.Principal, { AWS: ROOT })
  t.same(enclave?.Condition, {
    StringEqualsIgnoreCase: { 'kms:RecipientAttestation:ImageSha384': PCR0 },
  })
  t.end()
})

t.test('the root principal follows the partition of the principal', (t) => {
  const policy = defaultEnclaveKeyPolicy({
    accountId: ACCOUNT,
    principal: `arn:aws-cn:iam::${ACCOUNT}:role/parent`,
    pcrs: { 0: PCR0 },
  })
  t.same(policy.Statement[0]?.Principal, { AWS: `arn:aws-cn:iam::${ACCOUNT}:root` })
  t.end()
})

t.test('the policy round-trips through parseKeyPolicy to the same document', (t) => {
  const document = defaultEnclaveKeyPolicy({
    accountId: ACCOUNT,
    principal: ROLE,
    pcrs: { 0: PCR0, 1: PCR1, 2: PCR2, 8: PCR8 },
  })
  const text = JSON.stringify(document, null, 2)
  const policy = parseKeyPolicy(text)
  t.equal(policy.statements.length, 3)
  t.same(
    policy.statements.map((statement) => [
      statement.effect,
      statement.principals,
      statement.actions,
    ]),
    document.Statement.map((statement) => [
      statement.Effect,
      [statement.Principal === '*' ? '*' : statement.Principal.AWS],
      statement.Action,
    ]),
  )
  t.same(policy.statements[2]?.conditions, [
    { operator: 'Null', key: 'kms:RecipientAttestation:ImageSha384', values: ['true'] },
  ])
  t.end()
})

/** A request context as the local KMS builds it from a verified attestation document. */
function attested(pcrs: Partial<Record<0 | 1 | 2 | 8, string>>): Map<string, string> {
  const context = new Map<string, string>()
  for (const [index, hex] of Object.entries(pcrs)) {
    // ImageSha384 is PCR0 under its own name.
    if (index === '0') context.set('kms:RecipientAttestation:ImageSha384', hex)
    context.set(`kms:RecipientAttestation:PCR${index}`, hex)
  }
  return context
}

function decide(
  policy: KeyPolicy,
  principal: string,
  action: string,
  context: ReadonlyMap<string, string> = new Map(),
): PolicyDecision {
  return evaluateKeyPolicy(policy, { principal, action, resource: KEY_ARN, context })
}

t.test('the attested enclave, and only it, may use the key', (t) => {
  const policy = parseKeyPolicy(
    JSON.stringify(
      defaultEnclaveKeyPolicy({ accountId: ACCOUNT, principal: ROLE, pcrs: { 0: PCR0, 2: PCR2 } }),
    ),
  )
  const good = attested({ 0: PCR0, 1: PCR1, 2: PCR2 })
  for (const action of ['kms:Decrypt', 'kms:GenerateDataKey', 'kms:GenerateRandom']) {
    t.equal(decide(policy, SESSION, action, good), 'allow', `matching PCRs: ${action}`)
    t.equal(decide(policy, ROLE, action, good), 'allow', `the role itself: ${action}`)
  }
  // StringEqualsIgnoreCase: the document's hex may come in either case.
  t.equal(
    decide(policy, SESSION, 'kms:Decrypt', attested({ 0: PCR0.toUpperCase(), 2: PCR2 })),
    'allow',
  )
  // Another image, another application, or no PCR2 at all: no Allow applies.
  const otherImage = attested({ 0: 'a1'.repeat(48), 2: PCR2 })
  t.equal(decide(policy, SESSION, 'kms:Decrypt', otherImage), 'implicit-deny', 'mismatched PCR0')
  t.equal(decide(policy, SESSION, 'kms:Decrypt', attested({ 0: PCR0, 2: PCR1 })), 'implicit-deny')
  t.equal(decide(policy, SESSION, 'kms:Decrypt', attested({ 0: PCR0 })), 'implicit-deny')
  // A debug-mode enclave reports zero PCRs.
  t.equal(decide(policy, SESSION, 'kms:Decrypt', attested({ 0: ZERO, 2: ZERO })), 'implicit-deny')
  // The right enclave behind the wrong caller.
  t.equal(decide(policy, STRANGER, 'kms:Decrypt', good), 'implicit-deny')
  t.equal(decide(policy, ADMIN, 'kms:Decrypt', good), 'implicit-deny')
  // Operations the statement does not list.
  t.equal(decide(policy, SESSION, 'kms:Encrypt', good), 'implicit-deny')
  t.equal(decide(policy, SESSION, 'kms:CreateGrant', good), 'implicit-deny')
  t.end()
})

t.test('without an attested recipient, Decrypt and GenerateDataKey are explicitly denied', (t) => {
  const policy = parseKeyPolicy(
    JSON.stringify(defaultEnclaveKeyPolicy({ accountId: ACCOUNT, pcrs: { 0: PCR0 } })),
  )
  for (const principal of [SESSION, ADMIN, ROOT, STRANGER]) {
    t.equal(decide(policy, principal, 'kms:Decrypt'), 'deny', principal)
    t.equal(decide(policy, principal, 'kms:GenerateDataKey'), 'deny', principal)
    // Other PCRs without ImageSha384 are no attestation either.
    t.equal(
      decide(policy, principal, 'kms:Decrypt', new Map([['kms:RecipientAttestation:PCR1', PCR1]])),
      'deny',
    )
  }
  t.equal(decide(policy, SESSION, 'kms:GenerateRandom'), 'implicit-deny')
  t.end()
})

t.test('the account administers the key but holds no cryptographic operation', (t) => {
  const document = defaultEnclaveKeyPolicy({
    accountId: ACCOUNT,
    principal: ROLE,
    pcrs: { 0: PCR0 },
  })
  const policy = parseKeyPolicy(JSON.stringify(document))
  for (const action of [
    'kms:DescribeKey',
    'kms:PutKeyPolicy',
    'kms:GetKeyPolicy',
    'kms:ListResourceTags',
    'kms:EnableKeyRotation',
    'kms:DisableKey',
    'kms:ScheduleKeyDeletion',
    'kms:CreateAlias',
    'kms:RevokeGrant',
  ]) {
    t.equal(decide(policy, ADMIN, action), 'allow', action)
    t.equal(decide(policy, STRANGER, action), 'implicit-deny', action)
  }
  // An attested enclave of any other image gets nothing through the account's statement.
  const otherImage = attested({ 0: 'a1'.repeat(48) })
  for (const action of ['kms:Decrypt', 'kms:GenerateDataKey', 'kms:GenerateRandom']) {
    t.equal(decide(policy, ADMIN, action, otherImage), 'implicit-deny', action)
  }
  for (const action of ['kms:CreateGrant', 'kms:Encrypt', 'kms:ReEncryptFrom', 'kms:Sign']) {
    t.equal(decide(policy, ADMIN, action), 'implicit-deny', action)
  }
  // Why: had the account's statement been "kms:*", its Allow would release the key to any
  // attested image, since conditions on the enclave's Allow narrow only that Allow.
  const permissive = parseKeyPolicy(
    JSON.stringify({
      ...document,
      Statement: [{ ...document.Statement[0], Action: 'kms:*' }, ...document.Statement.slice(1)],
    }),
  )
  t.equal(decide(permissive, ADMIN, 'kms:Decrypt', otherImage), 'allow')
  t.end()
})

t.test('measurements: 96 hex digits, never all zero; PCR0 required', (t) => {
  const make = (pcrs: Record<number, string>) => () =>
    defaultEnclaveKeyPolicy({ accountId: ACCOUNT, pcrs: pcrs as { 0: string } })
  t.equal(caughtCode(make({ 0: ZERO })), 'ERR_KMS_POLICY_DEBUG_PCR')
  t.equal(caughtCode(make({ 0: PCR0, 1: ZERO })), 'ERR_KMS_POLICY_DEBUG_PCR')
  t.equal(caughtCode(make({ 0: PCR0, 2: ZERO })), 'ERR_KMS_POLICY_DEBUG_PCR')
  t.equal(caughtCode(make({ 0: PCR0, 8: ZERO })), 'ERR_KMS_POLICY_DEBUG_PCR')
  t.equal(caughtCode(make({ 0: PCR0.slice(1) })), 'ERR_KMS_POLICY_PCR_INVALID')
  t.equal(caughtCode(make({ 0: `${PCR0}0` })), 'ERR_KMS_POLICY_PCR_INVALID')
  t.equal(caughtCode(make({ 0: `${PCR0.slice(2)}0g` })), 'ERR_KMS_POLICY_PCR_INVALID')
  t.equal(caughtCode(make({ 0: `0x${PCR0.slice(2)}` })), 'ERR_KMS_POLICY_PCR_INVALID')
  t.equal(caughtCode(make({ 0: PCR0, 1: '' })), 'ERR_KMS_POLICY_PCR_INVALID')
  t.equal(caughtCode(make({ 1: PCR1 })), 'ERR_KMS_POLICY_PCR_INVALID')
  t.equal(caughtCode(make({ 0: PCR0, 3: ZERO })), 'returned', 'other indexes are not read')
  t.end()
})

t.test('the account and principal must be well-formed', (t) => {
  const make = (accountId: string, principal?: string) => () =>
    defaultEnclaveKeyPolicy({
      accountId,
      ...(principal === undefined ? {} : { principal }),
      pcrs: { 0: PCR0 },
    })
  t.equal(caughtCode(make('11112222333')), 'ERR_KMS_POLICY_PRINCIPAL_INVALID')
  t.equal(caughtCode(make('1111222233334')), 'ERR_KMS_POLICY_PRINCIPAL_INVALID')
  t.equal(caughtCode(make(`${ACCOUNT}\n`)), 'ERR_KMS_POLICY_PRINCIPAL_INVALID')
  t.equal(
    caughtCode(make(ACCOUNT, `arn:aws:iam::${ACCOUNT}:role/*`)),
    'ERR_KMS_POLICY_PRINCIPAL_INVALID',
  )
  t.equal(caughtCode(make(ACCOUNT, ACCOUNT)), 'ERR_KMS_POLICY_PRINCIPAL_INVALID')
  t.equal(caughtCode(make(ACCOUNT, '*')), 'ERR_KMS_POLICY_PRINCIPAL_INVALID')
  t.equal(caughtCode(make(ACCOUNT, STRANGER)), 'returned', 'a principal of another account')
  t.end()
})

/** Key policy parsing: the accepted grammar, its normal form, and an exact code for every refusal. */

import t from 'tap'
import { MAX_KEY_POLICY_BYTES } from '../../../../parent/kms/policy/key-policy.js'
import { parseKeyPolicy } from '../../../../parent/kms/policy/parse-key-policy.js'
import { parsePolicyJson } from '../../../../parent/kms/policy/parse-policy-json.js'
import { isCloisterError } from '../../../../shared/errors/cloister-error.js'
import { caughtCode } from '../../../helpers/caught-code.js'

const KEY_ARN = 'arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab'
const ROLE = 'arn:aws:iam::111122223333:role/cloister-parent'

/** A one-statement policy text with `statement` merged over a valid Allow. */
function policyWith(statement: Record<string, unknown>, top: Record<string, unknown> = {}): string {
  return JSON.stringify({
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Allow',
        Principal: { AWS: ROLE },
        Action: 'kms:Decrypt',
        Resource: '*',
        ...statement,
      },
    ],
    ...top,
  })
}

/** `statement` with one field removed. */
function policyWithout(field: string): string {
  const statement: Record<string, unknown> = {
    Effect: 'Allow',
    Principal: '*',
    Action: 'kms:*',
    Resource: '*',
  }
  // eslint-disable-next-line @typescript-eslint/no-dynamic-delete -- the field under test
  delete statement[field]
  return JSON.stringify({ Version: '2012-10-17', Statement: statement })
}

t.test('a full policy parses to its normal form, statements in order', (t) => {
  const policy = parseKeyPolicy(
    JSON.stringify({
      Version: '2012-10-17',
      Id: 'key-policy-1',
      Statement: [
        {
          Sid: 'Enable IAM User Permissions',
          Effect: 'Allow',
          Principal: { AWS: ['arn:aws:iam::111122223333:root', '444455556666', '*'] },
          Action: ['kms:Decrypt', 'kms:Generate*', 'kms:?escribe*', '*'],
          Resource: ['*', KEY_ARN, 'arn:aws:kms:*:111122223333:key/*'],
          Condition: {
            StringEqualsIgnoreCase: {
              'kms:RecipientAttestation:ImageSha384': 'AB'.repeat(48),
              'kms:RecipientAttestation:PCR8': ['00'.repeat(47) + '01', 'ff'.repeat(48)],
            },
            'ForAllValues:StringLike': { 'kms:EncryptionContextKeys': ['tenant', 'purpose*'] },
            'ForAnyValue:StringEquals': { 'kms:EncryptionContextKeys': 'tenant' },
            StringNotEquals: { 'kms:EncryptionContext:Project Name': '' },
            Null: { 'kms:RecipientAttestation:PCR1': false, 'kms:EncryptionContext:x': 'true' },
            Bool: { 'aws:SecureTransport': [true, 'false'] },
          },
        },
        { Effect: 'Deny', Principal: '*', Action: 'kms:Decrypt', Resource: '*' },
      ],
    }),
  )
  t.same(policy, {
    id: 'key-policy-1',
    statements: [
      {
        sid: 'Enable IAM User Permissions',
        effect: 'Allow',
        principals: ['arn:aws:iam::111122223333:root', '444455556666', '*'],
        actions: ['kms:Decrypt', 'kms:Generate*', 'kms:?escribe*', '*'],
        resources: ['*', KEY_ARN, 'arn:aws:kms:*:111122223333:key/*'],
        conditions: [
          {
            operator: 'StringEqualsIgnoreCase',
            key: 'kms:RecipientAttestation:ImageSha384',
            values: ['AB'.repeat(48)],
          },
          {
            operator: 'StringEqualsIgnoreCase',
            key: 'kms:RecipientAttestation:PCR8',
            values: ['00'.repeat(47) + '01', 'ff'.repeat(48)],
          },
          {
            operator: 'StringLike',
            setOperator: 'ForAllValues',
            key: 'kms:EncryptionContextKeys',
            values: ['tenant', 'purpose*'],
          },
          {
            operator: 'StringEquals',
            setOperator: 'ForAnyValue',
            key: 'kms:EncryptionContextKeys',
            values: ['tenant'],
          },
          { operator: 'StringNotEquals', key: 'kms:EncryptionContext:Project Name', values: [''] },
          { operator: 'Null', key: 'kms:RecipientAttestation:PCR1', values: ['false'] },
          { operator: 'Null', key: 'kms:EncryptionContext:x', values: ['true'] },
          { operator: 'Bool', key: 'aws:SecureTransport', values: ['true', 'false'] },
        ],
      },
      {
        effect: 'Deny',
        principals: ['*'],
        actions: ['kms:Decrypt'],
        resources: ['*'],
        conditions: [],
      },
    ],
  })
  t.end()
})

t.test(
  'Statement may be one object; Principal {"AWS": "*"} and STS session ARNs are accepted',
  (t) => {
    const policy = parseKeyPolicy(
      JSON.stringify({
        Version: '2012-10-17',
        Statement: {
          Effect: 'Deny',
          Principal: { AWS: ['*', 'arn:aws-cn:sts::111122223333:assumed-role/parent/i-0abc'] },
          Action: 'kms:Decrypt',
          Resource: KEY_ARN,
        },
      }),
    )
    t.same(
      policy.statements.map((statement) => statement.principals),
      [['*', 'arn:aws-cn:sts::111122223333:assumed-role/parent/i-0abc']],
    )
    t.notOk('id' in policy)
    t.end()
  },
)

t.test('the size cap is 32 KiB of UTF-8, checked before parsing', (t) => {
  const base = policyWith({})
  const padded = base + ' '.repeat(MAX_KEY_POLICY_BYTES - base.length)
  t.equal(Buffer.byteLength(padded), 32768)
  t.equal(
    caughtCode(() => parseKeyPolicy(padded)),
    'returned',
  )
  t.equal(
    caughtCode(() => parseKeyPolicy(`${padded} `)),
    'ERR_KMS_POLICY_TOO_LARGE',
  )
  // 'é' is two bytes: the text has fewer than 32768 characters but more bytes.
  const sid = 'é'.repeat(16384)
  const wide = policyWith({ Sid: sid })
  t.ok(wide.length < 32768 + 200 && Buffer.byteLength(wide) > 32768)
  t.equal(
    caughtCode(() => parseKeyPolicy(wide)),
    'ERR_KMS_POLICY_TOO_LARGE',
  )
  t.equal(
    caughtCode(() => parseKeyPolicy('x'.repeat(40_000))),
    'ERR_KMS_POLICY_TOO_LARGE',
  )
  t.end()
})

t.test('errors never carry the input', (t) => {
  const secret = 'arn:aws:iam::999988887777:role/secret-name'
  for (const text of [`{"Version": "${secret}`, policyWith({ Principal: { AWS: `${secret}*` } })]) {
    try {
      parseKeyPolicy(text)
      t.fail('should throw')
    } catch (error) {
      t.ok(isCloisterError(error))
      t.notMatch(String(error), 'secret-name')
      t.notMatch(JSON.stringify(error), 'secret-name')
      t.equal((error as Error).cause, undefined)
    }
  }
  t.end()
})

t.test('text that is not JSON, or not a JSON object, is malformed', (t) => {
  for (const text of [
    '',
    '{',
    'nul',
    '{"Version": "2012-10-17",}',
    '\uFEFF{}',
    '[]',
    '"x"',
    'null',
    '7',
  ]) {
    t.equal(
      caughtCode(() => parseKeyPolicy(text)),
      'ERR_KMS_POLICY_MALFORMED',
      JSON.stringify(text),
    )
  }
  t.end()
})

t.test('an object that repeats a member name is refused, at any depth', (t) => {
  const statement = '{"Effect":"Allow","Principal":"*","Action":"kms:*","Resource":"*"}'
  const duplicates = [
    `{"Version":"2012-10-17","Version":"2012-10-17","Statement":${statement}}`,
    `{"Version":"2012-10-17","Statement":{"Effect":"Deny","Effect":"Allow","Principal":"*","Action":"kms:*","Resource":"*"}}`,
    // Escapes are decoded before comparing: \u0045ffect is Effect.
    `{"Version":"2012-10-17","Statement":{"Effect":"Deny","\\u0045ffect":"Allow","Principal":"*","Action":"kms:*","Resource":"*"}}`,
    // Whitespace may separate a name from its colon.
    `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"kms:*","Resource":"*","Condition":{"Null":{"a:b" : "true", "a:b"\n:\t"false"}}}]}`,
  ]
  for (const text of duplicates) {
    t.equal(
      caughtCode(() => parseKeyPolicy(text)),
      'ERR_KMS_POLICY_MALFORMED',
      text,
    )
  }
  // The same name in sibling objects, names that only look alike, and strings that are values.
  const fine = [
    `{"Version":"2012-10-17","Statement":[${statement},${statement}]}`,
    `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":"*","Action":"kms:*","Resource":"*","Condition":{"StringEquals":{"a:Effect":["Effect","a:Effect"],"a:effect":"Effect"}}}}`,
    `{"Version":"2012-10-17","Statement":{"Sid":"quote \\" brace } bracket ] colon :","Effect":"Allow","Principal":"*","Action":"kms:*","Resource":"*"}}`,
  ]
  for (const text of fine)
    t.equal(
      caughtCode(() => parseKeyPolicy(text)),
      'returned',
      text,
    )
  t.same(parsePolicyJson('{"a":{"b":1},"c":{"b":[{"b":2}]}}'), {
    a: { b: 1 },
    c: { b: [{ b: 2 }] },
  })
  t.end()
})

t.test('the policy envelope: Version, Id and Statement only', (t) => {
  const statement = { Effect: 'Allow', Principal: '*', Action: 'kms:*', Resource: '*' }
  const cases: [string, unknown][] = [
    ['missing Version', { Statement: statement }],
    ['old Version', { Version: '2008-10-17', Statement: statement }],
    ['Version not a string', { Version: 20121017, Statement: statement }],
    ['missing Statement', { Version: '2012-10-17' }],
    ['empty Statement', { Version: '2012-10-17', Statement: [] }],
    ['Statement not an object', { Version: '2012-10-17', Statement: ['x'] }],
    ['Statement null', { Version: '2012-10-17', Statement: null }],
    ['Id not a string', { Version: '2012-10-17', Id: 1, Statement: statement }],
    ['unknown field', { Version: '2012-10-17', Statement: statement, Comment: 'x' }],
    ['lower-case field', { version: '2012-10-17', Statement: statement }],
  ]
  for (const [name, document] of cases) {
    t.equal(
      caughtCode(() => parseKeyPolicy(JSON.stringify(document))),
      'ERR_KMS_POLICY_MALFORMED',
      name,
    )
  }
  t.end()
})

t.test('statement fields: every refusal is ERR_KMS_POLICY_MALFORMED', (t) => {
  const cases: [string, string][] = [
    ['missing Effect', policyWithout('Effect')],
    ['missing Principal', policyWithout('Principal')],
    ['missing Action', policyWithout('Action')],
    ['missing Resource', policyWithout('Resource')],
    ['NotAction', policyWith({ NotAction: 'kms:Decrypt' })],
    ['NotPrincipal', policyWith({ NotPrincipal: { AWS: ROLE } })],
    ['NotResource', policyWith({ NotResource: '*' })],
    ['Sid not a string', policyWith({ Sid: 7 })],
    ['Effect in lower case', policyWith({ Effect: 'allow' })],
    ['Effect not a string', policyWith({ Effect: true })],
    ['Principal an ARN string', policyWith({ Principal: ROLE })],
    ['Principal Service', policyWith({ Principal: { Service: 'ec2.amazonaws.com' } })],
    ['Principal AWS and Service', policyWith({ Principal: { AWS: ROLE, Service: 'x' } })],
    ['Principal empty object', policyWith({ Principal: {} })],
    ['Principal empty list', policyWith({ Principal: { AWS: [] } })],
    ['Principal number', policyWith({ Principal: { AWS: 111122223333 } })],
    [
      'Principal wildcard ARN',
      policyWith({ Principal: { AWS: 'arn:aws:iam::111122223333:role/*' } }),
    ],
    ['Principal ? in ARN', policyWith({ Principal: { AWS: 'arn:aws:iam::111122223333:role/a?' } })],
    ['Principal short account', policyWith({ Principal: { AWS: '11112222333' } })],
    ['Principal foreign service', policyWith({ Principal: { AWS: 'arn:aws:s3:::bucket' } })],
    ['Principal null', policyWith({ Principal: null })],
    ['Action empty list', policyWith({ Action: [] })],
    ['Action number', policyWith({ Action: 3 })],
    ['Action without service', policyWith({ Action: 'Decrypt' })],
    ['Action with a space', policyWith({ Action: 'kms:Decr ypt' })],
    ['Action wildcard service', policyWith({ Action: '*:Decrypt' })],
    ['Action list with a number', policyWith({ Action: ['kms:Decrypt', 1] })],
    ['Resource empty list', policyWith({ Resource: [] })],
    ['Resource not an ARN', policyWith({ Resource: 'key/1234' })],
    ['Resource short ARN', policyWith({ Resource: 'arn:aws:kms:eu-west-1:111122223333' })],
    ['Resource with a variable', policyWith({ Resource: `${KEY_ARN}/\${aws:username}` })],
  ]
  for (const [name, text] of cases) {
    t.equal(
      caughtCode(() => parseKeyPolicy(text)),
      'ERR_KMS_POLICY_MALFORMED',
      name,
    )
  }
  t.end()
})

t.test('conditions: only the supported operators, keys and values', (t) => {
  const withCondition = (condition: unknown) => policyWith({ Condition: condition })
  const cases: [string, unknown][] = [
    ['not an object', 'x'],
    ['a list', [{ StringEquals: { 'a:b': 'c' } }]],
    ['empty', {}],
    ['empty operator block', { StringEquals: {} }],
    ['operator block a string', { StringEquals: 'a:b' }],
    ['operator block null', { StringEquals: null }],
    ['StringNotLike', { StringNotLike: { 'a:b': 'c' } }],
    ['StringEqualsIfExists', { StringEqualsIfExists: { 'a:b': 'c' } }],
    ['ArnLike', { ArnLike: { 'aws:SourceArn': KEY_ARN } }],
    ['NumericLessThan', { NumericLessThan: { 'a:b': '1' } }],
    ['operator in lower case', { stringequals: { 'a:b': 'c' } }],
    ['unknown set operator', { 'ForEachValue:StringEquals': { 'a:b': 'c' } }],
    ['set operator in lower case', { 'forAnyValue:StringEquals': { 'a:b': 'c' } }],
    ['two set operators', { 'ForAnyValue:ForAllValues:StringEquals': { 'a:b': 'c' } }],
    ['set operator alone', { 'ForAnyValue:': { 'a:b': 'c' } }],
    ['ForAnyValue:Null', { 'ForAnyValue:Null': { 'a:b': 'true' } }],
    ['ForAllValues:Bool', { 'ForAllValues:Bool': { 'a:b': 'true' } }],
    ['key without prefix', { StringEquals: { RecipientAttestation: 'c' } }],
    ['key with empty name', { StringEquals: { 'kms:': 'c' } }],
    ['key with a control character', { StringEquals: { 'kms:a\u0001b': 'c' } }],
    ['no values', { StringEquals: { 'a:b': [] } }],
    ['a number value', { StringEquals: { 'a:b': 1 } }],
    ['a null value', { StringLike: { 'a:b': null } }],
    ['an object value', { StringEquals: { 'a:b': { c: 'd' } } }],
    ['a policy variable', { StringEquals: { 'kms:CallerAccount': '${aws:PrincipalAccount}' } }],
    ['Bool yes', { Bool: { 'aws:SecureTransport': 'yes' } }],
    ['Bool TRUE', { Bool: { 'aws:SecureTransport': 'TRUE' } }],
    ['Bool no values', { Bool: { 'aws:SecureTransport': [] } }],
    ['Null a number', { Null: { 'a:b': 1 } }],
  ]
  for (const [name, condition] of cases) {
    t.equal(
      caughtCode(() => parseKeyPolicy(withCondition(condition))),
      'ERR_KMS_POLICY_MALFORMED',
      name,
    )
  }
  t.end()
})

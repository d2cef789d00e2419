/** Principals: account, role and session forms, and the ARN shapes a key policy may name. */

import t from 'tap'
import { matchPrincipal } from '../../../../parent/kms/policy/match-principal.js'
import { accountRootArn, parsePrincipalArn } from '../../../../parent/kms/policy/principal-arn.js'

const ACCOUNT = '111122223333'
const ROLE = `arn:aws:iam::${ACCOUNT}:role/cloister-parent`
const PATH_ROLE = `arn:aws:iam::${ACCOUNT}:role/service/cloister-parent`
const SESSION = `arn:aws:sts::${ACCOUNT}:assumed-role/cloister-parent/i-0abc1234`
const USER = `arn:aws:iam::${ACCOUNT}:user/alice`

t.test('parsePrincipalArn splits IAM and STS principal ARNs and refuses everything else', (t) => {
  t.same(parsePrincipalArn(ROLE), {
    partition: 'aws',
    service: 'iam',
    account: ACCOUNT,
    resource: 'role/cloister-parent',
  })
  t.same(parsePrincipalArn(`arn:aws-us-gov:sts::${ACCOUNT}:assumed-role/r/s`), {
    partition: 'aws-us-gov',
    service: 'sts',
    account: ACCOUNT,
    resource: 'assumed-role/r/s',
  })
  t.same(parsePrincipalArn(`arn:aws-cn:iam::${ACCOUNT}:root`)?.partition, 'aws-cn')
  for (const text of [
    '*',
    ACCOUNT,
    `arn:aws:iam::${ACCOUNT}:role/*`,
    `arn:aws:iam::${ACCOUNT}:role/a?b`,
    `arn:aws:iam::${ACCOUNT}:group/admins`,
    `arn:aws:iam::${ACCOUNT}:assumed-role/r/s`,
    `arn:aws:sts::${ACCOUNT}:role/r`,
    `arn:aws:sts::${ACCOUNT}:assumed-role/r`,
    `arn:aws:iam::1111:root`,
    `arn:aws:iam:eu-west-1:${ACCOUNT}:root`,
    `arn:aws-xx:iam::${ACCOUNT}:root`,
    `arn:aws:kms:eu-west-1:${ACCOUNT}:key/abc`,
    ` ${ROLE}`,
  ]) {
    t.equal(parsePrincipalArn(text), undefined, text)
  }
  t.end()
})

t.test('accountRootArn names the account in its partition', (t) => {
  t.equal(accountRootArn(ACCOUNT), `arn:aws:iam::${ACCOUNT}:root`)
  t.equal(accountRootArn(ACCOUNT, 'aws-cn'), `arn:aws-cn:iam::${ACCOUNT}:root`)
  t.end()
})

// [named in the policy, requester, expected]
const CASES: readonly [string, string, boolean][] = [
  ['*', ROLE, true],
  ['*', 'not an arn', true],
  [ACCOUNT, ROLE, true],
  [ACCOUNT, SESSION, true],
  [ACCOUNT, `arn:aws-cn:iam::${ACCOUNT}:user/bob`, true],
  [ACCOUNT, `arn:aws:iam::444455556666:root`, false],
  [ACCOUNT, 'not an arn', false],
  [`arn:aws:iam::${ACCOUNT}:root`, USER, true],
  [`arn:aws:iam::${ACCOUNT}:root`, SESSION, true],
  [`arn:aws:iam::${ACCOUNT}:root`, `arn:aws:iam::444455556666:user/alice`, false],
  [`arn:aws:iam::${ACCOUNT}:root`, `arn:aws-cn:iam::${ACCOUNT}:user/alice`, false],
  [ROLE, ROLE, true],
  [ROLE, SESSION, true],
  [PATH_ROLE, SESSION, true],
  [ROLE, `arn:aws:sts::${ACCOUNT}:assumed-role/cloister-parent-2/i-0abc`, false],
  [ROLE, `arn:aws:sts::444455556666:assumed-role/cloister-parent/i-0abc`, false],
  [ROLE, `arn:aws:iam::${ACCOUNT}:role/Cloister-Parent`, false],
  [ROLE, USER, false],
  [USER, USER, true],
  [USER, `arn:aws:iam::${ACCOUNT}:user/alice2`, false],
  [USER, `arn:aws:sts::${ACCOUNT}:assumed-role/alice/s`, false],
  [SESSION, SESSION, true],
  [SESSION, `arn:aws:sts::${ACCOUNT}:assumed-role/cloister-parent/other`, false],
  [ROLE, 'not an arn', false],
  // A value no parsed policy holds is compared literally, and never widens.
  ['arn:aws:iam::111122223333:role/*', ROLE, false],
  ['not an arn', 'not an arn', true],
]

t.test('matching table', (t) => {
  for (const [named, requester, expected] of CASES) {
    t.equal(matchPrincipal(named, requester), expected, `${named} names ${requester}`)
  }
  t.end()
})

/** IAM wildcard matching: `*` any run, `?` one character, case as asked, whole value only. */

import t from 'tap'
import { matchWildcard } from '../../../../parent/kms/policy/match-wildcard.js'

// [pattern, value, ignoreCase, expected]
const CASES: readonly [string, string, boolean, boolean][] = [
  ['kms:Decrypt', 'kms:Decrypt', false, true],
  ['kms:Decrypt', 'kms:decrypt', false, false],
  ['kms:Decrypt', 'KMS:DECRYPT', true, true],
  ['kms:Decrypt', 'kms:DecryptX', true, false],
  ['kms:Decrypt', 'kms:Decryp', true, false],
  ['kms:*', 'kms:Decrypt', true, true],
  ['kms:*', 'kms:', true, true],
  ['kms:*', 's3:GetObject', true, false],
  ['*', '', false, true],
  ['*', 'anything:at/all', false, true],
  ['', '', false, true],
  ['', 'x', false, false],
  ['kms:Generate*', 'kms:GenerateDataKey', true, true],
  ['kms:Generate*', 'kms:GenerateRandom', true, true],
  ['kms:Generate*', 'kms:Decrypt', true, false],
  ['kms:*Key', 'kms:GenerateDataKey', true, true],
  ['kms:*Key', 'kms:GenerateDataKeyPair', true, false],
  ['kms:?ecrypt', 'kms:Decrypt', true, true],
  ['kms:?ecrypt', 'kms:Encrypt', true, false],
  ['kms:??crypt', 'kms:Encrypt', true, true],
  ['kms:?', 'kms:', true, false],
  ['a*b*c', 'aXXbYYc', false, true],
  ['a*b*c', 'abc', false, true],
  ['a*b*c', 'aXXbYY', false, false],
  ['a*b', 'a-b-b', false, true],
  ['a*bc', 'abxbc', false, true],
  ['a**', 'a', false, true],
  ['*?', '', false, false],
  ['*?', 'x', false, true],
  // '*' spans ARN separators, as in "arn:aws:kms:*:111122223333:key/*".
  ['arn:aws:kms:*:111122223333:key/*', 'arn:aws:kms:eu-west-1:111122223333:key/abc', false, true],
  ['arn:aws:kms:*:111122223333:key/*', 'arn:aws:kms:eu-west-1:444455556666:key/abc', false, false],
  [
    'arn:aws:kms:*:111122223333:key/ABC',
    'arn:aws:kms:eu-west-1:111122223333:key/abc',
    false,
    false,
  ],
  // '?' is one character, even outside the Basic Multilingual Plane.
  ['a?c', 'a\u{1F511}c', false, true],
  ['a??c', 'a\u{1F511}c', false, false],
]

t.test('matching table', (t) => {
  for (const [pattern, value, ignoreCase, expected] of CASES) {
    t.equal(matchWildcard(pattern, value, ignoreCase), expected, `${pattern} ~ ${value}`)
  }
  t.end()
})

t.test('a long pathological pattern stays polynomial', (t) => {
  const pattern = `${'a*'.repeat(200)}b`
  const value = 'a'.repeat(2000)
  t.equal(matchWildcard(pattern, value, false), false)
  t.equal(matchWildcard(pattern, `${value}b`, false), true)
  t.end()
})

/** `cloister policy`: the printed key policy, its equality with the library's, and usage errors. */

import t from 'tap'
import { EXIT_OK, EXIT_REJECTED, EXIT_USAGE, runCli, USAGE } from '../../../scripts/cli/run-cli.js'
import { POLICY_USAGE } from '../../../scripts/cli/policy-command.js'
import { defaultEnclaveKeyPolicy } from '../../../parent/kms/policy/default-enclave-key-policy.js'
import { parseKeyPolicy } from '../../../parent/kms/policy/parse-key-policy.js'
import { createRecordingIo } from '../../fakes/fake-cli-io.js'

const ACCOUNT = '111122223333'
const ROLE = `arn:aws:iam::${ACCOUNT}:role/cloister-parent`
const PCR0 = 'a0'.repeat(48)
const PCR1 = 'b1'.repeat(48)
const PCR2 = 'c2'.repeat(48)
const PCR8 = 'd8'.repeat(48)
const ZERO = '00'.repeat(48)

async function policy(args: string[]) {
  const io = createRecordingIo()
  const status = await runCli(['policy', ...args], io)
  return { status, out: io.out(), err: io.err() }
}

t.test('prints the policy, pretty-printed, equal to defaultEnclaveKeyPolicy', async (t) => {
  const args = ['--pcr0', PCR0, '--pcr1', PCR1, '--pcr2', PCR2, '--pcr8', PCR8]
  const result = await policy([...args, '--principal', ROLE, '--account', ACCOUNT])
  t.equal(result.status, EXIT_OK)
  t.equal(result.err, '')
  const expected = defaultEnclaveKeyPolicy({
    accountId: ACCOUNT,
    principal: ROLE,
    pcrs: { 0: PCR0, 1: PCR1, 2: PCR2, 8: PCR8 },
  })
  t.equal(result.out, `${JSON.stringify(expected, null, 2)}\n`)
  t.same(JSON.parse(result.out), expected)
  t.equal(parseKeyPolicy(result.out).statements.length, 3)
  t.match(result.out, /^\{\n {2}"Version": "2012-10-17",\n {2}"Statement": \[\n/)
})

t.test('the account comes from --principal when --account is absent', async (t) => {
  const result = await policy(['--pcr0', PCR0.toUpperCase(), '--principal', ROLE])
  t.equal(result.status, EXIT_OK)
  t.same(
    JSON.parse(result.out),
    defaultEnclaveKeyPolicy({ accountId: ACCOUNT, principal: ROLE, pcrs: { 0: PCR0 } }),
  )
  const cross = await policy(['--pcr0', PCR0, '--principal', ROLE, '--account', '444455556666'])
  t.same(
    JSON.parse(cross.out),
    defaultEnclaveKeyPolicy({ accountId: '444455556666', principal: ROLE, pcrs: { 0: PCR0 } }),
  )
  const accountOnly = await policy(['--pcr0', PCR0, '--account', ACCOUNT])
  t.same(
    JSON.parse(accountOnly.out),
    defaultEnclaveKeyPolicy({ accountId: ACCOUNT, pcrs: { 0: PCR0 } }),
  )
})

t.test('debug (all-zero) measurements are a rejection, exit 1', async (t) => {
  for (const args of [
    ['--pcr0', ZERO],
    ['--pcr0', PCR0, '--pcr2', ZERO],
  ]) {
    const result = await policy([...args, '--account', ACCOUNT])
    t.equal(result.status, EXIT_REJECTED)
    t.match(result.out, /^rejected: ERR_KMS_POLICY_DEBUG_PCR: /)
    t.equal(result.err, '')
  }
})

t.test('usage errors exit 2 with a message and the usage, echoing no value', async (t) => {
  const cases: [string[], string][] = [
    [['--account', ACCOUNT], '--pcr0 is required'],
    [['--pcr0', PCR0.slice(2), '--account', ACCOUNT], '--pcr0 takes 96 hex digits'],
    [['--pcr0', PCR0, '--pcr1', 'zz', '--account', ACCOUNT], '--pcr1 takes 96 hex digits'],
    [['--pcr0', PCR0, '--pcr8', `${PCR8}00`, '--account', ACCOUNT], '--pcr8 takes 96 hex digits'],
    [['--pcr0', PCR0, '--pcr0', PCR0, '--account', ACCOUNT], '--pcr0 is given twice'],
    [['--pcr0', PCR0], '--account is required without --principal'],
    [['--pcr0', PCR0, '--account', '1234'], '--account takes 12 digits'],
    [
      ['--pcr0', PCR0, '--principal', 'arn:aws:iam::111122223333:role/secret*'],
      '--principal takes an IAM role, user or root ARN, or an assumed-role ARN',
    ],
  ]
  for (const [args, message] of cases) {
    const result = await policy(args)
    t.equal(result.status, EXIT_USAGE, message)
    t.equal(result.err, `cloister policy: ${message}\n\n${POLICY_USAGE}`)
    t.equal(result.out, '')
    t.notMatch(result.err, 'secret')
  }
  for (const args of [['--pcr0', PCR0, 'extra'], ['--pcr3', PCR0], ['--pcr0']]) {
    const result = await policy(args)
    t.equal(result.status, EXIT_USAGE, args.join(' '))
    t.match(result.err, /^cloister policy: /)
  }
})

t.test('help and the command list', async (t) => {
  const help = await policy(['--help'])
  t.equal(help.status, EXIT_OK)
  t.equal(help.out, POLICY_USAGE)
  t.match(USAGE, /\n {2}policy --pcr0 HEX {6}print a KMS key policy/)
})

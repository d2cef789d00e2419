/** The `cloister` dispatcher: help, unknown commands, and errors that must not escape. */

import t from 'tap'
import { EXIT_OK, EXIT_REJECTED, EXIT_USAGE, runCli, USAGE } from '../../../scripts/cli/run-cli.js'
import { ATTEST_VERIFY_USAGE } from '../../../scripts/cli/attest-verify.js'
import { expectCatalogError } from '../../../shared/errors/expect-catalog-error.js'
import { readFailure } from '../../../scripts/cli/usage-error.js'
import { CloisterError } from '../../../shared/errors/cloister-error.js'
import { createRecordingIo } from '../../fakes/fake-cli-io.js'
import { VECTORS_DIR } from '../../helpers/shared-vectors.js'

t.test('help goes to stdout with status 0', async (t) => {
  for (const argv of [[], ['--help'], ['help']]) {
    const io = createRecordingIo()
    t.equal(await runCli(argv, io), EXIT_OK)
    t.equal(io.out(), USAGE)
  }
  const io = createRecordingIo()
  t.equal(await runCli(['attest', 'verify', '--help'], io), EXIT_OK)
  t.equal(io.out(), ATTEST_VERIFY_USAGE)
})

t.test('an unknown command prints the usage to stderr with status 2', async (t) => {
  for (const argv of [['attest'], ['attest', 'sign'], ['frobnicate']]) {
    const io = createRecordingIo()
    t.equal(await runCli(argv, io), EXIT_USAGE)
    t.equal(io.err(), USAGE)
    t.equal(io.out(), '')
  }
})

t.test('an unexpected error prints no detail and exits 1', async (t) => {
  const io = createRecordingIo({ files: { doc: 'a1' } })
  const failing = {
    ...io,
    stdout: () => {
      throw new Error('secret detail')
    },
  }
  t.equal(await runCli(['attest', 'verify', 'doc', '--at', '0'], failing), EXIT_REJECTED)
  t.equal(io.err(), 'cloister attest verify: internal error\n')
})

t.test('only catalog errors are handled as verdicts; others escape to the dispatcher', (t) => {
  const catalog = new CloisterError('ERR_COSE_TAG')
  t.equal(expectCatalogError(catalog), catalog)
  const bug = new TypeError('bug')
  t.throws(() => expectCatalogError(bug), bug)
  t.equal(readFailure('f', new Error('no code')).message, 'cannot read f: unreadable')
  t.equal(
    readFailure('f', Object.assign(new Error('x'), { code: 'EISDIR' })).message,
    'cannot read f: EISDIR',
  )
  t.end()
})

t.test('a failing clock is an internal error, not a verdict', async (t) => {
  const io = createRecordingIo()
  const broken = {
    ...io,
    now: () => {
      throw new Error('clock')
    },
  }
  t.equal(
    await runCli(['attest', 'verify', `${VECTORS_DIR}/nitro/anjuna-1.cose`], broken),
    EXIT_REJECTED,
  )
  t.equal(io.err(), 'cloister attest verify: internal error\n')
  t.equal(io.out(), '')
})

import t from 'tap'
import { CloisterError, isCloisterError } from '../../../shared/errors/cloister-error.js'

t.test('a CloisterError carries its code, status and catalog message', (t) => {
  const error = new CloisterError('ERR_ATTESTATION_DEBUG')
  t.equal(error.code, 'ERR_ATTESTATION_DEBUG')
  t.equal(error.status, 403)
  t.ok(isCloisterError(error))
  t.notOk(isCloisterError(new Error('x')))
  t.end()
})

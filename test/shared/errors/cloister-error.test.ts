import t from 'tap'
import { runInNewContext } from 'node:vm'
import { CloisterError, isCloisterError } from '../../../shared/errors/cloister-error.js'
import { ERROR_CATALOG, ERROR_CODES } from '../../../shared/errors/catalog.js'

t.test('every catalog code makes an error with its status and fixed message', (t) => {
  t.ok(ERROR_CODES.length > 0)
  for (const code of ERROR_CODES) {
    const error = new CloisterError(code)
    t.ok(error instanceof Error, code)
    t.equal(error.name, 'CloisterError', code)
    t.equal(error.code, code)
    t.equal(error.status, ERROR_CATALOG[code].status, code)
    t.equal(error.message, ERROR_CATALOG[code].message, code)
    t.equal(isCloisterError(error), true, code)
  }
  t.end()
})

t.test('a CBOR error carries its exact status and message', (t) => {
  const error = new CloisterError('ERR_CBOR_TOO_LARGE')
  t.equal(error.status, 413)
  t.equal(error.message, 'The CBOR input is larger than allowed.')
  t.equal(String(error), 'CloisterError: The CBOR input is larger than allowed.')
  t.end()
})

t.test('isCloisterError checks the shape: an Error whose code is in the catalog', (t) => {
  const withCode = (code: unknown): Error => Object.assign(new Error('x'), { code })
  t.equal(
    isCloisterError(withCode('ERR_CBOR_MALFORMED')),
    true,
    'a plain Error with a catalog code',
  )
  t.equal(
    isCloisterError(Object.assign(new TypeError('x'), { code: 'ERR_CLI_USAGE' })),
    true,
    'an Error subclass with a catalog code',
  )
  t.equal(isCloisterError(new Error('x')), false, 'no code')
  t.equal(isCloisterError(withCode('ERR_NOT_IN_CATALOG')), false, 'a code outside the catalog')
  t.equal(isCloisterError(withCode('err_cbor_malformed')), false, 'codes are case-sensitive')
  t.equal(isCloisterError(withCode(400)), false, 'a number')
  t.equal(isCloisterError(withCode(undefined)), false, 'undefined')
  for (const inherited of ['toString', 'constructor', '__proto__', 'hasOwnProperty']) {
    t.equal(isCloisterError(withCode(inherited)), false, `inherited key ${inherited}`)
  }
  t.end()
})

t.test('isCloisterError is false for anything that is not an Error', (t) => {
  const values: unknown[] = [
    undefined,
    null,
    'ERR_CBOR_MALFORMED',
    413,
    { code: 'ERR_CBOR_MALFORMED', message: 'The CBOR input is not well-formed.' },
    { code: 'ERR_CBOR_MALFORMED', [Symbol.toStringTag]: 'Object' },
    Object.create(null) as unknown,
  ]
  for (const [index, value] of values.entries())
    t.equal(isCloisterError(value), false, `value ${index}`)
  t.end()
})

t.test('isCloisterError holds across realms', (t) => {
  const foreign: unknown = runInNewContext(
    'const error = new Error("x"); error.code = "ERR_CBOR_TRUNCATED"; error',
  )
  t.notOk(foreign instanceof Error, 'the error comes from another realm')
  t.equal(isCloisterError(foreign), true)
  const foreignWithoutCode: unknown = runInNewContext('new RangeError("x")')
  t.equal(isCloisterError(foreignWithoutCode), false)
  const foreignObject: unknown = runInNewContext('({ code: "ERR_CBOR_TRUNCATED" })')
  t.equal(isCloisterError(foreignObject), false)
  t.end()
})

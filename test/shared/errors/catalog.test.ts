/** The error catalog is closed, well-formed, and documented in docs/errors.md word for word. */

import { readFileSync } from 'node:fs'
import t from 'tap'
import { renderErrorDocs } from '../../../scripts/docs/render-error-docs.js'
import { ERROR_CATALOG, ERROR_CODES } from '../../../shared/errors/catalog.js'
import { CloisterError } from '../../../shared/errors/cloister-error.js'

t.test('docs/errors.md is in sync with the catalog', (t) => {
  const documented = readFileSync(new URL('../../../docs/errors.md', import.meta.url), 'utf8')
  t.equal(documented, renderErrorDocs(), 'regenerate with: npm run docs:errors')
  for (const code of ERROR_CODES) t.match(documented, `| \`${code}\` |`)
  t.end()
})

t.test(
  'every code is ERR_<AREA>_<CONDITION> with an HTTP status and a one-sentence message',
  (t) => {
    t.ok(ERROR_CODES.length >= 30)
    for (const code of ERROR_CODES) {
      const { status, message } = ERROR_CATALOG[code]
      t.match(code, /^ERR_[A-Z0-9]+_[A-Z0-9_]+$/, code)
      t.ok(status >= 400 && status <= 599, `${code} status`)
      t.match(message, /^[A-Z][^\n]*\.$/, `${code} message`)
      t.equal(new CloisterError(code).message, message)
    }
    t.end()
  },
)

t.test('a CloisterError carries its code, status and catalog message', (t) => {
  const error = new CloisterError('ERR_ATTESTATION_DEBUG')
  t.equal(error.code, 'ERR_ATTESTATION_DEBUG')
  t.equal(error.status, 403)
  t.equal(error.name, 'CloisterError')
  t.end()
})

/** `npm run docs:errors`: writes docs/errors.md from the error catalog. */

import { writeFileSync } from 'node:fs'
import { renderErrorDocs } from './render-error-docs.js'

writeFileSync(new URL('../../../docs/errors.md', import.meta.url), renderErrorDocs())

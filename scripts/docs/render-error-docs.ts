/** Renders docs/errors.md from the error catalog, so the documentation cannot drift from the code. */

import { ERROR_CATALOG, ERROR_CODES } from '../../shared/errors/catalog.js'

/** The full text of docs/errors.md. */
export function renderErrorDocs(): string {
  const rows = ERROR_CODES.map((code) => {
    const { status, message } = ERROR_CATALOG[code]
    return `| \`${code}\` | ${status} | ${message} |`
  })
  return [
    '# Error codes',
    '',
    'Every error Cloister reports on purpose carries one of these stable codes. Match on the code,',
    'never on the message. Messages are fixed and safe: they never contain input bytes, keys, tokens',
    'or the text of a dependency error. Only the code crosses the enclave boundary.',
    '',
    'This file is generated from `shared/errors/catalog.ts` by `npm run docs:errors`;',
    '`test/shared/errors/catalog.test.ts` fails when the two differ.',
    '',
    '| code | HTTP status | message |',
    '| --- | --- | --- |',
    ...rows,
    '',
  ].join('\n')
}

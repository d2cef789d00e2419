/** Lets a caller handle catalog errors and pass every other exception on untouched. */

import { isCloisterError, type CloisterError } from './cloister-error.js'

/** `error` if it is a catalog error; otherwise rethrows it (a bug, reported without detail). */
export function expectCatalogError(error: unknown): CloisterError {
  if (isCloisterError(error)) return error
  throw error
}

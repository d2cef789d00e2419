/** The exact catalog code a call throws, because tap's `t.throws` matches codes as substrings. */

import { isCloisterError } from '../../shared/errors/cloister-error.js'

/**
 * `run`'s outcome as one string to compare with `t.equal`: the `CloisterError` code it throws,
 * `'returned'` when it throws nothing, or the name and message of any other exception.
 */
export function caughtCode(run: () => unknown): string {
  try {
    run()
  } catch (error) {
    return isCloisterError(error) ? error.code : String(error)
  }
  return 'returned'
}

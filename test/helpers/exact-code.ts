/** A tap pattern that matches one error code exactly: tap compares strings as substrings. */

/** `{ code: exactCode(code) }` matches `code` and nothing longer (ERR_X never passes for ERR_X_Y). */
export function exactCode(code: string): RegExp {
  return new RegExp(`^${code}$`)
}

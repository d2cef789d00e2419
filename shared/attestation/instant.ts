/** The one check every verification instant passes: a whole number of ms that a Date can hold. */

import { CloisterError } from '../errors/cloister-error.js'

/** The last instant an ECMAScript Date represents: 8.64e15 ms after the epoch (ECMA-262 §21.4.1). */
export const MAX_INSTANT_MS = 8.64e15

/**
 * Whether `now` is an instant: comparisons with NaN, undefined or text are all false, which would
 * silently switch every validity and age check off. So they are refused first, fail-closed.
 *
 * @throws {CloisterError} `ERR_CLOCK_INVALID`.
 */
export function assertInstant(now: unknown): asserts now is number {
  if (typeof now !== 'number' || !Number.isSafeInteger(now) || now < 0 || now > MAX_INSTANT_MS) {
    throw new CloisterError('ERR_CLOCK_INVALID')
  }
}

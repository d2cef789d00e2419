/** The one error type Cloister code throws on purpose: a catalog code with its status and safe message. */

import { ERROR_CATALOG, type ErrorCode } from './catalog.js'

/**
 * An error whose `code` comes from the catalog. Match on `code`, never on `instanceof` or the message:
 * only the code crosses process boundaries.
 *
 * @example
 * ```ts
 * try { verifyAttestation(bytes, options) } catch (error) {
 *   if (isCloisterError(error) && error.code === 'ERR_ATTESTATION_DEBUG') { … }
 * }
 * ```
 */
export class CloisterError extends Error {
  readonly code: ErrorCode
  readonly status: number

  constructor(code: ErrorCode) {
    const entry = ERROR_CATALOG[code]
    super(entry.message)
    this.name = 'CloisterError'
    this.code = code
    this.status = entry.status
  }
}

/** True when `value` is a {@link CloisterError} (checked by shape, so it also holds across realms). */
export function isCloisterError(value: unknown): value is CloisterError {
  // An error from another realm (a vm context) fails `instanceof Error` but keeps its Error brand.
  const isError =
    value instanceof Error || Object.prototype.toString.call(value) === '[object Error]'
  if (!isError) return false
  const code: unknown = (value as Error & { code?: unknown }).code
  return typeof code === 'string' && Object.hasOwn(ERROR_CATALOG, code)
}

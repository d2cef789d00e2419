/** Looks up the values of a request's context keys without regard to case, as IAM compares them. */

import { CloisterError } from '../../../shared/errors/cloister-error.js'

/**
 * The value of one context key: one string, a set of strings (a multivalued key such as
 * `kms:EncryptionContextKeys`) or a boolean (`aws:SecureTransport`).
 */
export type ContextValue = string | readonly string[] | boolean

/** The request context: condition key → value, in any letter case. */
export type RequestContext = ReadonlyMap<string, ContextValue>

/** A lookup of context keys by name, in any case; `undefined` when the request lacks the key. */
export type ContextLookup = (key: string) => ContextValue | undefined

/**
 * A case-insensitive lookup over `context`. IAM User Guide "IAM JSON policy elements: Condition":
 * condition key names are not case-sensitive. Two context keys that differ only in case (an
 * encryption context may hold `Dept` and `dept`; AWS KMS Developer Guide "kms:EncryptionContext:
 * context-key" advises against it) cannot be told apart by a condition: looking one of them up
 * throws `ERR_KMS_POLICY_CONTEXT_AMBIGUOUS`, so the request fails instead of matching either.
 */
export function createContextLookup(context: RequestContext): ContextLookup {
  const byName = new Map<string, ContextValue>()
  const ambiguous = new Set<string>()
  for (const [key, value] of context) {
    const name = key.toLowerCase()
    if (byName.has(name)) ambiguous.add(name)
    byName.set(name, value)
  }
  return (key) => {
    const name = key.toLowerCase()
    if (ambiguous.has(name)) throw new CloisterError('ERR_KMS_POLICY_CONTEXT_AMBIGUOUS')
    return byName.get(name)
  }
}

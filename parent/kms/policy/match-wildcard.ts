/** Matches a value against an IAM wildcard pattern, where `*` is any run of characters and `?` one. */

/**
 * Whether `pattern` matches all of `value`. IAM User Guide "IAM JSON policy elements: Action" and
 * "…: Resource": `*` matches any run of characters (colons and slashes included), `?` exactly one
 * character; every other character matches itself. `ignoreCase` compares lower-cased forms (actions
 * are case-insensitive; ARNs and StringLike values are not).
 *
 * Characters are Unicode code points, so `?` matches one character even outside the BMP. The
 * matcher is the greedy one with a single backtrack point: time O(pattern × value), no recursion.
 *
 * @example
 * ```ts
 * matchWildcard('kms:Generate*', 'kms:GenerateDataKey', true) // true
 * ```
 */
export function matchWildcard(pattern: string, value: string, ignoreCase: boolean): boolean {
  const wanted = Array.from(ignoreCase ? pattern.toLowerCase() : pattern)
  const given = Array.from(ignoreCase ? value.toLowerCase() : value)
  let at = 0 // in wanted
  let next = 0 // in given
  let star = -1 // position of the last '*' seen in wanted
  let resume = 0 // where in given that '*' would next resume
  while (next < given.length) {
    const char = wanted[at]
    if (char === '*') {
      star = at
      at += 1
      resume = next
    } else if (char === '?' || char === given[next]) {
      at += 1
      next += 1
    } else if (star >= 0) {
      // Let the last '*' swallow one more character and retry from there.
      at = star + 1
      resume += 1
      next = resume
    } else {
      return false
    }
  }
  while (wanted[at] === '*') at += 1
  return at === wanted.length
}

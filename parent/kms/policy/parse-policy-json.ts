/** Reads policy text as JSON under the key policy size cap, refusing objects that repeat a key. */

import { CloisterError } from '../../../shared/errors/cloister-error.js'
import { MAX_KEY_POLICY_BYTES } from './key-policy.js'

// RFC 8259 §2: the four insignificant whitespace characters.
const JSON_WHITESPACE = new Set<string | undefined>([' ', '\t', '\n', '\r'])

/**
 * The JSON value of `text`. Throws `ERR_KMS_POLICY_TOO_LARGE` above 32 KiB of UTF-8 (checked before
 * parsing) and `ERR_KMS_POLICY_MALFORMED` for text that is not JSON or whose objects repeat a key.
 *
 * `JSON.parse` keeps the last of two equal keys; another reader may keep the first. A policy whose
 * meaning depends on the reader (`"Effect": "Deny", "Effect": "Allow"`) is refused, as RFC 8259 §4
 * leaves duplicate names to the implementation.
 */
export function parsePolicyJson(text: string): unknown {
  if (Buffer.byteLength(text, 'utf8') > MAX_KEY_POLICY_BYTES) {
    throw new CloisterError('ERR_KMS_POLICY_TOO_LARGE')
  }
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    // The parser's message quotes the input: it is dropped, only the code is reported.
    throw new CloisterError('ERR_KMS_POLICY_MALFORMED')
  }
  assertUniqueKeys(text)
  return value
}

/**
 * Walks text that `JSON.parse` accepted and throws when an object repeats a member name. Names are
 * compared decoded (`"a"` and `"\u0061"` are the same name), as `JSON.parse` compares them.
 */
function assertUniqueKeys(text: string): void {
  // One entry per open container: the names seen so far for an object, undefined for an array.
  const open: (Set<string> | undefined)[] = []
  let index = 0
  while (index < text.length) {
    const char = text[index]
    if (char === '{' || char === '[') {
      open.push(char === '{' ? new Set() : undefined)
      index += 1
    } else if (char === '}' || char === ']') {
      open.pop()
      index += 1
    } else if (char === '"') {
      const end = endOfString(text, index)
      const names = open.at(-1)
      // A string directly inside an object and followed by ':' is a member name.
      if (names !== undefined && text[skipWhitespace(text, end)] === ':') {
        const name = JSON.parse(text.slice(index, end)) as string
        if (names.has(name)) throw new CloisterError('ERR_KMS_POLICY_MALFORMED')
        names.add(name)
      }
      index = end
    } else {
      index += 1
    }
  }
}

/** The index just past the closing quote of the string that opens at `start` (the text is valid JSON). */
function endOfString(text: string, start: number): number {
  let index = start + 1
  while (text[index] !== '"') index += text[index] === '\\' ? 2 : 1
  return index + 1
}

/** The first index at or after `start` that is not JSON whitespace (RFC 8259 §2). */
function skipWhitespace(text: string, start: number): number {
  let index = start
  while (JSON_WHITESPACE.has(text[index])) index += 1
  return index
}

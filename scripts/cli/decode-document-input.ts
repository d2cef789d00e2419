/** Turns the bytes of an input file into document bytes: raw CBOR, hex text or base64 text. */

import { fromHex } from '../../shared/bytes/bytes.js'

const WHITESPACE = /\s+/g
const PRINTABLE = /^[\x20-\x7e\s]*$/
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/
const BASE64URL = /^[A-Za-z0-9_-]*$/

/**
 * Documents are shared as raw bytes (`.cose`, `.bin`), as hex or as base64 (standard or URL-safe,
 * possibly wrapped over lines). A raw COSE_Sign1 starts with `0x84` or `0xd2`, never with printable
 * ASCII, so text is only ever taken for text: anything else is passed through as raw bytes.
 */
export function decodeDocumentInput(input: Uint8Array): Uint8Array {
  const text = Buffer.from(input).toString('latin1')
  if (!PRINTABLE.test(text)) return input
  const compact = text.replace(WHITESPACE, '')
  if (compact.length === 0) return input
  const hex = fromHex(compact)
  if (hex !== undefined) return hex
  if (BASE64.test(compact)) return new Uint8Array(Buffer.from(compact, 'base64'))
  if (BASE64URL.test(compact)) return new Uint8Array(Buffer.from(compact, 'base64url'))
  return input
}

/** A strict CBOR decoder for untrusted bytes: bounded size and depth, no duplicate keys, no stray tags. */

import { asBytes } from '../bytes/bytes.js'
import { CloisterError } from '../errors/cloister-error.js'
import type { ErrorCode } from '../errors/catalog.js'
import { CborTagged, type CborKey, type CborValue } from './cbor-value.js'

/** Limits for one decode. */
export interface StrictDecodeOptions {
  /** Largest input accepted, in bytes; also bounds every declared length. */
  readonly maxBytes?: number
  /** Deepest nesting of arrays, maps and tags accepted. */
  readonly maxDepth?: number
  /** Accept one tag around the top-level item (COSE's tag 18); tags anywhere else are refused. */
  readonly allowTopLevelTag?: boolean
  /** Most entries one map may hold. */
  readonly maxMapEntries?: number
}

export const DEFAULT_MAX_CBOR_BYTES = 64 * 1024 // 64 KiB: the largest attestation document we accept
export const DEFAULT_MAX_CBOR_DEPTH = 16
export const HARD_MAX_CBOR_DEPTH = 256
/**
 * V8 hashes integer map keys without a seed, so crafted colliding keys make each insertion cost
 * the size of the map: the cap keeps a hostile map's decoding linear in practice. Every format we
 * decode has small maps (a Nitro payload has 9 keys, its PCR map at most 32).
 */
export const DEFAULT_MAX_MAP_ENTRIES = 64
/** An indefinite string may come in many chunks; each costs a little, so their number is bounded. */
export const MAX_STRING_CHUNKS = 256

// RFC 8949 §3: major types, and the additional-information values with a fixed meaning.
const MAJOR_UNSIGNED = 0
const MAJOR_NEGATIVE = 1
const MAJOR_BYTES = 2
const MAJOR_TEXT = 3
const MAJOR_ARRAY = 4
const MAJOR_MAP = 5
const MAJOR_TAG = 6
const INFO_ONE_BYTE = 24
const INFO_EIGHT_BYTES = 27
const INFO_INDEFINITE = 31
const BREAK = 0xff
const SIMPLE_FALSE = 20
const SIMPLE_TRUE = 21
const SIMPLE_NULL = 22

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })

interface Cursor {
  readonly bytes: Uint8Array
  readonly view: DataView
  readonly maxBytes: number
  readonly maxDepth: number
  readonly allowTopLevelTag: boolean
  readonly maxMapEntries: number
  position: number
}

/**
 * Decodes exactly one CBOR data item that must fill `input`. Indefinite and definite lengths are
 * both accepted; floats, `undefined`, simple values other than false/true/null, map keys other than
 * integers and text, and tags (unless allowed at the top) are refused. Byte strings are returned as
 * copies, never as views into `input`.
 *
 * @throws {CloisterError} an `ERR_CBOR_*` code; no other exception escapes.
 * @example
 * ```ts
 * const value = decodeStrict(bytes, { maxBytes: 65536 })
 * ```
 */
export function decodeStrict(input: Uint8Array, options: StrictDecodeOptions = {}): CborValue {
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_CBOR_BYTES
  if (input.byteLength > maxBytes) throw new CloisterError('ERR_CBOR_TOO_LARGE')
  const bytes = asBytes(input)
  const cursor: Cursor = {
    bytes,
    view: new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength),
    maxBytes,
    // Decoding recurses once per level: the hard cap keeps any caller far from the stack limit.
    maxDepth: Math.min(options.maxDepth ?? DEFAULT_MAX_CBOR_DEPTH, HARD_MAX_CBOR_DEPTH),
    allowTopLevelTag: options.allowTopLevelTag ?? false,
    maxMapEntries: options.maxMapEntries ?? DEFAULT_MAX_MAP_ENTRIES,
    position: 0,
  }
  const value = readItem(cursor, 0)
  if (cursor.position !== bytes.byteLength) throw new CloisterError('ERR_CBOR_TRAILING_BYTES')
  return value
}

function fail(code: ErrorCode): never {
  throw new CloisterError(code)
}

function readByte(cursor: Cursor): number {
  const byte = cursor.bytes[cursor.position]
  if (byte === undefined) fail('ERR_CBOR_TRUNCATED')
  cursor.position += 1
  return byte
}

/** Reads the argument of a head (RFC 8949 §3): the value, or a length or count. */
function readArgument(cursor: Cursor, info: number): number | bigint {
  if (info < INFO_ONE_BYTE) return info
  if (info > INFO_EIGHT_BYTES) fail('ERR_CBOR_MALFORMED') // 28–30 reserved; 31 handled by callers
  const size = 1 << (info - INFO_ONE_BYTE) // 24→1, 25→2, 26→4, 27→8 bytes
  if (cursor.position + size > cursor.bytes.byteLength) fail('ERR_CBOR_TRUNCATED')
  const at = cursor.position
  cursor.position += size
  switch (size) {
    case 1:
      return cursor.view.getUint8(at)
    case 2:
      return cursor.view.getUint16(at)
    case 4:
      return cursor.view.getUint32(at)
    default: {
      const value = cursor.view.getBigUint64(at)
      return value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value
    }
  }
}

/**
 * Checks a declared length or count against the input before anything is allocated: a count of
 * items each needing at least `unit` bytes can never exceed what remains.
 */
function checkDeclared(cursor: Cursor, declared: number | bigint, unit: number): number {
  if (typeof declared === 'bigint' || declared > cursor.maxBytes) fail('ERR_CBOR_LENGTH_OVERFLOW')
  if (declared * unit > cursor.bytes.byteLength - cursor.position) fail('ERR_CBOR_TRUNCATED')
  return declared
}

function readItem(cursor: Cursor, depth: number): CborValue {
  const head = readByte(cursor)
  const major = head >> 5
  const info = head & 0x1f
  switch (major) {
    case MAJOR_UNSIGNED: {
      if (info === INFO_INDEFINITE) fail('ERR_CBOR_MALFORMED')
      return readArgument(cursor, info)
    }
    case MAJOR_NEGATIVE: {
      if (info === INFO_INDEFINITE) fail('ERR_CBOR_MALFORMED')
      const argument = readArgument(cursor, info)
      // RFC 8949 §3.1: the value is -1 - argument.
      if (typeof argument === 'bigint') return -1n - argument
      const value = -1 - argument
      return Number.isSafeInteger(value) ? value : -1n - BigInt(argument)
    }
    case MAJOR_BYTES:
      return info === INFO_INDEFINITE ? readChunks(cursor, MAJOR_BYTES) : readBytes(cursor, info)
    case MAJOR_TEXT:
      return decodeText(
        info === INFO_INDEFINITE ? readChunks(cursor, MAJOR_TEXT) : readBytes(cursor, info),
      )
    case MAJOR_ARRAY:
      return readArray(cursor, info, depth + 1)
    case MAJOR_MAP:
      return readMap(cursor, info, depth + 1)
    case MAJOR_TAG: {
      if (!cursor.allowTopLevelTag || depth !== 0) fail('ERR_CBOR_TAG_NOT_ALLOWED')
      if (info === INFO_INDEFINITE) fail('ERR_CBOR_MALFORMED')
      const tag = readArgument(cursor, info)
      if (typeof tag === 'bigint') fail('ERR_CBOR_TAG_NOT_ALLOWED')
      return new CborTagged(tag, readItem(cursor, depth + 1))
    }
    default:
      return readSimple(info)
  }
}

/** Major type 7 (RFC 8949 §3.3): only false, true and null appear in Cloister's formats. */
function readSimple(info: number): CborValue {
  switch (info) {
    case SIMPLE_FALSE:
      return false
    case SIMPLE_TRUE:
      return true
    case SIMPLE_NULL:
      return null
    default:
      // undefined, unassigned simple values, floats, and a break outside an indefinite item.
      return fail('ERR_CBOR_MALFORMED')
  }
}

function readBytes(cursor: Cursor, info: number): Uint8Array {
  const length = checkDeclared(cursor, readArgument(cursor, info), 1)
  const start = cursor.position
  cursor.position += length
  return cursor.bytes.slice(start, start + length)
}

/** RFC 8949 §3.2.3: an indefinite string is definite chunks of the same major type, then a break. */
function readChunks(cursor: Cursor, major: number): Uint8Array {
  const chunks: Uint8Array[] = []
  let total = 0
  for (;;) {
    const head = readByte(cursor)
    if (head === BREAK) break
    const info = head & 0x1f
    if (head >> 5 !== major || info === INFO_INDEFINITE) fail('ERR_CBOR_MALFORMED')
    if (chunks.length === MAX_STRING_CHUNKS) fail('ERR_CBOR_TOO_MANY_ITEMS')
    const chunk = readBytes(cursor, info)
    // Each chunk is a text string of its own, so a code point cannot span two chunks (§3.2.3).
    if (major === MAJOR_TEXT) decodeText(chunk)
    chunks.push(chunk)
    total += chunk.byteLength
  }
  const out = new Uint8Array(total)
  let offset = 0
  for (const chunk of chunks) {
    out.set(chunk, offset)
    offset += chunk.byteLength
  }
  return out
}

function decodeText(bytes: Uint8Array): string {
  try {
    return utf8.decode(bytes)
  } catch {
    return fail('ERR_CBOR_MALFORMED')
  }
}

/** Whether the next byte is a break, consuming it if so; running out of input is truncation. */
function atBreak(cursor: Cursor): boolean {
  const next = cursor.bytes[cursor.position]
  if (next === undefined) fail('ERR_CBOR_TRUNCATED')
  if (next !== BREAK) return false
  cursor.position += 1
  return true
}

function readArray(cursor: Cursor, info: number, depth: number): CborValue[] {
  if (depth > cursor.maxDepth) fail('ERR_CBOR_TOO_DEEP')
  const items: CborValue[] = []
  if (info === INFO_INDEFINITE) {
    while (!atBreak(cursor)) items.push(readItem(cursor, depth))
    return items
  }
  const count = checkDeclared(cursor, readArgument(cursor, info), 1)
  for (let index = 0; index < count; index += 1) items.push(readItem(cursor, depth))
  return items
}

function readMap(cursor: Cursor, info: number, depth: number): Map<CborKey, CborValue> {
  if (depth > cursor.maxDepth) fail('ERR_CBOR_TOO_DEEP')
  const map = new Map<CborKey, CborValue>()
  const readEntry = (): void => {
    const key = readItem(cursor, depth)
    if (typeof key !== 'number' && typeof key !== 'bigint' && typeof key !== 'string') {
      fail('ERR_CBOR_MALFORMED')
    }
    // Integers decode to one canonical JS value (number when safe), so equal keys collide here
    // whatever their encoded width.
    if (map.has(key)) fail('ERR_CBOR_DUPLICATE_KEY')
    map.set(key, readItem(cursor, depth))
  }
  if (info === INFO_INDEFINITE) {
    while (!atBreak(cursor)) {
      if (map.size === cursor.maxMapEntries) fail('ERR_CBOR_TOO_MANY_ITEMS')
      readEntry()
    }
    return map
  }
  const count = checkDeclared(cursor, readArgument(cursor, info), 2)
  if (count > cursor.maxMapEntries) fail('ERR_CBOR_TOO_MANY_ITEMS')
  for (let index = 0; index < count; index += 1) readEntry()
  return map
}

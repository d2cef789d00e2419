/** Typed readers and writers for the fields of an operation's body (a CBOR map with text keys). */

import {
  isCborArray,
  isCborBytes,
  isCborMap,
  type CborKey,
  type CborMap,
  type CborValue,
} from '../cbor/cbor-value.js'
import type { ErrorCode } from '../errors/catalog.js'
import { CloisterError } from '../errors/cloister-error.js'

/** Reads one field's CBOR value into its TypeScript value, or returns `undefined` to refuse it. */
export type FieldReader<T> = (value: CborValue) => T | undefined

/** The value type a reader produces. */
export type FieldType<R> = R extends FieldReader<infer T> ? T : never

/** A body's fields: required readers, and optional ones that may be left out. */
export interface BodySpec {
  readonly required: Readonly<Record<string, FieldReader<unknown>>>
  readonly optional?: Readonly<Record<string, FieldReader<unknown>>>
}

/**
 * Reads `body` as `spec` says: every required field present and valid, optional fields valid when
 * present, and nothing else.
 *
 * @throws {CloisterError} `code` for a missing, extra or invalid field.
 */
export function readBody(body: CborMap, spec: BodySpec, code: ErrorCode): Record<string, unknown> {
  const fields = tryReadBody(body, spec)
  if (fields === undefined) throw new CloisterError(code)
  return fields
}

/** {@link readBody} that answers `undefined` instead of throwing. */
export function tryReadBody(body: CborMap, spec: BodySpec): Record<string, unknown> | undefined {
  const out: Record<string, unknown> = {}
  const readers = { ...spec.optional, ...spec.required }
  for (const [key, value] of body) {
    const reader = typeof key === 'string' && Object.hasOwn(readers, key) ? readers[key] : undefined
    const read = reader?.(value)
    if (read === undefined) return undefined
    out[key as string] = read
  }
  for (const key of Object.keys(spec.required)) if (!Object.hasOwn(out, key)) return undefined
  return out
}

/**
 * The CBOR form of a body value: bytes, numbers, text, booleans and null as they are, arrays and
 * maps item by item, plain objects as text-keyed maps (fields left `undefined` are omitted).
 */
export function toCbor(value: unknown): CborValue {
  if (value instanceof Map) {
    return new Map([...(value as Map<CborKey, unknown>)].map(([key, item]) => [key, toCbor(item)]))
  }
  if (Array.isArray(value)) return value.map(toCbor)
  if (typeof value === 'object' && value !== null && !(value instanceof Uint8Array)) {
    const entries = Object.entries(value).filter(([, item]) => item !== undefined)
    return new Map(entries.map(([key, item]) => [key, toCbor(item)]))
  }
  return value as CborValue
}

/** A byte string of at most `max` bytes. */
export const bytesField =
  (max: number): FieldReader<Uint8Array> =>
  (value) =>
    isCborBytes(value) && value.byteLength <= max ? value : undefined

/** Text of at most `max` UTF-16 units. */
export const textField =
  (max: number): FieldReader<string> =>
  (value) =>
    typeof value === 'string' && value.length <= max ? value : undefined

/** One of the given strings. */
export const choiceField =
  <T extends string>(choices: readonly T[]): FieldReader<T> =>
  (value) =>
    choices.find((choice) => choice === value)

/** An integer from 0 to 2^53 - 1. */
export const uintField: FieldReader<number> = (value) =>
  typeof value === 'number' && Number.isInteger(value) && value >= 0 ? value : undefined

/** A TCP port, 1 to 65535. */
export const portField: FieldReader<number> = (value) =>
  typeof value === 'number' && Number.isInteger(value) && value >= 1 && value <= 65_535
    ? value
    : undefined

/** A boolean. */
export const boolField: FieldReader<boolean> = (value) =>
  typeof value === 'boolean' ? value : undefined

/** A map from PCR index (0–31) to a 48-byte value. */
export const pcrMapField: FieldReader<ReadonlyMap<number, Uint8Array>> = (value) => {
  if (!isCborMap(value)) return undefined
  const pcrs = new Map<number, Uint8Array>()
  for (const [index, pcr] of value) {
    if (typeof index !== 'number' || index < 0 || index > 31) return undefined
    if (!isCborBytes(pcr) || pcr.byteLength !== 48) return undefined
    pcrs.set(index, pcr)
  }
  return pcrs
}

/** A list of at most `max` items, each read by `item`. */
export const listField =
  <T>(item: FieldReader<T>, max: number): FieldReader<readonly T[]> =>
  (value) => {
    if (!isCborArray(value) || value.length > max) return undefined
    const items: T[] = []
    for (const entry of value) {
      const read = item(entry)
      if (read === undefined) return undefined
      items.push(read)
    }
    return items
  }

/** A value that may be CBOR null. */
export const nullable =
  <T>(reader: FieldReader<T>): FieldReader<T | null> =>
  (value) =>
    value === null ? null : reader(value)

/** A CBOR encoder with preferred (shortest) serialization, for the values Cloister itself produces. */

import { concatBytes } from '../bytes/bytes.js'
import {
  CborIndefiniteMap,
  CborTagged,
  isCborArray,
  type CborKey,
  type CborValue,
} from './cbor-value.js'

const textEncoder = new TextEncoder()
const UINT64_MAX = (1n << 64n) - 1n

/**
 * Encodes `value` as CBOR (RFC 8949 §4.1 preferred serialization: shortest heads, definite lengths,
 * map entries in insertion order). A {@link CborIndefiniteMap} is written with an indefinite length.
 *
 * @throws {TypeError} for values outside the data model (non-integer numbers, integers beyond 64
 *   bits): these are programming errors, never input errors.
 * @example
 * ```ts
 * encodeCbor(new Map([[1, -35]])) // a1 01 38 22: the COSE protected header {alg: ES384}
 * ```
 */
export function encodeCbor(value: CborValue): Uint8Array {
  const parts: Uint8Array[] = []
  writeItem(parts, value)
  return concatBytes(parts)
}

function writeHead(parts: Uint8Array[], major: number, argument: number | bigint): void {
  const top = major << 5
  if (typeof argument === 'number' && argument < 24) {
    parts.push(Uint8Array.of(top | argument))
  } else if (argument < 0x100) {
    parts.push(Uint8Array.of(top | 24, Number(argument)))
  } else if (argument < 0x10000) {
    const head = new Uint8Array(3)
    head[0] = top | 25
    new DataView(head.buffer).setUint16(1, Number(argument))
    parts.push(head)
  } else if (argument < 0x100000000) {
    const head = new Uint8Array(5)
    head[0] = top | 26
    new DataView(head.buffer).setUint32(1, Number(argument))
    parts.push(head)
  } else {
    const head = new Uint8Array(9)
    head[0] = top | 27
    new DataView(head.buffer).setBigUint64(1, BigInt(argument))
    parts.push(head)
  }
}

function writeInteger(parts: Uint8Array[], value: number | bigint): void {
  if (typeof value === 'number' && !Number.isSafeInteger(value)) {
    throw new TypeError('CBOR encoding supports safe integers only; use a bigint beyond 2^53')
  }
  const big = BigInt(value)
  const argument = big < 0n ? -1n - big : big // RFC 8949 §3.1: major 1 carries -1 - value
  if (argument > UINT64_MAX) throw new TypeError('CBOR integers are limited to 64 bits')
  const narrowed = argument <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(argument) : argument
  writeHead(parts, big < 0n ? 1 : 0, narrowed)
}

function writeItem(parts: Uint8Array[], value: CborValue): void {
  if (typeof value === 'number' || typeof value === 'bigint') {
    writeInteger(parts, value)
  } else if (typeof value === 'string') {
    const bytes = textEncoder.encode(value)
    writeHead(parts, 3, bytes.byteLength)
    parts.push(bytes)
  } else if (value instanceof Uint8Array) {
    writeHead(parts, 2, value.byteLength)
    parts.push(value)
  } else if (typeof value === 'boolean') {
    parts.push(Uint8Array.of(value ? 0xf5 : 0xf4))
  } else if (value === null) {
    parts.push(Uint8Array.of(0xf6))
  } else if (value instanceof CborTagged) {
    // RFC 8949 §3.4: a tag number is an unsigned integer; writeHead would mangle anything else.
    if (!Number.isSafeInteger(value.tag) || value.tag < 0) {
      throw new TypeError('CBOR tag numbers are non-negative safe integers')
    }
    writeHead(parts, 6, value.tag)
    writeItem(parts, value.value)
  } else if (isCborArray(value)) {
    writeHead(parts, 4, value.length)
    for (const item of value) writeItem(parts, item)
  } else {
    writeMap(parts, value)
  }
}

function writeMap(parts: Uint8Array[], map: ReadonlyMap<CborKey, CborValue>): void {
  const indefinite = map instanceof CborIndefiniteMap
  if (indefinite) parts.push(Uint8Array.of(0xbf))
  else writeHead(parts, 5, map.size)
  for (const [key, item] of map) {
    writeItem(parts, key)
    writeItem(parts, item)
  }
  if (indefinite) parts.push(Uint8Array.of(0xff))
}

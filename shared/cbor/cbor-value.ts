/** The data model that Cloister's CBOR decoder produces and its encoder accepts. */

/** A CBOR map key: Cloister's formats only use integer and text keys (COSE, Nitro, frames). */
export type CborKey = number | bigint | string

/** A decoded CBOR data item (RFC 8949 §3), restricted to what Cloister's formats use. */
export type CborValue =
  | number
  | bigint
  | string
  | Uint8Array
  | boolean
  | null
  | readonly CborValue[]
  | CborMap
  | CborTagged

/** A CBOR map, in the order its entries were encoded. */
export type CborMap = ReadonlyMap<CborKey, CborValue>

/** A tagged data item (RFC 8949 §3.4). */
export class CborTagged {
  readonly tag: number
  readonly value: CborValue

  constructor(tag: number, value: CborValue) {
    this.tag = tag
    this.value = value
  }
}

/**
 * A map that the encoder writes with an indefinite length (`0xbf … 0xff`), as the NSM has done for the
 * attestation payload since 2026 (`../shared/vectors/nitro/SOURCES.md`, base-2). Decoding never
 * produces it: a decoded map is a plain `Map` whatever its encoding.
 */
export class CborIndefiniteMap<K extends CborKey, V extends CborValue> extends Map<K, V> {}

/** Whether `value` is a CBOR map. */
export function isCborMap(value: CborValue): value is CborMap {
  return value instanceof Map
}

/** Whether `value` is a CBOR array. */
export function isCborArray(value: CborValue | undefined): value is readonly CborValue[] {
  return Array.isArray(value)
}

/** Whether `value` is a CBOR byte string. */
export function isCborBytes(value: CborValue | undefined): value is Uint8Array {
  return value instanceof Uint8Array
}

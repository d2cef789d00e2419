/** The BER identifier octets the KMS envelope uses (X.690 §8.1.2; universal tags from X.680 §8.6). */

/** X.690 §8.1.2.5: bit 6 of the identifier octet marks the constructed form. */
export const CONSTRUCTED = 0x20

/** Universal tag 2, primitive. */
export const INTEGER = 0x02
/** Universal tag 4, primitive; `OCTET_STRING | CONSTRUCTED` for the segmented form (X.690 §8.7). */
export const OCTET_STRING = 0x04
/** Universal tag 5, primitive and empty (X.690 §8.8). */
export const NULL = 0x05
/** Universal tag 6, primitive. */
export const OBJECT_IDENTIFIER = 0x06
/** Universal tag 16, always constructed (X.690 §8.9.1). */
export const SEQUENCE = 0x30
/** Universal tag 17, always constructed (X.690 §8.11.1). */
export const SET = 0x31

/** A context-specific tag `[number]` in primitive form (an IMPLICIT primitive type). */
export function contextPrimitive(number: number): number {
  return 0x80 | number
}

/** A context-specific tag `[number]` in constructed form (EXPLICIT, or IMPLICIT constructed). */
export function contextConstructed(number: number): number {
  return 0xa0 | number
}

/** Bytes from hex written in a test or a vector, failing loudly on anything that is not hex. */

import { fromHex } from '../../shared/bytes/bytes.js'

/**
 * The bytes of `hex` (either case; spaces and line breaks only help the reader). A typo in a
 * test's hex is an error, never empty bytes.
 */
export function hexBytes(hex: string): Uint8Array {
  const bytes = fromHex(hex.replace(/\s+/g, ''))
  if (bytes === undefined) throw new TypeError(`not hex: ${hex}`)
  return bytes
}

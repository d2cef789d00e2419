/** Bytes from hex written in a test or a vector, failing loudly on anything that is not hex. */

import { fromHex } from '../../shared/bytes/bytes.js'

/** The bytes of `hex` (either case); a typo in a test's hex is an error, never empty bytes. */
export function hexBytes(hex: string): Uint8Array {
  const bytes = fromHex(hex)
  if (bytes === undefined) throw new TypeError(`not hex: ${hex}`)
  return bytes
}

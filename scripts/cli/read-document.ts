/** Reads an attestation document named on the command line, refusing oversized input early. */

import { CloisterError } from '../../shared/errors/cloister-error.js'
import { MAX_ATTESTATION_BYTES } from '../../shared/attestation/verify-attestation.js'
import type { CliIo } from './cli-io.js'
import { decodeDocumentInput } from './decode-document-input.js'
import { readFailure } from './usage-error.js'

/** Base64 of 64 KiB is 88 KiB and hex 128 KiB; line breaks add a little: 192 KiB bounds them all. */
const MAX_INPUT_FILE_BYTES = 3 * MAX_ATTESTATION_BYTES

/**
 * The document bytes in `path` (`-` for standard input), raw, hex or base64.
 *
 * @throws {UsageError} when the file cannot be read.
 * @throws {CloisterError} `ERR_ATTESTATION_TOO_LARGE` for an oversized file.
 */
export async function readDocument(io: CliIo, path: string): Promise<Uint8Array> {
  let input: Uint8Array
  try {
    input = await io.readInput(path, MAX_INPUT_FILE_BYTES)
  } catch (error) {
    throw readFailure(path, error)
  }
  if (input.byteLength > MAX_INPUT_FILE_BYTES) throw new CloisterError('ERR_ATTESTATION_TOO_LARGE')
  return decodeDocumentInput(input)
}

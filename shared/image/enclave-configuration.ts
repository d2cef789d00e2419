/** The enclave's measured configuration: what it trusts and how it is isolated, as CBOR bytes. */

import { decodeStrict } from '../cbor/decode-strict.js'
import { isCborMap } from '../cbor/cbor-value.js'
import { encodeCbor } from '../cbor/encode.js'
import { CloisterError } from '../errors/cloister-error.js'
import {
  choiceField,
  listField,
  readBody,
  textField,
  toCbor,
  uintField,
} from '../protocol/body-fields.js'
import { SANDBOX_MODES, type SandboxMode } from '../protocol/ops.js'

/**
 * Part of the enclave image: the launcher passes these bytes on the enclave's command line, so
 * they are measured into PCR0 and the parent cannot change them without changing PCR0.
 */
export interface EnclaveConfiguration {
  readonly version: 1
  /** PEM root certificates that third parties' attestation documents must chain to. */
  readonly trustedRoots: readonly string[]
  /** How the host isolates the enclave; part of the measurement, so `none` has its own PCR0. */
  readonly sandbox: SandboxMode
}

const MAX_CONFIGURATION_BYTES = 64 * 1024
const MAX_ROOTS = 8
const MAX_PEM_LENGTH = 8192

/** The configuration's bytes (canonical: fixed key order). */
export function encodeEnclaveConfiguration(configuration: EnclaveConfiguration): Uint8Array {
  // Fields are written in this order whatever the object's own order, and nothing else is written.
  const { version, trustedRoots, sandbox } = configuration
  return encodeCbor(toCbor({ version, trustedRoots, sandbox }))
}

/**
 * Reads configuration bytes.
 *
 * @throws {CloisterError} `ERR_CONFIGURATION_INVALID`.
 */
export function decodeEnclaveConfiguration(bytes: Uint8Array): EnclaveConfiguration {
  let value
  try {
    value = decodeStrict(bytes, { maxBytes: MAX_CONFIGURATION_BYTES })
  } catch {
    throw new CloisterError('ERR_CONFIGURATION_INVALID')
  }
  if (!isCborMap(value)) throw new CloisterError('ERR_CONFIGURATION_INVALID')
  const fields = readBody(
    value,
    {
      required: {
        version: (version) => (version === 1 ? uintField(version) : undefined),
        trustedRoots: listField(textField(MAX_PEM_LENGTH), MAX_ROOTS),
        sandbox: choiceField(SANDBOX_MODES),
      },
    },
    'ERR_CONFIGURATION_INVALID',
  )
  return fields as unknown as EnclaveConfiguration
}

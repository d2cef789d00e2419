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
  tryReadBody,
  uintField,
  type FieldReader,
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
  /** The KMS key the enclave's own keys are wrapped under, and how to reach KMS; none: no key ring. */
  readonly kms?: KmsConfiguration
}

/**
 * Where the enclave's keys come from. Measured, so the parent can neither point the enclave at a
 * KMS key of its own (whose data keys it could read) nor at a TLS server of its choosing.
 */
export interface KmsConfiguration {
  /** The key every KMS call names and every answer must come from (`arn:aws:kms:…:key/…`). */
  readonly keyArn: string
  readonly region: string
  /** The name KMS's TLS certificate must carry, and the host the relay is asked to reach. */
  readonly serverName: string
  /** PEM roots for KMS's TLS certificate: the only ones the enclave accepts. */
  readonly trustAnchors: readonly string[]
}

const MAX_CONFIGURATION_BYTES = 64 * 1024
const MAX_ROOTS = 8
const MAX_PEM_LENGTH = 8192

const MAX_ARN_LENGTH = 2048 // AWS ARNs are at most 2048 characters
const MAX_NAME_LENGTH = 253 // a DNS name (RFC 1035 §2.3.4)

const kmsField: FieldReader<KmsConfiguration> = (value) => {
  if (!isCborMap(value)) return undefined
  return tryReadBody(value, {
    required: {
      keyArn: textField(MAX_ARN_LENGTH),
      region: textField(64),
      serverName: textField(MAX_NAME_LENGTH),
      trustAnchors: listField(textField(MAX_PEM_LENGTH), MAX_ROOTS),
    },
  }) as KmsConfiguration | undefined
}

/** The configuration's bytes (canonical: fixed key order). */
export function encodeEnclaveConfiguration(configuration: EnclaveConfiguration): Uint8Array {
  // Fields are written in this order whatever the object's own order, and nothing else is written.
  const { version, trustedRoots, sandbox, kms } = configuration
  const kmsFields =
    kms === undefined
      ? undefined
      : {
          keyArn: kms.keyArn,
          region: kms.region,
          serverName: kms.serverName,
          trustAnchors: kms.trustAnchors,
        }
  return encodeCbor(toCbor({ version, trustedRoots, sandbox, kms: kmsFields }))
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
      optional: { kms: kmsField },
    },
    'ERR_CONFIGURATION_INVALID',
  )
  return fields as unknown as EnclaveConfiguration
}

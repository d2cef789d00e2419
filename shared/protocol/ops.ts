/** The closed set of parent → enclave operations, from which both sides derive their types. */

import type { AttestationPolicy } from '../attestation/attestation-policy.js'
import { MAX_ATTESTATION_BYTES } from '../attestation/verify-attestation.js'
import { MAX_OPTIONAL_FIELD_BYTES } from '../attestation/attestation-document.js'
import type { CborMap } from '../cbor/cbor-value.js'
import { CloisterError } from '../errors/cloister-error.js'
import {
  boolField,
  bytesField,
  choiceField,
  listField,
  nullable,
  pcrMapField,
  readBody,
  textField,
  toCbor,
  tryReadBody,
  uintField,
  type BodySpec,
  type FieldReader,
  type FieldType,
} from './body-fields.js'

/** Bumped on any incompatible change to an operation. */
export const PROTOCOL_VERSION = 1

/** How the enclave process is isolated; `none` only with the explicit `--no-sandbox` flag. */
export const SANDBOX_MODES = ['bubblewrap', 'unshare', 'none'] as const
export type SandboxMode = (typeof SANDBOX_MODES)[number]

export const MAX_NONCE_BYTES = 64
const MAX_PCR_SETS = 16

const policyField: FieldReader<AttestationPolicy> = (value) => {
  if (!(value instanceof Map)) return undefined
  const fields = tryReadBody(value as CborMap, {
    required: {
      pcrs: (pcrs) => (pcrs === 'any' ? 'any' : listField(pcrMapField, MAX_PCR_SETS)(pcrs)),
      allowDebug: boolField,
    },
    optional: {
      maxAgeMs: uintField,
      maxFutureSkewMs: uintField,
      nonce: bytesField(MAX_NONCE_BYTES),
      publicKey: choiceField(['rsa-spki', 'ec-spki', 'present'] as const),
    },
  })
  return fields as AttestationPolicy | undefined
}

/**
 * Every operation: its request and response bodies. Adding one here without a handler in the
 * enclave, or with a mistyped field on either side, is a compile error.
 */
export const OPS = {
  /** Liveness: the enclave's clock, in ms. */
  ping: { request: { required: {} }, response: { required: { now: uintField } } },
  /** What runs: protocol version, module id, isolation, and PCR0–4 as the NSM reports them. */
  describe: {
    request: { required: {} },
    response: {
      required: {
        protocolVersion: uintField,
        moduleId: textField(255),
        sandbox: choiceField(SANDBOX_MODES),
        pcrs: pcrMapField,
      },
    },
  },
  /** A fresh attestation document binding the caller's nonce and the enclave's public keys. */
  attest: {
    request: { required: { nonce: bytesField(MAX_NONCE_BYTES) } },
    response: { required: { document: bytesField(MAX_ATTESTATION_BYTES) } },
  },
  /** Verifies a third party's document under `policy`, against the enclave's own trusted roots. */
  verifyAttestation: {
    request: {
      required: { document: bytesField(MAX_ATTESTATION_BYTES), policy: policyField },
    },
    response: {
      required: {
        moduleId: textField(255),
        timestamp: uintField,
        debug: boolField,
        pcrs: pcrMapField,
        publicKey: nullable(bytesField(MAX_OPTIONAL_FIELD_BYTES)),
        userData: nullable(bytesField(MAX_OPTIONAL_FIELD_BYTES)),
        nonce: nullable(bytesField(MAX_OPTIONAL_FIELD_BYTES)),
      },
    },
  },
} as const satisfies Readonly<Record<string, { request: BodySpec; response: BodySpec }>>

/** An operation's name. */
export type OpName = keyof typeof OPS

type Fields<S extends BodySpec> = {
  -readonly [K in keyof S['required']]: FieldType<S['required'][K]>
} & {
  -readonly [K in keyof NonNullable<S['optional']>]?: FieldType<NonNullable<S['optional']>[K]>
}

/** The request body of `K`. */
export type OpRequest<K extends OpName> = Fields<(typeof OPS)[K]['request']>
/** The response body of `K`. */
export type OpResponse<K extends OpName> = Fields<(typeof OPS)[K]['response']>
/** What the enclave implements: one async handler per operation. */
export type OpHandlers = {
  readonly [K in OpName]: (request: OpRequest<K>) => Promise<OpResponse<K>>
}

/** Whether `op` names an operation. */
export function isOpName(op: string): op is OpName {
  return Object.hasOwn(OPS, op)
}

/** The CBOR body of a request or response. */
export function encodeBody(body: object): CborMap {
  return toCbor(body) as CborMap
}

/**
 * Reads the request body of `op`, as the enclave receives it.
 *
 * @throws {CloisterError} `ERR_PROTOCOL_BAD_REQUEST`.
 */
export function decodeOpRequest<K extends OpName>(op: K, body: CborMap): OpRequest<K> {
  return readBody(body, OPS[op].request, 'ERR_PROTOCOL_BAD_REQUEST') as OpRequest<K>
}

/**
 * Reads the response body of `op`, as the parent receives it.
 *
 * @throws {CloisterError} `ERR_PROTOCOL_BAD_RESPONSE`.
 */
export function decodeOpResponse<K extends OpName>(op: K, body: CborMap): OpResponse<K> {
  return readBody(body, OPS[op].response, 'ERR_PROTOCOL_BAD_RESPONSE') as OpResponse<K>
}

/** Throws `ERR_PROTOCOL_UNKNOWN_OP` unless `op` is an operation. */
export function assertOpName(op: string): asserts op is OpName {
  if (!isOpName(op)) throw new CloisterError('ERR_PROTOCOL_UNKNOWN_OP')
}

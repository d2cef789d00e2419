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
  portField,
  readBody,
  textField,
  toCbor,
  tryReadBody,
  uintField,
  type BodySpec,
  type FieldReader,
  type FieldType,
} from './body-fields.js'

import {
  BROKER_KEY_ID_PATTERN,
  KEY_PURPOSES,
  KEY_STATES,
  MAX_BROKER_KEYS,
  MAX_KEY_VERSION,
  MAX_RING_KEYS,
  TENANT_PATTERN,
} from '../keys/key-names.js'

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

/** A map with exactly the fields of `spec`. */
const mapField =
  <T>(spec: BodySpec): FieldReader<T> =>
  (value) =>
    value instanceof Map ? (tryReadBody(value as CborMap, spec) as T | undefined) : undefined

const tenantField: FieldReader<string> = (value) =>
  typeof value === 'string' && TENANT_PATTERN.test(value) ? value : undefined
const purposeField = choiceField(KEY_PURPOSES)
const versionField: FieldReader<number> = (value) =>
  typeof value === 'number' && Number.isInteger(value) && value >= 1 && value <= MAX_KEY_VERSION
    ? value
    : undefined
const brokerKeyIdField: FieldReader<string> = (value) =>
  typeof value === 'string' && BROKER_KEY_ID_PATTERN.test(value) ? value : undefined

/** KMS ciphertext blobs: AWS's are about 180 bytes for a data key; 6 KiB is KMS's own limit. */
const MAX_CIPHERTEXT_BLOB_BYTES = 6144
/** An encoded release policy: 16 sets of all 32 PCRs take about 25 KiB, so 32 KiB holds any. */
export const MAX_RELEASE_POLICY_BYTES = 32 * 1024
/** A released key's envelope: CMS or JWE around 32 bytes is well under 2 KiB. */
const MAX_ENVELOPE_BYTES = 16 * 1024

const keyNameSpec = {
  required: { tenant: tenantField, purpose: purposeField, version: versionField },
} as const satisfies BodySpec

const kmsAccessField = mapField<{
  port: number
  accessKeyId: string
  secretAccessKey: string
  sessionToken?: string
}>({
  required: { port: portField, accessKeyId: textField(128), secretAccessKey: textField(128) },
  optional: { sessionToken: textField(4096) },
})

const ringEntryField = mapField<{
  tenant: string
  purpose: (typeof KEY_PURPOSES)[number]
  version: number
  state: 'active' | 'readable'
  ciphertextBlob: Uint8Array
}>({
  required: {
    ...keyNameSpec.required,
    state: choiceField(['active', 'readable'] as const),
    ciphertextBlob: bytesField(MAX_CIPHERTEXT_BLOB_BYTES),
  },
})

const brokerEntryField = mapField<{
  keyId: string
  policy: Uint8Array
  ciphertextBlob: Uint8Array
}>({
  required: {
    keyId: brokerKeyIdField,
    policy: bytesField(MAX_RELEASE_POLICY_BYTES),
    ciphertextBlob: bytesField(MAX_CIPHERTEXT_BLOB_BYTES),
  },
})

const keyInfoField = mapField<{
  tenant: string
  purpose: (typeof KEY_PURPOSES)[number]
  version: number
  state: (typeof KEY_STATES)[number]
}>({ required: { ...keyNameSpec.required, state: choiceField(KEY_STATES) } })

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
  /**
   * Loads the key ring and the broker keys from the blobs the parent stores, each opened by an
   * attested KMS Decrypt over the enclave's own TLS; all or nothing. `kms` is how to reach KMS
   * (the relay port) and the credentials to sign with.
   */
  'keys.load': {
    request: {
      required: {
        kms: kmsAccessField,
        ring: listField(ringEntryField, MAX_RING_KEYS),
        broker: listField(brokerEntryField, MAX_BROKER_KEYS),
      },
    },
    response: { required: { loaded: uintField } },
  },
  /** A new pending version of a tenant's key for `purpose` (attested GenerateDataKey). */
  'keys.rotate': {
    request: { required: { tenant: tenantField, purpose: purposeField } },
    response: {
      required: { version: versionField, ciphertextBlob: bytesField(MAX_CIPHERTEXT_BLOB_BYTES) },
    },
  },
  /** Makes a pending version active once the parent has stored its blob durably. */
  'keys.activate': { request: keyNameSpec, response: { required: {} } },
  /** Forgets a readable or pending version and wipes its bytes. */
  'keys.retire': { request: keyNameSpec, response: { required: {} } },
  /** What the key ring and the broker hold, without key bytes. */
  'keys.list': {
    request: { required: {} },
    response: {
      required: {
        loaded: boolField,
        ring: listField(keyInfoField, MAX_RING_KEYS),
        broker: listField(brokerKeyIdField, MAX_BROKER_KEYS),
      },
    },
  },
  /** A new broker key with its release policy (encoded as release-policy.ts says). */
  'keys.create': {
    request: { required: { policy: bytesField(MAX_RELEASE_POLICY_BYTES) } },
    response: {
      required: { keyId: brokerKeyIdField, ciphertextBlob: bytesField(MAX_CIPHERTEXT_BLOB_BYTES) },
    },
  },
  /** A single-use nonce for `keys.release`, valid until `expiresAt` (ms since the epoch). */
  'keys.challenge': {
    request: { required: {} },
    response: { required: { nonce: bytesField(MAX_NONCE_BYTES), expiresAt: uintField } },
  },
  /** A broker key encrypted to the public key of an attested requester that its policy admits. */
  'keys.release': {
    request: {
      required: { keyId: brokerKeyIdField, document: bytesField(MAX_ATTESTATION_BYTES) },
      optional: { nonce: bytesField(MAX_NONCE_BYTES) },
    },
    response: {
      required: {
        format: choiceField(['cms', 'jwe'] as const),
        envelope: bytesField(MAX_ENVELOPE_BYTES),
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

/** Reads the enclave's `audit` events (broker decisions) into records for the parent's store. */

import { PCR_BYTES } from '../../shared/attestation/attestation-document.js'
import { isCborBytes, type CborMap } from '../../shared/cbor/cbor-value.js'
import { ERROR_CATALOG, type ErrorCode } from '../../shared/errors/catalog.js'
import {
  choiceField,
  readBody,
  textField,
  uintField,
  type FieldReader,
} from '../../shared/protocol/body-fields.js'
import type { EventEnvelope } from '../../shared/protocol/envelope.js'
import type { StoredReleaseRecord, WrappedKeyStore } from './wrapped-key-store.js'

const codeField: FieldReader<ErrorCode> = (value) =>
  typeof value === 'string' && Object.hasOwn(ERROR_CATALOG, value)
    ? (value as ErrorCode)
    : undefined

/** PCR0 is a SHA-384 digest: exactly {@link PCR_BYTES}, as attestation documents carry it. */
const pcr0Field: FieldReader<Uint8Array> = (value) =>
  isCborBytes(value) && value.byteLength === PCR_BYTES ? value : undefined

/**
 * The record in an `audit` event body: `at`, `op`, `keyId`, `decision`, and, as they apply, the
 * denial `code`, the requester's `moduleId` and `pcr0`, and the envelope `format`.
 *
 * @throws {CloisterError} `ERR_PROTOCOL_BAD_RESPONSE` for any other shape.
 */
export function readReleaseAudit(body: CborMap): StoredReleaseRecord {
  const fields = readBody(
    body,
    {
      required: {
        at: uintField,
        op: choiceField(['keys.create', 'keys.release'] as const),
        keyId: textField(64),
        decision: choiceField(['created', 'released', 'denied'] as const),
      },
      optional: {
        code: codeField,
        moduleId: textField(255),
        pcr0: pcr0Field,
        format: choiceField(['cms', 'jwe'] as const),
      },
    },
    'ERR_PROTOCOL_BAD_RESPONSE',
  ) as {
    at: number
    op: string
    keyId: string
    decision: string
    code?: ErrorCode
    moduleId?: string
    pcr0?: Uint8Array
    format?: string
  }
  return {
    at: fields.at,
    op: fields.op,
    keyId: fields.keyId,
    decision: fields.decision,
    code: fields.code ?? null,
    moduleId: fields.moduleId ?? null,
    pcr0: fields.pcr0 ?? null,
    format: fields.format ?? null,
  }
}

/**
 * An enclave event listener that appends each `audit` event's record to `store` and ignores other
 * events. A record that does not read is reported to `onInvalid` (for the logs) and not stored: a
 * listener must not throw inside the channel's event handler.
 */
export function recordReleaseAudits(
  store: Pick<WrappedKeyStore, 'appendRelease'>,
  onInvalid: ((code: ErrorCode) => void) | undefined,
): (event: EventEnvelope) => void {
  return (event) => {
    if (event.event !== 'audit') return
    let record: StoredReleaseRecord
    try {
      record = readReleaseAudit(event.body)
    } catch {
      onInvalid?.('ERR_PROTOCOL_BAD_RESPONSE')
      return
    }
    store.appendRelease(record)
  }
}

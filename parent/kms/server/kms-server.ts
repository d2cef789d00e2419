/** The local KMS's HTTPS front end: AWS JSON 1.1 over `POST /`, SigV4, `X-Amz-Target` dispatch, AWS errors. */

import { createServer, type Server } from 'node:https'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { isCloisterError } from '../../../shared/errors/cloister-error.js'
import type { ErrorCode } from '../../../shared/errors/catalog.js'
import { ERROR_CATALOG } from '../../../shared/errors/catalog.js'
import { KMS_OPERATIONS, type JsonObject, type KmsContext } from '../operations/kms-operations.js'
import type { AuditRecord } from '../store/kms-store.js'
import { verifySigV4, type SignatureFailure } from '../sigv4/verify-sigv4.js'
import { awsErrorOf } from './aws-errors.js'

export interface KmsServerOptions {
  /** Everything but what is known per request: the caller and the audit notes. */
  readonly context: Omit<KmsContext, 'caller' | 'note'>
  readonly tls: { readonly certificatePem: string; readonly keyPem: string }
  readonly credentials: { readonly accessKeyId: string; readonly secretAccessKey: string }
}

/** AWS KMS request bodies stay small: a Recipient document is the largest field (≤ 16 KiB). */
export const MAX_REQUEST_BYTES = 64 * 1024
const CONTENT_TYPE = 'application/x-amz-json-1.1'
const TARGET_PREFIX = 'TrentService.'

const SIGNATURE_CODES: Readonly<Record<SignatureFailure, ErrorCode>> = {
  MissingAuthenticationTokenException: 'ERR_KMS_MISSING_AUTHENTICATION',
  IncompleteSignatureException: 'ERR_KMS_INCOMPLETE_SIGNATURE',
  UnrecognizedClientException: 'ERR_KMS_UNRECOGNIZED_CLIENT',
  InvalidSignatureException: 'ERR_KMS_INVALID_SIGNATURE',
}

/**
 * An HTTPS server (not yet listening) that answers the AWS KMS JSON protocol, so a stock
 * `@aws-sdk/client-kms` works against it with only its endpoint and trust store changed. Every
 * request is signed (SigV4, service `kms`) by the state directory's access key. Every answer,
 * allowed or refused, is audited. Error messages are the catalog's: never input, never secrets.
 */
export function createKmsServer(options: KmsServerOptions): Server {
  return createServer(
    { cert: options.tls.certificatePem, key: options.tls.keyPem },
    (request, response) => {
      // handle() answers every failure itself; only writing the answer can still fail, when the
      // client vanished mid-write, which no test can provoke deterministically.
      /* c8 ignore next 3 */
      handle(request, response, options).catch(() => {
        response.destroy()
      })
    },
  )
}

async function handle(
  request: IncomingMessage,
  response: ServerResponse,
  options: KmsServerOptions,
) {
  const { context } = options
  const target = request.headers['x-amz-target']
  const operation =
    typeof target === 'string' && target.startsWith(TARGET_PREFIX)
      ? target.slice(TARGET_PREFIX.length)
      : ''
  let caller = 'anonymous'
  let keyId: string | null = null
  const detail: Record<string, unknown> = {}
  try {
    const body = await readBody(request)
    if (request.method !== 'POST' || request.url !== '/') {
      throw failure('ERR_KMS_UNKNOWN_OPERATION')
    }
    const verdict = verifySigV4(
      { method: request.method, path: request.url, headers: flatHeaders(request), body },
      {
        secretOf: (id) =>
          id === options.credentials.accessKeyId ? options.credentials.secretAccessKey : undefined,
        now: context.clock(),
        service: 'kms',
      },
    )
    if (!verdict.ok) throw failure(SIGNATURE_CODES[verdict.failure])
    caller = `arn:aws:iam::${context.accountId}:root`
    if (!String(request.headers['content-type']).startsWith(CONTENT_TYPE)) {
      throw failure('ERR_KMS_SERIALIZATION')
    }
    const run = Object.hasOwn(KMS_OPERATIONS, operation) ? KMS_OPERATIONS[operation] : undefined
    if (run === undefined) throw failure('ERR_KMS_UNKNOWN_OPERATION')
    const input = parseJson(body)
    keyId = typeof input.KeyId === 'string' ? input.KeyId : null
    const output = run(input, { ...context, caller, note: (facts) => Object.assign(detail, facts) })
    audit(context, { caller, operation, keyId, decision: 'allowed', detail })
    send(response, 200, output)
  } catch (error) {
    const code = isCloisterError(error) ? error.code : undefined
    const aws = awsErrorOf(code)
    audit(context, {
      caller,
      operation: operation || 'unknown',
      keyId,
      decision: aws.type === 'AccessDeniedException' ? 'denied' : 'failed',
      detail: { ...detail, error: aws.type },
    })
    send(response, aws.status, {
      __type: aws.type,
      message: code === undefined ? 'An internal error occurred.' : ERROR_CATALOG[code].message,
    })
  }
}

/**
 * Appends to the audit log. If the log itself cannot be written (the store is gone), the request
 * still gets its answer, which is then a KMSInternalException for a successful operation.
 */
function audit(
  context: Omit<KmsContext, 'caller' | 'note'>,
  record: Omit<AuditRecord, 'atMs'>,
): void {
  try {
    context.store.appendAudit({ atMs: context.clock(), ...record })
  } catch {
    // Nothing to add: the caller answers regardless, and a broken store fails every operation.
  }
}

function failure(code: ErrorCode): Error {
  return Object.assign(new Error(ERROR_CATALOG[code].message), { code })
}

function flatHeaders(request: IncomingMessage): Record<string, string | undefined> {
  const headers: Record<string, string | undefined> = {}
  for (const [name, value] of Object.entries(request.headers)) {
    // Node joins repeated headers into one string (only set-cookie stays a list, joined here).
    headers[name] = String(value)
  }
  return headers
}

/** The body, refused past the limit without buffering the rest. */
function readBody(request: IncomingMessage): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    request.on('data', (chunk: Buffer) => {
      size += chunk.byteLength
      // Past the limit, keep draining (so the answer can be sent) but stop buffering.
      if (size > MAX_REQUEST_BYTES) reject(failure('ERR_KMS_TOO_LARGE'))
      else chunks.push(chunk)
    })
    request.on('end', () => {
      resolve(new Uint8Array(Buffer.concat(chunks)))
    })
    request.on('error', reject)
  })
}

function parseJson(body: Uint8Array): JsonObject {
  let value: unknown
  try {
    value = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(body))
  } catch {
    throw failure('ERR_KMS_SERIALIZATION')
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw failure('ERR_KMS_SERIALIZATION')
  }
  return value as JsonObject
}

function send(response: ServerResponse, status: number, body: JsonObject): void {
  const text = JSON.stringify(body)
  response.writeHead(status, {
    'content-type': CONTENT_TYPE,
    'content-length': Buffer.byteLength(text),
  })
  response.end(text)
}

/** Verifies AWS Signature Version 4 on a KMS request, as AWS's front end does before anything else. */

import { createHash, createHmac, timingSafeEqual } from 'node:crypto'

/** The parts of an HTTP request a signature covers. */
export interface SignedRequest {
  readonly method: string
  /** The path as sent; the KMS JSON protocol always posts to `/` with no query string. */
  readonly path: string
  /** Header names in any case; repeated headers joined with `,` as Node does. */
  readonly headers: Readonly<Record<string, string | undefined>>
  readonly body: Uint8Array
}

/** Why a request was refused, named after the AWS error the SDK expects. */
export type SignatureFailure =
  | 'MissingAuthenticationTokenException'
  | 'IncompleteSignatureException'
  | 'UnrecognizedClientException'
  | 'InvalidSignatureException'

export type SignatureVerdict =
  | { readonly ok: true; readonly accessKeyId: string; readonly region: string }
  | { readonly ok: false; readonly failure: SignatureFailure }

export interface VerifyOptions {
  /** The secret of an access key id, or undefined when the id is unknown. */
  readonly secretOf: (accessKeyId: string) => string | undefined
  /** ms since the epoch: the request's X-Amz-Date must be within 15 minutes of it. */
  readonly now: number
  /** The service in the credential scope. */
  readonly service: string
}

const ALGORITHM = 'AWS4-HMAC-SHA256'
const MAX_SKEW_MS = 15 * 60 * 1000 // AWS refuses requests signed more than 15 minutes away
const AUTHORIZATION =
  /^AWS4-HMAC-SHA256 Credential=([A-Z0-9]{16,128})\/(\d{8})\/([a-z0-9-]{1,32})\/([a-z0-9-]{1,32})\/aws4_request, ?SignedHeaders=([a-z0-9;.-]{1,1024}), ?Signature=([0-9a-f]{64})$/
const AMZ_DATE = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/
const REQUIRED_SIGNED = ['host', 'x-amz-date']

const sha256Hex = (data: Uint8Array | string) => createHash('sha256').update(data).digest('hex')
const hmac = (key: Uint8Array | string, data: string) =>
  createHmac('sha256', key).update(data).digest()

/**
 * Checks the `Authorization` header of `request` (AWS General Reference, "Signature Version 4
 * signing process"): the credential scope, the signed headers (which must include `host` and
 * `x-amz-date`), the date within 15 minutes of `now`, and the signature over the canonical request
 * with the key derived from the access key's secret. The comparison runs in constant time.
 */
export function verifySigV4(request: SignedRequest, options: VerifyOptions): SignatureVerdict {
  const headers = lowerCaseHeaders(request.headers)
  const authorization = headers.get('authorization')
  if (authorization === undefined)
    return { ok: false, failure: 'MissingAuthenticationTokenException' }
  const match = AUTHORIZATION.exec(authorization)
  const amzDate = headers.get('x-amz-date') ?? ''
  const date = AMZ_DATE.exec(amzDate)
  if (match === null || date === null) return { ok: false, failure: 'IncompleteSignatureException' }
  const [, accessKeyId, scopeDate, region, service, signedList, signature] = match as unknown as [
    string,
    string,
    string,
    string,
    string,
    string,
    string,
  ]
  const signedHeaders = signedList.split(';')
  const sorted = [...signedHeaders].sort()
  if (
    service !== options.service ||
    scopeDate !== amzDate.slice(0, 8) ||
    signedHeaders.join(';') !== sorted.join(';') ||
    new Set(signedHeaders).size !== signedHeaders.length ||
    REQUIRED_SIGNED.some((name) => !signedHeaders.includes(name)) ||
    signedHeaders.some((name) => !headers.has(name))
  ) {
    return { ok: false, failure: 'IncompleteSignatureException' }
  }
  const secret = options.secretOf(accessKeyId)
  if (secret === undefined) return { ok: false, failure: 'UnrecognizedClientException' }
  const signedAt = Date.UTC(
    Number(date[1]),
    Number(date[2]) - 1,
    Number(date[3]),
    Number(date[4]),
    Number(date[5]),
    Number(date[6]),
  )
  if (!(Math.abs(options.now - signedAt) <= MAX_SKEW_MS)) {
    return { ok: false, failure: 'InvalidSignatureException' }
  }
  const canonicalRequest = [
    request.method.toUpperCase(),
    request.path,
    '', // the canonical query string: KMS requests have none (the server refuses one)
    // Every signed header is present: checked above.
    ...signedHeaders.map((name) => `${name}:${canonicalValue(headers.get(name) as string)}`),
    '',
    signedList,
    sha256Hex(request.body),
  ].join('\n')
  const scope = `${scopeDate}/${region}/${service}/aws4_request`
  const stringToSign = [ALGORITHM, amzDate, scope, sha256Hex(canonicalRequest)].join('\n')
  const key = hmac(hmac(hmac(hmac(`AWS4${secret}`, scopeDate), region), service), 'aws4_request')
  const expected = hmac(key, stringToSign)
  const given = Buffer.from(signature, 'hex')
  if (!timingSafeEqual(expected, given)) return { ok: false, failure: 'InvalidSignatureException' }
  return { ok: true, accessKeyId, region }
}

function lowerCaseHeaders(headers: SignedRequest['headers']): Map<string, string> {
  const map = new Map<string, string>()
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined) map.set(name.toLowerCase(), value)
  }
  return map
}

/** Header values: leading and trailing spaces trimmed, inner runs of spaces made one. */
function canonicalValue(value: string): string {
  return value.trim().replace(/\s+/g, ' ')
}

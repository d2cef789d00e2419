/** How local KMS failures reach clients: the AWS exception name and HTTP status the SDK expects. */

import type { ErrorCode } from '../../../shared/errors/catalog.js'

/** An AWS KMS error response body is `{"__type": <name>, "message": <text>}` with this status. */
export interface AwsError {
  readonly type: string
  readonly status: number
}

/** Codes the KMS raises, mapped to the exceptions AWS KMS documents for them. */
const BY_CODE: Partial<Record<ErrorCode, AwsError>> = {
  ERR_KMS_VALIDATION: { type: 'ValidationException', status: 400 },
  ERR_KMS_INVALID_CIPHERTEXT: { type: 'InvalidCiphertextException', status: 400 },
  ERR_KMS_NOT_FOUND: { type: 'NotFoundException', status: 400 },
  ERR_KMS_DISABLED: { type: 'DisabledException', status: 400 },
  ERR_KMS_INVALID_STATE: { type: 'KMSInvalidStateException', status: 400 },
  ERR_KMS_ALREADY_EXISTS: { type: 'AlreadyExistsException', status: 400 },
  ERR_KMS_ACCESS_DENIED: { type: 'AccessDeniedException', status: 400 },
  ERR_KMS_UNKNOWN_OPERATION: { type: 'UnknownOperationException', status: 400 },
  ERR_KMS_SERIALIZATION: { type: 'SerializationException', status: 400 },
  ERR_KMS_INVALID_SIGNATURE: { type: 'InvalidSignatureException', status: 400 },
  ERR_KMS_UNRECOGNIZED_CLIENT: { type: 'UnrecognizedClientException', status: 400 },
  ERR_KMS_MISSING_AUTHENTICATION: { type: 'MissingAuthenticationTokenException', status: 400 },
  ERR_KMS_INCOMPLETE_SIGNATURE: { type: 'IncompleteSignatureException', status: 400 },
  ERR_KMS_TOO_LARGE: { type: 'ValidationException', status: 413 },
  ERR_KMS_INVALID_RECIPIENT: { type: 'ValidationException', status: 400 },
  ERR_KMS_POLICY_MALFORMED: { type: 'MalformedPolicyDocumentException', status: 400 },
  ERR_KMS_POLICY_TOO_LARGE: { type: 'MalformedPolicyDocumentException', status: 400 },
}

/** Every other failure: an internal error, with no detail. */
const INTERNAL: AwsError = { type: 'KMSInternalException', status: 500 }

/** The AWS error for a catalog code. */
export function awsErrorOf(code: ErrorCode | undefined): AwsError {
  return (code === undefined ? undefined : BY_CODE[code]) ?? INTERNAL
}

/** The closed catalog of Cloister error codes, each with its HTTP status and fixed, safe message. */

/**
 * Every error a Cloister component can report. Codes are stable API: clients match on them, and
 * `docs/errors.md` is checked against this table by `test/shared/errors/catalog.test.ts`.
 * Messages are fixed text: they never carry input bytes, keys, tokens or a dependency's message.
 */
export const ERROR_CATALOG = {
  // Strict CBOR decoding of untrusted bytes (RFC 8949), shared by every decoder in the project.
  ERR_CBOR_TOO_LARGE: { status: 413, message: 'The CBOR input is larger than allowed.' },
  ERR_CBOR_TRUNCATED: { status: 400, message: 'The CBOR input ends in the middle of an item.' },
  ERR_CBOR_LENGTH_OVERFLOW: {
    status: 400,
    message: 'A CBOR length prefix declares more data than the input may hold.',
  },
  ERR_CBOR_TOO_DEEP: { status: 400, message: 'The CBOR input is nested too deeply.' },
  ERR_CBOR_TOO_MANY_ITEMS: {
    status: 400,
    message: 'A CBOR map or string has more entries or chunks than allowed.',
  },
  ERR_CBOR_DUPLICATE_KEY: { status: 400, message: 'A CBOR map repeats a key.' },
  ERR_CBOR_TAG_NOT_ALLOWED: {
    status: 400,
    message: 'The CBOR input carries a tag not allowed here.',
  },
  ERR_CBOR_TRAILING_BYTES: { status: 400, message: 'Bytes follow the end of the CBOR item.' },
  ERR_CBOR_MALFORMED: { status: 400, message: 'The CBOR input is not well-formed.' },

  // COSE_Sign1 structure (RFC 9052 §4.2).
  ERR_COSE_MALFORMED: { status: 400, message: 'The COSE_Sign1 structure is malformed.' },
  ERR_COSE_TAG: {
    status: 400,
    message: 'The COSE message carries a tag other than 18 (COSE_Sign1).',
  },
  ERR_COSE_ALGORITHM: {
    status: 400,
    message: 'The COSE algorithm is missing, unsupported or not the one required.',
  },
  ERR_COSE_HEADER: { status: 400, message: 'The COSE headers carry parameters not allowed here.' },
  ERR_COSE_SIGNATURE_FORMAT: {
    status: 400,
    message: 'The COSE signature is not a raw r||s value of the algorithm size.',
  },
  ERR_COSE_SIGNATURE: { status: 401, message: 'The COSE signature does not verify.' },

  // CMS EnvelopedData in BER, as AWS KMS returns CiphertextForRecipient (RFC 5652 §6, X.690 §8).
  ERR_CMS_TOO_LARGE: {
    status: 413,
    message: 'The CMS input exceeds the size, nesting or element limits.',
  },
  ERR_CMS_MALFORMED: { status: 400, message: 'The CMS input is not well-formed BER of its type.' },
  ERR_CMS_UNSUPPORTED: {
    status: 400,
    message: 'The CMS input uses a structure, version or algorithm that is not supported.',
  },
  ERR_CMS_DECRYPT: { status: 400, message: 'The CMS enveloped data cannot be decrypted.' },

  // Nitro attestation document authenticity (aws-nitro-enclaves-nsm-api attestation_process.md §3).
  ERR_ATTESTATION_TOO_LARGE: {
    status: 413,
    message: 'The attestation document is larger than 64 KiB.',
  },
  ERR_ATTESTATION_MALFORMED: {
    status: 400,
    message: 'The attestation document payload does not match the Nitro schema.',
  },
  ERR_ATTESTATION_SIGNATURE: {
    status: 401,
    message: 'The attestation document signature does not verify under its certificate.',
  },
  ERR_ATTESTATION_CERT_MALFORMED: {
    status: 400,
    message: 'A certificate in the attestation document cannot be used.',
  },
  ERR_ATTESTATION_UNTRUSTED_ROOT: {
    status: 401,
    message: 'The attestation document does not chain to a trusted root.',
  },
  ERR_ATTESTATION_CHAIN: {
    status: 401,
    message: 'The attestation certificate chain is broken.',
  },
  ERR_ATTESTATION_CERT_EXPIRED: {
    status: 401,
    message: 'A certificate in the attestation chain has expired at the verification instant.',
  },
  ERR_ATTESTATION_CERT_NOT_YET_VALID: {
    status: 401,
    message: 'A certificate in the attestation chain is not yet valid at the verification instant.',
  },

  // Attestation policy: what an authentic document must also satisfy.
  ERR_ATTESTATION_DEBUG: {
    status: 403,
    message: 'The enclave runs in debug mode (PCR0-2 are zero) and the policy refuses it.',
  },
  ERR_ATTESTATION_PCR_MISMATCH: {
    status: 403,
    message: 'The enclave measurements do not match any allowed PCR set.',
  },
  ERR_ATTESTATION_STALE: {
    status: 403,
    message: 'The attestation document is older than the policy allows.',
  },
  ERR_ATTESTATION_FUTURE: {
    status: 403,
    message: 'The attestation document is dated further in the future than the policy allows.',
  },
  ERR_ATTESTATION_NONCE_MISMATCH: {
    status: 403,
    message: 'The attestation document does not carry the expected nonce.',
  },
  ERR_ATTESTATION_PUBLIC_KEY: {
    status: 403,
    message: 'The attestation document does not carry a public key of the required kind.',
  },
  ERR_CLOCK_INVALID: {
    status: 500,
    message: 'The verification instant is not a valid time.',
  },
  ERR_POLICY_INVALID: {
    status: 500,
    message: 'The attestation policy is not usable for this decision.',
  },

  // The Nitro Secure Module API (aws-nitro-enclaves-nsm-api src/api/mod.rs ErrorCode), as the
  // enclave sees it through its Nsm port.
  ERR_NSM_INVALID_ARGUMENT: { status: 400, message: 'The NSM refused an invalid argument.' },
  ERR_NSM_INVALID_INDEX: { status: 400, message: 'The PCR index is out of range.' },
  ERR_NSM_INVALID_RESPONSE: {
    status: 502,
    message: 'The NSM response does not correspond to the request.',
  },
  ERR_NSM_READ_ONLY_INDEX: { status: 409, message: 'The PCR is locked and cannot be changed.' },
  ERR_NSM_INVALID_OPERATION: { status: 400, message: 'The NSM cannot perform this operation.' },
  ERR_NSM_BUFFER_TOO_SMALL: { status: 500, message: 'The NSM response did not fit its buffer.' },
  ERR_NSM_INPUT_TOO_LARGE: { status: 413, message: 'The input to the NSM is too large.' },
  ERR_NSM_INTERNAL: { status: 500, message: 'The NSM failed internally.' },
  ERR_NSM_MALFORMED: { status: 400, message: 'An NSM message is not well-formed.' },

  // Parent ↔ enclave frames and protocol (docs/protocol.md).
  ERR_FRAME_TOO_LARGE: { status: 413, message: 'A frame is larger than the protocol allows.' },
  ERR_FRAME_MALFORMED: { status: 400, message: 'A frame does not hold one protocol message.' },
  ERR_PROTOCOL_UNKNOWN_OP: { status: 400, message: 'The operation is not part of the protocol.' },
  ERR_PROTOCOL_BAD_REQUEST: {
    status: 400,
    message: 'The request fields do not match the operation.',
  },
  ERR_PROTOCOL_BAD_RESPONSE: {
    status: 502,
    message: 'The enclave answered with fields that do not match the operation.',
  },
  ERR_ENCLAVE_UNAVAILABLE: { status: 503, message: 'The enclave is not available.' },
  ERR_ENCLAVE_BUSY: {
    status: 503,
    message: 'Too many calls to the enclave are waiting; try again shortly.',
  },
  ERR_ENCLAVE_TIMEOUT: { status: 504, message: 'The enclave did not answer in time.' },
  ERR_ENCLAVE_INTERNAL: { status: 500, message: 'The enclave failed to handle the request.' },

  ERR_CONFIGURATION_INVALID: {
    status: 500,
    message: 'The enclave configuration is not valid.',
  },

  // The simulated Nitro host.
  ERR_SIM_STATE: {
    status: 500,
    message: 'The simulated host state directory holds unreadable or inconsistent files.',
  },

  // The local KMS (parent/kms): each code maps to the AWS exception the SDK expects.
  ERR_KMS_STATE: {
    status: 500,
    message: 'The KMS state directory holds unreadable or inconsistent files.',
  },
  ERR_KMS_VALIDATION: { status: 400, message: 'The request does not satisfy a KMS constraint.' },
  ERR_KMS_NOT_FOUND: { status: 404, message: 'The key or alias does not exist.' },
  ERR_KMS_DISABLED: { status: 409, message: 'The key is disabled.' },
  ERR_KMS_INVALID_STATE: { status: 409, message: 'The key is not in a state that allows this.' },
  ERR_KMS_ALREADY_EXISTS: { status: 409, message: 'An alias with this name already exists.' },
  ERR_KMS_ACCESS_DENIED: { status: 403, message: 'The key policy does not allow this request.' },
  ERR_KMS_UNKNOWN_OPERATION: { status: 400, message: 'The operation is not supported.' },
  ERR_KMS_SERIALIZATION: {
    status: 400,
    message: 'The request body is not valid JSON of its type.',
  },
  ERR_KMS_INVALID_SIGNATURE: { status: 403, message: 'The request signature does not verify.' },
  ERR_KMS_UNRECOGNIZED_CLIENT: { status: 403, message: 'The access key is not known.' },
  ERR_KMS_MISSING_AUTHENTICATION: { status: 403, message: 'The request is not signed.' },
  ERR_KMS_INCOMPLETE_SIGNATURE: {
    status: 403,
    message: 'The request signature is incomplete or malformed.',
  },
  ERR_KMS_TOO_LARGE: { status: 413, message: 'The request body is too large.' },
  ERR_KMS_INVALID_RECIPIENT: {
    status: 400,
    message: 'The recipient attestation document is not valid or carries no usable RSA key.',
  },
  ERR_KMS_INVALID_CIPHERTEXT: {
    status: 400,
    message: 'The ciphertext is not valid for this key and encryption context.',
  },

  // AWS KMS key policies in the local KMS stand-in (AWS KMS Developer Guide "Key policies in AWS
  // KMS", IAM User Guide "IAM JSON policy element reference").
  ERR_KMS_POLICY_TOO_LARGE: { status: 413, message: 'The key policy is larger than 32 KiB.' },
  ERR_KMS_POLICY_MALFORMED: {
    status: 400,
    message: 'The key policy is not a key policy document in the supported grammar.',
  },
  ERR_KMS_POLICY_CONTEXT_AMBIGUOUS: {
    status: 400,
    message:
      'The request context holds keys that differ only in case, which a condition cannot tell apart.',
  },
  ERR_KMS_POLICY_PCR_INVALID: {
    status: 400,
    message: 'A measurement for the key policy is missing or is not 96 hexadecimal digits.',
  },
  ERR_KMS_POLICY_DEBUG_PCR: {
    status: 400,
    message: 'A measurement for the key policy is all zero, as in debug mode, and cannot be bound.',
  },
  ERR_KMS_POLICY_PRINCIPAL_INVALID: {
    status: 400,
    message: 'The account ID or principal ARN for the key policy is not valid.',
  },

  // The relay: TCP streams the parent carries for the enclave's own TLS (docs/protocol.md).
  ERR_RELAY_ENDPOINT_DENIED: {
    status: 403,
    message: 'The endpoint is not on the relay allow-list.',
  },
  ERR_RELAY_CONNECT_FAILED: { status: 502, message: 'The relay could not reach the endpoint.' },
  ERR_RELAY_STREAM_LIMIT: {
    status: 503,
    message: 'The relay already carries as many streams as it allows.',
  },
  ERR_RELAY_CLOSED: {
    status: 502,
    message: 'The relayed stream closed before the exchange finished.',
  },

  // KMS as the enclave sees it: its own TLS, through the relay, as measured code.
  ERR_KMS_NOT_CONFIGURED: {
    status: 503,
    message: 'The enclave has no KMS key in its measured configuration, or no credentials yet.',
  },
  ERR_KMS_UNREACHABLE: {
    status: 503,
    message: 'KMS could not be reached over a TLS connection the enclave verified.',
  },
  ERR_KMS_RESPONSE_INVALID: {
    status: 502,
    message: 'KMS answered with a response the enclave does not accept.',
  },
  ERR_KMS_REQUEST_FAILED: { status: 502, message: 'KMS refused the request.' },

  // The enclave's key ring: data keys per tenant and purpose, wrapped by KMS.
  ERR_KEYS_NOT_LOADED: { status: 503, message: 'The key ring is not loaded yet.' },
  ERR_KEYS_CONTEXT_MISMATCH: {
    status: 400,
    message: 'A wrapped key does not belong where it is stored (tenant, purpose, version or key).',
  },
  ERR_KEYS_UNKNOWN: { status: 404, message: 'No such key or key version.' },
  ERR_KEYS_VERSION_CONFLICT: {
    status: 409,
    message: 'The key version conflicts with the versions the key ring holds.',
  },
  ERR_KEYS_LIMIT: { status: 409, message: 'The key ring holds as many keys as it allows.' },

  // The key broker: releasing KMS-wrapped keys to attested, measured code.
  ERR_RELEASE_POLICY_INVALID: { status: 400, message: 'The release policy is not valid.' },
  ERR_RELEASE_NONCE_REQUIRED: {
    status: 403,
    message: 'The key is released only against a nonce from keys.challenge.',
  },
  ERR_RELEASE_NONCE_UNKNOWN: {
    status: 403,
    message: 'The nonce was not issued by this enclave, or it has expired.',
  },
  ERR_RELEASE_NONCE_REUSED: { status: 403, message: 'The nonce has already been used.' },
  ERR_RELEASE_CHALLENGE_LIMIT: {
    status: 503,
    message: 'Too many challenges are outstanding; try again shortly.',
  },
  ERR_RELEASE_SIGNER_MISMATCH: {
    status: 403,
    message: 'The image signer (PCR8) is not the one the release policy requires.',
  },
  ERR_RELEASE_PUBLIC_KEY_MISSING: {
    status: 403,
    message: 'The attestation document carries no public key to release the key to.',
  },
  ERR_RELEASE_PUBLIC_KEY_UNSUPPORTED: {
    status: 400,
    message: 'The public key is not an RSA (2048 bits or more) or P-256/P-384/P-521 key.',
  },

  // JOSE (RFC 7516/7518) as the enclave writes it.
  ERR_JWE_UNSUPPORTED_KEY: {
    status: 400,
    message: 'The recipient key is not an EC key on P-256, P-384 or P-521.',
  },

  // Command-line use.
  ERR_CLI_USAGE: { status: 400, message: 'The command line is not valid; see --help.' },
  ERR_CLI_INPUT: { status: 400, message: 'The input file cannot be read.' },
} as const satisfies Record<string, { readonly status: number; readonly message: string }>

/** A stable error code from {@link ERROR_CATALOG}. */
export type ErrorCode = keyof typeof ERROR_CATALOG

/** Every code in catalog order. */
export const ERROR_CODES = Object.keys(ERROR_CATALOG) as readonly ErrorCode[]

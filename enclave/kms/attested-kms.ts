/** KMS as measured code: every call carries a fresh attestation document and answers only to the enclave. */

import {
  DecryptCommand,
  GenerateDataKeyCommand,
  GenerateRandomCommand,
  KMSClient,
} from '@aws-sdk/client-kms'
import { CloisterError, isCloisterError } from '../../shared/errors/cloister-error.js'
import type { ErrorCode } from '../../shared/errors/catalog.js'
import { openEnvelopedData } from '../../shared/cms/open-enveloped-data.js'
import type { KmsConfiguration } from '../../shared/image/enclave-configuration.js'
import type { EnclaveKeys } from '../keys/enclave-keys.js'
import { requestAttestation } from '../nsm/nsm-calls.js'
import type { Nsm } from '../ports.js'
import type { RelayConnector } from '../relay/relay-connector.js'
import { createRelayHttpHandler } from './relay-http-handler.js'

/** What the parent hands in: where its relay reaches KMS, and the credentials to sign with. */
export interface KmsAccess {
  /** The TCP port on the measured host name; the parent's relay allow-list must have it. */
  readonly port: number
  readonly accessKeyId: string
  readonly secretAccessKey: string
  /** For an instance role's temporary credentials. */
  readonly sessionToken?: string
}

/** KMS calls whose answers only this enclave can read. */
export interface AttestedKms {
  /** A new 256-bit data key: its bytes (opened inside the enclave) and its KMS ciphertext blob. */
  generateDataKey(
    context: Readonly<Record<string, string>>,
  ): Promise<{ readonly key: Uint8Array; readonly ciphertextBlob: Uint8Array }>
  /** The 32-byte data key in `ciphertextBlob`, which must be bound to `context`. */
  decryptDataKey(
    ciphertextBlob: Uint8Array,
    context: Readonly<Record<string, string>>,
  ): Promise<Uint8Array>
  /** `length` random bytes from KMS's HSMs. */
  generateRandom(length: number): Promise<Uint8Array>
}

export interface AttestedKmsOptions {
  /** Measured: key ARN, region, server name, trust anchors. */
  readonly configuration: KmsConfiguration
  readonly access: KmsAccess
  readonly relay: RelayConnector
  readonly nsm: Nsm
  readonly keys: EnclaveKeys
  /** Attempts per call when KMS cannot be reached (default 4). */
  readonly attempts?: number
  /** First delay between attempts, doubled each time (default 100 ms). */
  readonly initialDelayMs?: number
  /** Waits `ms`; a timer by default (tests pass their own). */
  readonly sleep?: (ms: number) => Promise<void>
  /** Per-connection timeout (default 10 s). */
  readonly timeoutMs?: number
}

/** The fields of a KMS answer the enclave reads. */
interface KmsAnswer {
  readonly KeyId?: string | undefined
  readonly CiphertextForRecipient?: Uint8Array | undefined
  readonly Plaintext?: Uint8Array | undefined
}

const DATA_KEY_BYTES = 32 // AES-256
const MAX_RANDOM_BYTES = 1024 // GenerateRandom's NumberOfBytes limit
/** Failures worth another attempt: the connection, not the answer. */
const RETRYABLE: readonly ErrorCode[] = [
  'ERR_KMS_UNREACHABLE',
  'ERR_RELAY_CONNECT_FAILED',
  'ERR_RELAY_STREAM_LIMIT',
]

/**
 * The enclave's KMS client: the stock `@aws-sdk/client-kms` whose only transport is
 * {@link createRelayHttpHandler} (TLS that ends here, verified against the measured anchors), so
 * no one between the enclave and KMS can read or substitute an answer (DESIGN.md §1). Every call
 * names the measured key ARN and carries a fresh NSM document binding the enclave's RSA key
 * (`Recipient`, RSAES_OAEP_SHA_256); the answer must come back as `CiphertextForRecipient` from that
 * very key, and is opened with the enclave's private key. A plaintext answer is refused: it would
 * mean KMS did not take the attested path.
 *
 * Transport failures are retried with exponential backoff, each attempt on a fresh connection;
 * KMS refusals are not. `AccessDeniedException` (the key policy does not admit these measurements)
 * becomes `ERR_KMS_ACCESS_DENIED`; `InvalidCiphertextException` on Decrypt (a blob bound to another
 * context or key) becomes `ERR_KEYS_CONTEXT_MISMATCH`.
 */
export function createAttestedKms(options: AttestedKmsOptions): AttestedKms {
  const { configuration, access } = options
  const client = new KMSClient({
    region: configuration.region,
    endpoint: `https://${configuration.serverName}:${String(access.port)}`,
    credentials: {
      accessKeyId: access.accessKeyId,
      secretAccessKey: access.secretAccessKey,
      ...(access.sessionToken === undefined ? {} : { sessionToken: access.sessionToken }),
    },
    requestHandler: createRelayHttpHandler({
      relay: options.relay,
      trustAnchors: configuration.trustAnchors,
      serverName: configuration.serverName,
      ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
    }),
    // Retries are ours (below): the SDK's would not retry a TLS failure and would hide the cause.
    maxAttempts: 1,
    // Fixed here so the SDK never looks for them in files or the environment, which the
    // enclave does not have.
    useFipsEndpoint: false,
    useDualstackEndpoint: false,
  })
  const attempts = options.attempts ?? 4
  const initialDelayMs = options.initialDelayMs ?? 100
  const sleep =
    options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)))

  const recipient = async () => ({
    AttestationDocument: await requestAttestation(options.nsm, {
      publicKey: options.keys.recipientSpki,
      nonce: null,
      userData: null,
    }),
    KeyEncryptionAlgorithm: 'RSAES_OAEP_SHA_256' as const,
  })

  /** Runs `call` until it succeeds, fails for good, or runs out of attempts. */
  const withRetries = <T>(call: () => Promise<T>, refusal: ErrorCode): Promise<T> => {
    const attempt = async (number: number, delay: number): Promise<T> => {
      try {
        return await call()
      } catch (error) {
        const code = codeOf(error, refusal)
        if (!RETRYABLE.includes(code)) throw new CloisterError(code)
        if (number >= attempts) throw new CloisterError('ERR_KMS_UNREACHABLE')
      }
      await sleep(delay)
      return attempt(number + 1, delay * 2)
    }
    return attempt(1, initialDelayMs)
  }

  /** Opens the envelope with the enclave's private key; a plaintext answer is refused. */
  const open = (answer: KmsAnswer) => {
    if (answer.Plaintext !== undefined || answer.CiphertextForRecipient === undefined) {
      throw new CloisterError('ERR_KMS_RESPONSE_INVALID')
    }
    try {
      return openEnvelopedData(answer.CiphertextForRecipient, options.keys.recipient)
    } catch {
      throw new CloisterError('ERR_KMS_RESPONSE_INVALID')
    }
  }

  /** A data key must be 32 bytes from the measured key; anything else is not ours to use. */
  const dataKey = (answer: KmsAnswer): Uint8Array => {
    if (answer.KeyId !== configuration.keyArn) throw new CloisterError('ERR_KMS_RESPONSE_INVALID')
    const key = open(answer)
    if (key.byteLength !== DATA_KEY_BYTES) {
      key.fill(0)
      throw new CloisterError('ERR_KMS_RESPONSE_INVALID')
    }
    return key
  }

  return {
    generateDataKey: (context) =>
      withRetries(async () => {
        const answer = await client.send(
          new GenerateDataKeyCommand({
            KeyId: configuration.keyArn,
            KeySpec: 'AES_256',
            EncryptionContext: { ...context },
            Recipient: await recipient(),
          }),
        )
        const key = dataKey(answer)
        if (answer.CiphertextBlob === undefined) {
          key.fill(0)
          throw new CloisterError('ERR_KMS_RESPONSE_INVALID')
        }
        return { key, ciphertextBlob: answer.CiphertextBlob }
      }, 'ERR_KMS_REQUEST_FAILED'),
    decryptDataKey: (ciphertextBlob, context) =>
      withRetries(async () => {
        const answer = await client.send(
          new DecryptCommand({
            KeyId: configuration.keyArn,
            CiphertextBlob: ciphertextBlob,
            EncryptionContext: { ...context },
            EncryptionAlgorithm: 'SYMMETRIC_DEFAULT',
            Recipient: await recipient(),
          }),
        )
        return dataKey(answer)
      }, 'ERR_KEYS_CONTEXT_MISMATCH'),
    generateRandom: (length) => {
      if (!Number.isInteger(length) || length < 1 || length > MAX_RANDOM_BYTES) {
        return Promise.reject(new CloisterError('ERR_KMS_REQUEST_FAILED'))
      }
      return withRetries(async () => {
        const answer = await client.send(
          new GenerateRandomCommand({ NumberOfBytes: length, Recipient: await recipient() }),
        )
        const bytes = open(answer)
        if (bytes.byteLength !== length) throw new CloisterError('ERR_KMS_RESPONSE_INVALID')
        return bytes
      }, 'ERR_KMS_REQUEST_FAILED')
    },
  }
}

/**
 * The catalog code for a failed call: ours as they are; the SDK's service exceptions by name
 * (`invalidCiphertext` is what an `InvalidCiphertextException` means for this call); 5xx and
 * throttling as unreachable (worth a retry); any other refusal as `ERR_KMS_REQUEST_FAILED`.
 */
function codeOf(error: unknown, invalidCiphertext: ErrorCode): ErrorCode {
  if (isCloisterError(error)) return error.code
  const { name, $metadata } = error as { name?: unknown; $metadata?: { httpStatusCode?: number } }
  switch (name) {
    case 'AccessDeniedException':
      return 'ERR_KMS_ACCESS_DENIED'
    case 'InvalidCiphertextException':
    case 'IncorrectKeyException':
      return invalidCiphertext
    case 'ThrottlingException':
    case 'KMSInternalException':
    case 'DependencyTimeoutException':
      return 'ERR_KMS_UNREACHABLE'
  }
  return ($metadata?.httpStatusCode ?? 0) >= 500 ? 'ERR_KMS_UNREACHABLE' : 'ERR_KMS_REQUEST_FAILED'
}

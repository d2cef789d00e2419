/** The AWS KMS operations the local KMS implements, over its store, in AWS's JSON shapes. */

import { randomUUID } from 'node:crypto'
import { CloisterError } from '../../../shared/errors/cloister-error.js'
import {
  MAX_PLAINTEXT_BYTES,
  openBlob,
  readBlobHeader,
  sealBlob,
  type EncryptionContext,
} from '../crypto/ciphertext-blob.js'
import { evaluateKeyPolicy, type PolicyDecision } from '../policy/evaluate-key-policy.js'
import { parseKeyPolicy } from '../policy/parse-key-policy.js'
import type { ContextValue } from '../policy/request-context.js'
import type { KeyRecord, KmsStore } from '../store/kms-store.js'
import {
  encryptForRecipient,
  verifyRecipient,
  type RecipientVerifier,
  type VerifiedRecipient,
} from './recipient.js'

/** A parsed JSON request body. */
export type JsonObject = Readonly<Record<string, unknown>>

/** What every operation works with. */
export interface KmsContext {
  readonly store: KmsStore
  readonly clock: () => number
  readonly random: (length: number) => Uint8Array
  readonly region: string
  readonly accountId: string
  /** The default key policy for keys created without one. */
  readonly defaultPolicy: (accountId: string) => string
  /** The authenticated caller's ARN (the account root for the state directory's access key). */
  readonly caller: string
  /** Trusted roots and cache for attested `Recipient` requests. */
  readonly recipients: RecipientVerifier
  /** Adds facts to this request's audit record (attested calls: module id and PCRs). */
  readonly note: (detail: Readonly<Record<string, unknown>>) => void
}

/** One operation: a request body in, a response body out, or a catalog error. */
export type KmsOperation = (input: JsonObject, context: KmsContext) => JsonObject

const MIN_DELETION_DAYS = 7 // AWS: PendingWindowInDays is 7 to 30
const MAX_DELETION_DAYS = 30
const DAY = 86_400_000
const MAX_RANDOM_BYTES = 1024 // AWS: GenerateRandom NumberOfBytes is 1 to 1024
const ALIAS_NAME = /^alias\/[a-zA-Z0-9/_-]{1,250}$/
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/

function invalid(): never {
  throw new CloisterError('ERR_KMS_VALIDATION')
}

function text(input: JsonObject, name: string, required: true): string
function text(input: JsonObject, name: string, required: false): string | undefined
function text(input: JsonObject, name: string, required: boolean): string | undefined {
  const value = input[name]
  if (value === undefined && !required) return undefined
  if (typeof value !== 'string' || value.length === 0 || value.length > 32_768) invalid()
  return value
}

/** A base64 blob field (the JSON protocol carries binary as standard base64). */
function blob(input: JsonObject, name: string): Uint8Array {
  const value = text(input, name, true)
  if (!BASE64.test(value)) throw new CloisterError('ERR_KMS_SERIALIZATION')
  return new Uint8Array(Buffer.from(value, 'base64'))
}

function context(input: JsonObject, name = 'EncryptionContext'): EncryptionContext {
  const value = input[name]
  if (value === undefined) return {}
  if (typeof value !== 'object' || value === null || Array.isArray(value)) invalid()
  const entries = Object.entries(value as Record<string, unknown>)
  for (const [key, item] of entries) if (typeof item !== 'string' || key.length === 0) invalid()
  return value as EncryptionContext
}

function integer(input: JsonObject, name: string, min: number, max: number): number | undefined {
  const value = input[name]
  if (value === undefined) return undefined
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) invalid()
  return value
}

const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64')
const hexId = (uuid: string) => new Uint8Array(Buffer.from(uuid.replaceAll('-', ''), 'hex'))
const uuidOf = (bytes: Uint8Array) =>
  Buffer.from(bytes)
    .toString('hex')
    .replace(/^(.{8})(.{4})(.{4})(.{4})(.{12})$/, '$1-$2-$3-$4-$5')

/**
 * The key a `KeyId` names: a key id, a key ARN, an alias name or an alias ARN (AWS KMS "KeyId").
 *
 * @throws {CloisterError} `ERR_KMS_NOT_FOUND`.
 */
export function resolveKey(keyId: string, context: KmsContext): KeyRecord {
  const arnPrefix = `arn:aws:kms:${context.region}:${context.accountId}:`
  const bare = keyId.startsWith(arnPrefix) ? keyId.slice(arnPrefix.length) : keyId
  const id = bare.startsWith('alias/')
    ? context.store.resolveAlias(bare)
    : bare.startsWith('key/')
      ? bare.slice('key/'.length)
      : bare
  const key = id === undefined ? undefined : context.store.getKey(id)
  if (key === undefined) throw new CloisterError('ERR_KMS_NOT_FOUND')
  return key
}

/**
 * Checks the key's policy for `action` by the caller (AWS KMS "Key policies"): explicit Deny wins,
 * no Allow means deny. The request context carries `kms:EncryptionContext:<key>` and
 * `kms:EncryptionContextKeys` (and, for attested calls, `kms:RecipientAttestation:*`). A policy
 * that cannot be evaluated denies.
 *
 * @throws {CloisterError} `ERR_KMS_ACCESS_DENIED`.
 */
export function authorize(
  key: KeyRecord,
  action: string,
  kms: KmsContext,
  encryptionContext: EncryptionContext = {},
  extra: ReadonlyMap<string, ContextValue> = new Map(),
): KeyRecord {
  const requestContext = new Map<string, ContextValue>([['aws:SecureTransport', true], ...extra])
  const keys = Object.keys(encryptionContext)
  for (const name of keys) {
    requestContext.set(`kms:EncryptionContext:${name}`, encryptionContext[name] as string)
  }
  if (keys.length > 0) requestContext.set('kms:EncryptionContextKeys', keys)
  let decision: PolicyDecision
  try {
    decision = evaluateKeyPolicy(parseKeyPolicy(key.policy), {
      principal: kms.caller,
      action,
      resource: key.arn,
      context: requestContext,
    })
  } catch {
    decision = 'deny' // an unreadable policy or an ambiguous context fails closed
  }
  if (decision !== 'allow') throw new CloisterError('ERR_KMS_ACCESS_DENIED')
  return key
}

/** A key policy checked before it is stored: AWS refuses malformed ones. */
function validPolicy(text: string): string {
  parseKeyPolicy(text) // ERR_KMS_POLICY_MALFORMED / _TOO_LARGE: MalformedPolicyDocumentException
  return text
}

/** A key that may be used for cryptography now. */
function usableKey(keyId: string, context: KmsContext): KeyRecord {
  const key = resolveKey(keyId, context)
  if (key.state === 'Disabled') throw new CloisterError('ERR_KMS_DISABLED')
  if (key.state === 'PendingDeletion') throw new CloisterError('ERR_KMS_INVALID_STATE')
  return key
}

function metadata(key: KeyRecord, context: KmsContext): JsonObject {
  return {
    AWSAccountId: context.accountId,
    KeyId: key.keyId,
    Arn: key.arn,
    CreationDate: key.createdMs / 1000,
    Enabled: key.state === 'Enabled',
    Description: key.description,
    KeyUsage: 'ENCRYPT_DECRYPT',
    KeyState: key.state,
    ...(key.deletionMs === null ? {} : { DeletionDate: key.deletionMs / 1000 }),
    Origin: 'AWS_KMS',
    KeyManager: 'CUSTOMER',
    KeySpec: 'SYMMETRIC_DEFAULT',
    CustomerMasterKeySpec: 'SYMMETRIC_DEFAULT',
    EncryptionAlgorithms: ['SYMMETRIC_DEFAULT'],
    MultiRegion: false,
  }
}

function encryptWith(
  key: KeyRecord,
  plaintext: Uint8Array,
  encryptionContext: EncryptionContext,
  kms: KmsContext,
): Uint8Array {
  const material = kms.store.material(key.keyId, key.currentVersion) as Uint8Array
  return sealBlob({
    keyId: hexId(key.keyId),
    version: key.currentVersion,
    material,
    plaintext,
    context: encryptionContext,
  })
}

/** Opens a blob with the key and material version it names (any version: rotation keeps them). */
export function decryptBlob(
  ciphertext: Uint8Array,
  encryptionContext: EncryptionContext,
  kms: KmsContext,
  action: string,
  expectedKeyId?: string,
  attested: ReadonlyMap<string, ContextValue> = new Map(),
): { key: KeyRecord; plaintext: Uint8Array } {
  const header = readBlobHeader(ciphertext)
  const keyId = uuidOf(header.keyId)
  const key = kms.store.getKey(keyId)
  if (key === undefined) throw new CloisterError('ERR_KMS_INVALID_CIPHERTEXT')
  if (expectedKeyId !== undefined && resolveKey(expectedKeyId, kms).keyId !== key.keyId) {
    throw new CloisterError('ERR_KMS_INVALID_CIPHERTEXT') // AWS: IncorrectKeyException-like refusal
  }
  if (key.state === 'Disabled') throw new CloisterError('ERR_KMS_DISABLED')
  if (key.state === 'PendingDeletion') throw new CloisterError('ERR_KMS_INVALID_STATE')
  authorize(key, action, kms, encryptionContext, attested)
  const material = kms.store.material(key.keyId, header.version)
  if (material === undefined) throw new CloisterError('ERR_KMS_INVALID_CIPHERTEXT')
  return { key, plaintext: openBlob(ciphertext, material, encryptionContext) }
}

function dataKeyLength(input: JsonObject): number {
  const bytes = integer(input, 'NumberOfBytes', 1, 1024)
  const spec = input.KeySpec
  if (bytes !== undefined && spec !== undefined) invalid() // AWS: exactly one of the two
  if (bytes !== undefined) return bytes
  if (spec === 'AES_256') return 32
  if (spec === 'AES_128') return 16
  return invalid()
}

/** The verified `Recipient` of a request, if it has one, noted in the audit record. */
function recipientOf(input: JsonObject, kms: KmsContext): VerifiedRecipient | undefined {
  if (input.Recipient === undefined) return undefined
  const recipient = verifyRecipient(input.Recipient, kms.recipients, kms.clock())
  kms.note({
    recipientModuleId: recipient.document.moduleId,
    recipientPcrs: Object.fromEntries(
      [...recipient.document.pcrs].map(([index, value]) => [
        index,
        Buffer.from(value).toString('hex'),
      ]),
    ),
  })
  return recipient
}

/** A fresh data key under the request's key and context: its bytes and its ciphertext blob. */
function generateDataKey(
  input: JsonObject,
  kms: KmsContext,
  action: string,
  attested: ReadonlyMap<string, ContextValue> = new Map(),
) {
  const encryptionContext = context(input)
  const key = authorize(
    usableKey(text(input, 'KeyId', true), kms),
    action,
    kms,
    encryptionContext,
    attested,
  )
  const plaintext = kms.random(dataKeyLength(input))
  return {
    plaintext,
    CiphertextBlob: b64(encryptWith(key, plaintext, encryptionContext, kms)),
    KeyId: key.arn,
  }
}

/** The operations by their `X-Amz-Target` name (TrentService.<name>). */
export const KMS_OPERATIONS: Readonly<Record<string, KmsOperation>> = {
  CreateKey(input, kms) {
    const description = text(input, 'Description', false) ?? ''
    for (const [field, allowed] of [
      ['KeyUsage', 'ENCRYPT_DECRYPT'],
      ['KeySpec', 'SYMMETRIC_DEFAULT'],
      ['CustomerMasterKeySpec', 'SYMMETRIC_DEFAULT'],
      ['Origin', 'AWS_KMS'],
    ] as const) {
      if (input[field] !== undefined && input[field] !== allowed) invalid()
    }
    const policy = validPolicy(text(input, 'Policy', false) ?? kms.defaultPolicy(kms.accountId))
    const keyId = randomUUID()
    const key = {
      keyId,
      arn: `arn:aws:kms:${kms.region}:${kms.accountId}:key/${keyId}`,
      createdMs: kms.clock(),
      description,
      policy,
      rotationEnabled: false,
    }
    kms.store.createKey(key, kms.random(32))
    return { KeyMetadata: metadata(resolveKey(keyId, kms), kms) }
  },
  DescribeKey: (input, kms) => ({
    KeyMetadata: metadata(
      authorize(resolveKey(text(input, 'KeyId', true), kms), 'kms:DescribeKey', kms),
      kms,
    ),
  }),
  ListKeys: (_input, kms) => ({
    Keys: kms.store.listKeys().map((key) => ({ KeyId: key.keyId, KeyArn: key.arn })),
    Truncated: false,
  }),
  CreateAlias(input, kms) {
    const name = text(input, 'AliasName', true)
    if (!ALIAS_NAME.test(name) || name.startsWith('alias/aws/')) invalid()
    if (kms.store.resolveAlias(name) !== undefined) {
      throw new CloisterError('ERR_KMS_ALREADY_EXISTS')
    }
    const key = authorize(resolveKey(text(input, 'TargetKeyId', true), kms), 'kms:CreateAlias', kms)
    kms.store.createAlias(name, key.keyId, kms.clock())
    return {}
  },
  ListAliases: (input, kms) => {
    const only = input.KeyId === undefined ? undefined : resolveKey(text(input, 'KeyId', true), kms)
    return {
      Aliases: kms.store
        .listAliases()
        .filter((alias) => only === undefined || alias.keyId === only.keyId)
        .map((alias) => ({
          AliasName: alias.name,
          AliasArn: `arn:aws:kms:${kms.region}:${kms.accountId}:${alias.name}`,
          TargetKeyId: alias.keyId,
          CreationDate: alias.createdMs / 1000,
        })),
      Truncated: false,
    }
  },
  GetKeyPolicy(input, kms) {
    const key = authorize(resolveKey(text(input, 'KeyId', true), kms), 'kms:GetKeyPolicy', kms)
    if ((text(input, 'PolicyName', false) ?? 'default') !== 'default') invalid()
    return { Policy: key.policy, PolicyName: 'default' }
  },
  PutKeyPolicy(input, kms) {
    const key = authorize(resolveKey(text(input, 'KeyId', true), kms), 'kms:PutKeyPolicy', kms)
    if ((text(input, 'PolicyName', false) ?? 'default') !== 'default') invalid()
    const policy = validPolicy(text(input, 'Policy', true))
    // AWS's lockout safety check: a policy that would stop its author changing it again is refused.
    try {
      authorize({ ...key, policy }, 'kms:PutKeyPolicy', kms)
    } catch {
      throw new CloisterError('ERR_KMS_POLICY_MALFORMED')
    }
    kms.store.setPolicy(key.keyId, policy)
    return {}
  },
  EnableKey(input, kms) {
    const key = authorize(resolveKey(text(input, 'KeyId', true), kms), 'kms:EnableKey', kms)
    if (key.state === 'PendingDeletion') throw new CloisterError('ERR_KMS_INVALID_STATE')
    kms.store.setState(key.keyId, 'Enabled', null)
    return {}
  },
  DisableKey(input, kms) {
    const key = authorize(resolveKey(text(input, 'KeyId', true), kms), 'kms:DisableKey', kms)
    if (key.state === 'PendingDeletion') throw new CloisterError('ERR_KMS_INVALID_STATE')
    kms.store.setState(key.keyId, 'Disabled', null)
    return {}
  },
  ScheduleKeyDeletion(input, kms) {
    const key = authorize(
      resolveKey(text(input, 'KeyId', true), kms),
      'kms:ScheduleKeyDeletion',
      kms,
    )
    const days = integer(input, 'PendingWindowInDays', MIN_DELETION_DAYS, MAX_DELETION_DAYS) ?? 30
    if (key.state === 'PendingDeletion') throw new CloisterError('ERR_KMS_INVALID_STATE')
    const deletionMs = kms.clock() + days * DAY
    kms.store.setState(key.keyId, 'PendingDeletion', deletionMs)
    return {
      KeyId: key.arn,
      DeletionDate: deletionMs / 1000,
      KeyState: 'PendingDeletion',
      PendingWindowInDays: days,
    }
  },
  EnableKeyRotation(input, kms) {
    const key = usableKey(text(input, 'KeyId', true), kms)
    kms.store.setRotation(authorize(key, 'kms:EnableKeyRotation', kms).keyId, true)
    return {}
  },
  RotateKeyOnDemand(input, kms) {
    const key = authorize(usableKey(text(input, 'KeyId', true), kms), 'kms:RotateKeyOnDemand', kms)
    kms.store.rotate(key.keyId, kms.random(32), kms.clock())
    return { KeyId: key.keyId }
  },
  Encrypt(input, kms) {
    const encryptionContext = context(input)
    const key = authorize(
      usableKey(text(input, 'KeyId', true), kms),
      'kms:Encrypt',
      kms,
      encryptionContext,
    )
    const plaintext = blob(input, 'Plaintext')
    if (plaintext.byteLength > MAX_PLAINTEXT_BYTES) invalid()
    return {
      CiphertextBlob: b64(encryptWith(key, plaintext, encryptionContext, kms)),
      KeyId: key.arn,
      EncryptionAlgorithm: 'SYMMETRIC_DEFAULT',
    }
  },
  Decrypt(input, kms) {
    const recipient = recipientOf(input, kms)
    const { key, plaintext } = decryptBlob(
      blob(input, 'CiphertextBlob'),
      context(input),
      kms,
      'kms:Decrypt',
      text(input, 'KeyId', false),
      recipient?.context,
    )
    const answer = { KeyId: key.arn, EncryptionAlgorithm: 'SYMMETRIC_DEFAULT' }
    if (recipient === undefined) return { ...answer, Plaintext: b64(plaintext) }
    return { ...answer, CiphertextForRecipient: encryptForRecipient(recipient, plaintext) }
  },
  ReEncrypt(input, kms) {
    const source = decryptBlob(
      blob(input, 'CiphertextBlob'),
      context(input, 'SourceEncryptionContext'),
      kms,
      'kms:ReEncryptFrom',
      text(input, 'SourceKeyId', false),
    )
    const destinationContext = context(input, 'DestinationEncryptionContext')
    const destination = authorize(
      usableKey(text(input, 'DestinationKeyId', true), kms),
      'kms:ReEncryptTo',
      kms,
      destinationContext,
    )
    const ciphertext = encryptWith(destination, source.plaintext, destinationContext, kms)
    return {
      CiphertextBlob: b64(ciphertext),
      SourceKeyId: source.key.arn,
      KeyId: destination.arn,
      SourceEncryptionAlgorithm: 'SYMMETRIC_DEFAULT',
      DestinationEncryptionAlgorithm: 'SYMMETRIC_DEFAULT',
    }
  },
  GenerateDataKey(input, kms) {
    const recipient = recipientOf(input, kms)
    const { plaintext, ...rest } = generateDataKey(
      input,
      kms,
      'kms:GenerateDataKey',
      recipient?.context,
    )
    if (recipient === undefined) return { ...rest, Plaintext: b64(plaintext) }
    return { ...rest, CiphertextForRecipient: encryptForRecipient(recipient, plaintext) }
  },
  GenerateDataKeyWithoutPlaintext(input, kms) {
    const { plaintext, ...rest } = generateDataKey(
      input,
      kms,
      'kms:GenerateDataKeyWithoutPlaintext',
    )
    plaintext.fill(0) // the caller never sees it; nothing keeps it
    return rest
  },
  GenerateRandom(input, kms) {
    const recipient = recipientOf(input, kms)
    const bytes = integer(input, 'NumberOfBytes', 1, MAX_RANDOM_BYTES)
    if (bytes === undefined) invalid()
    const random = kms.random(bytes)
    if (recipient === undefined) return { Plaintext: b64(random) }
    return { CiphertextForRecipient: encryptForRecipient(recipient, random) }
  },
}

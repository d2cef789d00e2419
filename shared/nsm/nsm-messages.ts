/** The Nitro Secure Module API messages and their CBOR form, as aws-nitro-enclaves-nsm-api defines them. */

import { decodeStrict } from '../cbor/decode-strict.js'
import {
  isCborArray,
  isCborBytes,
  isCborMap,
  type CborKey,
  type CborMap,
  type CborValue,
} from '../cbor/cbor-value.js'
import { encodeCbor } from '../cbor/encode.js'
import type { ErrorCode } from '../errors/catalog.js'
import { CloisterError } from '../errors/cloister-error.js'

// nsm-api src/driver/mod.rs: NSM_REQUEST_MAX_SIZE 0x1000 and NSM_RESPONSE_MAX_SIZE 0x3000.
export const NSM_REQUEST_MAX_BYTES = 0x1000 // 4 KiB
export const NSM_RESPONSE_MAX_BYTES = 0x3000 // 12 KiB

/** The digest of the PCR bank (nsm-api `Digest`). */
export type NsmDigest = 'SHA256' | 'SHA384' | 'SHA512'

/** nsm-api `ErrorCode`, less `Success`, which never travels in an `Error` response. */
export type NsmErrorCode =
  | 'InvalidArgument'
  | 'InvalidIndex'
  | 'InvalidResponse'
  | 'ReadOnlyIndex'
  | 'InvalidOperation'
  | 'BufferTooSmall'
  | 'InputTooLarge'
  | 'InternalError'

/** nsm-api `Request`. */
export type NsmRequest =
  | { readonly type: 'DescribePCR'; readonly index: number }
  | { readonly type: 'ExtendPCR'; readonly index: number; readonly data: Uint8Array }
  | { readonly type: 'LockPCR'; readonly index: number }
  | { readonly type: 'LockPCRs'; readonly range: number }
  | { readonly type: 'DescribeNSM' }
  | {
      readonly type: 'Attestation'
      readonly userData: Uint8Array | null
      readonly nonce: Uint8Array | null
      readonly publicKey: Uint8Array | null
    }
  | { readonly type: 'GetRandom' }

/** nsm-api `Response`. */
export type NsmResponse =
  | { readonly type: 'DescribePCR'; readonly lock: boolean; readonly data: Uint8Array }
  | { readonly type: 'ExtendPCR'; readonly data: Uint8Array }
  | { readonly type: 'LockPCR' }
  | { readonly type: 'LockPCRs' }
  | {
      readonly type: 'DescribeNSM'
      readonly versionMajor: number
      readonly versionMinor: number
      readonly versionPatch: number
      readonly moduleId: string
      readonly maxPcrs: number
      readonly lockedPcrs: readonly number[]
      readonly digest: NsmDigest
    }
  | { readonly type: 'Attestation'; readonly document: Uint8Array }
  | { readonly type: 'GetRandom'; readonly random: Uint8Array }
  | { readonly type: 'Error'; readonly code: NsmErrorCode }

const ERROR_CODES: Readonly<Record<NsmErrorCode, ErrorCode>> = {
  InvalidArgument: 'ERR_NSM_INVALID_ARGUMENT',
  InvalidIndex: 'ERR_NSM_INVALID_INDEX',
  InvalidResponse: 'ERR_NSM_INVALID_RESPONSE',
  ReadOnlyIndex: 'ERR_NSM_READ_ONLY_INDEX',
  InvalidOperation: 'ERR_NSM_INVALID_OPERATION',
  BufferTooSmall: 'ERR_NSM_BUFFER_TOO_SMALL',
  InputTooLarge: 'ERR_NSM_INPUT_TOO_LARGE',
  InternalError: 'ERR_NSM_INTERNAL',
}
const DIGESTS: ReadonlySet<string> = new Set(['SHA256', 'SHA384', 'SHA512'])
const U16_MAX = 0xffff

/** The catalog code for an NSM error. */
export function nsmErrorToCode(code: NsmErrorCode): ErrorCode {
  return ERROR_CODES[code]
}

/*
 * serde's externally tagged enums in CBOR (ciborium): a unit variant is its name as text
 * ("DescribeNSM"), a struct variant a one-entry map from its name to a map of its fields
 * ({"DescribePCR": {"index": 0}}), and a newtype variant a one-entry map to its value
 * ({"Error": "InvalidIndex"}). Option<ByteBuf> is a byte string or null.
 */

/** The CBOR bytes of `request`, as the NSM driver sends them. */
export function encodeNsmRequest(request: NsmRequest): Uint8Array {
  switch (request.type) {
    case 'DescribeNSM':
    case 'GetRandom':
      return encodeCbor(request.type)
    case 'DescribePCR':
    case 'LockPCR':
      return encodeVariant(request.type, [['index', request.index]])
    case 'ExtendPCR':
      return encodeVariant(request.type, [
        ['index', request.index],
        ['data', request.data],
      ])
    case 'LockPCRs':
      return encodeVariant(request.type, [['range', request.range]])
    case 'Attestation':
      return encodeVariant(request.type, [
        ['user_data', request.userData],
        ['nonce', request.nonce],
        ['public_key', request.publicKey],
      ])
  }
}

/** The CBOR bytes of `response`, as the NSM answers. */
export function encodeNsmResponse(response: NsmResponse): Uint8Array {
  switch (response.type) {
    case 'LockPCR':
    case 'LockPCRs':
      return encodeCbor(response.type)
    case 'DescribePCR':
      return encodeVariant(response.type, [
        ['lock', response.lock],
        ['data', response.data],
      ])
    case 'ExtendPCR':
      return encodeVariant(response.type, [['data', response.data]])
    case 'DescribeNSM':
      return encodeVariant(response.type, [
        ['version_major', response.versionMajor],
        ['version_minor', response.versionMinor],
        ['version_patch', response.versionPatch],
        ['module_id', response.moduleId],
        ['max_pcrs', response.maxPcrs],
        ['locked_pcrs', [...response.lockedPcrs]],
        ['digest', response.digest],
      ])
    case 'Attestation':
      return encodeVariant(response.type, [['document', response.document]])
    case 'GetRandom':
      return encodeVariant(response.type, [['random', response.random]])
    case 'Error':
      return encodeCbor(new Map([[response.type, response.code]]))
  }
}

function encodeVariant(
  name: string,
  fields: readonly (readonly [string, CborValue])[],
): Uint8Array {
  return encodeCbor(new Map([[name, new Map(fields)]]))
}

/**
 * Decodes a request from the enclave: at most 4 KiB of strict CBOR in one of the shapes above,
 * with no unknown variant or field.
 *
 * @throws {CloisterError} `ERR_CBOR_*` or `ERR_NSM_MALFORMED`.
 */
export function decodeNsmRequest(bytes: Uint8Array): NsmRequest {
  const [name, fields] = readVariant(bytes, NSM_REQUEST_MAX_BYTES)
  switch (name) {
    case 'DescribeNSM':
    case 'GetRandom':
      expectFields(fields, [])
      return { type: name }
    case 'DescribePCR':
    case 'LockPCR':
      return { type: name, index: readU16(expectFields(fields, ['index']), 'index') }
    case 'ExtendPCR': {
      const map = expectFields(fields, ['index', 'data'])
      return { type: name, index: readU16(map, 'index'), data: readBytes(map, 'data') }
    }
    case 'LockPCRs':
      return { type: name, range: readU16(expectFields(fields, ['range']), 'range') }
    case 'Attestation': {
      const map = expectFields(fields, ['user_data', 'nonce', 'public_key'])
      return {
        type: name,
        userData: readOptionalBytes(map, 'user_data'),
        nonce: readOptionalBytes(map, 'nonce'),
        publicKey: readOptionalBytes(map, 'public_key'),
      }
    }
    default:
      return malformed()
  }
}

/**
 * Decodes a response from the NSM: at most 12 KiB of strict CBOR in one of the shapes above.
 *
 * @throws {CloisterError} `ERR_CBOR_*` or `ERR_NSM_MALFORMED`.
 */
export function decodeNsmResponse(bytes: Uint8Array): NsmResponse {
  const [name, fields] = readVariant(bytes, NSM_RESPONSE_MAX_BYTES)
  switch (name) {
    case 'LockPCR':
    case 'LockPCRs':
      expectFields(fields, [])
      return { type: name }
    case 'DescribePCR': {
      const map = expectFields(fields, ['lock', 'data'])
      const lock = map.get('lock')
      if (typeof lock !== 'boolean') malformed()
      return { type: name, lock, data: readBytes(map, 'data') }
    }
    case 'ExtendPCR':
      return { type: name, data: readBytes(expectFields(fields, ['data']), 'data') }
    case 'DescribeNSM':
      return readDescription(
        expectFields(fields, [
          'version_major',
          'version_minor',
          'version_patch',
          'module_id',
          'max_pcrs',
          'locked_pcrs',
          'digest',
        ]),
      )
    case 'Attestation':
      return { type: name, document: readBytes(expectFields(fields, ['document']), 'document') }
    case 'GetRandom':
      return { type: name, random: readBytes(expectFields(fields, ['random']), 'random') }
    case 'Error':
      if (typeof fields !== 'string' || !Object.hasOwn(ERROR_CODES, fields)) malformed()
      return { type: name, code: fields as NsmErrorCode }
    default:
      return malformed()
  }
}

function readDescription(map: CborMap): NsmResponse {
  const moduleId = map.get('module_id')
  const digest = map.get('digest')
  const locked = map.get('locked_pcrs')
  if (typeof moduleId !== 'string' || typeof digest !== 'string' || !DIGESTS.has(digest)) {
    malformed()
  }
  if (!isCborArray(locked)) malformed()
  return {
    type: 'DescribeNSM',
    versionMajor: readU16(map, 'version_major'),
    versionMinor: readU16(map, 'version_minor'),
    versionPatch: readU16(map, 'version_patch'),
    moduleId,
    maxPcrs: readU16(map, 'max_pcrs'),
    lockedPcrs: locked.map((index) => toU16(index)),
    digest: digest as NsmDigest,
  }
}

function malformed(): never {
  throw new CloisterError('ERR_NSM_MALFORMED')
}

/** The variant name and its content (`undefined` for a unit variant). */
function readVariant(bytes: Uint8Array, maxBytes: number): [string, CborValue | undefined] {
  const value = decodeStrict(bytes, { maxBytes })
  if (typeof value === 'string') return [value, undefined]
  if (!isCborMap(value) || value.size !== 1) malformed()
  const [name, content] = [...value][0] as [CborKey, CborValue] // the one entry
  if (typeof name !== 'string') malformed()
  return [name, content]
}

/** A struct variant's field map holding exactly `names`; a unit variant for `[]`. */
function expectFields(content: CborValue | undefined, names: readonly string[]): CborMap {
  if (names.length === 0) {
    if (content !== undefined) malformed()
    return new Map()
  }
  if (content === undefined || !isCborMap(content) || content.size !== names.length) malformed()
  for (const name of names) if (!content.has(name)) malformed()
  return content
}

function toU16(value: CborValue): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > U16_MAX) {
    malformed()
  }
  return value
}

function readU16(map: CborMap, name: string): number {
  return toU16(map.get(name) ?? null)
}

function readBytes(map: CborMap, name: string): Uint8Array {
  const value = map.get(name)
  if (!isCborBytes(value)) malformed()
  return value
}

function readOptionalBytes(map: CborMap, name: string): Uint8Array | null {
  const value = map.get(name)
  return value === null ? null : readBytes(map, name)
}

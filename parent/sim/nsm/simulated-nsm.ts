/** The simulated Nitro Secure Module: PCR bank, locks, entropy and signed attestation documents. */

import { CborIndefiniteMap, type CborKey, type CborValue } from '../../../shared/cbor/cbor-value.js'
import { encodeCbor } from '../../../shared/cbor/encode.js'
import { createSign1 } from '../../../shared/cose/create-sign1.js'
import { extendPcr, ZERO_PCR } from '../../../shared/attestation/pcr.js'
import { expectCatalogError } from '../../../shared/errors/expect-catalog-error.js'
import {
  decodeNsmRequest,
  encodeNsmResponse,
  type NsmErrorCode,
  type NsmRequest,
  type NsmResponse,
} from '../../../shared/nsm/nsm-messages.js'
import type { SimPki } from '../sim-pki.js'

export const NSM_PCR_COUNT = 32 // attestation_process.md: PCR indexes 0..31
/** PCRs 0–15 are set by the hypervisor at boot and locked before the enclave runs. */
export const NSM_BOOT_LOCKED_PCRS = 16
/** Our cap on each attestation field and on extend data (real documents carry up to 746 bytes). */
export const NSM_MAX_FIELD_BYTES = 1024
export const NSM_RANDOM_BYTES = 256 // what GetRandom returns per call
const NSM_VERSION = [1, 0, 0] as const

/** The measured image and the host facts the simulated hypervisor puts into PCRs. */
export interface SimulatedNsmConfig {
  readonly pki: SimPki
  /** Milliseconds since the epoch: the document timestamp and the instant its chain must cover. */
  readonly clock: () => number
  readonly random: (length: number) => Uint8Array
  /** `i-<17 hex>-enc<16 hex>`, as real NSMs name themselves. */
  readonly moduleId: string
  /** Values of PCR0, PCR1, PCR2 (and PCR8 when signed) from `measureImage`. */
  readonly measurements: ReadonlyMap<number, Uint8Array>
  /** PCR3 is the parent's IAM role ARN extended into a fresh register; zero when absent. */
  readonly roleArn: string | undefined
  /** PCR4 is the parent's instance id extended into a fresh register. */
  readonly instanceId: string
  /** Debug mode: PCR0–2 read as zeros, as nitro-cli `--debug-mode` makes them. */
  readonly debug: boolean
}

/** The NSM as the enclave's `Nsm` port reaches it: one request in, one response out. */
export interface SimulatedNsm {
  handle(request: NsmRequest): Promise<NsmResponse>
  /** The same over the wire: CBOR request bytes in, CBOR response bytes out. */
  handleBytes(bytes: Uint8Array): Promise<Uint8Array>
}

const text = new TextEncoder()

/**
 * A simulated NSM with the behaviour of aws-nitro-enclaves-nsm-api's device: PCRs 0–15 locked at
 * boot, 16–31 extendable until locked, documents listing every locked PCR (16, or more once the
 * enclave locks others), untagged COSE_Sign1 over an indefinite-length payload map with all nine
 * keys, signed by the simulated PKI's leaf.
 */
export function createSimulatedNsm(config: SimulatedNsmConfig): SimulatedNsm {
  const pcrs: Uint8Array[] = Array.from({ length: NSM_PCR_COUNT }, () => ZERO_PCR)
  /** The register at a valid index (callers check the index first). */
  const pcrAt = (index: number) => pcrs[index] as Uint8Array
  const locked = new Set<number>()
  for (const [index, value] of config.measurements) pcrs[index] = value
  if (config.debug) for (const index of [0, 1, 2]) pcrs[index] = ZERO_PCR
  if (config.roleArn !== undefined) pcrs[3] = extendPcr(ZERO_PCR, text.encode(config.roleArn))
  pcrs[4] = extendPcr(ZERO_PCR, text.encode(config.instanceId))
  for (let index = 0; index < NSM_BOOT_LOCKED_PCRS; index += 1) locked.add(index)

  const error = (code: NsmErrorCode): NsmResponse => ({ type: 'Error', code })
  const valid = (index: number) => index < NSM_PCR_COUNT

  async function attest(request: Extract<NsmRequest, { type: 'Attestation' }>) {
    const fields = [request.userData, request.nonce, request.publicKey]
    if (fields.some((field) => field !== null && field.byteLength > NSM_MAX_FIELD_BYTES)) {
      return error('InputTooLarge')
    }
    const timestamp = config.clock()
    const { cabundle, leaf } = await config.pki.signerAt(timestamp)
    const reported = new Map<CborKey, CborValue>()
    for (const index of [...locked].sort((a, b) => a - b)) reported.set(index, pcrAt(index))
    const payload = new CborIndefiniteMap<string, CborValue>([
      ['module_id', config.moduleId],
      ['digest', 'SHA384'],
      ['timestamp', timestamp],
      ['pcrs', reported],
      ['certificate', leaf.der],
      ['cabundle', [...cabundle]],
      ['public_key', request.publicKey],
      ['user_data', request.userData],
      ['nonce', request.nonce],
    ])
    const document = createSign1({ payload: encodeCbor(payload), privateKey: leaf.privateKey })
    return { type: 'Attestation', document } as const
  }

  async function handle(request: NsmRequest): Promise<NsmResponse> {
    switch (request.type) {
      case 'DescribePCR':
        if (!valid(request.index)) return error('InvalidIndex')
        return {
          type: 'DescribePCR',
          lock: locked.has(request.index),
          data: pcrAt(request.index),
        }
      case 'ExtendPCR': {
        if (!valid(request.index)) return error('InvalidIndex')
        if (locked.has(request.index)) return error('ReadOnlyIndex')
        if (request.data.byteLength > NSM_MAX_FIELD_BYTES) return error('InputTooLarge')
        const data = extendPcr(pcrAt(request.index), request.data)
        pcrs[request.index] = data
        return { type: 'ExtendPCR', data }
      }
      case 'LockPCR':
        if (!valid(request.index)) return error('InvalidIndex')
        locked.add(request.index)
        return { type: 'LockPCR' }
      case 'LockPCRs':
        if (request.range > NSM_PCR_COUNT) return error('InvalidIndex')
        for (let index = 0; index < request.range; index += 1) locked.add(index)
        return { type: 'LockPCRs' }
      case 'DescribeNSM':
        return {
          type: 'DescribeNSM',
          versionMajor: NSM_VERSION[0],
          versionMinor: NSM_VERSION[1],
          versionPatch: NSM_VERSION[2],
          moduleId: config.moduleId,
          maxPcrs: NSM_PCR_COUNT,
          lockedPcrs: [...locked].sort((a, b) => a - b),
          digest: 'SHA384',
        }
      case 'Attestation':
        return attest(request)
      case 'GetRandom':
        return { type: 'GetRandom', random: config.random(NSM_RANDOM_BYTES) }
    }
  }

  return {
    handle,
    async handleBytes(bytes) {
      let request: NsmRequest
      try {
        request = decodeNsmRequest(bytes)
      } catch (failure) {
        expectCatalogError(failure)
        return encodeNsmResponse(error('InvalidArgument'))
      }
      return encodeNsmResponse(await handle(request))
    },
  }
}

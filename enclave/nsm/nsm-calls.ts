/** Typed NSM calls over the `Nsm` port: each returns its own response or throws a catalog error. */

import { CloisterError } from '../../shared/errors/cloister-error.js'
import { nsmErrorToCode, type NsmResponse } from '../../shared/nsm/nsm-messages.js'
import type { Nsm } from '../ports.js'

type Answer<T extends NsmResponse['type']> = Extract<NsmResponse, { type: T }>

/** `response` if it is of `type`; an NSM error becomes its catalog code, anything else is invalid. */
function expectResponse<T extends NsmResponse['type']>(response: NsmResponse, type: T): Answer<T> {
  if (response.type === type) return response as Answer<T>
  if (response.type === 'Error') throw new CloisterError(nsmErrorToCode(response.code))
  throw new CloisterError('ERR_NSM_INVALID_RESPONSE')
}

/** PCR `index` as the NSM reports it. */
export async function describePcr(nsm: Nsm, index: number): Promise<Uint8Array> {
  return expectResponse(await nsm.request({ type: 'DescribePCR', index }), 'DescribePCR').data
}

/** The NSM's description: module id, PCR count, locked PCRs. */
export async function describeNsm(nsm: Nsm): Promise<Answer<'DescribeNSM'>> {
  return expectResponse(await nsm.request({ type: 'DescribeNSM' }), 'DescribeNSM')
}

/** A signed attestation document carrying the given fields. */
export async function requestAttestation(
  nsm: Nsm,
  fields: { userData: Uint8Array | null; nonce: Uint8Array | null; publicKey: Uint8Array | null },
): Promise<Uint8Array> {
  const response = await nsm.request({ type: 'Attestation', ...fields })
  return expectResponse(response, 'Attestation').document
}

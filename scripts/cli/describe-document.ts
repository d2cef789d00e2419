/** The JSON view of an attestation document that `cloister attest verify --json` prints. */

import { toHex } from '../../shared/bytes/bytes.js'
import {
  isDebugDocument,
  type AttestationDocument,
} from '../../shared/attestation/attestation-document.js'

/** Document fields as hex strings; absent optional fields are `null`. */
export interface DocumentSummary {
  readonly moduleId: string
  readonly timestamp: number
  readonly digest: string
  readonly debug: boolean
  readonly pcrs: Readonly<Record<string, string>>
  readonly publicKey: string | null
  readonly userData: string | null
  readonly nonce: string | null
}

/** Summarises `document` for output. */
export function describeDocument(document: AttestationDocument): DocumentSummary {
  const hexOrNull = (bytes: Uint8Array | null) => (bytes === null ? null : toHex(bytes))
  return {
    moduleId: document.moduleId,
    timestamp: document.timestamp,
    digest: document.digest,
    debug: isDebugDocument(document),
    pcrs: Object.fromEntries([...document.pcrs].map(([index, value]) => [index, toHex(value)])),
    publicKey: hexOrNull(document.publicKey),
    userData: hexOrNull(document.userData),
    nonce: hexOrNull(document.nonce),
  }
}

/** `cloister attest inspect`: a human-readable dump of a document, explicitly not verified. */

import { X509Certificate } from 'node:crypto'
import { parseArgs } from 'node:util'
import { toHex } from '../../shared/bytes/bytes.js'
import {
  isDebugDocument,
  parseAttestationPayload,
} from '../../shared/attestation/attestation-document.js'
import { sha256Hex } from '../../shared/attestation/trusted-roots.js'
import { decodeSign1 } from '../../shared/cose/decode-sign1.js'
import { ERROR_CATALOG } from '../../shared/errors/catalog.js'
import { expectCatalogError } from '../../shared/errors/expect-catalog-error.js'
import type { CliIo } from './cli-io.js'
import { printable } from './printable.js'
import { readDocument } from './read-document.js'
import { UsageError } from './usage-error.js'

export const ATTEST_INSPECT_USAGE = `Usage: cloister attest inspect FILE|-

Prints the fields, PCRs and certificates of an attestation document (raw, hex or base64) WITHOUT
verifying it. Use "cloister attest verify" to decide whether to trust it.
`

/** Runs the command; returns the exit status (1 when the document cannot be decoded). */
export async function runAttestInspect(args: readonly string[], io: CliIo): Promise<number> {
  const { positionals } = parseArgs({ args: [...args], allowPositionals: true, strict: true })
  const [path, ...extra] = positionals
  if (path === undefined || extra.length > 0) throw new UsageError('give exactly one FILE or -')
  const bytes = await readDocument(io, path)
  let lines: string[]
  try {
    lines = describe(bytes)
  } catch (error) {
    const { code } = expectCatalogError(error)
    io.stdout(`malformed: ${code}: ${ERROR_CATALOG[code].message}\n`)
    return 1
  }
  io.stdout(`${lines.join('\n')}\n`)
  return 0
}

function describe(bytes: Uint8Array): string[] {
  const sign1 = decodeSign1(bytes)
  const document = parseAttestationPayload(sign1.payload)
  const optional = (bytes: Uint8Array | null) =>
    bytes === null ? 'null' : `${bytes.byteLength} bytes ${toHex(bytes)}`
  const lines = [
    'NOT VERIFIED: this is what the document claims; run "cloister attest verify" to check it.',
    `COSE_Sign1   ${sign1.tagged ? 'tag 18' : 'untagged'}, ${sign1.algorithm.name}, ` +
      `signature ${sign1.signature.byteLength} bytes`,
    `module_id    ${printable(document.moduleId)}`,
    `digest       ${document.digest}`,
    `timestamp    ${document.timestamp} (${new Date(document.timestamp).toISOString()})`,
    `debug        ${isDebugDocument(document) ? 'yes (PCR0-2 are zero)' : 'no'}`,
  ]
  for (const [index, value] of [...document.pcrs].sort(([a], [b]) => a - b)) {
    lines.push(`PCR${String(index).padEnd(2)}        ${toHex(value)}`)
  }
  lines.push(`public_key   ${optional(document.publicKey)}`)
  lines.push(`user_data    ${optional(document.userData)}`)
  lines.push(`nonce        ${optional(document.nonce)}`)
  lines.push('certificates (root first):')
  const chain = [...document.cabundle, document.certificate]
  chain.forEach((der, index) => {
    const name = index === chain.length - 1 ? 'certificate' : `cabundle[${index}]`
    lines.push(`  ${name}  sha256 ${sha256Hex(der)}`)
    let certificate: X509Certificate
    try {
      certificate = new X509Certificate(der)
    } catch {
      lines.push('    (not a parseable certificate)')
      return
    }
    lines.push(`    subject  ${printable(certificate.subject.replaceAll('\n', ', '))}`)
    lines.push(`    issuer   ${printable(certificate.issuer.replaceAll('\n', ', '))}`)
    lines.push(`    valid    ${certificate.validFrom} to ${certificate.validTo}`)
  })
  return lines
}

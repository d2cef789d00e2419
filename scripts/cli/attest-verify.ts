/** `cloister attest verify`: authenticity plus a command-line policy, as an exit status. */

import { parseArgs, type ParseArgsConfig } from 'node:util'
import { parseAttestationPayload } from '../../shared/attestation/attestation-document.js'
import { checkAttestationPolicy } from '../../shared/attestation/attestation-policy.js'
import {
  AWS_NITRO_ROOTS,
  trustRootCertificates,
  type TrustedRoots,
} from '../../shared/attestation/trusted-roots.js'
import { verifyAttestation } from '../../shared/attestation/verify-attestation.js'
import { decodeSign1 } from '../../shared/cose/decode-sign1.js'
import { ERROR_CATALOG, type ErrorCode } from '../../shared/errors/catalog.js'
import { expectCatalogError } from '../../shared/errors/expect-catalog-error.js'
import type { CliIo } from './cli-io.js'
import { printable, printableJson } from './printable.js'
import { describeDocument, type DocumentSummary } from './describe-document.js'
import { buildPolicy, parseInstant } from './parse-policy-options.js'
import { readDocument } from './read-document.js'
import { readFailure, UsageError } from './usage-error.js'

const MAX_ROOT_FILE_BYTES = 64 * 1024 // a PEM bundle of a few roots
const PEM_BLOCKS = /-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g
const textOf = (bytes: Uint8Array) => Buffer.from(bytes).toString('latin1')

export const ATTEST_VERIFY_USAGE = `Usage: cloister attest verify FILE|- [options]

Verifies a Nitro attestation document (raw, hex or base64): COSE ES384 signature, certificate chain
to a pinned root, then the policy below. Exit 0: valid; 1: rejected (the code is printed); 2: usage.

Options:
  --root PEM          trust this root certificate instead of AWS Nitro root G1 (repeatable)
  --at WHEN           verify at "document" (its own timestamp), milliseconds, or ISO-8601;
                      default: now
  --pcr N=HEX         require PCR N to equal HEX (96 hex digits; repeatable, all must match)
  --allow-debug       accept a debug-mode enclave (PCR0-2 all zero); refused by default
  --max-age SECONDS   refuse documents older than this at the verification instant
  --nonce HEX         require this nonce
  --json              print the result as JSON
`

const OPTIONS = {
  root: { type: 'string', multiple: true },
  at: { type: 'string' },
  pcr: { type: 'string', multiple: true },
  'allow-debug': { type: 'boolean', default: false },
  'max-age': { type: 'string' },
  nonce: { type: 'string' },
  json: { type: 'boolean', default: false },
} satisfies ParseArgsConfig['options']

/** Runs the command; returns the exit status. */
export async function runAttestVerify(args: readonly string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args: [...args],
    options: OPTIONS,
    allowPositionals: true,
    strict: true,
  })
  const [path, ...extra] = positionals
  if (path === undefined || extra.length > 0) throw new UsageError('give exactly one FILE or -')
  const policy = buildPolicy({
    pcr: values.pcr ?? [],
    allowDebug: values['allow-debug'],
    maxAge: values['max-age'],
    nonce: values.nonce,
  })
  const instant = parseInstant(values.at)
  if (instant === 'document' && policy.maxAgeMs !== undefined) {
    // The document's age at its own timestamp is always zero: the limit would check nothing.
    throw new UsageError('--max-age cannot be combined with --at document')
  }
  const trustedRoots = await readRoots(io, values.root ?? [])
  const bytes = await readDocument(io, path)

  let summary: DocumentSummary | undefined
  try {
    const now =
      instant === 'document' ? readTimestamp(bytes) : instant === 'now' ? io.now() : instant
    const document = verifyAttestation(bytes, { now, trustedRoots })
    summary = describeDocument(document)
    checkAttestationPolicy(document, policy, now)
  } catch (error) {
    report(io, values.json, expectCatalogError(error).code, summary)
    return 1
  }
  report(io, values.json, undefined, summary)
  return 0
}

/** The document's own timestamp, for `--at document`; read before it is verified, used only as a clock. */
function readTimestamp(bytes: Uint8Array): number {
  return parseAttestationPayload(decodeSign1(bytes).payload).timestamp
}

/** Each `--root` file holds one or more PEM certificates; every one of them is pinned. */
async function readRoots(io: CliIo, paths: readonly string[]): Promise<TrustedRoots> {
  if (paths.length === 0) return AWS_NITRO_ROOTS
  const pems: string[] = []
  for (const path of paths) {
    let bytes: Uint8Array
    try {
      bytes = await io.readInput(path, MAX_ROOT_FILE_BYTES)
    } catch (error) {
      throw readFailure(path, error)
    }
    const found = bytes.byteLength > MAX_ROOT_FILE_BYTES ? null : textOf(bytes).match(PEM_BLOCKS)
    if (found === null) throw new UsageError(`--root ${path}: not a PEM certificate file`)
    pems.push(...found)
  }
  try {
    return trustRootCertificates(pems)
  } catch {
    throw new UsageError('--root takes a PEM certificate file')
  }
}

/** Prints the verdict; the document summary only when the document proved authentic. */
function report(
  io: CliIo,
  json: boolean,
  code: ErrorCode | undefined,
  summary: DocumentSummary | undefined,
): void {
  if (json) {
    const result = {
      valid: code === undefined,
      ...(code === undefined ? {} : { code }),
      ...summary,
    }
    io.stdout(`${printableJson(JSON.stringify(result, null, 2))}\n`)
    return
  }
  const lines = [
    code === undefined
      ? 'valid: authentic Nitro attestation document; policy satisfied'
      : `rejected: ${code}: ${ERROR_CATALOG[code].message}`,
  ]
  if (summary !== undefined) {
    lines.push(`  module_id  ${printable(summary.moduleId)}`)
    lines.push(`  timestamp  ${new Date(summary.timestamp).toISOString()}`)
    lines.push(`  debug      ${summary.debug ? 'yes (PCR0-2 are zero)' : 'no'}`)
    for (const index of ['0', '1', '2']) {
      const value = summary.pcrs[index]
      if (value !== undefined) lines.push(`  PCR${index}       ${value}`)
    }
  }
  io.stdout(`${lines.join('\n')}\n`)
}

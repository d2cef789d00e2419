/** The one way tests reach the team's read-only reference folder `../shared/vectors/`. */

import { existsSync, readFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const REPOSITORY_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..')

/** Absolute path of `../shared/vectors` beside the repository. */
export const VECTORS_DIR = resolve(REPOSITORY_ROOT, '..', 'shared', 'vectors')

if (!existsSync(VECTORS_DIR)) {
  // Fail loudly: a test that silently skipped its vectors would prove nothing.
  throw new Error(
    `The reference vectors are missing: expected them at ${VECTORS_DIR} (the team's shared/ folder ` +
      'beside the repository). Tests read vectors from there and never from copies.',
  )
}

/** Bytes of a vector file, e.g. `vectorBytes('nitro/anjuna-1.cose')`. */
export function vectorBytes(relativePath: string): Uint8Array {
  const buffer = readFileSync(join(VECTORS_DIR, relativePath))
  return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength)
}

/** Text of a vector file. */
export function vectorText(relativePath: string): string {
  return readFileSync(join(VECTORS_DIR, relativePath), 'utf8')
}

/** A JSON vector file, parsed; the caller narrows it to the shape it expects. */
export function vectorJson(relativePath: string): unknown {
  return JSON.parse(vectorText(relativePath))
}

/** One entry of `nitro/manifest.json`. */
export interface NitroManifestEntry {
  readonly file: string
  readonly expect: 'accept' | 'reject'
  readonly at: number
  readonly debug?: boolean
  readonly pcrs?: Readonly<Record<string, string>>
  readonly module_id?: string
  readonly public_key_len?: number | null
  readonly user_data_len?: number | null
  readonly nonce_len?: number | null
}

/** The documents listed in `nitro/manifest.json`. */
export function nitroManifest(): readonly NitroManifestEntry[] {
  return (vectorJson('nitro/manifest.json') as { documents: NitroManifestEntry[] }).documents
}

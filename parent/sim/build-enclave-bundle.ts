/** Bundles the enclave program (enclave/enclave.ts and all it imports) into one deterministic file. */

import { existsSync, readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { build, type OutputFile } from 'esbuild'

/** The repository root: the nearest folder above this file whose package.json is Cloister's. */
export function findRepositoryRoot(from = dirname(fileURLToPath(import.meta.url))): string {
  let directory = from
  while (!isCloisterPackage(directory)) {
    const parent = dirname(directory)
    if (parent === directory) throw new Error('not inside the cloister repository')
    directory = parent
  }
  return directory
}

function isCloisterPackage(directory: string): boolean {
  const manifest = join(directory, 'package.json')
  if (!existsSync(manifest)) return false
  const { name } = JSON.parse(readFileSync(manifest, 'utf8')) as { name?: unknown }
  return name === 'cloister'
}

/**
 * The enclave bundle: an ES module for Node 20 with every dependency inlined, no source map, no
 * comments and no timestamps, so the same sources and the same esbuild always give the same bytes
 * (and so the same PCR2).
 */
export async function buildEnclaveBundle(root = findRepositoryRoot()): Promise<Uint8Array> {
  const result = await build({
    absWorkingDir: root,
    entryPoints: ['enclave/enclave.ts'],
    bundle: true,
    platform: 'node',
    format: 'esm',
    // ES module builds first: the AWS SDK's CommonJS builds `require` Node built-ins, which an
    // ES module bundle cannot do.
    mainFields: ['module', 'main'],
    target: 'node20',
    write: false,
    sourcemap: false,
    legalComments: 'none',
    charset: 'utf8',
    logLevel: 'silent',
    metafile: false,
  })
  // With `write: false` and one entry point, esbuild returns exactly one output file.
  return (result.outputFiles[0] as OutputFile).contents
}

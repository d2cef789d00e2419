/** The installed `cloister` command end to end: a real process, real files, real exit statuses. */

import { spawnSync } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { VECTORS_DIR } from '../helpers/shared-vectors.js'

const BIN = fileURLToPath(new URL('../../scripts/cloister.js', import.meta.url))
const BUILT = fileURLToPath(new URL('../../dist/scripts/cli/run-cli.js', import.meta.url))

/** Runs the bin as a user would, without the test runner's loaders or coverage hooks. */
function cloister(args: string[], input?: Uint8Array) {
  const result = spawnSync(process.execPath, [BIN, ...args], {
    env: { PATH: process.env.PATH ?? '' },
    encoding: 'utf8',
    ...(input === undefined ? {} : { input }),
  })
  return { status: result.status, stdout: result.stdout, stderr: result.stderr }
}

t.test('the compiled CLI exists (npm ci runs the build through "prepare")', (t) => {
  t.ok(existsSync(BUILT), `missing ${BUILT}: run npm run build`)
  t.end()
})

t.test('verify: 0 for a valid document, 1 for a debug one, 2 for bad usage', (t) => {
  const valid = cloister([
    'attest',
    'verify',
    `${VECTORS_DIR}/nitro/sequence-1.cose`,
    '--at',
    'document',
    '--json',
  ])
  t.equal(valid.status, 0, valid.stderr)
  t.match(JSON.parse(valid.stdout), {
    valid: true,
    moduleId: 'i-01721714461f7afa6-enc01953e42450be060',
  })
  const debug = cloister([
    'attest',
    'verify',
    `${VECTORS_DIR}/nitro/cape-2.cose`,
    '--at',
    'document',
  ])
  t.equal(debug.status, 1)
  t.match(debug.stdout, /^rejected: ERR_ATTESTATION_DEBUG: /)
  const usage = cloister(['attest', 'verify'])
  t.equal(usage.status, 2)
  t.match(usage.stderr, /give exactly one FILE or -/)
  t.end()
})

t.test('standard input and inspect', (t) => {
  const bytes = readFileSync(`${VECTORS_DIR}/nitro/marlin-2.cose`)
  const piped = cloister(['attest', 'verify', '-', '--at', 'document'], bytes)
  t.equal(piped.status, 0, piped.stderr)
  const inspected = cloister(['attest', 'inspect', `${VECTORS_DIR}/nitro/marlin-2.cose`])
  t.equal(inspected.status, 0)
  t.match(inspected.stdout, /\nPCR16 {8}[0-9a-f]{96}\n/)
  t.end()
})

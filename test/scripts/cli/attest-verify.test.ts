/** `cloister attest verify`: exit statuses, codes and output for real documents and bad usage. */

import { readFileSync } from 'node:fs'
import t from 'tap'
import { runCli } from '../../../scripts/cli/run-cli.js'
import { toBase64 } from '../../../shared/bytes/bytes.js'
import { createTestPki, forgeDocument } from '../../fakes/test-pki.js'
import { createRecordingIo } from '../../fakes/fake-cli-io.js'
import { nitroManifest, VECTORS_DIR, vectorBytes } from '../../helpers/shared-vectors.js'

const NITRO = `${VECTORS_DIR}/nitro`
const entry = (file: string) => {
  const found = nitroManifest().find((item) => item.file === file)
  if (found === undefined) throw new Error(`${file} is not in the manifest`)
  return found
}
const anjuna2 = entry('anjuna-2.cose')
const pcr0 = anjuna2.pcrs?.['0'] ?? ''

async function verify(args: string[], files?: Record<string, Uint8Array | string>) {
  const io = createRecordingIo(files === undefined ? {} : { files })
  const status = await runCli(['attest', 'verify', ...args], io)
  return { status, out: io.out(), err: io.err() }
}

t.test('a real document verifies at its own timestamp', async (t) => {
  const result = await verify([`${NITRO}/anjuna-2.cose`, '--at', 'document'])
  t.equal(result.status, 0)
  t.equal(
    result.out,
    [
      'valid: authentic Nitro attestation document; policy satisfied',
      '  module_id  i-0a6d65e7122308898-enc017846bcd2f820da',
      '  timestamp  2021-03-24T16:10:41.734Z',
      '  debug      no',
      `  PCR0       ${pcr0}`,
      `  PCR1       ${anjuna2.pcrs?.['1'] ?? ''}`,
      `  PCR2       ${anjuna2.pcrs?.['2'] ?? ''}`,
      '',
    ].join('\n'),
  )
  t.equal(result.err, '')
})

t.test('--json prints every field as hex', async (t) => {
  const result = await verify([`${NITRO}/anjuna-2.cose`, '--at', 'document', '--json'])
  t.equal(result.status, 0)
  const json = JSON.parse(result.out) as Record<string, unknown>
  t.same(Object.keys(json), [
    'valid',
    'moduleId',
    'timestamp',
    'digest',
    'debug',
    'pcrs',
    'publicKey',
    'userData',
    'nonce',
  ])
  t.equal(json.valid, true)
  t.equal(json.moduleId, anjuna2.module_id)
  t.equal(json.timestamp, anjuna2.at)
  t.equal(json.digest, 'SHA384')
  t.equal(json.debug, false)
  t.same(json.pcrs, anjuna2.pcrs)
  t.equal((json.publicKey as string).length, 2 * 294)
  t.equal(json.userData, null)
  t.equal(json.nonce, null)
})

t.test('debug documents are refused unless --allow-debug', async (t) => {
  const refused = await verify([`${NITRO}/anjuna-4.cose`, '--at', 'document'])
  t.equal(refused.status, 1)
  t.match(refused.out, /^rejected: ERR_ATTESTATION_DEBUG: /)
  t.match(refused.out, /debug {6}yes \(PCR0-2 are zero\)/)
  const json = await verify([`${NITRO}/anjuna-4.cose`, '--at', 'document', '--json'])
  t.equal(json.status, 1)
  t.match(JSON.parse(json.out), { valid: false, code: /^ERR_ATTESTATION_DEBUG$/, debug: true })
  const allowed = await verify([`${NITRO}/anjuna-4.cose`, '--at', 'document', '--allow-debug'])
  t.equal(allowed.status, 0)
})

t.test('policy options: PCRs, nonce and maximum age', async (t) => {
  const doc = `${NITRO}/anjuna-2.cose`
  t.equal((await verify([doc, '--at', 'document', '--pcr', `0=${pcr0}`])).status, 0)
  t.equal(
    (await verify([doc, '--at', 'document', '--pcr', `0=${pcr0.toUpperCase()}`])).status,
    0,
    'hex is case-insensitive',
  )
  const mismatch = await verify([doc, '--at', 'document', '--pcr', `0=${'00'.repeat(48)}`])
  t.equal(mismatch.status, 1)
  t.match(mismatch.out, /^rejected: ERR_ATTESTATION_PCR_MISMATCH/)
  const debugDoc = `${NITRO}/anjuna-4.cose`
  const nonce = Buffer.from('Nonce\n').toString('hex') // anjuna-4 is a debug document with this nonce
  t.equal(
    (await verify([debugDoc, '--at', 'document', '--allow-debug', '--nonce', nonce])).status,
    0,
  )
  const wrongNonce = await verify([debugDoc, '--at', 'document', '--allow-debug', '--nonce', '00'])
  t.match(wrongNonce.out, /^rejected: ERR_ATTESTATION_NONCE_MISMATCH/)
  const later = String(anjuna2.at + 61_000)
  t.equal((await verify([doc, '--at', later, '--max-age', '61'])).status, 0)
  const stale = await verify([doc, '--at', later, '--max-age', '60'])
  t.match(stale.out, /^rejected: ERR_ATTESTATION_STALE/)
  const iso = new Date(anjuna2.at).toISOString()
  t.equal((await verify([doc, '--at', iso])).status, 0)
})

t.test('without --at the system clock applies, and every real document has expired', async (t) => {
  const result = await verify([`${NITRO}/anjuna-2.cose`])
  t.equal(result.status, 1)
  t.equal(
    result.out,
    'rejected: ERR_ATTESTATION_CERT_EXPIRED: A certificate in the attestation chain has expired at the verification instant.\n',
  )
})

t.test('hex, base64, base64url and standard input are accepted', async (t) => {
  const bytes = vectorBytes('nitro/anjuna-2.cose')
  const base64 = toBase64(bytes)
  const files = {
    hex: `${Buffer.from(bytes).toString('hex')}\n`,
    base64: `${base64.replace(/(.{76})/g, '$1\n')}\n`,
    base64url: Buffer.from(bytes).toString('base64url'),
    '-': bytes,
  }
  for (const name of Object.keys(files)) {
    t.equal((await verify([name, '--at', 'document'], files)).status, 0, name)
  }
})

t.test('malformed and oversized input is rejected with its code', async (t) => {
  // Printable text that is neither hex nor base64 is taken raw: 'n' (0x6e) opens a 14-byte string.
  const garbage = await verify(['garbage', '--at', 'document', '--json'], { garbage: 'not a doc!' })
  t.equal(garbage.status, 1)
  t.same(JSON.parse(garbage.out), { valid: false, code: 'ERR_CBOR_TRUNCATED' })
  const text = await verify(['text', '--at', 'document', '--json'], { text: 'a0' })
  t.same(JSON.parse(text.out), { valid: false, code: 'ERR_COSE_MALFORMED' })
  const truncated = await verify([`${NITRO}/base-invalid-truncated-cbor.cose`, '--at', '0'])
  t.equal(truncated.status, 1)
  t.match(truncated.out, /^rejected: ERR_CBOR_MALFORMED/)
  const huge = await verify(['huge'], { huge: new Uint8Array(3 * 65536 + 1) })
  t.equal(huge.status, 1)
  t.match(huge.out, /^rejected: ERR_ATTESTATION_TOO_LARGE/)
})

t.test('--root pins another root', async (t) => {
  const pki = await createTestPki()
  const files = { 'root.pem': pki.root.pem, 'doc.cose': forgeDocument({ pki }) }
  t.equal((await verify(['doc.cose', '--root', 'root.pem', '--at', 'document'], files)).status, 0)
  // A debug document without PCR0-2: the verdict names it, and no PCR line is printed.
  const sparse = forgeDocument({
    pki,
    fields: { pcrs: new Map([[4, new Uint8Array(48).fill(4)]]) },
  })
  const debug = await verify(['sparse', '--root', 'root.pem', '--at', 'document'], {
    ...files,
    sparse,
  })
  t.equal(debug.status, 1)
  t.equal(
    debug.out,
    [
      'rejected: ERR_ATTESTATION_DEBUG: The enclave runs in debug mode (PCR0-2 are zero) and the policy refuses it.',
      '  module_id  i-0123456789abcdef0-enc0123456789abcdef',
      '  timestamp  2026-01-01T00:00:00.000Z',
      '  debug      yes (PCR0-2 are zero)',
      '',
    ].join('\n'),
  )
  // A PEM bundle pins every certificate in it.
  const bundle = `${pki.root.pem}\n${readFileSync(`${NITRO}/aws-nitro-root-g1.pem`, 'utf8')}`
  const both = {
    ...files,
    'bundle.pem': bundle,
    'huge.pem': 'x'.repeat(64 * 1024 + 1),
    'fake.pem': '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n',
  }
  t.equal((await verify(['doc.cose', '--root', 'bundle.pem', '--at', 'document'], both)).status, 0)
  const real = await verify(
    [`${NITRO}/anjuna-2.cose`, '--root', 'bundle.pem', '--at', 'document'],
    both,
  )
  t.equal(real.status, 0)
  t.equal((await verify(['doc.cose', '--root', 'huge.pem'], both)).status, 2)
  const fake = await verify(['doc.cose', '--root', 'fake.pem'], both)
  t.equal(fake.status, 2)
  t.match(fake.err, /--root takes a PEM certificate file/)
  const untrusted = await verify(['doc.cose', '--at', 'document'], files)
  t.match(untrusted.out, /^rejected: ERR_ATTESTATION_UNTRUSTED_ROOT/)
  const aws = await verify([
    `${NITRO}/anjuna-2.cose`,
    '--root',
    `${NITRO}/aws-nitro-root-g1.pem`,
    '--at',
    'document',
  ])
  t.equal(aws.status, 0)
})

t.test('usage errors exit 2 with a message and the usage', async (t) => {
  const doc = `${NITRO}/anjuna-2.cose`
  const cases: Record<string, string[]> = {
    'no file': [],
    'two files': [doc, doc],
    'unknown option': [doc, '--frobnicate'],
    'missing value': [doc, '--at'],
    'bad --at': [doc, '--at', 'yesterday'],
    'bad --pcr index': [doc, '--pcr', `32=${pcr0}`],
    'bad --pcr value': [doc, '--pcr', '0=abcd'],
    'bad --pcr shape': [doc, '--pcr', pcr0],
    'repeated --pcr': [doc, '--pcr', `0=${pcr0}`, '--pcr', `0=${pcr0}`],
    'bad --max-age': [doc, '--max-age', 'soon'],
    'empty --max-age': [doc, '--max-age', ''],
    'negative --max-age': [doc, '--max-age=-1'],
    'dash value': [doc, '--max-age', '-1'],
    'bad --nonce': [doc, '--nonce', 'xyz'],
    'missing file': ['/nonexistent/doc.cose'],
    'missing root': [doc, '--root', '/nonexistent/root.pem'],
    'root not a certificate': [doc, '--root', `${NITRO}/anjuna-2.cose`],
    'root not PEM text': [doc, '--root', `${NITRO}/manifest.json`],
    'max-age at the document instant': [doc, '--at', 'document', '--max-age', '60'],
  }
  for (const [name, args] of Object.entries(cases)) {
    const result = await verify(args)
    t.equal(result.status, 2, name)
    t.equal(result.out, '', `${name}: nothing on stdout`)
    t.match(result.err, /^cloister attest verify: [^]+\n\nUsage: cloister attest verify/, name)
  }
  t.match(
    (await verify(['/nonexistent/doc.cose'])).err,
    /cannot read \/nonexistent\/doc.cose: ENOENT/,
  )
})

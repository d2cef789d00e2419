/** `cloister attest inspect`: the dump of a real document and of broken ones. */

import t from 'tap'
import { printable, printableJson } from '../../../scripts/cli/printable.js'
import { runCli } from '../../../scripts/cli/run-cli.js'
import { createTestPki, forgeDocument } from '../../fakes/test-pki.js'
import { createRecordingIo } from '../../fakes/fake-cli-io.js'
import { nitroManifest, VECTORS_DIR } from '../../helpers/shared-vectors.js'

async function inspect(args: string[], files?: Record<string, Uint8Array | string>) {
  const io = createRecordingIo(files === undefined ? {} : { files })
  const status = await runCli(['attest', 'inspect', ...args], io)
  return { status, out: io.out(), err: io.err() }
}

t.test('a real document is dumped field by field, marked as not verified', async (t) => {
  const entry = nitroManifest().find((item) => item.file === 'anjuna-4.cose')
  const result = await inspect([`${VECTORS_DIR}/nitro/anjuna-4.cose`])
  t.equal(result.status, 0)
  const lines = result.out.split('\n')
  t.equal(
    lines[0],
    'NOT VERIFIED: this is what the document claims; run "cloister attest verify" to check it.',
  )
  t.equal(lines[1], 'COSE_Sign1   untagged, ES384, signature 96 bytes')
  t.equal(lines[2], 'module_id    i-0e4fe5de7ee5abe78-enc018d3cadd7d66279')
  t.equal(lines[3], 'digest       SHA384')
  t.equal(lines[4], 'timestamp    1706120065635 (2024-01-24T18:14:25.635Z)')
  t.equal(lines[5], 'debug        yes (PCR0-2 are zero)')
  t.equal(lines[6], `PCR0         ${entry?.pcrs?.['0'] ?? ''}`)
  t.equal(lines[16], `PCR10        ${entry?.pcrs?.['10'] ?? ''}`)
  t.match(lines[22], /^public_key {3}294 bytes 30820122/)
  t.equal(lines[23], 'user_data    13 bytes 48656c6c6f20576f726c64210a')
  t.equal(lines[24], 'nonce        6 bytes 4e6f6e63650a')
  t.equal(lines[25], 'certificates (root first):')
  t.equal(
    lines[26],
    '  cabundle[0]  sha256 641a0321a3e244efe456463195d606317ed7cdcc3c1756e09893f3c68f79bb5b',
  )
  t.equal(lines[27], '    subject  C=US, O=Amazon, OU=AWS, CN=aws.nitro-enclaves')
  t.equal(lines[29], '    valid    Oct 28 13:28:05 2019 GMT to Oct 28 14:28:05 2049 GMT')
  t.match(result.out, /\n {2}certificate {2}sha256 [0-9a-f]{64}\n/)
  t.equal(result.err, '')
})

t.test('a tagged document and a document with an unparseable certificate still dump', async (t) => {
  const tagged = await inspect([`${VECTORS_DIR}/nitro/derived-valid-tagged18-anjuna-1.cose`])
  t.match(tagged.out, /COSE_Sign1 {3}tag 18, ES384/)
  const pki = await createTestPki()
  const broken = forgeDocument({ pki, fields: { certificate: new Uint8Array([0x30, 0x00]) } })
  const result = await inspect(['broken'], { broken })
  t.equal(result.status, 0)
  t.match(
    result.out,
    /\n {2}certificate {2}sha256 [0-9a-f]{64}\n {4}\(not a parseable certificate\)\n/,
  )
})

t.test('undecodable documents exit 1 with their code; bad usage exits 2', async (t) => {
  const result = await inspect([`${VECTORS_DIR}/nitro/brave-core-invalid-array3.cose`])
  t.equal(result.status, 1)
  t.equal(result.out, 'malformed: ERR_COSE_MALFORMED: The COSE_Sign1 structure is malformed.\n')
  t.equal((await inspect([])).status, 2)
  t.equal((await inspect(['a', 'b'])).status, 2)
  t.equal((await inspect(['a', '--json'])).status, 2)
})

t.test(
  'control characters in untrusted text are escaped before they reach a terminal',
  async (t) => {
    t.equal(printable('i-0\u001b[2J\u0007ok\u202e\u009b'), 'i-0\\u{1b}[2J\\u{7}ok\\u{202e}\\u{9b}')
    t.equal(printable('plain text, é ü'), 'plain text, é ü')
    t.equal(printable('a\u200eb\u2028c\u061c'), 'a\\u{200e}b\\u{2028}c\\u{61c}')
    const json = printableJson(JSON.stringify({ id: 'x\u009b2J\u202e' }))
    t.equal(json, '{"id":"x\\u009b2J\\u202e"}')
    t.same(JSON.parse(json), { id: 'x\u009b2J\u202e' }, 'the same JSON value')
    const pki = await createTestPki()
    const document = forgeDocument({ pki, fields: { module_id: 'i-0\u001b]0;pwned\u0007' } })
    const inspected = await inspect(['doc'], { doc: document })
    t.match(inspected.out, /\nmodule_id {4}i-0\\u\{1b\}\]0;pwned\\u\{7\}\n/)
    t.notOk(inspected.out.includes('\u001b'))
    const io = createRecordingIo({ files: { doc: document, 'root.pem': pki.root.pem } })
    t.equal(
      await runCli(['attest', 'verify', 'doc', '--root', 'root.pem', '--at', 'document'], io),
      0,
    )
    t.notOk(io.out().includes('\u001b'))
    t.match(io.out(), /module_id {2}i-0\\u\{1b\}/)
  },
)

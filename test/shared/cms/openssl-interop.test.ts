/** OpenSSL opens what createEnvelopedData writes, and openEnvelopedData opens what OpenSSL writes. */

import { execFileSync, spawnSync } from 'node:child_process'
import { createPrivateKey, createPublicKey } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t, { type Test } from 'tap'
import { asBytes, toHex } from '../../../shared/bytes/bytes.js'
import { createEnvelopedData } from '../../../shared/cms/create-enveloped-data.js'
import { openEnvelopedData } from '../../../shared/cms/open-enveloped-data.js'
import { readBer } from '../../../shared/cms/read-ber.js'
import { readEnvelopedData } from '../../../shared/cms/read-enveloped-data.js'
import { caughtCode } from '../../helpers/caught-code.js'
import { hexBytes } from '../../helpers/hex-bytes.js'

const HAS_OPENSSL = spawnSync('openssl', ['version']).status === 0
const skip = HAS_OPENSSL ? false : 'the openssl command is not on PATH: interoperability unproven'

const SIZES = [0, 1, 15, 16, 17, 4112, 100 * 1024]

/** Every byte value, CR and LF included, so any text-mode translation would show. */
function patterned(length: number): Uint8Array {
  return Uint8Array.from({ length }, (_, index) => (index * 7 + 3) % 256)
}

/**
 * Runs `openssl` with the words of the template as arguments; each interpolated value (a path, or
 * a list of options) stays whole. Returns standard output; a failure throws with standard error.
 */
function openssl(
  words: TemplateStringsArray,
  ...values: (string | readonly string[])[]
): Uint8Array {
  const args: string[] = []
  words.forEach((text, index) => {
    args.push(...text.split(/\s+/).filter((word) => word !== ''))
    args.push(...[values[index] ?? []].flat())
  })
  return asBytes(execFileSync('openssl', args, { stdio: ['ignore', 'pipe', 'pipe'] }))
}

interface Recipient {
  readonly dir: string
  readonly keyPem: string
  readonly certPem: string
}

/** A temporary directory with an RSA-2048 key and a self-signed certificate made by OpenSSL. */
function opensslRecipient(t: Test): Recipient {
  const dir = mkdtempSync(join(tmpdir(), 'cloister-cms-'))
  t.teardown(() => {
    rmSync(dir, { recursive: true, force: true })
  })
  const keyPem = join(dir, 'key.pem')
  const certPem = join(dir, 'cert.pem')
  // -addext states the subjectKeyIdentifier that -keyid needs rather than trust openssl.cnf.
  const printed = openssl`req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=cloister-cms-test
    -addext subjectKeyIdentifier=hash -keyout ${keyPem} -out ${certPem}`
  t.equal(printed.byteLength, 0, 'openssl req writes the key and certificate to files')
  return { dir, keyPem, certPem }
}

/** The certificate's subjectKeyIdentifier, which `-keyid` puts in the rid (SHA-1 of the key). */
function subjectKeyIdOf(certPem: string): Uint8Array {
  const text = new TextDecoder().decode(
    openssl`x509 -in ${certPem} -noout -ext subjectKeyIdentifier`,
  )
  const hex = /Subject Key Identifier:\s+([0-9A-F:]+)/.exec(text)?.[1]
  if (hex === undefined) throw new Error(`no subjectKeyIdentifier in: ${text}`)
  return hexBytes(hex.replaceAll(':', ''))
}

/**
 * `openssl cms -encrypt` with the parameters AWS uses: RSAES-OAEP, SHA-256, MGF1-SHA-256 and
 * AES-256-CBC. Each -keyopt applies to the -recip before it.
 */
function encryptAsKms(certPem: string, options: readonly string[]): Uint8Array {
  return openssl`cms -encrypt -binary -aes256 -recip ${certPem} -keyopt rsa_padding_mode:oaep
    -keyopt rsa_oaep_md:sha256 -keyopt rsa_mgf1_md:sha256 -outform DER ${options}`
}

t.test('openssl cms -decrypt prints exactly what createEnvelopedData encrypted', { skip }, (t) => {
  const { dir, keyPem, certPem } = opensslRecipient(t)
  const recipientPublicKey = createPublicKey(createPrivateKey(readFileSync(keyPem)))
  const file = join(dir, 'created.ber')
  for (const length of SIZES) {
    const plaintext = patterned(length)
    writeFileSync(file, createEnvelopedData({ plaintext, recipientPublicKey }))
    const printed = openssl`cms -decrypt -inform DER -inkey ${keyPem} -in ${file}`
    t.equal(toHex(printed), toHex(plaintext), `${length} bytes`)
  }
  // With -recip, OpenSSL picks the recipient whose rid is the certificate's subjectKeyIdentifier.
  const plaintext = patterned(33)
  const recipientKeyId = subjectKeyIdOf(certPem)
  writeFileSync(file, createEnvelopedData({ plaintext, recipientPublicKey, recipientKeyId }))
  const printed = openssl`cms -decrypt -inform DER -recip ${certPem} -inkey ${keyPem} -in ${file}`
  t.equal(toHex(printed), toHex(plaintext), 'found by its rid')
  t.end()
})

t.test('openEnvelopedData opens what openssl cms -encrypt -keyid -stream writes', { skip }, (t) => {
  const { dir, keyPem, certPem } = opensslRecipient(t)
  const privateKey = createPrivateKey(readFileSync(keyPem))
  const keyId = subjectKeyIdOf(certPem)
  const input = join(dir, 'plain.bin')
  for (const length of SIZES) {
    const plaintext = patterned(length)
    writeFileSync(input, plaintext)
    const envelope = encryptAsKms(certPem, ['-keyid', '-stream', '-in', input])
    // OpenSSL streams with indefinite lengths as AWS does, but omits sha256's NULL parameters and
    // names the key by the certificate's 20-byte subjectKeyIdentifier.
    t.equal(toHex(envelope.subarray(0, 2)), '3080', `${length}: indefinite ContentInfo`)
    t.equal(readEnvelopedData(envelope).recipientKeyId.byteLength, 20, `${length}: 20-byte rid`)
    const opened = openEnvelopedData(envelope, privateKey, keyId)
    t.equal(toHex(opened), toHex(plaintext), `${length} bytes`)
  }
  t.end()
})

t.test('openEnvelopedData opens OpenSSL output in definite lengths (no -stream)', { skip }, (t) => {
  const { dir, keyPem, certPem } = opensslRecipient(t)
  const input = join(dir, 'plain.bin')
  const plaintext = patterned(3000)
  writeFileSync(input, plaintext)
  const envelope = encryptAsKms(certPem, ['-keyid', '-in', input])
  t.equal(readBer(envelope).indefinite, false)
  const opened = openEnvelopedData(envelope, createPrivateKey(readFileSync(keyPem)))
  t.equal(toHex(opened), toHex(plaintext))
  t.end()
})

t.test('OpenSSL envelopes of other shapes are ERR_CMS_UNSUPPORTED', { skip }, (t) => {
  const { dir, certPem } = opensslRecipient(t)
  const input = join(dir, 'plain.bin')
  writeFileSync(input, patterned(20))
  const oaep = ['-keyopt', 'rsa_padding_mode:oaep']
  const sha256 = ['-keyopt', 'rsa_oaep_md:sha256']
  const encrypt = (cipher: string, options: readonly string[]): Uint8Array =>
    openssl`cms -encrypt -binary -outform DER ${cipher} -in ${input} -recip ${certPem} ${options}`
  const refused = [
    ['an issuerAndSerialNumber rid (no -keyid)', encrypt('-aes256', [...oaep, ...sha256])],
    ['RSAES-PKCS1-v1_5', encrypt('-aes256', ['-keyid'])],
    ['RSAES-OAEP with SHA-1', encrypt('-aes256', ['-keyid', ...oaep])],
    ['AES-128-CBC', encrypt('-aes128', ['-keyid', ...oaep, ...sha256])],
    ['AES-256-GCM (AuthEnvelopedData)', encrypt('-aes-256-gcm', ['-keyid', ...oaep, ...sha256])],
  ] as const
  for (const [why, envelope] of refused) {
    t.equal(
      caughtCode(() => readEnvelopedData(envelope)),
      'ERR_CMS_UNSUPPORTED',
      why,
    )
  }
  t.end()
})

/** KMS state: created once with owner-only secrets, reopened as is, refused when inconsistent. */

import { statSync, mkdtempSync, writeFileSync, readFileSync } from 'node:fs'
import { X509Certificate } from 'node:crypto'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { openKmsState } from '../../../../parent/kms/state/kms-state.js'

const NOW = Date.UTC(2026, 10, 27)

t.test(
  'first use creates the keys, credentials and a TLS certificate signed by the dev CA',
  async (t) => {
    const directory = mkdtempSync(join(tmpdir(), 'cloister-kms-state-'))
    const state = await openKmsState(directory, NOW)
    t.equal(state.masterKey.byteLength, 32)
    t.match(state.accessKeyId, /^AKIACLOISTER[0-9A-F]{8}$/)
    t.equal(
      readFileSync(state.credentialsPath, 'utf8'),
      `[cloister]\naws_access_key_id = ${state.accessKeyId}\naws_secret_access_key = ${state.secretAccessKey}\n`,
    )
    t.equal(state.caPath, join(directory, 'ca.pem'))
    const ca = new X509Certificate(state.caPem)
    const tls = new X509Certificate(state.tlsCertificatePem)
    t.ok(tls.verify(ca.publicKey), 'signed by the dev CA')
    t.ok(tls.checkHost('localhost'))
    t.ok(tls.checkIP('127.0.0.1'))
    t.notMatch(`${ca.subject} ${tls.subject}`, /aws|amazon/i)
    for (const name of ['master.key', 'credentials', 'ca.key.pem', 'tls.key.pem']) {
      t.equal(statSync(join(directory, 'kms', name)).mode & 0o777, 0o600, name)
    }
    t.equal(statSync(join(directory, 'kms')).mode & 0o777, 0o700)
    t.same(await openKmsState(directory, NOW), state, 'reopened unchanged')
  },
)

t.test('unreadable or inconsistent state is ERR_KMS_STATE', async (t) => {
  const directory = mkdtempSync(join(tmpdir(), 'cloister-kms-state-'))
  await openKmsState(directory, NOW)
  writeFileSync(join(directory, 'kms', 'credentials'), 'garbage')
  await t.rejects(openKmsState(directory, NOW), { code: /^ERR_KMS_STATE$/ })
  const other = mkdtempSync(join(tmpdir(), 'cloister-kms-state-'))
  await openKmsState(other, NOW)
  writeFileSync(join(other, 'kms', 'master.key'), 'c2hvcnQ=')
  await t.rejects(openKmsState(other, NOW), { code: /^ERR_KMS_STATE$/ })
  const broken = mkdtempSync(join(tmpdir(), 'cloister-kms-state-'))
  await openKmsState(broken, NOW)
  const { rmSync, mkdirSync } = await import('node:fs')
  rmSync(join(broken, 'kms', 'master.key'))
  mkdirSync(join(broken, 'kms', 'master.key'))
  await t.rejects(openKmsState(broken, NOW), { code: /^ERR_KMS_STATE$/ })
})

/** The KMS store: sealed material, rotation, state, aliases, and an audit log that cannot be rewritten. */

import { randomBytes } from 'node:crypto'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import t from 'tap'
import { openKmsStore } from '../../../../parent/kms/store/kms-store.js'
import { caughtCode } from '../../../helpers/caught-code.js'

const masterKey = new Uint8Array(randomBytes(32))
const path = () => join(mkdtempSync(join(tmpdir(), 'cloister-kms-store-')), 'kms.db')
const key = (keyId: string) => ({
  keyId,
  arn: `arn:aws:kms:us-east-1:111122223333:key/${keyId}`,
  createdMs: 1000,
  description: 'test key',
  policy: '{"Version":"2012-10-17","Statement":[]}',
  rotationEnabled: false,
})

t.test('keys, material versions, state, policy and aliases persist across reopening', (t) => {
  const file = path()
  const store = openKmsStore(file, masterKey)
  const first = new Uint8Array(randomBytes(32))
  store.createKey(key('k1'), first)
  t.same(store.getKey('k1'), {
    ...key('k1'),
    state: 'Enabled',
    deletionMs: null,
    currentVersion: 1,
  })
  t.equal(store.getKey('nope'), undefined)
  const second = new Uint8Array(randomBytes(32))
  t.equal(store.rotate('k1', second, 2000), 2)
  store.setState('k1', 'PendingDeletion', 99_000)
  store.setPolicy('k1', '{"x":1}')
  store.setRotation('k1', true)
  store.createAlias('alias/one', 'k1', 3000)
  store.appendAudit({
    atMs: 1,
    caller: 'c',
    operation: 'CreateKey',
    keyId: 'k1',
    decision: 'allowed',
    detail: {},
  })
  store.close()

  const again = openKmsStore(file, masterKey)
  t.same(again.material('k1', 1), first)
  t.same(again.material('k1', 2), second)
  t.equal(again.material('k1', 3), undefined)
  t.match(again.getKey('k1'), {
    state: 'PendingDeletion',
    deletionMs: 99_000,
    policy: '{"x":1}',
    rotationEnabled: true,
    currentVersion: 2,
  })
  t.equal(again.resolveAlias('alias/one'), 'k1')
  t.equal(again.resolveAlias('alias/none'), undefined)
  t.same(again.listAliases(), [{ name: 'alias/one', keyId: 'k1', createdMs: 3000 }])
  t.same(
    again.listKeys().map((record) => record.keyId),
    ['k1'],
  )
  t.same(again.readAudit(), [
    { atMs: 1, caller: 'c', operation: 'CreateKey', keyId: 'k1', decision: 'allowed', detail: {} },
  ])
  again.setRotation('k1', false)
  again.createKey({ ...key('k2'), rotationEnabled: true }, new Uint8Array(32))
  t.equal(again.getKey('k1')?.rotationEnabled, false)
  t.equal(again.getKey('k2')?.rotationEnabled, true)
  again.close()
  t.end()
})

t.test('material sealed under another master key, or moved to another row, does not open', (t) => {
  const file = path()
  const store = openKmsStore(file, masterKey)
  store.createKey(key('a'), new Uint8Array(32).fill(1))
  store.createKey(key('b'), new Uint8Array(32).fill(2))
  store.close()
  const stranger = openKmsStore(file, new Uint8Array(randomBytes(32)))
  t.equal(
    caughtCode(() => stranger.material('a', 1)),
    'ERR_KMS_STATE',
  )
  stranger.close()
  const raw = new Database(file)
  raw
    .prepare(
      "UPDATE key_material SET sealed = (SELECT sealed FROM key_material WHERE key_id = 'b') WHERE key_id = 'a'",
    )
    .run()
  raw.close()
  const swapped = openKmsStore(file, masterKey)
  t.equal(
    caughtCode(() => swapped.material('a', 1)),
    'ERR_KMS_STATE',
    'the key id is in the AAD',
  )
  swapped.close()
  t.end()
})

t.test('the audit log is append-only, even through SQL', (t) => {
  const file = path()
  const store = openKmsStore(file, masterKey)
  store.appendAudit({
    atMs: 5,
    caller: 'c',
    operation: 'Decrypt',
    keyId: null,
    decision: 'denied',
    detail: { code: 'x' },
  })
  store.close()
  const raw = new Database(file)
  t.throws(() => raw.prepare('UPDATE audit SET decision = ?').run('allowed'), /append-only/)
  t.throws(() => raw.prepare('DELETE FROM audit').run(), /append-only/)
  raw.close()
  t.end()
})

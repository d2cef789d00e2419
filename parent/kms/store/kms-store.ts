/** The local KMS's durable state in SQLite: keys, sealed key material, aliases and an append-only audit log. */

import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto'
import Database from 'better-sqlite3'
import { concatBytes } from '../../../shared/bytes/bytes.js'
import { CloisterError } from '../../../shared/errors/cloister-error.js'

export type KeyState = 'Enabled' | 'Disabled' | 'PendingDeletion'

/** One KMS key, as DescribeKey reports it. */
export interface KeyRecord {
  readonly keyId: string
  readonly arn: string
  readonly createdMs: number
  readonly description: string
  readonly state: KeyState
  readonly deletionMs: number | null
  readonly policy: string
  readonly rotationEnabled: boolean
  /** The key material version new ciphertexts use; older versions still decrypt. */
  readonly currentVersion: number
}

/** One audit record, as CloudTrail would keep it. */
export interface AuditRecord {
  readonly atMs: number
  readonly caller: string
  readonly operation: string
  readonly keyId: string | null
  readonly decision: 'allowed' | 'denied' | 'failed'
  /** Attested calls: the document's module id and PCRs; errors: the code. Never secrets. */
  readonly detail: Readonly<Record<string, unknown>>
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS keys (
  key_id TEXT PRIMARY KEY,
  arn TEXT NOT NULL UNIQUE,
  created_ms INTEGER NOT NULL,
  description TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('Enabled', 'Disabled', 'PendingDeletion')),
  deletion_ms INTEGER,
  policy TEXT NOT NULL,
  rotation_enabled INTEGER NOT NULL CHECK (rotation_enabled IN (0, 1)),
  current_version INTEGER NOT NULL CHECK (current_version >= 1)
);
CREATE TABLE IF NOT EXISTS key_material (
  key_id TEXT NOT NULL REFERENCES keys (key_id),
  version INTEGER NOT NULL,
  sealed BLOB NOT NULL,
  created_ms INTEGER NOT NULL,
  PRIMARY KEY (key_id, version)
);
CREATE TABLE IF NOT EXISTS aliases (
  name TEXT PRIMARY KEY,
  key_id TEXT NOT NULL REFERENCES keys (key_id),
  created_ms INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS audit (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  at_ms INTEGER NOT NULL,
  caller TEXT NOT NULL,
  operation TEXT NOT NULL,
  key_id TEXT,
  decision TEXT NOT NULL,
  detail TEXT NOT NULL
);
CREATE TRIGGER IF NOT EXISTS audit_no_update BEFORE UPDATE ON audit
  BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER IF NOT EXISTS audit_no_delete BEFORE DELETE ON audit
  BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
`

interface KeyRow {
  key_id: string
  arn: string
  created_ms: number
  description: string
  state: KeyState
  deletion_ms: number | null
  policy: string
  rotation_enabled: number
  current_version: number
}

const toRecord = (row: KeyRow): KeyRecord => ({
  keyId: row.key_id,
  arn: row.arn,
  createdMs: row.created_ms,
  description: row.description,
  state: row.state,
  deletionMs: row.deletion_ms,
  policy: row.policy,
  rotationEnabled: row.rotation_enabled === 1,
  currentVersion: row.current_version,
})

/** The store, opened on one SQLite file (WAL, synchronous FULL: an acknowledged write is durable). */
export interface KmsStore {
  createKey(
    key: Omit<KeyRecord, 'currentVersion' | 'deletionMs' | 'state'>,
    material: Uint8Array,
  ): void
  getKey(keyId: string): KeyRecord | undefined
  listKeys(): KeyRecord[]
  /** The key material of `version`, unsealed with the master key. */
  material(keyId: string, version: number): Uint8Array | undefined
  /** Adds a new material version and makes it current; returns its number. */
  rotate(keyId: string, material: Uint8Array, now: number): number
  setState(keyId: string, state: KeyState, deletionMs: number | null): void
  setPolicy(keyId: string, policy: string): void
  setRotation(keyId: string, enabled: boolean): void
  createAlias(name: string, keyId: string, now: number): void
  resolveAlias(name: string): string | undefined
  listAliases(): { name: string; keyId: string; createdMs: number }[]
  appendAudit(record: AuditRecord): void
  readAudit(): AuditRecord[]
  close(): void
}

const IV_BYTES = 12
const TAG_BYTES = 16

/**
 * Opens the store at `path`. Key material is sealed with AES-256-GCM under `masterKey`, with the
 * key id and version as AAD, so rows swapped on disk do not open.
 *
 * @throws {CloisterError} `ERR_KMS_STATE` when sealed material does not open under the master key.
 */
export function openKmsStore(path: string, masterKey: Uint8Array): KmsStore {
  const db = new Database(path)
  db.pragma('journal_mode = WAL')
  db.pragma('synchronous = FULL')
  db.pragma('foreign_keys = ON')
  db.exec(SCHEMA)

  const seal = (keyId: string, version: number, material: Uint8Array): Uint8Array => {
    const iv = randomBytes(IV_BYTES)
    const cipher = createCipheriv('aes-256-gcm', masterKey, iv)
    cipher.setAAD(Buffer.from(`${keyId}#${String(version)}`))
    const sealed = concatBytes([cipher.update(material), cipher.final()])
    return concatBytes([iv, cipher.getAuthTag(), sealed])
  }
  const unseal = (keyId: string, version: number, sealed: Uint8Array): Uint8Array => {
    try {
      const decipher = createDecipheriv('aes-256-gcm', masterKey, sealed.subarray(0, IV_BYTES))
      decipher.setAAD(Buffer.from(`${keyId}#${String(version)}`))
      decipher.setAuthTag(sealed.subarray(IV_BYTES, IV_BYTES + TAG_BYTES))
      return concatBytes([decipher.update(sealed.subarray(IV_BYTES + TAG_BYTES)), decipher.final()])
    } catch {
      throw new CloisterError('ERR_KMS_STATE')
    }
  }

  const insertKey = db.prepare(
    `INSERT INTO keys (key_id, arn, created_ms, description, state, deletion_ms, policy,
       rotation_enabled, current_version)
     VALUES (?, ?, ?, ?, 'Enabled', NULL, ?, ?, 1)`,
  )
  const insertMaterial = db.prepare(
    'INSERT INTO key_material (key_id, version, sealed, created_ms) VALUES (?, ?, ?, ?)',
  )
  const selectKey = db.prepare<[string], KeyRow>('SELECT * FROM keys WHERE key_id = ?')
  const selectKeys = db.prepare<[], KeyRow>('SELECT * FROM keys ORDER BY created_ms, key_id')
  const selectMaterial = db.prepare<[string, number], { sealed: Buffer }>(
    'SELECT sealed FROM key_material WHERE key_id = ? AND version = ?',
  )
  const appendAudit = db.prepare(
    `INSERT INTO audit (at_ms, caller, operation, key_id, decision, detail)
     VALUES (?, ?, ?, ?, ?, ?)`,
  )

  const createKey = db.transaction(
    (key: Omit<KeyRecord, 'currentVersion' | 'deletionMs' | 'state'>, material: Uint8Array) => {
      insertKey.run(
        key.keyId,
        key.arn,
        key.createdMs,
        key.description,
        key.policy,
        key.rotationEnabled ? 1 : 0,
      )
      insertMaterial.run(key.keyId, 1, seal(key.keyId, 1, material), key.createdMs)
    },
  )
  const rotate = db.transaction((keyId: string, material: Uint8Array, now: number) => {
    const row = selectKey.get(keyId) as KeyRow // callers rotate existing keys only
    const version = row.current_version + 1
    insertMaterial.run(keyId, version, seal(keyId, version, material), now)
    db.prepare('UPDATE keys SET current_version = ? WHERE key_id = ?').run(version, keyId)
    return version
  })

  return {
    createKey: (key, material) => {
      createKey(key, material)
    },
    getKey: (keyId) => {
      const row = selectKey.get(keyId)
      return row === undefined ? undefined : toRecord(row)
    },
    listKeys: () => selectKeys.all().map(toRecord),
    material: (keyId, version) => {
      const row = selectMaterial.get(keyId, version)
      return row === undefined ? undefined : unseal(keyId, version, new Uint8Array(row.sealed))
    },
    rotate: (keyId, material, now) => rotate(keyId, material, now),
    setState: (keyId, state, deletionMs) => {
      db.prepare('UPDATE keys SET state = ?, deletion_ms = ? WHERE key_id = ?').run(
        state,
        deletionMs,
        keyId,
      )
    },
    setPolicy: (keyId, policy) => {
      db.prepare('UPDATE keys SET policy = ? WHERE key_id = ?').run(policy, keyId)
    },
    setRotation: (keyId, enabled) => {
      db.prepare('UPDATE keys SET rotation_enabled = ? WHERE key_id = ?').run(
        enabled ? 1 : 0,
        keyId,
      )
    },
    createAlias: (name, keyId, now) => {
      db.prepare('INSERT INTO aliases (name, key_id, created_ms) VALUES (?, ?, ?)').run(
        name,
        keyId,
        now,
      )
    },
    resolveAlias: (name) =>
      db
        .prepare<[string], { key_id: string }>('SELECT key_id FROM aliases WHERE name = ?')
        .get(name)?.key_id,
    listAliases: () =>
      db
        .prepare<[], { name: string; key_id: string; created_ms: number }>(
          'SELECT name, key_id, created_ms FROM aliases ORDER BY name',
        )
        .all()
        .map((row) => ({ name: row.name, keyId: row.key_id, createdMs: row.created_ms })),
    appendAudit: (record) => {
      appendAudit.run(
        record.atMs,
        record.caller,
        record.operation,
        record.keyId,
        record.decision,
        JSON.stringify(record.detail),
      )
    },
    readAudit: () =>
      db
        .prepare<
          [],
          {
            at_ms: number
            caller: string
            operation: string
            key_id: string | null
            decision: AuditRecord['decision']
            detail: string
          }
        >('SELECT * FROM audit ORDER BY seq')
        .all()
        .map((row) => ({
          atMs: row.at_ms,
          caller: row.caller,
          operation: row.operation,
          keyId: row.key_id,
          decision: row.decision,
          detail: JSON.parse(row.detail) as Record<string, unknown>,
        })),
    close: () => {
      db.close()
    },
  }
}

/** What the parent keeps for the enclave's keys in SQLite: KMS ciphertext blobs, their metadata and the broker's audit log. */

import Database from 'better-sqlite3'
import type { ErrorCode } from '../../shared/errors/catalog.js'
import type { KeyPurpose } from '../../shared/keys/key-names.js'

/** `retired`: wiped in the enclave and never loaded again (the blob stays, for the record). */
export type StoredKeyState = 'pending' | 'active' | 'readable' | 'retired'

/** One key-ring version as stored: the parent cannot read the key, only keep its blob. */
export interface StoredRingKey {
  readonly tenant: string
  readonly purpose: KeyPurpose
  readonly version: number
  readonly state: StoredKeyState
  readonly ciphertextBlob: Uint8Array
}

/** One broker key as stored: its id, its encoded release policy and its blob. */
export interface StoredBrokerKey {
  readonly keyId: string
  readonly policy: Uint8Array
  readonly ciphertextBlob: Uint8Array
}

/** One broker decision the enclave reported (an `audit` event). */
export interface StoredReleaseRecord {
  readonly at: number
  readonly op: string
  readonly keyId: string
  readonly decision: string
  readonly code: ErrorCode | null
  readonly moduleId: string | null
  readonly pcr0: Uint8Array | null
  readonly format: string | null
}

export interface WrappedKeyStore {
  ringKeys(): readonly StoredRingKey[]
  /** Records a new pending version (before the enclave may use it). */
  addPending(key: Omit<StoredRingKey, 'state'>, createdMs: number): void
  /** The pending version becomes active and the active one readable, in one transaction. */
  activate(tenant: string, purpose: KeyPurpose, version: number): void
  retire(tenant: string, purpose: KeyPurpose, version: number): void
  /** Forgets pending versions: never activated, so nothing was protected with them. */
  dropPending(): number
  brokerKeys(): readonly StoredBrokerKey[]
  addBrokerKey(key: StoredBrokerKey, createdMs: number): void
  appendRelease(record: StoredReleaseRecord): void
  releases(): readonly StoredReleaseRecord[]
  close(): void
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS ring_keys (
  tenant TEXT NOT NULL,
  purpose TEXT NOT NULL,
  version INTEGER NOT NULL CHECK (version >= 1),
  state TEXT NOT NULL CHECK (state IN ('pending', 'active', 'readable', 'retired')),
  ciphertext_blob BLOB NOT NULL,
  created_ms INTEGER NOT NULL,
  PRIMARY KEY (tenant, purpose, version)
);
CREATE UNIQUE INDEX IF NOT EXISTS one_active_version ON ring_keys (tenant, purpose)
  WHERE state = 'active';
CREATE TABLE IF NOT EXISTS broker_keys (
  key_id TEXT PRIMARY KEY,
  policy BLOB NOT NULL,
  ciphertext_blob BLOB NOT NULL,
  created_ms INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS release_audit (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  at INTEGER NOT NULL,
  op TEXT NOT NULL,
  key_id TEXT NOT NULL,
  decision TEXT NOT NULL,
  code TEXT,
  module_id TEXT,
  pcr0 BLOB,
  format TEXT
);
CREATE TRIGGER IF NOT EXISTS release_audit_no_update BEFORE UPDATE ON release_audit
  BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER IF NOT EXISTS release_audit_no_delete BEFORE DELETE ON release_audit
  BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
`

interface RingRow {
  tenant: string
  purpose: KeyPurpose
  version: number
  state: StoredKeyState
  ciphertext_blob: Buffer
}

interface BrokerRow {
  key_id: string
  policy: Buffer
  ciphertext_blob: Buffer
}

interface ReleaseRow {
  at: number
  op: string
  key_id: string
  decision: string
  code: ErrorCode | null
  module_id: string | null
  pcr0: Buffer | null
  format: string | null
}

const bytes = (buffer: Buffer) => new Uint8Array(buffer)

/**
 * Opens (creating on first use) the store at `path`, in WAL mode with synchronous FULL: a write
 * that returned is on disk, so a blob is never acknowledged and then lost. SQLite enforces one
 * active version per tenant and purpose, and an append-only audit log.
 */
export function openWrappedKeyStore(path: string): WrappedKeyStore {
  const db = new Database(path)
  db.pragma('journal_mode = WAL')
  db.pragma('synchronous = FULL')
  db.exec(SCHEMA)
  const statements = {
    ring: db.prepare<[], RingRow>(
      'SELECT tenant, purpose, version, state, ciphertext_blob FROM ring_keys ORDER BY tenant, purpose, version',
    ),
    addPending: db.prepare("INSERT INTO ring_keys VALUES (?, ?, ?, 'pending', ?, ?)"),
    demote: db.prepare(
      "UPDATE ring_keys SET state = 'readable' WHERE tenant = ? AND purpose = ? AND state = 'active'",
    ),
    promote: db.prepare(
      "UPDATE ring_keys SET state = 'active' WHERE tenant = ? AND purpose = ? AND version = ? AND state = 'pending'",
    ),
    retire: db.prepare(
      "UPDATE ring_keys SET state = 'retired' WHERE tenant = ? AND purpose = ? AND version = ? AND state != 'active'",
    ),
    dropPending: db.prepare("DELETE FROM ring_keys WHERE state = 'pending'"),
    broker: db.prepare<[], BrokerRow>(
      'SELECT key_id, policy, ciphertext_blob FROM broker_keys ORDER BY key_id',
    ),
    addBroker: db.prepare('INSERT INTO broker_keys VALUES (?, ?, ?, ?)'),
    appendRelease: db.prepare(
      'INSERT INTO release_audit (at, op, key_id, decision, code, module_id, pcr0, format) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
    ),
    releases: db.prepare<[], ReleaseRow>(
      'SELECT at, op, key_id, decision, code, module_id, pcr0, format FROM release_audit ORDER BY seq',
    ),
  }
  const activate = db.transaction((tenant: string, purpose: KeyPurpose, version: number) => {
    statements.demote.run(tenant, purpose)
    if (statements.promote.run(tenant, purpose, version).changes !== 1) {
      throw new Error('no such pending version') // rolls the demotion back
    }
  })
  return {
    ringKeys: () =>
      statements.ring.all().map((row) => ({
        tenant: row.tenant,
        purpose: row.purpose,
        version: row.version,
        state: row.state,
        ciphertextBlob: bytes(row.ciphertext_blob),
      })),
    addPending(key, createdMs) {
      statements.addPending.run(
        key.tenant,
        key.purpose,
        key.version,
        Buffer.from(key.ciphertextBlob),
        createdMs,
      )
    },
    activate(tenant, purpose, version) {
      activate(tenant, purpose, version)
    },
    retire(tenant, purpose, version) {
      statements.retire.run(tenant, purpose, version)
    },
    dropPending: () => statements.dropPending.run().changes,
    brokerKeys: () =>
      statements.broker.all().map((row) => ({
        keyId: row.key_id,
        policy: bytes(row.policy),
        ciphertextBlob: bytes(row.ciphertext_blob),
      })),
    addBrokerKey(key, createdMs) {
      statements.addBroker.run(
        key.keyId,
        Buffer.from(key.policy),
        Buffer.from(key.ciphertextBlob),
        createdMs,
      )
    },
    appendRelease(record) {
      statements.appendRelease.run(
        record.at,
        record.op,
        record.keyId,
        record.decision,
        record.code,
        record.moduleId,
        record.pcr0 === null ? null : Buffer.from(record.pcr0),
        record.format,
      )
    },
    releases: () =>
      statements.releases.all().map((row) => ({
        at: row.at,
        op: row.op,
        keyId: row.key_id,
        decision: row.decision,
        code: row.code,
        moduleId: row.module_id,
        pcr0: row.pcr0 === null ? null : bytes(row.pcr0),
        format: row.format,
      })),
    close() {
      db.close()
    },
  }
}

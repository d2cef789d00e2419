/** loadKeyRing: only versions in use are loaded, and missing keys are made, stored, then activated. */

import { join } from 'node:path'
import t from 'tap'
import { loadKeyRing } from '../../../parent/keys/load-key-ring.js'
import { openWrappedKeyStore } from '../../../parent/keys/wrapped-key-store.js'
import type { OpName, OpRequest } from '../../../shared/protocol/ops.js'

t.test(
  'retired and pending versions are not loaded; missing purposes are rotated in',
  async (t) => {
    const store = openWrappedKeyStore(join(t.testdir(), 'keys.db'))
    t.teardown(() => {
      store.close()
    })
    const blob = (byte: number) => Uint8Array.of(byte)
    store.addPending({ tenant: 'acme', purpose: 'vault', version: 1, ciphertextBlob: blob(1) }, 1)
    store.activate('acme', 'vault', 1)
    store.addPending({ tenant: 'acme', purpose: 'vault', version: 2, ciphertextBlob: blob(2) }, 2)
    store.activate('acme', 'vault', 2)
    store.retire('acme', 'vault', 1)
    store.addPending({ tenant: 'acme', purpose: 'audit', version: 5, ciphertextBlob: blob(5) }, 3)
    const calls: [OpName, unknown][] = []
    const client = {
      call: <K extends OpName>(op: K, request: OpRequest<K>) => {
        calls.push([op, request])
        if (op === 'keys.load') return Promise.resolve({ loaded: 1 })
        if (op === 'keys.rotate') return Promise.resolve({ version: 1, ciphertextBlob: blob(9) })
        return Promise.resolve({})
      },
    } as Parameters<typeof loadKeyRing>[0]['client']
    const kms = { port: 1, accessKeyId: 'AKIA', secretAccessKey: 'secret' }
    const result = await loadKeyRing({ client, store, kms, tenants: ['acme'], clock: () => 7 })
    t.strictSame(result, { loaded: 1, created: 3 })
    t.strictSame(calls[0], [
      'keys.load',
      {
        kms,
        ring: [
          {
            tenant: 'acme',
            purpose: 'vault',
            version: 2,
            state: 'active',
            ciphertextBlob: blob(2),
          },
        ],
        broker: [],
      },
    ])
    t.strictSame(
      calls.slice(1).map(([op, request]) => [op, (request as { purpose: string }).purpose]),
      [
        ['keys.rotate', 'tokenization'],
        ['keys.activate', 'tokenization'],
        ['keys.rotate', 'fingerprint'],
        ['keys.activate', 'fingerprint'],
        ['keys.rotate', 'audit'],
        ['keys.activate', 'audit'],
      ],
    )
    t.strictSame(
      store.ringKeys().map(({ purpose, version, state }) => [purpose, version, state]),
      [
        ['audit', 1, 'active'],
        ['fingerprint', 1, 'active'],
        ['tokenization', 1, 'active'],
        ['vault', 1, 'retired'],
        ['vault', 2, 'active'],
      ],
    )
  },
)

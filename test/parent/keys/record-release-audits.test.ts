/** The parent's audit listener: enclave `audit` events become stored records; nothing else does. */

import t from 'tap'
import { recordReleaseAudits } from '../../../parent/keys/read-release-audit.js'
import type { StoredReleaseRecord } from '../../../parent/keys/wrapped-key-store.js'
import type { ErrorCode } from '../../../shared/errors/catalog.js'
import { encodeBody } from '../../../shared/protocol/ops.js'

t.test('audit events are stored, other events ignored, unreadable records reported', (t) => {
  const stored: StoredReleaseRecord[] = []
  const refused: ErrorCode[] = []
  const listener = recordReleaseAudits({ appendRelease: (record) => stored.push(record) }, (code) =>
    refused.push(code),
  )
  const body = encodeBody({
    at: 5,
    op: 'keys.create',
    keyId: `bk-${'0'.repeat(32)}`,
    decision: 'created',
  })
  listener({ kind: 'event', event: 'ready', body })
  listener({ kind: 'event', event: 'audit', body })
  listener({ kind: 'event', event: 'audit', body: encodeBody({ at: 'never' }) })
  t.strictSame(stored, [
    {
      at: 5,
      op: 'keys.create',
      keyId: `bk-${'0'.repeat(32)}`,
      decision: 'created',
      code: null,
      moduleId: null,
      pcr0: null,
      format: null,
    },
  ])
  t.strictSame(refused, ['ERR_PROTOCOL_BAD_RESPONSE'])
  // Without a listener for refusals, an unreadable record is still not stored and nothing throws.
  recordReleaseAudits(
    { appendRelease: (record) => stored.push(record) },
    undefined,
  )({
    kind: 'event',
    event: 'audit',
    body: encodeBody({}),
  })
  t.equal(stored.length, 1)
  t.end()
})

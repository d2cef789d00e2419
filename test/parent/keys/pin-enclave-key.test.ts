/** The enclave key's creation and pinning, against the local KMS. */

import t from 'tap'
import { ensureEnclaveKey, pinEnclaveKeyPolicy } from '../../../parent/keys/pin-enclave-key.js'
import { createLocalKmsClient } from '../../../parent/kms/local-kms-client.js'
import { LOCAL_ACCOUNT_ID } from '../../../parent/kms/open-local-kms.js'
import { measurementsOf, startLocalKmsHarness } from '../../fakes/local-kms-harness.js'

t.test('the key is created once, and its policy rewritten only for new measurements', async (t) => {
  const harness = await startLocalKmsHarness()
  t.teardown(() => harness.close())
  t.equal(await ensureEnclaveKey(harness.admin), harness.configuration.keyArn)
  const { keyArn } = harness.configuration
  t.equal(
    await pinEnclaveKeyPolicy(harness.admin, keyArn, LOCAL_ACCOUNT_ID, harness.measurements),
    false,
  )
  t.equal(
    await pinEnclaveKeyPolicy(harness.admin, keyArn, LOCAL_ACCOUNT_ID, measurementsOf(0x20)),
    true,
  )
  // Any failure but "not found" is not a reason to create a key: here, no KMS on port 1.
  const unreachable = createLocalKmsClient(harness.state, 1)
  t.teardown(() => {
    unreachable.destroy()
  })
  await t.rejects(ensureEnclaveKey(unreachable), { code: 'ECONNREFUSED' })
})

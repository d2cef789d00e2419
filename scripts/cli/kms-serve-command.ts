/** `cloister kms serve`: the local KMS on HTTPS, speaking the AWS KMS JSON protocol. */

import { randomBytes } from 'node:crypto'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { accountDefaultKeyPolicy } from '../../parent/kms/policy/account-default-key-policy.js'
import { createKmsServer } from '../../parent/kms/server/kms-server.js'
import { openKmsState } from '../../parent/kms/state/kms-state.js'
import { openKmsStore } from '../../parent/kms/store/kms-store.js'
import { openSimPki } from '../../parent/sim/sim-pki.js'
import { AWS_NITRO_ROOT_G1_PEM } from '../../shared/attestation/aws-nitro-root-g1.js'
import { createCertificateCache } from '../../shared/attestation/certificate-cache.js'
import { trustRootCertificates } from '../../shared/attestation/trusted-roots.js'
import type { CliIo } from './cli-io.js'
import { stateDirectoryOf } from './state-options.js'
import { UsageError } from './usage-error.js'

export const KMS_SERVE_USAGE = `Usage: cloister kms serve [--port 4599] [--state DIR]

Serves the local KMS on https://localhost:PORT: the AWS KMS JSON 1.1 protocol, signed with SigV4,
so the stock AWS SDK and CLI work against it with only the endpoint and trust store changed:

  AWS_SHARED_CREDENTIALS_FILE=DIR/kms/credentials AWS_PROFILE=cloister \\
  NODE_EXTRA_CA_CERTS=DIR/ca.pem   (plus endpoint https://localhost:PORT, region us-east-1)

Keys, sealed key material and the audit log live in DIR/kms/ (default .cloister/). Runs until
interrupted.
`

/** The account the local KMS pretends to be: clearly not a real AWS account. */
export const LOCAL_ACCOUNT_ID = '000000000000'
const REGION = 'us-east-1'

/** Runs `kms serve` until the process is asked to stop. */
export async function runKmsServe(args: readonly string[], io: CliIo): Promise<number> {
  const { values } = parseArgs({
    args: [...args],
    options: { port: { type: 'string' }, state: { type: 'string' } },
    allowPositionals: false,
    strict: true,
  })
  const port = Number(values.port ?? '4599')
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new UsageError('--port takes a TCP port number')
  }
  const directory = stateDirectoryOf(values.state)
  const state = await openKmsState(directory, io.now())
  const store = openKmsStore(join(directory, 'kms', 'kms.db'), state.masterKey)
  // Attested Recipient documents may come from real Nitro hardware or from this host's simulation.
  const simulatedHost = await openSimPki(join(directory, 'sim'), io.now())
  const server = createKmsServer({
    context: {
      store,
      clock: io.now,
      random: (length) => new Uint8Array(randomBytes(length)),
      region: REGION,
      accountId: LOCAL_ACCOUNT_ID,
      defaultPolicy: accountDefaultKeyPolicy,
      recipients: {
        trustedRoots: trustRootCertificates([AWS_NITRO_ROOT_G1_PEM, simulatedHost.root.pem]),
        cache: createCertificateCache(),
      },
    },
    tls: { certificatePem: state.tlsCertificatePem, keyPem: state.tlsKeyPem },
    credentials: state,
  })
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve))
  const { port: bound } = server.address() as { port: number }
  io.stdout(
    [
      `local KMS listening on https://localhost:${String(bound)} (region ${REGION}, account ${LOCAL_ACCOUNT_ID})`,
      `  AWS_SHARED_CREDENTIALS_FILE=${state.credentialsPath}`,
      '  AWS_PROFILE=cloister',
      `  NODE_EXTRA_CA_CERTS=${state.caPath}`,
      '',
    ].join('\n'),
  )
  await io.waitForShutdown()
  await new Promise((resolve) => server.close(resolve))
  store.close()
  return 0
}

/** `cloister kms serve`: the local KMS on HTTPS, speaking the AWS KMS JSON protocol. */

import { parseArgs } from 'node:util'
import { LOCAL_ACCOUNT_ID, LOCAL_REGION, openLocalKms } from '../../parent/kms/open-local-kms.js'
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
  const { server, state, close } = await openLocalKms(directory, io.now)
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve))
  const { port: bound } = server.address() as { port: number }
  io.stdout(
    [
      `local KMS listening on https://localhost:${String(bound)} (region ${LOCAL_REGION}, account ${LOCAL_ACCOUNT_ID})`,
      `  AWS_SHARED_CREDENTIALS_FILE=${state.credentialsPath}`,
      '  AWS_PROFILE=cloister',
      `  NODE_EXTRA_CA_CERTS=${state.caPath}`,
      '',
    ].join('\n'),
  )
  await io.waitForShutdown()
  await new Promise((resolve) => server.close(resolve))
  close()
  return 0
}

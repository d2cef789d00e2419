/** `cloister kms serve`: a real HTTPS KMS that the stock AWS SDK uses with only endpoint and CA set. */

import { mkdtempSync } from 'node:fs'
import { Agent } from 'node:https'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { CreateKeyCommand, GetKeyPolicyCommand, KMSClient } from '@aws-sdk/client-kms'
import { NodeHttpHandler } from '@smithy/node-http-handler'
import { LOCAL_ACCOUNT_ID } from '../../../parent/kms/open-local-kms.js'
import { runCli } from '../../../scripts/cli/run-cli.js'
import { openKmsState } from '../../../parent/kms/state/kms-state.js'
import { createRecordingIo } from '../../fakes/fake-cli-io.js'

t.test('serves until shutdown and prints what AWS tooling needs', async (t) => {
  const directory = mkdtempSync(join(tmpdir(), 'cloister-kms-serve-'))
  let stop: () => void = () => undefined
  const shutdown = new Promise<void>((resolve) => {
    stop = resolve
  })
  const io = createRecordingIo({ now: Date.now(), shutdown })
  const running = runCli(['kms', 'serve', '--port', '0', '--state', directory], io)
  while (!io.out().includes('NODE_EXTRA_CA_CERTS'))
    await new Promise((resolve) => setTimeout(resolve, 10))
  const port = Number(/https:\/\/localhost:(\d+)/.exec(io.out())?.[1])
  t.match(
    io.out(),
    new RegExp(`AWS_SHARED_CREDENTIALS_FILE=${join(directory, 'kms', 'credentials')}\\n`),
  )
  t.match(io.out(), new RegExp(`NODE_EXTRA_CA_CERTS=${join(directory, 'ca.pem')}\\n`))
  const state = await openKmsState(directory, Date.now())
  const client = new KMSClient({
    region: 'us-east-1',
    endpoint: `https://localhost:${String(port)}`,
    credentials: { accessKeyId: state.accessKeyId, secretAccessKey: state.secretAccessKey },
    requestHandler: new NodeHttpHandler({ httpsAgent: new Agent({ ca: state.caPem }) }),
  })
  const { KeyMetadata } = await client.send(new CreateKeyCommand({}))
  t.equal(KeyMetadata?.AWSAccountId, LOCAL_ACCOUNT_ID)
  const { Policy } = await client.send(new GetKeyPolicyCommand({ KeyId: KeyMetadata?.KeyId }))
  t.match(JSON.parse(Policy ?? '{}'), {
    Statement: [
      {
        Effect: 'Allow',
        Principal: { AWS: `arn:aws:iam::${LOCAL_ACCOUNT_ID}:root` },
        Action: 'kms:*',
      },
    ],
  })
  client.destroy()
  stop()
  t.equal(await running, 0)
})

t.test('the default port is 4599', async (t) => {
  const directory = mkdtempSync(join(tmpdir(), 'cloister-kms-serve-'))
  const io = createRecordingIo({ now: Date.now() }) // shutdown at once
  t.equal(await runCli(['kms', 'serve', '--state', directory], io), 0)
  t.match(io.out(), /^local KMS listening on https:\/\/localhost:4599 /)
})

t.test('a bad port is a usage error', async (t) => {
  for (const port of ['http', '70000', '-1']) {
    const io = createRecordingIo()
    t.equal(await runCli(['kms', 'serve', `--port=${port}`], io), 2, port)
  }
})

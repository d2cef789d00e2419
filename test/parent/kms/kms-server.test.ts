/** The local KMS driven by the stock @aws-sdk/client-kms, as any AWS tool would drive it. */

import { randomBytes } from 'node:crypto'
import { mkdtempSync } from 'node:fs'
import { Agent, request as httpsRequest } from 'node:https'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import {
  CreateAliasCommand,
  CreateKeyCommand,
  DecryptCommand,
  DescribeKeyCommand,
  DisableKeyCommand,
  EnableKeyCommand,
  EnableKeyRotationCommand,
  EncryptCommand,
  GenerateDataKeyCommand,
  GenerateDataKeyWithoutPlaintextCommand,
  GenerateRandomCommand,
  GetKeyPolicyCommand,
  KMSClient,
  ListAliasesCommand,
  ListKeysCommand,
  PutKeyPolicyCommand,
  ReEncryptCommand,
  RotateKeyOnDemandCommand,
  ScheduleKeyDeletionCommand,
} from '@aws-sdk/client-kms'
import { NodeHttpHandler } from '@smithy/node-http-handler'
import { createKmsServer, MAX_REQUEST_BYTES } from '../../../parent/kms/server/kms-server.js'
import { openKmsState, type KmsState } from '../../../parent/kms/state/kms-state.js'
import { openKmsStore } from '../../../parent/kms/store/kms-store.js'
import { openSimPki } from '../../../parent/sim/sim-pki.js'
import { AWS_NITRO_ROOT_G1_PEM } from '../../../shared/attestation/aws-nitro-root-g1.js'
import { createCertificateCache } from '../../../shared/attestation/certificate-cache.js'
import { trustRootCertificates } from '../../../shared/attestation/trusted-roots.js'
import { SignatureV4 } from '@smithy/signature-v4'
import { Sha256 } from '../../helpers/node-sha256.js'

const ACCOUNT = '111122223333'
const simPki = await openSimPki(
  join(mkdtempSync(join(tmpdir(), 'cloister-kms-sim-')), 'sim'),
  Date.now(),
)
const text = new TextEncoder()

async function startKms(stateDirectory: string) {
  const state = await openKmsState(stateDirectory, Date.now())
  const store = openKmsStore(join(stateDirectory, 'kms', 'kms.db'), state.masterKey)
  const server = createKmsServer({
    context: {
      store,
      clock: () => Date.now(),
      random: (length) => new Uint8Array(randomBytes(length)),
      region: 'us-east-1',
      accountId: ACCOUNT,
      recipients: {
        trustedRoots: trustRootCertificates([AWS_NITRO_ROOT_G1_PEM, simPki.root.pem]),
        cache: createCertificateCache(),
      },
      defaultPolicy: (account) =>
        JSON.stringify({
          Version: '2012-10-17',
          Statement: [
            {
              Effect: 'Allow',
              Principal: { AWS: `arn:aws:iam::${account}:root` },
              Action: 'kms:*',
              Resource: '*',
            },
          ],
        }),
    },
    tls: { certificatePem: state.tlsCertificatePem, keyPem: state.tlsKeyPem },
    credentials: state,
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  const client = clientFor(state, port)
  const stop = async () => {
    client.destroy()
    await new Promise((resolve) => server.close(resolve))
    store.close()
  }
  return { state, store, port, client, stop }
}

function clientFor(
  state: KmsState,
  port: number,
  credentials?: { accessKeyId: string; secretAccessKey: string },
) {
  return new KMSClient({
    region: 'us-east-1',
    endpoint: `https://localhost:${String(port)}`,
    credentials: credentials ?? {
      accessKeyId: state.accessKeyId,
      secretAccessKey: state.secretAccessKey,
    },
    requestHandler: new NodeHttpHandler({ httpsAgent: new Agent({ ca: state.caPem }) }),
    maxAttempts: 1,
  })
}

/** A policy letting the account root do everything, plus `extra` statements. */
function rootPolicy(...extra: object[]): string {
  return JSON.stringify({
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Allow',
        Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` },
        Action: 'kms:*',
        Resource: '*',
      },
      ...extra,
    ],
  })
}

const directory = mkdtempSync(join(tmpdir(), 'cloister-kms-'))
let kms = await startKms(directory)
t.teardown(() => kms.stop())

t.test(
  'keys: create, describe, list, alias, policy, enable, disable, rotation, deletion',
  async (t) => {
    const { KeyMetadata } = await kms.client.send(
      new CreateKeyCommand({ Description: 'tokenization' }),
    )
    const keyId = KeyMetadata?.KeyId ?? ''
    t.match(KeyMetadata, {
      AWSAccountId: ACCOUNT,
      Enabled: true,
      KeyState: 'Enabled',
      KeySpec: 'SYMMETRIC_DEFAULT',
      KeyUsage: 'ENCRYPT_DECRYPT',
    })
    t.equal(KeyMetadata?.Arn, `arn:aws:kms:us-east-1:${ACCOUNT}:key/${keyId}`)
    await kms.client.send(new CreateAliasCommand({ AliasName: 'alias/tokens', TargetKeyId: keyId }))
    await t.rejects(
      kms.client.send(new CreateAliasCommand({ AliasName: 'alias/tokens', TargetKeyId: keyId })),
      { name: 'AlreadyExistsException' },
    )
    await t.rejects(
      kms.client.send(
        new CreateAliasCommand({ AliasName: 'alias/aws/reserved', TargetKeyId: keyId }),
      ),
      { name: 'ValidationException' },
    )
    const described = await kms.client.send(new DescribeKeyCommand({ KeyId: 'alias/tokens' }))
    t.equal(described.KeyMetadata?.KeyId, keyId)
    t.equal(
      (await kms.client.send(new DescribeKeyCommand({ KeyId: KeyMetadata?.Arn }))).KeyMetadata
        ?.KeyId,
      keyId,
    )
    t.equal(
      (
        await kms.client.send(
          new DescribeKeyCommand({ KeyId: `arn:aws:kms:us-east-1:${ACCOUNT}:alias/tokens` }),
        )
      ).KeyMetadata?.KeyId,
      keyId,
    )
    t.ok((await kms.client.send(new ListKeysCommand({}))).Keys?.some((key) => key.KeyId === keyId))
    t.same(
      (await kms.client.send(new ListAliasesCommand({ KeyId: keyId }))).Aliases?.map(
        (alias) => alias.AliasName,
      ),
      ['alias/tokens'],
    )
    t.ok(((await kms.client.send(new ListAliasesCommand({}))).Aliases?.length ?? 0) >= 1)
    const policy = await kms.client.send(
      new GetKeyPolicyCommand({ KeyId: keyId, PolicyName: 'default' }),
    )
    t.match(JSON.parse(policy.Policy ?? ''), { Version: '2012-10-17' })
    const rootOnly = rootPolicy()
    await kms.client.send(
      new PutKeyPolicyCommand({ KeyId: keyId, PolicyName: 'default', Policy: rootOnly }),
    )
    t.equal((await kms.client.send(new GetKeyPolicyCommand({ KeyId: keyId }))).Policy, rootOnly)
    for (const malformed of ['not json', '{"Version":"2012-10-17","Statement":[]}']) {
      await t.rejects(
        kms.client.send(new PutKeyPolicyCommand({ KeyId: keyId, Policy: malformed })),
        { name: 'MalformedPolicyDocumentException' },
      )
    }
    await t.rejects(
      kms.client.send(new GetKeyPolicyCommand({ KeyId: keyId, PolicyName: 'other' })),
      { name: 'ValidationException' },
    )
    await kms.client.send(new EnableKeyRotationCommand({ KeyId: keyId }))
    await kms.client.send(new DisableKeyCommand({ KeyId: keyId }))
    await t.rejects(
      kms.client.send(new EncryptCommand({ KeyId: keyId, Plaintext: text.encode('x') })),
      { name: 'DisabledException' },
    )
    await kms.client.send(new EnableKeyCommand({ KeyId: keyId }))
    const deletion = await kms.client.send(
      new ScheduleKeyDeletionCommand({ KeyId: keyId, PendingWindowInDays: 7 }),
    )
    t.equal(deletion.KeyState, 'PendingDeletion')
    t.equal(deletion.PendingWindowInDays, 7)
    await t.rejects(
      kms.client.send(new EncryptCommand({ KeyId: keyId, Plaintext: text.encode('x') })),
      { name: 'KMSInvalidStateException' },
    )
    await t.rejects(kms.client.send(new EnableKeyCommand({ KeyId: keyId })), {
      name: 'KMSInvalidStateException',
    })
    await t.rejects(kms.client.send(new DisableKeyCommand({ KeyId: keyId })), {
      name: 'KMSInvalidStateException',
    })
    await t.rejects(kms.client.send(new ScheduleKeyDeletionCommand({ KeyId: keyId })), {
      name: 'KMSInvalidStateException',
    })
    t.match((await kms.client.send(new DescribeKeyCommand({ KeyId: keyId }))).KeyMetadata, {
      KeyState: 'PendingDeletion',
      Enabled: false,
    })
    await t.rejects(kms.client.send(new DescribeKeyCommand({ KeyId: 'alias/missing' })), {
      name: 'NotFoundException',
    })
    await t.rejects(kms.client.send(new CreateKeyCommand({ KeySpec: 'RSA_2048' })), {
      name: 'ValidationException',
    })
  },
)

t.test('cryptography: encrypt, decrypt, data keys, random, re-encrypt, rotation', async (t) => {
  const { KeyMetadata } = await kms.client.send(new CreateKeyCommand({}))
  const keyId = KeyMetadata?.KeyId ?? ''
  const context = { tenant: 'acme', purpose: 'vault' }
  const encrypted = await kms.client.send(
    new EncryptCommand({
      KeyId: keyId,
      Plaintext: text.encode('secret'),
      EncryptionContext: context,
    }),
  )
  const decrypted = await kms.client.send(
    new DecryptCommand({ CiphertextBlob: encrypted.CiphertextBlob, EncryptionContext: context }),
  )
  t.same(decrypted.Plaintext, text.encode('secret'))
  t.equal(decrypted.KeyId, KeyMetadata?.Arn)
  t.same(
    (
      await kms.client.send(
        new DecryptCommand({
          CiphertextBlob: encrypted.CiphertextBlob,
          EncryptionContext: context,
          KeyId: keyId,
        }),
      )
    ).Plaintext,
    text.encode('secret'),
  )
  await t.rejects(
    kms.client.send(
      new DecryptCommand({
        CiphertextBlob: encrypted.CiphertextBlob,
        EncryptionContext: { tenant: 'acme' },
      }),
    ),
    { name: 'InvalidCiphertextException' },
  )
  const tampered = Uint8Array.from(encrypted.CiphertextBlob ?? [])
  tampered[tampered.length - 1] = (tampered[tampered.length - 1] ?? 0) ^ 1
  await t.rejects(
    kms.client.send(new DecryptCommand({ CiphertextBlob: tampered, EncryptionContext: context })),
    { name: 'InvalidCiphertextException' },
  )
  await t.rejects(
    kms.client.send(
      new DecryptCommand({
        CiphertextBlob: (encrypted.CiphertextBlob ?? new Uint8Array()).subarray(0, 20),
      }),
    ),
    { name: 'InvalidCiphertextException' },
  )
  await t.rejects(
    kms.client.send(new EncryptCommand({ KeyId: keyId, Plaintext: new Uint8Array(4097) })),
    { name: 'ValidationException' },
  )

  const dataKey = await kms.client.send(
    new GenerateDataKeyCommand({ KeyId: keyId, KeySpec: 'AES_256', EncryptionContext: context }),
  )
  t.equal(dataKey.Plaintext?.byteLength, 32)
  t.same(
    (
      await kms.client.send(
        new DecryptCommand({ CiphertextBlob: dataKey.CiphertextBlob, EncryptionContext: context }),
      )
    ).Plaintext,
    dataKey.Plaintext,
  )
  t.equal(
    (await kms.client.send(new GenerateDataKeyCommand({ KeyId: keyId, NumberOfBytes: 64 })))
      .Plaintext?.byteLength,
    64,
  )
  t.equal(
    (await kms.client.send(new GenerateDataKeyCommand({ KeyId: keyId, KeySpec: 'AES_128' })))
      .Plaintext?.byteLength,
    16,
  )
  await t.rejects(kms.client.send(new GenerateDataKeyCommand({ KeyId: keyId })), {
    name: 'ValidationException',
  })
  await t.rejects(
    kms.client.send(
      new GenerateDataKeyCommand({ KeyId: keyId, KeySpec: 'AES_256', NumberOfBytes: 32 }),
    ),
    { name: 'ValidationException' },
  )
  const withoutPlaintext = await kms.client.send(
    new GenerateDataKeyWithoutPlaintextCommand({ KeyId: keyId, KeySpec: 'AES_256' }),
  )
  t.equal(withoutPlaintext.CiphertextBlob !== undefined && !('Plaintext' in withoutPlaintext), true)
  t.equal(
    (await kms.client.send(new GenerateRandomCommand({ NumberOfBytes: 1024 }))).Plaintext
      ?.byteLength,
    1024,
  )
  await t.rejects(kms.client.send(new GenerateRandomCommand({ NumberOfBytes: 1025 })), {
    name: 'ValidationException',
  })
  await t.rejects(kms.client.send(new GenerateRandomCommand({})), { name: 'ValidationException' })

  const other = (await kms.client.send(new CreateKeyCommand({}))).KeyMetadata?.KeyId ?? ''
  const reEncrypted = await kms.client.send(
    new ReEncryptCommand({
      CiphertextBlob: encrypted.CiphertextBlob,
      SourceEncryptionContext: context,
      DestinationKeyId: other,
      DestinationEncryptionContext: { moved: 'yes' },
    }),
  )
  t.same(
    (
      await kms.client.send(
        new DecryptCommand({
          CiphertextBlob: reEncrypted.CiphertextBlob,
          EncryptionContext: { moved: 'yes' },
        }),
      )
    ).Plaintext,
    text.encode('secret'),
  )
  await t.rejects(
    kms.client.send(
      new DecryptCommand({
        CiphertextBlob: encrypted.CiphertextBlob,
        EncryptionContext: context,
        KeyId: other,
      }),
    ),
    { name: 'InvalidCiphertextException' },
  )

  await kms.client.send(new RotateKeyOnDemandCommand({ KeyId: keyId }))
  const rotated = await kms.client.send(
    new EncryptCommand({ KeyId: keyId, Plaintext: text.encode('new') }),
  )
  t.equal(rotated.CiphertextBlob?.[20], 2, 'new ciphertexts use material version 2')
  t.same(
    (
      await kms.client.send(
        new DecryptCommand({
          CiphertextBlob: encrypted.CiphertextBlob,
          EncryptionContext: context,
        }),
      )
    ).Plaintext,
    text.encode('secret'),
    'old ones still decrypt',
  )
  await kms.client.send(new DisableKeyCommand({ KeyId: keyId }))
  await t.rejects(
    kms.client.send(
      new DecryptCommand({ CiphertextBlob: encrypted.CiphertextBlob, EncryptionContext: context }),
    ),
    { name: 'DisabledException' },
  )
  await kms.client.send(new ScheduleKeyDeletionCommand({ KeyId: keyId }))
  await t.rejects(
    kms.client.send(
      new DecryptCommand({ CiphertextBlob: encrypted.CiphertextBlob, EncryptionContext: context }),
    ),
    { name: 'KMSInvalidStateException' },
  )
})

t.test(
  'key policies are enforced: explicit Deny wins, conditions on the encryption context',
  async (t) => {
    const root = { AWS: `arn:aws:iam::${ACCOUNT}:root` }
    const denyEncrypt = { Effect: 'Deny', Principal: root, Action: 'kms:Encrypt', Resource: '*' }
    const { KeyMetadata } = await kms.client.send(
      new CreateKeyCommand({ Policy: rootPolicy(denyEncrypt) }),
    )
    const keyId = KeyMetadata?.KeyId ?? ''
    await t.rejects(
      kms.client.send(new EncryptCommand({ KeyId: keyId, Plaintext: text.encode('x') })),
      {
        name: 'AccessDeniedException',
      },
    )
    const dataKey = await kms.client.send(
      new GenerateDataKeyCommand({
        KeyId: keyId,
        KeySpec: 'AES_256',
        EncryptionContext: { tenant: 'acme' },
      }),
    )
    // Decrypt only when the encryption context names tenant acme.
    const tenantOnly = JSON.stringify({
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Principal: root,
          Action: ['kms:Describe*', 'kms:Get*', 'kms:Put*', 'kms:Encrypt', 'kms:GenerateDataKey*'],
          Resource: '*',
        },
        {
          Effect: 'Allow',
          Principal: root,
          Action: 'kms:Decrypt',
          Resource: '*',
          Condition: { StringEquals: { 'kms:EncryptionContext:tenant': 'acme' } },
        },
      ],
    })
    await kms.client.send(new PutKeyPolicyCommand({ KeyId: keyId, Policy: tenantOnly }))
    const opened = await kms.client.send(
      new DecryptCommand({
        CiphertextBlob: dataKey.CiphertextBlob,
        EncryptionContext: { tenant: 'acme' },
      }),
    )
    t.same(opened.Plaintext, dataKey.Plaintext)
    const other = await kms.client.send(
      new EncryptCommand({
        KeyId: keyId,
        Plaintext: text.encode('x'),
        EncryptionContext: { tenant: 'globex' },
      }),
    )
    await t.rejects(
      kms.client.send(
        new DecryptCommand({
          CiphertextBlob: other.CiphertextBlob,
          EncryptionContext: { tenant: 'globex' },
        }),
      ),
      { name: 'AccessDeniedException' },
    )
    // Two context keys that differ only in case make the condition ambiguous: denied, fail-closed.
    const twins = { tenant: 'acme', TENANT: 'acme' }
    const twin = await kms.client.send(
      new EncryptCommand({ KeyId: keyId, Plaintext: text.encode('x'), EncryptionContext: twins }),
    )
    await t.rejects(
      kms.client.send(
        new DecryptCommand({ CiphertextBlob: twin.CiphertextBlob, EncryptionContext: twins }),
      ),
      {
        name: 'AccessDeniedException',
      },
    )
    await t.rejects(kms.client.send(new DisableKeyCommand({ KeyId: keyId })), {
      name: 'AccessDeniedException',
    })
    // The lockout safety check: a policy that would stop its author changing it again is refused.
    const lockout = JSON.stringify({
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Principal: root, Action: 'kms:Decrypt', Resource: '*' }],
    })
    await t.rejects(kms.client.send(new PutKeyPolicyCommand({ KeyId: keyId, Policy: lockout })), {
      name: 'MalformedPolicyDocumentException',
    })
    await t.rejects(kms.client.send(new CreateKeyCommand({ Policy: '{"Version":"2012-10-17"}' })), {
      name: 'MalformedPolicyDocumentException',
    })
    const denied = kms.store.readAudit().filter((record) => record.decision === 'denied')
    t.ok(
      denied.some((record) => record.operation === 'Decrypt'),
      'denials are audited as such',
    )
  },
)

t.test(
  'authentication: unknown keys and bad secrets get the exceptions the SDK knows',
  async (t) => {
    const stranger = clientFor(kms.state, kms.port, {
      accessKeyId: 'AKIAUNKNOWN000000000',
      secretAccessKey: 'x',
    })
    await t.rejects(stranger.send(new ListKeysCommand({})), { name: 'UnrecognizedClientException' })
    stranger.destroy()
    const wrong = clientFor(kms.state, kms.port, {
      accessKeyId: kms.state.accessKeyId,
      secretAccessKey: 'wrong',
    })
    await t.rejects(wrong.send(new ListKeysCommand({})), { name: 'InvalidSignatureException' })
    wrong.destroy()
  },
)

/** A raw HTTPS request: what a client that is not the SDK might send. */
function raw(options: {
  method?: string
  path?: string
  headers?: Record<string, string>
  body?: string | Uint8Array
}) {
  return new Promise<{ status: number; body: Record<string, unknown> }>((resolve, reject) => {
    const request = httpsRequest(
      {
        host: '127.0.0.1',
        port: kms.port,
        method: options.method ?? 'POST',
        path: options.path ?? '/',
        headers: options.headers ?? {},
        ca: kms.state.caPem,
        servername: 'localhost',
      },
      (response) => {
        let data = ''
        response.on('data', (chunk: Buffer) => (data += chunk.toString()))
        response.on('end', () =>
          resolve({
            status: response.statusCode ?? 0,
            body: JSON.parse(data) as Record<string, unknown>,
          }),
        )
      },
    )
    request.on('error', reject)
    request.end(options.body)
  })
}

t.test(
  'raw requests: unsigned, wrong path, oversized, every one an AWS-shaped error',
  async (t) => {
    const unsigned = await raw({
      headers: {
        'x-amz-target': 'TrentService.ListKeys',
        'content-type': 'application/x-amz-json-1.1',
      },
      body: '{}',
    })
    t.same(unsigned, {
      status: 400,
      body: {
        __type: 'MissingAuthenticationTokenException',
        message: 'The request is not signed.',
      },
    })
    const wrongPath = await raw({ method: 'GET', path: '/keys' })
    t.equal(wrongPath.body.__type, 'UnknownOperationException')
    const huge = await raw({ body: new Uint8Array(MAX_REQUEST_BYTES + 1) })
    t.same(huge, {
      status: 413,
      body: { __type: 'ValidationException', message: 'The request body is too large.' },
    })
    const audit = kms.store.readAudit()
    t.ok(
      audit.some(
        (record) =>
          record.decision === 'failed' &&
          record.detail.error === 'MissingAuthenticationTokenException',
      ),
    )
    t.notOk(JSON.stringify(audit).includes(kms.state.secretAccessKey), 'no secret in the audit log')
  },
)

t.test('everything persists across a restart', async (t) => {
  const { KeyMetadata } = await kms.client.send(new CreateKeyCommand({}))
  const encrypted = await kms.client.send(
    new EncryptCommand({ KeyId: KeyMetadata?.KeyId, Plaintext: text.encode('durable') }),
  )
  await kms.stop()
  kms = await startKms(directory)
  t.same(
    (await kms.client.send(new DecryptCommand({ CiphertextBlob: encrypted.CiphertextBlob })))
      .Plaintext,
    text.encode('durable'),
  )
})

/** A request signed like the SDK signs it, with any target, body and content type. */
async function signedRaw(target: string, body: string, contentType = 'application/x-amz-json-1.1') {
  const signer = new SignatureV4({
    credentials: { accessKeyId: kms.state.accessKeyId, secretAccessKey: kms.state.secretAccessKey },
    region: 'us-east-1',
    service: 'kms',
    sha256: Sha256,
  })
  const signed = await signer.sign({
    method: 'POST',
    protocol: 'https:',
    hostname: 'localhost',
    port: kms.port,
    path: '/',
    headers: {
      host: `localhost:${String(kms.port)}`,
      'content-type': contentType,
      'x-amz-target': target,
    },
    body,
  })
  return raw({ headers: signed.headers, body })
}

t.test(
  'blobs that name an unknown key or version, and odd policy names, are refused',
  async (t) => {
    const { sealBlob } = await import('../../../parent/kms/crypto/ciphertext-blob.js')
    const key = (await kms.client.send(new CreateKeyCommand({}))).KeyMetadata?.KeyId ?? ''
    const idBytes = (uuid: string) => new Uint8Array(Buffer.from(uuid.replaceAll('-', ''), 'hex'))
    const forge = (keyId: string, version: number) =>
      sealBlob({
        keyId: idBytes(keyId),
        version,
        material: new Uint8Array(32),
        plaintext: text.encode('x'),
        context: {},
      })
    await t.rejects(
      kms.client.send(
        new DecryptCommand({ CiphertextBlob: forge('00000000-0000-0000-0000-000000000000', 1) }),
      ),
      { name: 'InvalidCiphertextException' },
    )
    await t.rejects(kms.client.send(new DecryptCommand({ CiphertextBlob: forge(key, 99) })), {
      name: 'InvalidCiphertextException',
    })
    await t.rejects(
      kms.client.send(new PutKeyPolicyCommand({ KeyId: key, PolicyName: 'other', Policy: '{}' })),
      { name: 'ValidationException' },
    )
  },
)

t.test('signed but malformed requests: each refused with its AWS exception', async (t) => {
  const type = async (target: string, body: string, contentType?: string) =>
    (await signedRaw(target, body, contentType)).body.__type
  t.equal(await type('TrentService.ListKeys', '{}', 'text/plain'), 'SerializationException')
  t.equal(await type('TrentService.ListKeys', 'not json'), 'SerializationException')
  t.equal(await type('TrentService.ListKeys', '[1]'), 'SerializationException')
  t.equal(await type('TrentService.ListKeys', 'null'), 'SerializationException')
  t.equal(await type('TrentService.DestroyEverything', '{}'), 'UnknownOperationException')
  t.equal(await type('TrentService.toString', '{}'), 'UnknownOperationException')
  t.equal(await type('KeyManagement.ListKeys', '{}'), 'UnknownOperationException')
  t.equal(await type('TrentService.Decrypt', '{"CiphertextBlob":"%%%"}'), 'SerializationException')
  t.equal(await type('TrentService.Decrypt', '{"CiphertextBlob":7}'), 'ValidationException')
  t.equal(
    await type('TrentService.DescribeKey', `{"KeyId":"${'k'.repeat(40_000)}"}`),
    'ValidationException',
  )
  t.equal(await type('TrentService.DescribeKey', '{}'), 'ValidationException')
  const key = (await kms.client.send(new CreateKeyCommand({}))).KeyMetadata?.KeyId ?? ''
  for (const context of ['[]', 'null', '"text"']) {
    t.equal(
      await type(
        'TrentService.Encrypt',
        `{"KeyId":"${key}","Plaintext":"AA==","EncryptionContext":${context}}`,
      ),
      'ValidationException',
      context,
    )
  }
  t.equal(
    await type(
      'TrentService.Encrypt',
      `{"KeyId":"${key}","Plaintext":"AA==","EncryptionContext":{"a":1}}`,
    ),
    'ValidationException',
  )
  t.equal(
    await type(
      'TrentService.Encrypt',
      `{"KeyId":"${key}","Plaintext":"AA==","EncryptionContext":{"":"x"}}`,
    ),
    'ValidationException',
  )
  t.equal(await type('TrentService.GenerateRandom', '{"NumberOfBytes":1.5}'), 'ValidationException')
  t.equal(await type('TrentService.CreateKey', '{"Description":5}'), 'ValidationException')
})

t.test('an unexpected failure is KMSInternalException with no detail', async (t) => {
  const { awsErrorOf } = await import('../../../parent/kms/server/aws-errors.js')
  t.same(awsErrorOf(undefined), { type: 'KMSInternalException', status: 500 })
  t.same(awsErrorOf('ERR_CBOR_TRUNCATED'), { type: 'KMSInternalException', status: 500 })
  kms.store.close() // the database is gone: every operation now fails inside
  const failed = await signedRaw('TrentService.ListKeys', '{}')
  t.same(failed, {
    status: 500,
    body: { __type: 'KMSInternalException', message: 'An internal error occurred.' },
  })
  await kms.stop()
  kms = await startKms(directory)
})

t.test(
  'attested Recipient requests: CiphertextForRecipient only for the pinned, non-debug enclave',
  async (t) => {
    const { generateKeyPairSync } = await import('node:crypto')
    const { execFileSync } = await import('node:child_process')
    const { writeFileSync } = await import('node:fs')
    const { createSimulatedNsm } = await import('../../../parent/sim/nsm/simulated-nsm.js')
    const { measureBytes } = await import('../../../shared/attestation/pcr.js')
    const { openEnvelopedData } = await import('../../../shared/cms/open-enveloped-data.js')
    const { defaultEnclaveKeyPolicy } =
      await import('../../../parent/kms/policy/default-enclave-key-policy.js')
    const { forgeDocument } = await import('../../fakes/test-pki.js')
    const { vectorBytes } = await import('../../helpers/shared-vectors.js')
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 })
    const spki = new Uint8Array(rsa.publicKey.export({ format: 'der', type: 'spki' }))
    const pcr0 = measureBytes(text.encode('the measured image'))
    const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex')
    const documentFrom = async (options: {
      pcr0?: Uint8Array
      debug?: boolean
      publicKey?: Uint8Array
    }) => {
      const nsm = createSimulatedNsm({
        pki: simPki,
        clock: () => Date.now(),
        random: (length) => new Uint8Array(randomBytes(length)),
        moduleId: 'i-0123456789abcdef0-enc0123456789abcdef',
        measurements: new Map([
          [0, options.pcr0 ?? pcr0],
          [1, measureBytes(text.encode('runtime'))],
          [2, measureBytes(text.encode('bundle'))],
        ]),
        roleArn: undefined,
        instanceId: 'i-0123456789abcdef0',
        debug: options.debug ?? false,
      })
      const answer = await nsm.handle({
        type: 'Attestation',
        userData: null,
        nonce: null,
        publicKey: options.publicKey ?? spki,
      })
      if (answer.type !== 'Attestation') throw new Error('no document')
      return answer.document
    }
    const recipient = (document: Uint8Array) => ({
      AttestationDocument: document,
      KeyEncryptionAlgorithm: 'RSAES_OAEP_SHA_256' as const,
    })
    const policy = JSON.stringify(
      defaultEnclaveKeyPolicy({ accountId: ACCOUNT, pcrs: { 0: hex(pcr0) } }),
    )
    const keyId =
      (await kms.client.send(new CreateKeyCommand({ Policy: policy }))).KeyMetadata?.KeyId ?? ''
    const good = await documentFrom({})

    const generated = await kms.client.send(
      new GenerateDataKeyCommand({ KeyId: keyId, KeySpec: 'AES_256', Recipient: recipient(good) }),
    )
    t.equal(generated.Plaintext, undefined, 'no plaintext to the parent')
    const dataKey = openEnvelopedData(
      generated.CiphertextForRecipient ?? new Uint8Array(),
      rsa.privateKey,
    )
    t.equal(dataKey.byteLength, 32)
    const decrypted = await kms.client.send(
      new DecryptCommand({ CiphertextBlob: generated.CiphertextBlob, Recipient: recipient(good) }),
    )
    t.equal(decrypted.Plaintext, undefined)
    t.same(
      openEnvelopedData(decrypted.CiphertextForRecipient ?? new Uint8Array(), rsa.privateKey),
      dataKey,
    )
    const random = await kms.client.send(
      new GenerateRandomCommand({ NumberOfBytes: 48, Recipient: recipient(good) }),
    )
    t.equal(
      openEnvelopedData(random.CiphertextForRecipient ?? new Uint8Array(), rsa.privateKey)
        .byteLength,
      48,
    )

    // OpenSSL opens what the KMS returned, as it opens AWS's own CiphertextForRecipient.
    const folder = mkdtempSync(join(tmpdir(), 'cloister-kms-cms-'))
    writeFileSync(join(folder, 'key.pem'), rsa.privateKey.export({ format: 'pem', type: 'pkcs8' }))
    writeFileSync(join(folder, 'cms.der'), decrypted.CiphertextForRecipient ?? new Uint8Array())
    const opened = execFileSync('openssl', [
      'cms',
      '-decrypt',
      '-inform',
      'DER',
      '-in',
      join(folder, 'cms.der'),
      '-inkey',
      join(folder, 'key.pem'),
    ])
    t.same(new Uint8Array(opened), dataKey)

    const denied = async (request: Promise<unknown>, name: string, why: string) =>
      t.rejects(request, { name }, why)
    await denied(
      kms.client.send(new DecryptCommand({ CiphertextBlob: generated.CiphertextBlob })),
      'AccessDeniedException',
      'no Recipient: the Deny statement',
    )
    await denied(
      kms.client.send(
        new DecryptCommand({
          CiphertextBlob: generated.CiphertextBlob,
          Recipient: recipient(
            await documentFrom({ pcr0: measureBytes(text.encode('another image')) }),
          ),
        }),
      ),
      'AccessDeniedException',
      'another PCR0',
    )
    await denied(
      kms.client.send(
        new DecryptCommand({
          CiphertextBlob: generated.CiphertextBlob,
          Recipient: recipient(await documentFrom({ debug: true })),
        }),
      ),
      'AccessDeniedException',
      'a debug enclave',
    )
    const { cabundle, leaf } = await simPki.signerAt(Date.now())
    const noPcr0 = forgeDocument({
      pki: { cabundle, leaf, now: Date.now() },
      fields: { pcrs: new Map([[4, new Uint8Array(48).fill(4)]]), public_key: spki },
    })
    await denied(
      kms.client.send(
        new DecryptCommand({
          CiphertextBlob: generated.CiphertextBlob,
          Recipient: recipient(noPcr0),
        }),
      ),
      'AccessDeniedException',
      'no PCR0 at all',
    )
    const ec = new Uint8Array(
      generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({
        format: 'der',
        type: 'spki',
      }),
    )
    await denied(
      kms.client.send(
        new DecryptCommand({
          CiphertextBlob: generated.CiphertextBlob,
          Recipient: recipient(await documentFrom({ publicKey: ec })),
        }),
      ),
      'ValidationException',
      'an EC public key',
    )
    await denied(
      kms.client.send(
        new DecryptCommand({
          CiphertextBlob: generated.CiphertextBlob,
          Recipient: recipient(vectorBytes('nitro/anjuna-2.cose')),
        }),
      ),
      'ValidationException',
      'a real but expired document',
    )
    await denied(
      kms.client.send(
        new DecryptCommand({
          CiphertextBlob: generated.CiphertextBlob,
          Recipient: {
            AttestationDocument: good,
            KeyEncryptionAlgorithm: 'RSAES_OAEP_SHA_1' as never,
          },
        }),
      ),
      'ValidationException',
      'another algorithm',
    )
    const raw1 = await signedRaw(
      'TrentService.GenerateRandom',
      '{"NumberOfBytes":8,"Recipient":"x"}',
    )
    t.equal(raw1.body.__type, 'ValidationException', 'Recipient not an object')
    const audit = kms.store.readAudit()
    t.ok(
      audit.some(
        (record) =>
          record.detail.recipientModuleId === 'i-0123456789abcdef0-enc0123456789abcdef' &&
          record.decision === 'allowed',
      ),
    )
    t.ok(
      audit.some(
        (record) => record.decision === 'denied' && typeof record.detail.recipientPcrs === 'object',
      ),
    )
  },
)

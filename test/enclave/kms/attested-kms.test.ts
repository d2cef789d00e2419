/** The enclave's attested KMS client against the local KMS, a tampering relay and fake KMS servers. */

import t, { type Test } from 'tap'
import {
  createPublicKey,
  generateKeyPairSync,
  KeyObject,
  randomBytes,
  webcrypto,
} from 'node:crypto'
import { readFile } from 'node:fs/promises'
import type { IncomingHttpHeaders, ServerResponse } from 'node:http'
import { createServer } from 'node:https'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { CreateKeyCommand, EncryptCommand } from '@aws-sdk/client-kms'
import { createAttestedKms, type AttestedKmsOptions } from '../../../enclave/kms/attested-kms.js'
import { MAX_RESPONSE_BYTES } from '../../../enclave/kms/relay-http-handler.js'
import { createRelayConnector } from '../../../enclave/relay/relay-connector.js'
import { serveRelay } from '../../../parent/relay/serve-relay.js'
import { issueCertificate, type IssuedCertificate } from '../../../parent/sim/issue-certificate.js'
import { x509 } from '../../../parent/sim/x509.js'
import { createEnvelopedData } from '../../../shared/cms/create-enveloped-data.js'
import type { Channel } from '../../../shared/protocol/framed-channel.js'
import {
  decodeRelayMessage,
  encodeRelayMessage,
  type RelayMessage,
} from '../../../shared/protocol/relay-messages.js'
import { createChannelPair } from '../../fakes/channel-pair.js'
import { measurementsOf, startLocalKmsHarness } from '../../fakes/local-kms-harness.js'
import { exactCode } from '../../helpers/exact-code.js'

const harness = await startLocalKmsHarness()
t.teardown(() => harness.close())

const CONTEXT = { tenant: 'acme', purpose: 'vault' }
const HOUR = 3_600_000
const noSleep = () => Promise.resolve()

/** The enclave's end of a relay with `edit` applied to each message from the parent; `sent` records the enclave's. */
function tamper(
  sent: RelayMessage[],
  edit: (message: RelayMessage) => RelayMessage[] = (m) => [m],
) {
  return (channel: Channel): Channel => ({
    send: (bytes) => {
      sent.push(decodeRelayMessage(bytes))
      return channel.send(bytes)
    },
    close: () => {
      channel.close()
    },
    onMessage: (listener) => {
      channel.onMessage((bytes) => {
        for (const message of edit(decodeRelayMessage(bytes))) listener(encodeRelayMessage(message))
      })
    },
    onClose: (listener) => {
      channel.onClose(listener)
    },
  })
}

/** Edits the first `data` message of each stream numbered up to `upTo`; passes everything else. */
function firstData(
  upTo: number,
  edit: (message: RelayMessage & { type: 'data' }) => RelayMessage[],
) {
  const seen = new Set<number>()
  return (message: RelayMessage): RelayMessage[] => {
    if (message.type !== 'data' || message.stream > upTo || seen.has(message.stream)) {
      return [message]
    }
    seen.add(message.stream)
    return edit(message)
  }
}

const flipped = (message: RelayMessage & { type: 'data' }): RelayMessage[] => {
  const bytes = Uint8Array.from(message.bytes)
  bytes[bytes.byteLength >> 1] = (bytes[bytes.byteLength >> 1] ?? 0) ^ 0x01
  return [{ ...message, bytes }]
}

const opens = (sent: readonly RelayMessage[]) => sent.filter((message) => message.type === 'open')

/** A delay recorder standing in for the backoff timer. */
function recordSleep() {
  const delays: number[] = []
  return {
    delays,
    sleep: (ms: number) => {
      delays.push(ms)
      return Promise.resolve()
    },
  }
}

/** A relay of our own to a fake KMS on `port` (the harness's relay allows only the local KMS). */
function relayTo(t: Test, port: number) {
  const [enclaveEnd, parentEnd] = createChannelPair()
  const relay = serveRelay(parentEnd, { allowList: [{ host: 'localhost', port }] })
  t.teardown(() => {
    relay.close()
  })
  return createRelayConnector(enclaveEnd)
}

interface SeenRequest {
  readonly target: string
  readonly headers: IncomingHttpHeaders
  readonly body: Record<string, unknown>
}

type Answer = (request: SeenRequest, response: ServerResponse) => void

/** A TLS server playing KMS with `tls` and `answer`; it records TCP connections and HTTP requests. */
async function startFakeKms(t: Test, tls: { cert: string; key: string }, answer: Answer) {
  const requests: SeenRequest[] = []
  let connections = 0
  const server = createServer(tls, (request, response) => {
    const chunks: Buffer[] = []
    request.on('data', (chunk: Buffer) => chunks.push(chunk))
    request.on('end', () => {
      const seen: SeenRequest = {
        target: String(request.headers['x-amz-target']),
        headers: request.headers,
        body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>,
      }
      requests.push(seen)
      answer(seen, response)
    })
  })
  server.on('connection', () => {
    connections += 1
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(
    () =>
      new Promise<void>((resolve) => {
        server.close(() => {
          resolve()
        })
        server.closeAllConnections()
      }),
  )
  const { port } = server.address() as AddressInfo
  return {
    port,
    requests,
    connections: () => connections,
  }
}

/** The attested client of the harness's enclave, pointed at a fake KMS on `port`. */
function kmsAt(t: Test, port: number, options: Partial<AttestedKmsOptions> = {}) {
  return createAttestedKms({
    configuration: harness.configuration,
    access: { port, accessKeyId: harness.state.accessKeyId, secretAccessKey: 'not-checked' },
    relay: relayTo(t, port),
    nsm: harness.nsm(),
    keys: harness.keys,
    attempts: 2,
    sleep: noSleep,
    ...options,
  })
}

const trustedTls = { cert: harness.state.tlsCertificatePem, key: harness.state.tlsKeyPem }

function reply(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'content-type': 'application/x-amz-json-1.1' })
  response.end(JSON.stringify(body))
}

const awsError = (type: string, status = 400): Answer => {
  return (_request, response) => {
    reply(response, status, { __type: type, message: 'refused by the fake' })
  }
}

const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64')

/** What only the harness's enclave can open: `plaintext` enveloped to its recipient key. */
const forRecipient = (plaintext: Uint8Array) =>
  b64(
    createEnvelopedData({ plaintext, recipientPublicKey: createPublicKey(harness.keys.recipient) }),
  )

/** A GenerateDataKey answer from the measured key, `fields` changed. */
const dataKeyAnswer =
  (fields: Record<string, unknown>): Answer =>
  (_request, response) => {
    reply(response, 200, {
      KeyId: harness.configuration.keyArn,
      CiphertextBlob: b64(randomBytes(64)),
      CiphertextForRecipient: forRecipient(randomBytes(32)),
      ...fields,
    })
  }

/** The harness's KMS dev CA as an issuer, from its key file on disk. */
async function harnessCa(): Promise<IssuedCertificate> {
  const certificate = new x509.X509Certificate(harness.state.caPem)
  const pem = await readFile(join(harness.directory, 'kms', 'ca.key.pem'), 'utf8')
  const der = Buffer.from(pem.replace(/-----[^-]+-----|\s/g, ''), 'base64')
  const algorithm = { name: 'ECDSA', namedCurve: 'P-384' }
  const privateKey = await webcrypto.subtle.importKey('pkcs8', der, algorithm, true, ['sign'])
  return {
    der: new Uint8Array(certificate.rawData),
    pem: harness.state.caPem,
    keys: {
      privateKey,
      publicKey: await webcrypto.subtle.importKey(
        'spki',
        certificate.publicKey.rawData,
        algorithm,
        true,
        ['verify'],
      ),
    },
    privateKey: KeyObject.from(privateKey),
  }
}

/** A TLS server certificate for `name` signed by `issuer`. */
async function serverTls(issuer: IssuedCertificate, name: string) {
  const now = Date.now()
  const issued = await issueCertificate({
    subject: `CN=${name}`,
    issuer,
    ca: false,
    notBefore: now - HOUR,
    notAfter: now + HOUR,
    extraExtensions: [
      new x509.SubjectAlternativeNameExtension([{ type: 'dns', value: name }]),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
    ],
  })
  return {
    cert: issued.pem,
    key: issued.privateKey.export({ format: 'pem', type: 'pkcs8' }) as string,
  }
}

t.test('happy path against the local KMS', async (t) => {
  const kms = harness.attestedKms()
  const made = await kms.generateDataKey(CONTEXT)
  t.equal(made.key.byteLength, 32)
  t.ok(made.ciphertextBlob.byteLength > 32, 'a KMS ciphertext blob')
  const opened = await kms.decryptDataKey(made.ciphertextBlob, { ...CONTEXT })
  t.same(Buffer.from(opened), Buffer.from(made.key), 'the same key bytes come back')
  const random = await kms.generateRandom(48)
  t.equal(random.byteLength, 48)
  t.equal((await kms.generateRandom(1024)).byteLength, 1024, 'the largest GenerateRandom')
})

t.test('swapped blobs are refused', async (t) => {
  const kms = harness.attestedKms()
  const made = await kms.generateDataKey(CONTEXT)
  await t.rejects(kms.decryptDataKey(made.ciphertextBlob, { ...CONTEXT, tenant: 'globex' }), {
    code: exactCode('ERR_KEYS_CONTEXT_MISMATCH'),
  })
  await t.rejects(kms.decryptDataKey(made.ciphertextBlob, { ...CONTEXT, purpose: 'audit' }), {
    code: exactCode('ERR_KEYS_CONTEXT_MISMATCH'),
  })

  // A blob of another key the account may use: the enclave names its measured key on Decrypt, so
  // KMS itself refuses with InvalidCiphertextException (the blob's key is not the one named), which
  // is ERR_KEYS_CONTEXT_MISMATCH. Had KMS answered, the KeyId check would refuse it as
  // ERR_KMS_RESPONSE_INVALID (see "a wrong KeyId" below).
  const other = await harness.admin.send(new CreateKeyCommand({ Description: 'another key' }))
  const foreign = await harness.admin.send(
    new EncryptCommand({
      KeyId: other.KeyMetadata?.Arn,
      Plaintext: randomBytes(32),
      EncryptionContext: CONTEXT,
    }),
  )
  t.ok(foreign.CiphertextBlob)
  await t.rejects(kms.decryptDataKey(foreign.CiphertextBlob ?? new Uint8Array(), CONTEXT), {
    code: exactCode('ERR_KEYS_CONTEXT_MISMATCH'),
  })
})

t.test('measured code only', async (t) => {
  await t.rejects(
    harness.attestedKms({ nsm: harness.nsm({ debug: true }) }).generateDataKey(CONTEXT),
    {
      code: exactCode('ERR_KMS_ACCESS_DENIED'),
    },
  )
  const modified = harness.attestedKms({ nsm: harness.nsm({ measurements: measurementsOf(0x20) }) })
  await t.rejects(modified.generateDataKey(CONTEXT), { code: exactCode('ERR_KMS_ACCESS_DENIED') })
})

t.test('a tampering relay', (t) => {
  const cases: [string, (message: RelayMessage & { type: 'data' }) => RelayMessage[], number?][] = [
    ['flips a byte', flipped],
    // A dropped record stalls the handshake: only the timeout ends the attempt.
    ['drops a message', () => [], 300],
    ['replays a message', (message) => [message, message]],
  ]
  for (const [name, edit, timeoutMs] of cases) {
    t.test(name, async (t) => {
      const sent: RelayMessage[] = []
      const { delays, sleep } = recordSleep()
      const kms = harness.attestedKms({
        relay: harness.relay(tamper(sent, firstData(Infinity, edit))),
        attempts: 3,
        sleep,
        ...(timeoutMs === undefined ? {} : { timeoutMs }),
      })
      await t.rejects(kms.generateDataKey(CONTEXT), { code: exactCode('ERR_KMS_UNREACHABLE') })
      t.equal(opens(sent).length, 3, 'one connection per attempt')
      t.same(delays, [100, 200])
    })
  }

  t.test("with the harness's own no-op sleep", async (t) => {
    const sent: RelayMessage[] = []
    const kms = harness.attestedKms({ relay: harness.relay(tamper(sent, firstData(1, flipped))) })
    t.equal(
      (await kms.decryptDataKey((await kms.generateDataKey(CONTEXT)).ciphertextBlob, CONTEXT))
        .byteLength,
      32,
    )
    t.equal(opens(sent).length, 3, 'two for the first call, one for the second')
  })

  t.test('tampering with the first three connections only: the fourth succeeds', async (t) => {
    const sent: RelayMessage[] = []
    const { delays, sleep } = recordSleep()
    const kms = harness.attestedKms({
      relay: harness.relay(tamper(sent, firstData(3, flipped))),
      sleep,
    })
    const made = await kms.generateDataKey(CONTEXT)
    t.equal(made.key.byteLength, 32)
    t.same(opens(sent).length, 4, 'the default of four attempts')
    t.same(delays, [100, 200, 400], 'doubling from the default 100 ms')
  })

  t.test('doubling starts at initialDelayMs', async (t) => {
    const sent: RelayMessage[] = []
    const { delays, sleep } = recordSleep()
    const kms = harness.attestedKms({
      relay: harness.relay(tamper(sent, firstData(2, flipped))),
      initialDelayMs: 7,
      sleep,
    })
    t.equal((await kms.generateRandom(5)).byteLength, 5)
    t.same(delays, [7, 14])
  })
  t.end()
})

t.test('the relay refuses the endpoint: its code passes through, not retried', async (t) => {
  const sent: RelayMessage[] = []
  const kms = harness.attestedKms({
    relay: harness.relay(tamper(sent)),
    access: {
      port: harness.port === 1 ? 2 : 1,
      accessKeyId: harness.state.accessKeyId,
      secretAccessKey: harness.state.secretAccessKey,
    },
  })
  await t.rejects(kms.generateDataKey(CONTEXT), { code: exactCode('ERR_RELAY_ENDPOINT_DENIED') })
  t.equal(opens(sent).length, 1)
})

t.test('generateRandom lengths outside 1 to 1024 are refused before any call', async (t) => {
  const sent: RelayMessage[] = []
  const kms = harness.attestedKms({ relay: harness.relay(tamper(sent)) })
  for (const length of [0, 1025, 1.5, -1, Number.NaN]) {
    await t.rejects(kms.generateRandom(length), { code: exactCode('ERR_KMS_REQUEST_FAILED') })
  }
  t.equal(sent.length, 0)
})

t.test('a session token is signed and sent', async (t) => {
  const kms = harness.attestedKms({
    access: {
      port: harness.port,
      accessKeyId: harness.state.accessKeyId,
      secretAccessKey: harness.state.secretAccessKey,
      sessionToken: 'session-token-of-the-instance-role',
    },
  })
  t.equal((await kms.generateRandom(8)).byteLength, 8, 'the local KMS accepts it')

  const fake = await startFakeKms(t, trustedTls, (_request, response) => {
    reply(response, 200, { Plaintext: b64(randomBytes(8)) })
  })
  const toFake = kmsAt(t, fake.port, {
    access: {
      port: fake.port,
      accessKeyId: 'AKIAFAKE',
      secretAccessKey: 'secret',
      sessionToken: 'token-1',
    },
  })
  await t.rejects(toFake.generateRandom(8), { code: exactCode('ERR_KMS_RESPONSE_INVALID') })
  t.equal(fake.requests[0]?.headers['x-amz-security-token'], 'token-1')
  t.match(fake.requests[0]?.headers.authorization, /SignedHeaders=[^,]*x-amz-security-token/)
})

t.test('a fake KMS whose certificate the enclave does not trust', async (t) => {
  const now = Date.now()
  const untrustedCa = await issueCertificate({
    subject: 'CN=Untrusted CA',
    ca: true,
    pathLength: 0,
    notBefore: now - HOUR,
    notAfter: now + HOUR,
  })
  const cases: [string, { cert: string; key: string }][] = [
    ['signed by an untrusted CA', await serverTls(untrustedCa, 'localhost')],
    [
      'signed by the trusted CA for another name',
      await serverTls(await harnessCa(), 'kms.example'),
    ],
  ]
  for (const [name, tls] of cases) {
    t.test(name, async (t) => {
      const fake = await startFakeKms(t, tls, dataKeyAnswer({}))
      // The default timer between attempts (initialDelayMs kept short).
      const kms = createAttestedKms({
        configuration: harness.configuration,
        access: { port: fake.port, accessKeyId: 'AKIAFAKE', secretAccessKey: 'secret' },
        relay: relayTo(t, fake.port),
        nsm: harness.nsm(),
        keys: harness.keys,
        attempts: 2,
        initialDelayMs: 1,
      })
      await t.rejects(kms.generateDataKey(CONTEXT), { code: exactCode('ERR_KMS_UNREACHABLE') })
      t.equal(fake.connections(), 2, 'both attempts reached the server')
      t.equal(fake.requests.length, 0, 'TLS was refused before any HTTP request')
    })
  }
})

t.test('a trusted but lying KMS: the enclave checks the answer itself', (t) => {
  const cases: [string, Answer][] = [
    [
      'Plaintext instead of CiphertextForRecipient',
      dataKeyAnswer({ CiphertextForRecipient: undefined, Plaintext: b64(randomBytes(32)) }),
    ],
    ['Plaintext beside CiphertextForRecipient', dataKeyAnswer({ Plaintext: b64(randomBytes(32)) })],
    [
      'neither Plaintext nor CiphertextForRecipient',
      dataKeyAnswer({ CiphertextForRecipient: undefined }),
    ],
    [
      'a wrong KeyId',
      dataKeyAnswer({ KeyId: harness.configuration.keyArn.replace(/[0-9a-f]{4}$/, '0000') }),
    ],
    ['no KeyId', dataKeyAnswer({ KeyId: undefined })],
    [
      'garbage CiphertextForRecipient',
      dataKeyAnswer({ CiphertextForRecipient: b64(randomBytes(300)) }),
    ],
    [
      'CiphertextForRecipient to another key',
      dataKeyAnswer({
        CiphertextForRecipient: b64(
          createEnvelopedData({
            plaintext: randomBytes(32),
            recipientPublicKey: generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey,
          }),
        ),
      }),
    ],
    [
      'a 16-byte data key',
      dataKeyAnswer({ CiphertextForRecipient: forRecipient(randomBytes(16)) }),
    ],
    ['no CiphertextBlob', dataKeyAnswer({ CiphertextBlob: undefined })],
  ]
  for (const [name, answer] of cases) {
    t.test(name, async (t) => {
      const fake = await startFakeKms(t, trustedTls, answer)
      await t.rejects(kmsAt(t, fake.port).generateDataKey(CONTEXT), {
        code: exactCode('ERR_KMS_RESPONSE_INVALID'),
      })
      t.equal(fake.requests.length, 1, 'an invalid answer is not retried')
      t.equal(fake.requests[0]?.target, 'TrentService.GenerateDataKey')
    })
  }

  t.test('Decrypt answered with a wrong KeyId', async (t) => {
    const fake = await startFakeKms(t, trustedTls, dataKeyAnswer({ KeyId: 'arn:aws:kms:x' }))
    await t.rejects(kmsAt(t, fake.port).decryptDataKey(randomBytes(64), CONTEXT), {
      code: exactCode('ERR_KMS_RESPONSE_INVALID'),
    })
    t.equal(fake.requests[0]?.target, 'TrentService.Decrypt')
    t.equal(fake.requests[0]?.body.KeyId, harness.configuration.keyArn, 'the measured key is named')
  })

  t.test('GenerateRandom answered with the wrong number of bytes', async (t) => {
    const fake = await startFakeKms(t, trustedTls, (_request, response) => {
      reply(response, 200, { CiphertextForRecipient: forRecipient(randomBytes(9)) })
    })
    await t.rejects(kmsAt(t, fake.port).generateRandom(8), {
      code: exactCode('ERR_KMS_RESPONSE_INVALID'),
    })
  })
  t.end()
})

t.test('KMS refusals and failures', (t) => {
  // [name, answer, call, expected code, requests made with attempts: 2]
  type Call = 'generate' | 'decrypt' | 'random'
  const cases: [string, Answer, Call, string, number][] = [
    [
      'HTTP 500',
      (_request, response) => reply(response, 500, {}),
      'generate',
      'ERR_KMS_UNREACHABLE',
      2,
    ],
    [
      'HTTP 503 with an unknown error',
      awsError('ServiceUnavailable', 503),
      'random',
      'ERR_KMS_UNREACHABLE',
      2,
    ],
    ['ThrottlingException', awsError('ThrottlingException'), 'generate', 'ERR_KMS_UNREACHABLE', 2],
    [
      'KMSInternalException',
      awsError('KMSInternalException', 500),
      'decrypt',
      'ERR_KMS_UNREACHABLE',
      2,
    ],
    [
      'DependencyTimeoutException',
      awsError('DependencyTimeoutException', 503),
      'random',
      'ERR_KMS_UNREACHABLE',
      2,
    ],
    [
      'AccessDeniedException',
      awsError('AccessDeniedException'),
      'generate',
      'ERR_KMS_ACCESS_DENIED',
      1,
    ],
    [
      'ValidationException',
      awsError('ValidationException'),
      'generate',
      'ERR_KMS_REQUEST_FAILED',
      1,
    ],
    [
      'InvalidCiphertextException on Decrypt',
      awsError('InvalidCiphertextException'),
      'decrypt',
      'ERR_KEYS_CONTEXT_MISMATCH',
      1,
    ],
    [
      'IncorrectKeyException on Decrypt',
      awsError('IncorrectKeyException'),
      'decrypt',
      'ERR_KEYS_CONTEXT_MISMATCH',
      1,
    ],
    [
      'InvalidCiphertextException on GenerateDataKey',
      awsError('InvalidCiphertextException'),
      'generate',
      'ERR_KMS_REQUEST_FAILED',
      1,
    ],
    [
      'a 200 that is not JSON',
      (_request, response) => {
        response.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' })
        response.end('<html>')
      },
      'random',
      'ERR_KMS_REQUEST_FAILED',
      1,
    ],
    [
      'a response over 1 MiB',
      (_request, response) => {
        response.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' })
        response.end(Buffer.alloc(MAX_RESPONSE_BYTES + 1, 0x20))
      },
      'generate',
      'ERR_KMS_UNREACHABLE',
      2,
    ],
    [
      'a connection lost mid-response',
      (_request, response) => {
        response.writeHead(200, { 'content-length': '1000' })
        response.write('{"KeyId":')
        setTimeout(() => response.socket?.destroy(), 20)
      },
      'generate',
      'ERR_KMS_UNREACHABLE',
      2,
    ],
  ]
  for (const [name, answer, call, code, requests] of cases) {
    t.test(name, async (t) => {
      const fake = await startFakeKms(t, trustedTls, answer)
      const kms = kmsAt(t, fake.port)
      const outcome: Promise<unknown> =
        call === 'generate'
          ? kms.generateDataKey(CONTEXT)
          : call === 'decrypt'
            ? kms.decryptDataKey(randomBytes(64), CONTEXT)
            : kms.generateRandom(8)
      await t.rejects(outcome, { code: exactCode(code) })
      t.equal(fake.requests.length, requests)
    })
  }

  t.test('a server that never answers, with a short timeoutMs', async (t) => {
    const fake = await startFakeKms(t, trustedTls, () => undefined)
    const started = Date.now()
    await t.rejects(kmsAt(t, fake.port, { timeoutMs: 150 }).generateDataKey(CONTEXT), {
      code: exactCode('ERR_KMS_UNREACHABLE'),
    })
    t.equal(fake.requests.length, 2)
    t.ok(Date.now() - started < 5_000, 'well before the default 10 s')
  })
  t.end()
})

t.test('the harness NSM draws its random bytes from node:crypto', async (t) => {
  const answer = await harness.nsm().request({ type: 'GetRandom' })
  t.ok(answer.type === 'GetRandom' && answer.random.byteLength > 0)
})

t.test(
  'an NSM failing with an error outside the catalog: the call fails, not retried',
  async (t) => {
    const sent: RelayMessage[] = []
    const kms = harness.attestedKms({
      relay: harness.relay(tamper(sent)),
      nsm: { request: () => Promise.reject(new Error('device gone')) },
    })
    await t.rejects(kms.generateDataKey(CONTEXT), { code: exactCode('ERR_KMS_REQUEST_FAILED') })
    t.equal(opens(sent).length, 0)
  },
)

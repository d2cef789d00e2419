/** The enclave's HTTP handler for the AWS SDK, driven directly over a relay to a trusted fake server. */

import t, { type Test } from 'tap'
import { createServer as createTcpServer, type AddressInfo } from 'node:net'
import type { RequestListener } from 'node:http'
import { createServer } from 'node:https'
import { Duplex } from 'node:stream'
import type { HttpRequest } from '@smithy/types'
import { createRelayHttpHandler } from '../../../enclave/kms/relay-http-handler.js'
import {
  createRelayConnector,
  type RelayConnector,
} from '../../../enclave/relay/relay-connector.js'
import { serveRelay } from '../../../parent/relay/serve-relay.js'
import { CloisterError } from '../../../shared/errors/cloister-error.js'
import { decodeRelayMessage, type RelayMessage } from '../../../shared/protocol/relay-messages.js'
import { createChannelPair } from '../../fakes/channel-pair.js'
import { measurementsOf, startLocalKmsHarness } from '../../fakes/local-kms-harness.js'
import { exactCode } from '../../helpers/exact-code.js'

// The harness gives the trusted dev CA and its TLS certificate for localhost.
const harness = await startLocalKmsHarness(measurementsOf(0x30))
t.teardown(() => harness.close())

/** A relay allowing only `localhost:port`; `sent` records what the enclave sends over it. */
function relayTo(t: Test, port: number, sent: RelayMessage[] = []) {
  const [enclaveEnd, parentEnd] = createChannelPair()
  const relay = serveRelay(parentEnd, { allowList: [{ host: 'localhost', port }] })
  t.teardown(() => {
    relay.close()
  })
  const connector = createRelayConnector({
    ...enclaveEnd,
    send: (bytes) => {
      sent.push(decodeRelayMessage(bytes))
      return enclaveEnd.send(bytes)
    },
  })
  return { connector, close: () => relay.close() }
}

function handlerOver(relay: RelayConnector, timeoutMs = 5_000) {
  return createRelayHttpHandler({
    relay,
    trustAnchors: [harness.state.caPem],
    serverName: 'localhost',
    timeoutMs,
  })
}

/** A trusted HTTPS server on a free port; it records each request line, headers and body. */
async function startServer(t: Test, answer: RequestListener) {
  const seen: { line: string; headers: Record<string, unknown>; body: string }[] = []
  const server = createServer(
    { cert: harness.state.tlsCertificatePem, key: harness.state.tlsKeyPem },
    (request, response) => {
      const chunks: Buffer[] = []
      request.on('data', (chunk: Buffer) => chunks.push(chunk))
      request.on('end', () => {
        seen.push({
          line: `${String(request.method)} ${String(request.url)} HTTP/${request.httpVersion}`,
          headers: request.headers,
          body: Buffer.concat(chunks).toString('utf8'),
        })
        answer(request, response)
      })
    },
  )
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
  return { port: (server.address() as AddressInfo).port, seen }
}

const requestTo = (port: number | undefined, fields: Partial<HttpRequest> = {}): HttpRequest => ({
  method: 'GET',
  protocol: 'https:',
  hostname: 'localhost',
  ...(port === undefined ? {} : { port }),
  path: '/',
  headers: { host: 'localhost' },
  ...fields,
})

t.test('query strings, headers and body, both ways', async (t) => {
  const server = await startServer(t, (_request, response) => {
    response.statusCode = 201
    response.setHeader('x-repeated', ['one', 'two'])
    response.setHeader('set-cookie', ['a=1', 'b=2'])
    response.end('answer')
  })
  const handler = handlerOver(relayTo(t, server.port).connector)
  const { response } = await handler.handle(
    requestTo(server.port, {
      method: 'POST',
      path: '/kms/path',
      query: { a: 'b', c: ['d', 'e'], f: null },
      headers: { host: 'localhost', 'content-type': 'text/plain', 'content-length': '5' },
      body: 'hello',
    }),
  )
  t.equal(server.seen[0]?.line, 'POST /kms/path?a=b&c=d&c=e&f= HTTP/1.1')
  t.equal(server.seen[0]?.headers['content-type'], 'text/plain')
  t.equal(server.seen[0]?.body, 'hello')
  t.equal(response.statusCode, 201)
  // Node joins a repeated header itself and hands set-cookie over as a list: both come out joined.
  t.equal(response.headers['x-repeated'], 'one, two')
  t.equal(response.headers['set-cookie'], 'a=1, b=2')
  t.same(Buffer.from(response.body as Uint8Array).toString('utf8'), 'answer')
})

t.test('no query, or an empty one: the path alone', async (t) => {
  const server = await startServer(t, (_request, response) => {
    response.end()
  })
  const handler = handlerOver(relayTo(t, server.port).connector)
  const { response } = await handler.handle(requestTo(server.port, { path: '/plain' }))
  await handler.handle(requestTo(server.port, { query: {} }))
  t.same(
    server.seen.map((request) => request.line),
    ['GET /plain HTTP/1.1', 'GET / HTTP/1.1'],
  )
  t.equal(response.statusCode, 200)
  t.equal((response.body as Uint8Array).byteLength, 0)
})

t.test('no port: 443, which this allow-list refuses', async (t) => {
  const sent: RelayMessage[] = []
  const handler = handlerOver(relayTo(t, harness.port, sent).connector)
  await t.rejects(handler.handle(requestTo(undefined)), {
    code: exactCode('ERR_RELAY_ENDPOINT_DENIED'),
  })
  t.same(sent[0], { type: 'open', stream: 1, host: 'localhost', port: 443 })
})

t.test(
  'an allowed endpoint nobody listens on: ERR_RELAY_CONNECT_FAILED passes through',
  async (t) => {
    const probe = createTcpServer()
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve))
    const { port } = probe.address() as AddressInfo
    await new Promise((resolve) => probe.close(resolve))
    const handler = handlerOver(relayTo(t, port).connector)
    await t.rejects(handler.handle(requestTo(port)), {
      code: exactCode('ERR_RELAY_CONNECT_FAILED'),
    })
  },
)

t.test('a closed relay: ERR_KMS_UNREACHABLE, not the relay code', async (t) => {
  const relay = relayTo(t, harness.port)
  relay.close()
  await t.rejects(handlerOver(relay.connector).handle(requestTo(harness.port)), {
    code: exactCode('ERR_KMS_UNREACHABLE'),
  })
})

t.test(
  'a relayed stream failing with a code outside ERR_RELAY_*: ERR_KMS_UNREACHABLE',
  async (t) => {
    const connector: RelayConnector = {
      open: () => {
        const stream = new Duplex({
          read() {
            // Nothing ever arrives.
          },
          write(_chunk, _encoding, callback) {
            callback()
          },
        })
        setImmediate(() => stream.destroy(new CloisterError('ERR_FRAME_MALFORMED')))
        return stream
      },
    }
    await t.rejects(handlerOver(connector).handle(requestTo(443)), {
      code: exactCode('ERR_KMS_UNREACHABLE'),
    })
  },
)

t.test('a server that accepts and never speaks TLS: the timeout ends it', async (t) => {
  const silent = createTcpServer(() => undefined)
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve))
  t.teardown(() => {
    silent.close()
  })
  const { port } = silent.address() as AddressInfo
  const relay = relayTo(t, port)
  t.teardown(relay.close)
  await t.rejects(handlerOver(relay.connector, 100).handle(requestTo(port)), {
    code: exactCode('ERR_KMS_UNREACHABLE'),
  })
})

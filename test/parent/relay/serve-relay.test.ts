/** The parent's TCP relay, message by message, against a loopback echo server and fake sockets. */

import t, { type Test } from 'tap'
import { EventEmitter, once } from 'node:events'
import { createConnection, createServer, type AddressInfo, type Socket } from 'node:net'
import {
  DEFAULT_CONNECT_TIMEOUT_MS,
  DEFAULT_MAX_STREAMS,
  MAX_RELAY_BUFFERED_BYTES,
  serveRelay,
  type RelayEndpoint,
  type RelayEvent,
  type RelayOptions,
  type RelaySocket,
} from '../../../parent/relay/serve-relay.js'
import { createFramedChannel, type Channel } from '../../../shared/protocol/framed-channel.js'
import {
  decodeRelayMessage,
  encodeRelayMessage,
  MAX_RELAY_CHUNK_BYTES,
  MAX_RELAY_FRAME_BYTES,
  type RelayMessage,
} from '../../../shared/protocol/relay-messages.js'
import { createChannelPair } from '../../fakes/channel-pair.js'
import { exactCode } from '../../helpers/exact-code.js'

const LOOPBACK = '127.0.0.1'

/** Resolves once `condition` holds, polling; fails the test past a generous deadline. */
async function waitFor(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 5_000
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 2))
  }
}

/** Resolves after the event loop has turned `turns` times: messages in flight have arrived. */
async function settle(turns = 5): Promise<void> {
  for (let turn = 0; turn < turns; turn += 1) {
    await new Promise((resolve) => setImmediate(resolve))
  }
}

/** A socket that records what the relay does to it; the test plays the endpoint with `emit`. */
class FakeSocket extends EventEmitter implements RelaySocket {
  writableLength = 0
  readonly written: Uint8Array[] = []
  ended = 0
  destroyed = 0

  write(chunk: Uint8Array): boolean {
    this.written.push(chunk)
    return true
  }

  end(): void {
    this.ended += 1
  }

  destroy(): void {
    this.destroyed += 1
  }
}

/** A `connect` that hands out fake sockets and remembers whom it was asked for. */
function fakeConnect() {
  const sockets: FakeSocket[] = []
  const endpoints: RelayEndpoint[] = []
  const connect = (endpoint: RelayEndpoint): RelaySocket => {
    const socket = new FakeSocket()
    sockets.push(socket)
    endpoints.push(endpoint)
    return socket
  }
  return { connect, sockets, endpoints }
}

/** The enclave's end of the relay channel, driven by the test. */
function manualEnclave(channel: Channel) {
  const received: RelayMessage[] = []
  let closed = 0
  channel.onMessage((frame) => received.push(decodeRelayMessage(frame)))
  channel.onClose(() => {
    closed += 1
  })
  return {
    received,
    get closed() {
      return closed
    },
    send(message: RelayMessage) {
      channel.send(encodeRelayMessage(message))
    },
    raw(bytes: Uint8Array) {
      channel.send(bytes)
    },
    /** What arrived for `stream`, in order. */
    on(stream: number) {
      return received.filter((message) => message.stream === stream)
    },
  }
}

/** A relay on an in-memory channel pair, its enclave end and its events; closed with the test. */
function startRelay(t: Test, options: RelayOptions) {
  const [parent, enclaveEnd] = createChannelPair()
  const events: RelayEvent[] = []
  const relay = serveRelay(parent, { onEvent: (event) => events.push(event), ...options })
  t.teardown(() => {
    relay.close() // stops the connect timers of streams a test left connecting
  })
  return { relay, enclave: manualEnclave(enclaveEnd), events }
}

/** A TCP echo server on loopback that keeps half-open connections; torn down with the test. */
async function startEchoServer(t: Test) {
  const sockets: Socket[] = []
  const server = createServer({ allowHalfOpen: true }, (socket) => {
    sockets.push(socket)
    socket.on('data', (chunk) => socket.write(chunk))
    socket.on('end', () => socket.end())
    socket.on('error', () => undefined) // a reset by the relay is part of some tests
  })
  server.listen(0, LOOPBACK)
  await once(server, 'listening')
  t.teardown(async () => {
    for (const socket of sockets) socket.destroy()
    server.close()
    await once(server, 'close')
  })
  const { port } = server.address() as AddressInfo
  return { port, sockets }
}

/** A loopback port nothing listens on: one a server had and gave back. */
async function closedPort(): Promise<number> {
  const server = createServer()
  server.listen(0, LOOPBACK)
  await once(server, 'listening')
  const { port } = server.address() as AddressInfo
  server.close()
  await once(server, 'close')
  return port
}

/** The bytes of every `data` message for `stream`, joined. */
function joinedData(messages: readonly RelayMessage[]): Buffer {
  return Buffer.concat(
    messages.flatMap((message) => (message.type === 'data' ? [message.bytes] : [])),
  )
}

/** `length` bytes that are not all alike, so a reordered or dropped chunk shows. */
function patternBytes(length: number): Uint8Array {
  const bytes = new Uint8Array(length)
  for (let index = 0; index < length; index += 1) bytes[index] = (index * 31 + (index >> 8)) & 0xff
  return bytes
}

t.test('defaults', (t) => {
  t.equal(DEFAULT_MAX_STREAMS, 16)
  t.equal(DEFAULT_CONNECT_TIMEOUT_MS, 5_000)
  t.equal(MAX_RELAY_BUFFERED_BYTES, 1024 * 1024)
  t.end()
})

t.test('relays a stream to a real TCP endpoint byte-exact, over a framed channel', async (t) => {
  const echo = await startEchoServer(t)
  // The real wiring: a framed channel limited to relay frames, over a loopback connection.
  const listener = createServer()
  listener.listen(0, LOOPBACK)
  await once(listener, 'listening')
  const accepted = once(listener, 'connection') as Promise<[Socket]>
  const enclaveSocket = createConnection((listener.address() as AddressInfo).port, LOOPBACK)
  const [parentSocket] = await accepted
  listener.close()
  t.teardown(() => {
    enclaveSocket.destroy()
    parentSocket.destroy()
  })
  const events: RelayEvent[] = []
  const relay = serveRelay(createFramedChannel(parentSocket, MAX_RELAY_FRAME_BYTES), {
    allowList: [{ host: LOOPBACK, port: echo.port }],
    onEvent: (event) => events.push(event),
  })
  const enclave = manualEnclave(createFramedChannel(enclaveSocket, MAX_RELAY_FRAME_BYTES))

  enclave.send({ type: 'open', stream: 7, host: LOOPBACK, port: echo.port })
  await waitFor(() => enclave.received.length > 0, 'opened')
  t.same(enclave.received, [{ type: 'opened', stream: 7 }])
  t.equal(relay.openStreams, 1)

  // 200 KiB + 3: more than three full chunks, sent as the enclave must, one chunk per message.
  const payload = patternBytes(200 * 1024 + 3)
  for (let offset = 0; offset < payload.byteLength; offset += MAX_RELAY_CHUNK_BYTES) {
    enclave.send({
      type: 'data',
      stream: 7,
      bytes: payload.subarray(offset, offset + MAX_RELAY_CHUNK_BYTES),
    })
  }
  await waitFor(() => joinedData(enclave.on(7)).byteLength >= payload.byteLength, 'the echo')
  const echoed = enclave.on(7).filter((message) => message.type === 'data')
  t.ok(
    echoed.every((message) => message.bytes.byteLength <= MAX_RELAY_CHUNK_BYTES),
    'every chunk within MAX_RELAY_CHUNK_BYTES',
  )
  t.equal(Buffer.compare(joinedData(echoed), payload), 0, 'echoed byte-exact')

  enclave.send({ type: 'end', stream: 7 })
  await waitFor(() => enclave.received.some((message) => message.type === 'close'), 'close')
  t.same(enclave.on(7).slice(-2), [
    { type: 'end', stream: 7 },
    { type: 'close', stream: 7 },
  ])
  t.equal(relay.openStreams, 0)
  t.same(events, [
    { kind: 'opened', stream: 7, host: LOOPBACK, port: echo.port },
    {
      kind: 'closed',
      stream: 7,
      host: LOOPBACK,
      port: echo.port,
      bytesToEndpoint: payload.byteLength,
      bytesToEnclave: payload.byteLength,
    },
  ])
  t.notOk('code' in (events[1] ?? {}), 'a clean close has no code')
  relay.close()
  await once(parentSocket, 'close')
  t.equal(enclave.closed, 1, 'the channel closes with the relay')
})

t.test('onEvent never sees a byte of a stream', async (t) => {
  const echo = await startEchoServer(t)
  const { enclave, events } = startRelay(t, { allowList: [{ host: LOOPBACK, port: echo.port }] })
  const secret = 'SECRET-4111111111111111'
  enclave.send({ type: 'open', stream: 1, host: LOOPBACK, port: echo.port })
  enclave.send({ type: 'data', stream: 1, bytes: new TextEncoder().encode(secret) })
  enclave.send({ type: 'end', stream: 1 })
  await waitFor(() => enclave.on(1).some((message) => message.type === 'close'), 'close')
  t.equal(new TextDecoder().decode(joinedData(enclave.on(1))), secret, 'the bytes were relayed')
  t.equal(events.length, 2)
  const fields = new Set(events.flatMap((event) => Object.keys(event)))
  t.same(
    [...fields].sort(),
    ['bytesToEnclave', 'bytesToEndpoint', 'host', 'kind', 'port', 'stream'],
    'names, numbers and codes only',
  )
  for (const event of events) {
    for (const value of Object.values(event)) {
      t.ok(typeof value === 'string' || typeof value === 'number', 'no bytes in an event')
    }
  }
  t.notMatch(JSON.stringify(events), /SECRET|4111/)
})

t.test('refuses an endpoint not on the allow-list, without connecting', async (t) => {
  const fake = fakeConnect()
  const { enclave, events, relay } = startRelay(t, {
    allowList: [{ host: 'kms.eu-west-1.amazonaws.com', port: 443 }],
    connect: fake.connect,
  })
  enclave.send({ type: 'open', stream: 1, host: 'kms.eu-west-1.amazonaws.com', port: 80 })
  enclave.send({ type: 'open', stream: 2, host: 'kms.eu-west-1.amazonaws.com.evil', port: 443 })
  enclave.send({ type: 'open', stream: 3, host: 'evil.example', port: 443 })
  await settle()
  t.equal(enclave.received.length, 3)
  for (const message of enclave.received) {
    t.match(message, { type: 'close', code: exactCode('ERR_RELAY_ENDPOINT_DENIED') })
  }
  t.same(
    enclave.received.map((message) => message.stream),
    [1, 2, 3],
  )
  t.equal(fake.sockets.length, 0, 'no connection attempted')
  t.equal(relay.openStreams, 0)
  t.match(events[2], {
    kind: 'refused',
    stream: 3,
    host: 'evil.example',
    port: 443,
    code: exactCode('ERR_RELAY_ENDPOINT_DENIED'),
  })
  t.equal(enclave.closed, 0, 'a refusal is not a protocol violation')
})

t.test('compares the host case-insensitively, the port exactly', async (t) => {
  const fake = fakeConnect()
  const { enclave } = startRelay(t, {
    allowList: [{ host: 'KMS.eu-west-1.amazonaws.com', port: 443 }],
    connect: fake.connect,
  })
  enclave.send({ type: 'open', stream: 1, host: 'kms.EU-WEST-1.amazonaws.com', port: 443 })
  await settle()
  t.same(fake.endpoints, [{ host: 'kms.EU-WEST-1.amazonaws.com', port: 443 }])
  fake.sockets[0]?.emit('connect')
  await settle()
  t.same(enclave.received, [{ type: 'opened', stream: 1 }])
})

t.test('refuses a stream past maxStreams with ERR_RELAY_STREAM_LIMIT', async (t) => {
  const fake = fakeConnect()
  const endpoint = { host: 'kms.example', port: 443 }
  const { enclave, relay, events } = startRelay(t, {
    allowList: [endpoint],
    maxStreams: 2,
    connect: fake.connect,
  })
  enclave.send({ type: 'open', stream: 1, ...endpoint })
  enclave.send({ type: 'open', stream: 2, ...endpoint })
  enclave.send({ type: 'open', stream: 3, ...endpoint })
  await settle()
  t.equal(relay.openStreams, 2, 'connecting streams count')
  t.equal(fake.sockets.length, 2)
  t.match(enclave.received, [
    { type: 'close', stream: 3, code: exactCode('ERR_RELAY_STREAM_LIMIT') },
  ])
  t.match(events, [{ kind: 'refused', stream: 3, code: exactCode('ERR_RELAY_STREAM_LIMIT') }])

  // A closed stream frees its place, and its id may be used again.
  enclave.send({ type: 'close', stream: 1 })
  enclave.send({ type: 'open', stream: 1, ...endpoint })
  await settle()
  t.equal(fake.sockets.length, 3)
  t.equal(fake.sockets[0]?.destroyed, 1)
  t.equal(relay.openStreams, 2)
})

t.test('the default limit is 16 streams', async (t) => {
  const fake = fakeConnect()
  const endpoint = { host: 'kms.example', port: 443 }
  const { enclave, relay } = startRelay(t, { allowList: [endpoint], connect: fake.connect })
  for (let stream = 1; stream <= 17; stream += 1)
    enclave.send({ type: 'open', stream, ...endpoint })
  await settle()
  t.equal(relay.openStreams, 16)
  t.match(enclave.received, [
    { type: 'close', stream: 17, code: exactCode('ERR_RELAY_STREAM_LIMIT') },
  ])
  relay.close()
})

t.test('an open for a stream id in use closes the channel and every socket', async (t) => {
  const fake = fakeConnect()
  const endpoint = { host: 'kms.example', port: 443 }
  const { enclave, relay, events } = startRelay(t, { allowList: [endpoint], connect: fake.connect })
  enclave.send({ type: 'open', stream: 1, ...endpoint })
  enclave.send({ type: 'open', stream: 2, ...endpoint })
  enclave.send({ type: 'open', stream: 1, host: 'evil.example', port: 1 })
  await settle()
  t.equal(enclave.closed, 1)
  t.same(enclave.received, [], 'no answer that could be read as one about stream 1')
  t.same(
    fake.sockets.map((socket) => socket.destroyed),
    [1, 1],
  )
  t.equal(relay.openStreams, 0)
  t.match(events, [
    { kind: 'violation', code: exactCode('ERR_PROTOCOL_BAD_REQUEST') },
    { kind: 'closed', stream: 1, code: exactCode('ERR_RELAY_CLOSED') },
    { kind: 'closed', stream: 2, code: exactCode('ERR_RELAY_CLOSED') },
  ])
})

t.test('a malformed frame closes the channel and every socket', async (t) => {
  const echo = await startEchoServer(t)
  const { enclave, relay, events } = startRelay(t, {
    allowList: [{ host: LOOPBACK, port: echo.port }],
  })
  enclave.send({ type: 'open', stream: 1, host: LOOPBACK, port: echo.port })
  await waitFor(() => enclave.received.length > 0, 'opened')
  await waitFor(() => echo.sockets.length === 1, 'the endpoint accepts')
  const endpointClosed = once(echo.sockets[0] as Socket, 'close')
  // A map with a `type` the relay does not know: {"type": "dial"}.
  enclave.raw(Uint8Array.from([0xa1, 0x64, ...Buffer.from('type'), 0x64, ...Buffer.from('dial')]))
  await endpointClosed
  t.equal(enclave.closed, 1)
  t.equal(relay.openStreams, 0)
  t.match(events.slice(1), [
    { kind: 'violation', code: exactCode('ERR_FRAME_MALFORMED') },
    { kind: 'closed', stream: 1, code: exactCode('ERR_RELAY_CLOSED') },
  ])
})

t.test('a frame that is not CBOR reports the decoder code', async (t) => {
  const { enclave, events } = startRelay(t, { allowList: [] })
  enclave.raw(Uint8Array.of(0xff))
  await settle()
  t.equal(enclave.closed, 1)
  t.match(events, [{ kind: 'violation', code: /^ERR_(CBOR|FRAME)_[A-Z_]+$/ }])
})

t.test('an opened from the enclave closes the channel', async (t) => {
  const { enclave, events } = startRelay(t, { allowList: [] })
  enclave.send({ type: 'opened', stream: 1 })
  await settle()
  t.equal(enclave.closed, 1)
  t.match(events, [{ kind: 'violation', code: exactCode('ERR_PROTOCOL_BAD_REQUEST') }])
})

t.test('a port nothing listens on fails with ERR_RELAY_CONNECT_FAILED', async (t) => {
  const port = await closedPort()
  const { enclave, relay, events } = startRelay(t, { allowList: [{ host: LOOPBACK, port }] })
  enclave.send({ type: 'open', stream: 4, host: LOOPBACK, port })
  await waitFor(() => enclave.received.length > 0, 'the refusal')
  t.match(enclave.received, [
    { type: 'close', stream: 4, code: exactCode('ERR_RELAY_CONNECT_FAILED') },
  ])
  t.equal(relay.openStreams, 0)
  t.match(events, [
    {
      kind: 'closed',
      stream: 4,
      bytesToEndpoint: 0,
      bytesToEnclave: 0,
      code: exactCode('ERR_RELAY_CONNECT_FAILED'),
    },
  ])
  await settle()
  t.equal(enclave.received.length, 1, 'the socket closing after its error adds nothing')
})

t.test('a connection that never completes times out with ERR_RELAY_CONNECT_FAILED', async (t) => {
  const fake = fakeConnect()
  const endpoint = { host: 'kms.example', port: 443 }
  const { enclave, relay } = startRelay(t, {
    allowList: [endpoint],
    connect: fake.connect,
    connectTimeoutMs: 20,
  })
  enclave.send({ type: 'open', stream: 1, ...endpoint })
  enclave.send({ type: 'data', stream: 1, bytes: Uint8Array.of(1, 2, 3) })
  await settle()
  t.same(enclave.received, [], 'still connecting')
  t.equal(fake.sockets[0]?.written.length, 1, 'data before connect waits in the socket')
  await waitFor(() => enclave.received.length > 0, 'the timeout')
  t.match(enclave.received, [
    { type: 'close', stream: 1, code: exactCode('ERR_RELAY_CONNECT_FAILED') },
  ])
  t.equal(fake.sockets[0]?.destroyed, 1)
  t.equal(relay.openStreams, 0)
})

t.test('a connect that throws fails with ERR_RELAY_CONNECT_FAILED', async (t) => {
  const endpoint = { host: 'kms.example', port: 443 }
  const { enclave, relay, events } = startRelay(t, {
    allowList: [endpoint],
    connect: () => {
      throw new TypeError('invalid address')
    },
  })
  enclave.send({ type: 'open', stream: 1, ...endpoint })
  await settle()
  t.match(enclave.received, [
    { type: 'close', stream: 1, code: exactCode('ERR_RELAY_CONNECT_FAILED') },
  ])
  t.match(events, [{ kind: 'refused', code: exactCode('ERR_RELAY_CONNECT_FAILED') }])
  t.equal(relay.openStreams, 0)
})

t.test('a connection reset mid-stream closes it with ERR_RELAY_CLOSED', async (t) => {
  const echo = await startEchoServer(t)
  const { enclave, relay, events } = startRelay(t, {
    allowList: [{ host: LOOPBACK, port: echo.port }],
  })
  enclave.send({ type: 'open', stream: 1, host: LOOPBACK, port: echo.port })
  enclave.send({ type: 'data', stream: 1, bytes: Uint8Array.of(1, 2, 3) })
  await waitFor(() => enclave.on(1).some((message) => message.type === 'data'), 'the echo')
  ;(echo.sockets[0] as Socket).resetAndDestroy()
  await waitFor(() => enclave.on(1).some((message) => message.type === 'close'), 'close')
  t.match(enclave.on(1).at(-1), { type: 'close', code: exactCode('ERR_RELAY_CLOSED') })
  t.equal(relay.openStreams, 0)
  t.match(events.at(-1), {
    kind: 'closed',
    bytesToEndpoint: 3,
    bytesToEnclave: 3,
    code: exactCode('ERR_RELAY_CLOSED'),
  })
})

t.test('a socket error after connect closes the stream with ERR_RELAY_CLOSED', async (t) => {
  const fake = fakeConnect()
  const endpoint = { host: 'kms.example', port: 443 }
  const { enclave, relay } = startRelay(t, { allowList: [endpoint], connect: fake.connect })
  enclave.send({ type: 'open', stream: 1, ...endpoint })
  await settle()
  const socket = fake.sockets[0] as FakeSocket
  socket.emit('connect')
  socket.emit('error', new Error('EPIPE'))
  socket.emit('close')
  await settle()
  t.match(enclave.received, [
    { type: 'opened', stream: 1 },
    { type: 'close', stream: 1, code: exactCode('ERR_RELAY_CLOSED') },
  ])
  t.equal(socket.destroyed, 1)
  t.equal(relay.openStreams, 0)
})

t.test('a socket that closes without both sides ending closes with a code', async (t) => {
  const fake = fakeConnect()
  const endpoint = { host: 'kms.example', port: 443 }
  const { enclave } = startRelay(t, { allowList: [endpoint], connect: fake.connect })
  enclave.send({ type: 'open', stream: 1, ...endpoint })
  enclave.send({ type: 'open', stream: 2, ...endpoint })
  enclave.send({ type: 'open', stream: 3, ...endpoint })
  await settle()
  const [one, two, three] = fake.sockets as [FakeSocket, FakeSocket, FakeSocket]
  // Endpoint ended, enclave did not: the stream was cut short.
  one.emit('connect')
  one.emit('end')
  one.emit('close')
  // Enclave ended, endpoint did not.
  two.emit('connect')
  enclave.send({ type: 'end', stream: 2 })
  await settle()
  two.emit('close')
  // Closed before it ever connected, with no error.
  three.emit('close')
  await settle()
  t.match(enclave.on(1), [
    { type: 'opened' },
    { type: 'end' },
    { type: 'close', code: exactCode('ERR_RELAY_CLOSED') },
  ])
  t.match(enclave.on(2), [
    { type: 'opened' },
    { type: 'close', code: exactCode('ERR_RELAY_CLOSED') },
  ])
  t.match(enclave.on(3), [{ type: 'close', code: exactCode('ERR_RELAY_CONNECT_FAILED') }])
})

t.test('endpoint data is split into chunks of at most MAX_RELAY_CHUNK_BYTES', async (t) => {
  const fake = fakeConnect()
  const endpoint = { host: 'kms.example', port: 443 }
  const { enclave, events } = startRelay(t, { allowList: [endpoint], connect: fake.connect })
  enclave.send({ type: 'open', stream: 1, ...endpoint })
  await settle()
  const socket = fake.sockets[0] as FakeSocket
  socket.emit('connect')
  const bytes = Buffer.from(patternBytes(2 * MAX_RELAY_CHUNK_BYTES + 1))
  socket.emit('data', bytes)
  await settle()
  const data = enclave.on(1).filter((message) => message.type === 'data')
  t.same(
    data.map((message) => message.bytes.byteLength),
    [MAX_RELAY_CHUNK_BYTES, MAX_RELAY_CHUNK_BYTES, 1],
  )
  t.equal(Buffer.compare(joinedData(data), bytes), 0)
  socket.emit('end')
  enclave.send({ type: 'end', stream: 1 })
  await settle()
  t.equal(socket.ended, 1)
  socket.emit('close')
  await settle()
  t.same(enclave.on(1).slice(-2), [
    { type: 'end', stream: 1 },
    { type: 'close', stream: 1 },
  ])
  t.match(events.at(-1), { kind: 'closed', bytesToEnclave: bytes.byteLength, bytesToEndpoint: 0 })
})

t.test('more than MAX_RELAY_BUFFERED_BYTES unsent aborts the stream', async (t) => {
  const fake = fakeConnect()
  const endpoint = { host: 'kms.example', port: 443 }
  const { enclave, relay } = startRelay(t, { allowList: [endpoint], connect: fake.connect })
  enclave.send({ type: 'open', stream: 1, ...endpoint })
  await settle()
  const socket = fake.sockets[0] as FakeSocket
  socket.writableLength = MAX_RELAY_BUFFERED_BYTES
  enclave.send({ type: 'data', stream: 1, bytes: Uint8Array.of(1) })
  await settle()
  t.same(enclave.received, [], 'exactly at the cap is still fine')
  socket.writableLength = MAX_RELAY_BUFFERED_BYTES + 1
  enclave.send({ type: 'data', stream: 1, bytes: Uint8Array.of(2) })
  await settle()
  t.match(enclave.received, [{ type: 'close', stream: 1, code: exactCode('ERR_RELAY_CLOSED') }])
  t.equal(socket.destroyed, 1)
  t.equal(relay.openStreams, 0)
})

t.test('data after the enclave ended the stream aborts it; a second end is ignored', async (t) => {
  const fake = fakeConnect()
  const endpoint = { host: 'kms.example', port: 443 }
  const { enclave } = startRelay(t, { allowList: [endpoint], connect: fake.connect })
  enclave.send({ type: 'open', stream: 1, ...endpoint })
  enclave.send({ type: 'end', stream: 1 })
  enclave.send({ type: 'end', stream: 1 })
  await settle()
  const socket = fake.sockets[0] as FakeSocket
  t.equal(socket.ended, 1)
  t.same(enclave.received, [])
  enclave.send({ type: 'data', stream: 1, bytes: Uint8Array.of(1) })
  await settle()
  t.same(socket.written, [], 'nothing written after the FIN')
  t.match(enclave.received, [{ type: 'close', stream: 1, code: exactCode('ERR_RELAY_CLOSED') }])
})

t.test('close from the enclave destroys the socket without an answer', async (t) => {
  const echo = await startEchoServer(t)
  const { enclave, relay, events } = startRelay(t, {
    allowList: [{ host: LOOPBACK, port: echo.port }],
  })
  enclave.send({ type: 'open', stream: 1, host: LOOPBACK, port: echo.port })
  await waitFor(() => echo.sockets.length === 1 && enclave.received.length === 1, 'opened')
  const endpointClosed = once(echo.sockets[0] as Socket, 'close')
  enclave.send({ type: 'close', stream: 1, code: 'ERR_KMS_NOT_CONFIGURED' })
  await endpointClosed
  await settle()
  t.same(enclave.received, [{ type: 'opened', stream: 1 }], 'no answer to a close')
  t.equal(relay.openStreams, 0)
  t.same(events.at(-1), {
    kind: 'closed',
    stream: 1,
    host: LOOPBACK,
    port: echo.port,
    bytesToEndpoint: 0,
    bytesToEnclave: 0,
  })
})

t.test('data, end and close for an unknown stream are ignored', async (t) => {
  const fake = fakeConnect()
  const endpoint = { host: 'kms.example', port: 443 }
  const { enclave, relay, events } = startRelay(t, { allowList: [endpoint], connect: fake.connect })
  enclave.send({ type: 'data', stream: 9, bytes: Uint8Array.of(1) })
  enclave.send({ type: 'end', stream: 9 })
  enclave.send({ type: 'close', stream: 9 })
  enclave.send({ type: 'open', stream: 1, ...endpoint })
  await settle()
  t.equal(enclave.closed, 0)
  t.same(enclave.received, [])
  t.same(events, [])
  t.equal(relay.openStreams, 1, 'the relay still serves')
  t.equal(fake.sockets.length, 1)
})

t.test('late events of a forgotten socket are dropped, even when its id is reused', async (t) => {
  const fake = fakeConnect()
  const endpoint = { host: 'kms.example', port: 443 }
  const { enclave, relay } = startRelay(t, { allowList: [endpoint], connect: fake.connect })
  enclave.send({ type: 'open', stream: 1, ...endpoint })
  await settle()
  enclave.send({ type: 'close', stream: 1 })
  enclave.send({ type: 'open', stream: 1, ...endpoint })
  await settle()
  const [old, current] = fake.sockets as [FakeSocket, FakeSocket]
  old.emit('connect')
  old.emit('data', Buffer.from('late'))
  old.emit('end')
  old.emit('error', new Error('late'))
  old.emit('close')
  await settle()
  t.same(enclave.received, [], 'nothing from the old socket')
  t.equal(relay.openStreams, 1)
  t.equal(current.destroyed, 0, 'the new stream is untouched')
})

t.test('a closing channel destroys every socket', async (t) => {
  const echo = await startEchoServer(t)
  const { enclave, relay, events } = startRelay(t, {
    allowList: [{ host: LOOPBACK, port: echo.port }],
  })
  enclave.send({ type: 'open', stream: 1, host: LOOPBACK, port: echo.port })
  enclave.send({ type: 'open', stream: 2, host: LOOPBACK, port: echo.port })
  await waitFor(() => echo.sockets.length === 2 && enclave.received.length === 2, 'opened')
  const endpointsClosed = Promise.all(echo.sockets.map((socket) => once(socket, 'close')))
  relay.close()
  await endpointsClosed
  t.equal(enclave.closed, 1)
  t.equal(relay.openStreams, 0)
  t.match(events.slice(-2), [
    { kind: 'closed', code: exactCode('ERR_RELAY_CLOSED') },
    { kind: 'closed', code: exactCode('ERR_RELAY_CLOSED') },
  ])
  relay.close() // a second close is harmless
})

t.test('the enclave closing the channel destroys every socket and stops timers', async (t) => {
  const fake = fakeConnect()
  const endpoint = { host: 'kms.example', port: 443 }
  const [parent, enclaveEnd] = createChannelPair()
  const relay = serveRelay(parent, { allowList: [endpoint], connect: fake.connect })
  const enclave = manualEnclave(enclaveEnd)
  enclave.send({ type: 'open', stream: 1, ...endpoint })
  await settle()
  enclaveEnd.close()
  t.equal(fake.sockets[0]?.destroyed, 1)
  t.equal(relay.openStreams, 0)
})

t.test('works without an onEvent listener', async (t) => {
  const fake = fakeConnect()
  const endpoint = { host: 'kms.example', port: 443 }
  const [parent, enclaveEnd] = createChannelPair()
  serveRelay(parent, { allowList: [endpoint], connect: fake.connect })
  const enclave = manualEnclave(enclaveEnd)
  enclave.send({ type: 'open', stream: 1, host: 'evil.example', port: 443 })
  await settle()
  t.match(enclave.received, [{ type: 'close', code: exactCode('ERR_RELAY_ENDPOINT_DENIED') }])
})

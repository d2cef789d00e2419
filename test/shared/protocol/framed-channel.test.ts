import t, { type Test } from 'tap'
import { EventEmitter, once } from 'node:events'
import { mkdtemp, rm } from 'node:fs/promises'
import { createConnection, createServer, type Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { toHex } from '../../../shared/bytes/bytes.js'
import { encodeFrame } from '../../../shared/protocol/frame.js'
import {
  createFramedChannel,
  type ByteStream,
  type Channel,
} from '../../../shared/protocol/framed-channel.js'
import { hexBytes } from '../../helpers/hex-bytes.js'

/** A stream that records what the channel does to it; the test plays the peer with `deliver`. */
class FakeStream extends EventEmitter implements ByteStream {
  readonly written: Uint8Array[] = []
  destroyed = 0
  ended = 0

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

  /** The peer's bytes arriving, as a socket delivers them: a Buffer, here a view at an offset. */
  deliver(bytes: Uint8Array): void {
    const padded = Buffer.alloc(bytes.byteLength + 3, 0xee)
    padded.set(bytes, 3)
    this.emit('data', padded.subarray(3))
  }
}

/** A channel on a fake stream, with what it delivered and how often it closed. */
function fakeChannel(maxFrameBytes?: number) {
  const stream = new FakeStream()
  const channel =
    maxFrameBytes === undefined
      ? createFramedChannel(stream)
      : createFramedChannel(stream, maxFrameBytes)
  const messages: string[] = []
  let closes = 0
  channel.onMessage((message) => messages.push(toHex(message)))
  channel.onClose(() => {
    closes += 1
  })
  return { stream, channel, messages, closes: () => closes }
}

/** The frames of `hexMessages`, one after another. */
function frames(...hexMessages: string[]): Uint8Array {
  return Buffer.concat(hexMessages.map((message) => encodeFrame(hexBytes(message))))
}

t.test('send writes one frame per message', (t) => {
  const { stream, channel } = fakeChannel()
  t.equal(channel.send(hexBytes('a0')), true)
  t.equal(channel.send(hexBytes('a16161f5')), true)
  t.same(stream.written.map(toHex), ['00000001a0', '00000004a16161f5'])
  t.equal(stream.destroyed, 0)
  t.end()
})

t.test('send refuses a message over the limit with ERR_FRAME_TOO_LARGE', (t) => {
  const { stream, channel } = fakeChannel(2)
  t.equal(channel.send(hexBytes('0102')), true)
  t.throws(() => channel.send(hexBytes('010203')), { code: /^ERR_FRAME_TOO_LARGE$/ })
  t.same(stream.written.map(toHex), ['000000020102'], 'nothing written for it')
  t.end()
})

t.test('messages arrive whole and in order, whatever the chunking', (t) => {
  const stream = frames('a0', '0102', '030405', 'ff'.repeat(300))
  const expected = ['a0', '0102', '030405', 'ff'.repeat(300)]
  for (let offset = 0; offset <= stream.byteLength; offset += 1) {
    const { stream: fake, messages, closes } = fakeChannel()
    fake.deliver(stream.subarray(0, offset))
    fake.deliver(stream.subarray(offset))
    if (messages.join() !== expected.join() || closes() !== 0) t.fail(`cut at ${offset}`)
  }
  const { stream: fake, messages } = fakeChannel()
  for (const byte of stream) fake.deliver(Uint8Array.of(byte))
  t.same(messages, expected, 'one byte at a time')
  const whole = fakeChannel()
  whole.stream.deliver(stream)
  t.same(whole.messages, expected, 'all in one chunk')
  t.end()
})

t.test('every message listener gets every message, in the order they were added', (t) => {
  const { stream, channel } = fakeChannel()
  const seen: string[] = []
  channel.onMessage((message) => seen.push(`first ${toHex(message)}`))
  channel.onMessage((message) => seen.push(`second ${toHex(message)}`))
  stream.deliver(frames('01', '02'))
  t.same(seen, ['first 01', 'second 01', 'first 02', 'second 02'])
  t.end()
})

t.test('a message is a copy: reusing the chunk does not change it', (t) => {
  const stream = new FakeStream()
  const channel = createFramedChannel(stream)
  const received: Uint8Array[] = []
  channel.onMessage((message) => received.push(message))
  const chunk = Buffer.from(frames('0102'))
  stream.emit('data', chunk)
  chunk.fill(0)
  t.same(received.map(toHex), ['0102'])
  t.end()
})

t.test('a frame over the limit from the peer closes the channel and delivers nothing', (t) => {
  const { stream, channel, messages, closes } = fakeChannel(4)
  stream.deliver(hexBytes('00000005'))
  t.equal(closes(), 1)
  t.equal(stream.destroyed, 1)
  t.same(messages, [])
  t.equal(channel.send(hexBytes('a0')), false, 'send after close')
  t.same(stream.written, [])
  stream.deliver(frames('a0'))
  t.same(messages, [], 'nothing is read after close')
  stream.emit('close')
  t.equal(closes(), 1, 'onClose ran once')
  t.end()
})

t.test('a 4 GiB header closes the channel without waiting for its body', (t) => {
  const { stream, messages, closes } = fakeChannel()
  stream.deliver(hexBytes('ffffffff'))
  t.equal(closes(), 1)
  t.same(messages, [])
  t.end()
})

t.test('an empty frame from the peer closes the channel and delivers nothing', (t) => {
  const { stream, messages, closes } = fakeChannel()
  stream.deliver(hexBytes('00000000' + '00000001a0'))
  t.equal(closes(), 1)
  t.equal(stream.destroyed, 1)
  t.same(messages, [], 'not even the frame after it')
  t.end()
})

t.test('a stream error closes the channel once', (t) => {
  const { stream, channel, closes } = fakeChannel()
  stream.emit('error', new Error('ECONNRESET'))
  t.equal(closes(), 1)
  t.equal(stream.destroyed, 1)
  t.equal(channel.send(hexBytes('a0')), false)
  stream.emit('error', new Error('again'))
  stream.emit('close')
  channel.close()
  t.equal(closes(), 1, 'still once')
  t.equal(stream.destroyed, 1)
  t.end()
})

t.test('the stream closing closes the channel once', (t) => {
  const { stream, channel, messages, closes } = fakeChannel()
  stream.deliver(frames('01'))
  stream.emit('close')
  t.equal(closes(), 1)
  t.equal(channel.send(hexBytes('a0')), false)
  stream.deliver(frames('02'))
  t.same(messages, ['01'])
  t.end()
})

t.test('close destroys the stream and runs every close listener once', (t) => {
  const { stream, channel, closes } = fakeChannel()
  let second = 0
  channel.onClose(() => {
    second += 1
  })
  channel.close()
  channel.close()
  t.equal(stream.destroyed, 1)
  t.equal(stream.ended, 0)
  t.equal(closes(), 1)
  t.equal(second, 1)
  t.equal(channel.send(hexBytes('a0')), false)
  t.end()
})

t.test('a stream that emits close while being destroyed still closes the channel once', (t) => {
  const stream = new FakeStream()
  stream.destroy = () => {
    stream.destroyed += 1
    stream.emit('close')
  }
  const channel = createFramedChannel(stream)
  let closes = 0
  channel.onClose(() => {
    closes += 1
  })
  channel.close()
  t.equal(closes, 1)
  t.equal(stream.destroyed, 1)
  t.end()
})

t.test('nothing is delivered once a listener has closed the channel', (t) => {
  const { stream, channel } = fakeChannel()
  const seen: string[] = []
  channel.onMessage((message) => {
    seen.push(toHex(message))
    if (toHex(message) === '02') channel.close()
  })
  const later: string[] = []
  channel.onMessage((message) => later.push(toHex(message)))
  stream.deliver(frames('01', '02', '03'))
  t.same(seen, ['01', '02'], 'the third message of the chunk is not delivered')
  t.same(later, ['01'], 'nor the closing message to a later listener')
  t.end()
})

/** A channel on each end of a Unix socket in a fresh directory, and the sockets themselves. */
async function socketPair(t: Test): Promise<{
  readonly client: Channel
  readonly server: Channel
  readonly clientSocket: Socket
  readonly serverSocket: Socket
}> {
  const directory = await mkdtemp(join(tmpdir(), 'cloister-channel-'))
  const path = join(directory, 'channel.sock')
  const server = createServer()
  server.listen(path)
  await once(server, 'listening')
  const accepted = once(server, 'connection') as Promise<[Socket]>
  const clientSocket = createConnection(path)
  await once(clientSocket, 'connect')
  const [serverSocket] = await accepted
  t.teardown(async () => {
    clientSocket.destroy()
    serverSocket.destroy()
    server.close()
    await rm(directory, { recursive: true, force: true })
  })
  return {
    client: createFramedChannel(clientSocket),
    server: createFramedChannel(serverSocket),
    clientSocket,
    serverSocket,
  }
}

/** The next `count` messages `channel` receives. */
function nextMessages(channel: Channel, count: number): Promise<Uint8Array[]> {
  return new Promise((resolve) => {
    const received: Uint8Array[] = []
    channel.onMessage((message) => {
      received.push(message)
      if (received.length === count) resolve(received)
    })
  })
}

/** Resolves when `channel` closes. */
function closed(channel: Channel): Promise<void> {
  return new Promise((resolve) => {
    channel.onClose(resolve)
  })
}

t.test('over a Unix socket: messages cross both ways, whole and in order', async (t) => {
  const { client, server } = await socketPair(t)
  const large = Uint8Array.from({ length: 512 * 1024 }, (_, index) => (index * 31) & 0xff)
  const sent = [hexBytes('a0'), large, hexBytes('0102'), new Uint8Array(65536).fill(7)]
  const atServer = nextMessages(server, sent.length)
  for (const message of sent) t.equal(client.send(message), true)
  t.same((await atServer).map(toHex), sent.map(toHex), 'client to server')
  const atClient = nextMessages(client, 3)
  for (const message of ['01', '02', '03']) server.send(hexBytes(message))
  t.same((await atClient).map(toHex), ['01', '02', '03'], 'server to client')
})

t.test('over a Unix socket: closing one end closes the other', async (t) => {
  const { client, server } = await socketPair(t)
  let serverCloses = 0
  server.onClose(() => {
    serverCloses += 1
  })
  const clientClosed = closed(client)
  const serverClosed = closed(server)
  client.close()
  await Promise.all([clientClosed, serverClosed])
  t.equal(serverCloses, 1)
  t.equal(server.send(hexBytes('a0')), false)
  t.equal(client.send(hexBytes('a0')), false)
})

t.test('over a Unix socket: a frame over the limit closes the receiving channel', async (t) => {
  const { server, clientSocket } = await socketPair(t)
  const received: string[] = []
  server.onMessage((message) => received.push(toHex(message)))
  const first = nextMessages(server, 1)
  clientSocket.write(hexBytes('00000001a0'))
  await first
  const serverClosed = closed(server)
  clientSocket.write(hexBytes('7fffffff'))
  await serverClosed
  t.same(received, ['a0'], 'the frame before the bad header, and nothing after')
  await once(clientSocket, 'close')
  t.pass('the peer sees the connection closed')
})

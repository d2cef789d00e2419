import { once } from 'node:events'
import type { Duplex } from 'node:stream'
import t from 'tap'
import {
  createRelayConnector,
  type RelayConnector,
} from '../../../enclave/relay/relay-connector.js'
import { toHex } from '../../../shared/bytes/bytes.js'
import { isCloisterError } from '../../../shared/errors/cloister-error.js'
import type { Channel } from '../../../shared/protocol/framed-channel.js'
import {
  decodeRelayMessage,
  encodeRelayMessage,
  MAX_RELAY_CHUNK_BYTES,
  type RelayMessage,
} from '../../../shared/protocol/relay-messages.js'
import { createChannelPair } from '../../fakes/channel-pair.js'
import { hexBytes } from '../../helpers/hex-bytes.js'

/** The parent's end of the relay channel, as the test plays it. */
interface Parent {
  readonly channel: Channel
  /** The next message the enclave sends, decoded. */
  next(): Promise<RelayMessage>
  send(message: RelayMessage): boolean
}

/** The code of `error`, or its text when it is not a catalog error. */
const codeOf = (error: unknown) => (isCloisterError(error) ? error.code : String(error))

/**
 * A connector over one end of a channel pair, and the other end for the test. Every stream it
 * opens records its error in `errors` (by stream id), so that closing the channel at the end of a
 * test fails open streams without an unhandled 'error' event.
 */
function setUp() {
  const [enclaveEnd, parentEnd] = createChannelPair()
  const inner = createRelayConnector(enclaveEnd)
  const errors = new Map<number, string>()
  let opened = 0
  const connector: RelayConnector = {
    open(host, port) {
      const stream = inner.open(host, port)
      opened += 1
      const id = opened
      stream.on('error', (error) => errors.set(id, codeOf(error)))
      return stream
    },
  }
  const queued: RelayMessage[] = []
  const waiting: ((message: RelayMessage) => void)[] = []
  parentEnd.onMessage((bytes) => {
    const message = decodeRelayMessage(bytes)
    const resolve = waiting.shift()
    if (resolve === undefined) queued.push(message)
    else resolve(message)
  })
  const parent: Parent = {
    channel: parentEnd,
    next: () => {
      const message = queued.shift()
      if (message !== undefined) return Promise.resolve(message)
      return new Promise((resolve) => waiting.push(resolve))
    },
    send: (message) => parentEnd.send(encodeRelayMessage(message)),
  }
  return { connector, enclaveEnd, parent, errors }
}

/** The code of the error `stream` fails with. */
async function failure(stream: Duplex): Promise<string> {
  const [error] = (await once(stream, 'error')) as [unknown]
  return codeOf(error)
}

/** Every byte `stream` yields until its end (read by events: an async iterator would destroy it). */
async function readAll(stream: Duplex): Promise<Buffer> {
  const chunks: Buffer[] = []
  stream.on('data', (chunk: Buffer) => chunks.push(chunk))
  await once(stream, 'end')
  return Buffer.concat(chunks)
}

/** A turn of the event loop, for messages in flight through the channel pair. */
const turn = () => new Promise((resolve) => setImmediate(resolve))

t.test('open sends open with increasing stream ids', async (t) => {
  const { connector, parent, errors } = setUp()
  const first = connector.open('kms.eu-west-1.amazonaws.com', 443)
  const second = connector.open('other.example', 8443)
  t.same(await parent.next(), {
    type: 'open',
    stream: 1,
    host: 'kms.eu-west-1.amazonaws.com',
    port: 443,
  })
  t.same(await parent.next(), { type: 'open', stream: 2, host: 'other.example', port: 8443 })
  t.equal(first.destroyed, false)
  t.equal(second.destroyed, false)
  parent.channel.close()
  await turn()
  t.same(
    [...errors],
    [
      [1, 'ERR_RELAY_CLOSED'],
      [2, 'ERR_RELAY_CLOSED'],
    ],
  )
})

t.test('writes become data messages, split at MAX_RELAY_CHUNK_BYTES', async (t) => {
  const { connector, parent, errors } = setUp()
  const stream = connector.open('kms', 443)
  t.same(await parent.next(), { type: 'open', stream: 1, host: 'kms', port: 443 })

  stream.write(hexBytes('160301'))
  t.same(await parent.next(), { type: 'data', stream: 1, bytes: hexBytes('160301') })

  const large = Buffer.alloc(2 * MAX_RELAY_CHUNK_BYTES + 5)
  for (let index = 0; index < large.byteLength; index += 1) large[index] = index % 251
  stream.write(large)
  const sizes: number[] = []
  const received: Uint8Array[] = []
  for (let part = 0; part < 3; part += 1) {
    const message = await parent.next()
    t.equal(message.type, 'data')
    t.equal(message.stream, 1)
    if (message.type === 'data') {
      sizes.push(message.bytes.byteLength)
      received.push(message.bytes)
    }
  }
  t.same(sizes, [MAX_RELAY_CHUNK_BYTES, MAX_RELAY_CHUNK_BYTES, 5])
  t.ok(Buffer.concat(received).equals(large), 'the chunks are the write, in order')

  const exact = Buffer.alloc(MAX_RELAY_CHUNK_BYTES, 0x5a)
  stream.write(exact)
  const whole = await parent.next()
  t.equal(whole.type === 'data' && Buffer.from(whole.bytes).equals(exact), true, 'one chunk')

  stream.end()
  t.same(await parent.next(), { type: 'end', stream: 1 })
  parent.channel.close()
  await turn()
  t.same([...errors], [[1, 'ERR_RELAY_CLOSED']])
})

t.test('incoming data and end reach the readable side byte-exact', async (t) => {
  const { connector, parent, errors } = setUp()
  const stream = connector.open('kms', 443)
  await parent.next()
  parent.send({ type: 'opened', stream: 1 })
  parent.send({ type: 'data', stream: 1, bytes: hexBytes('00') })
  parent.send({ type: 'data', stream: 1, bytes: new Uint8Array(0) })
  parent.send({ type: 'data', stream: 1, bytes: new Uint8Array(MAX_RELAY_CHUNK_BYTES).fill(0xff) })
  parent.send({ type: 'data', stream: 1, bytes: hexBytes('0102fe') })
  parent.send({ type: 'end', stream: 1 })
  const all = await readAll(stream)
  t.equal(all.byteLength, 1 + MAX_RELAY_CHUNK_BYTES + 3)
  t.equal(toHex(all.subarray(0, 1)), '00')
  t.equal(
    all.subarray(1, 1 + MAX_RELAY_CHUNK_BYTES).every((byte) => byte === 0xff),
    true,
  )
  t.equal(toHex(all.subarray(1 + MAX_RELAY_CHUNK_BYTES)), '0102fe')
  t.equal(stream.writable, true, 'half-closed: the enclave may still write')
  stream.write(hexBytes('aa'))
  t.same(await parent.next(), { type: 'data', stream: 1, bytes: hexBytes('aa') })
  parent.channel.close()
  await turn()
  t.same([...errors], [[1, 'ERR_RELAY_CLOSED']])
})

t.test('an incoming close fails the stream with its code, or ERR_RELAY_CLOSED', async (t) => {
  const { connector, parent, errors } = setUp()
  const denied = connector.open('denied.example', 443)
  const dropped = connector.open('kms', 443)
  t.same(await parent.next(), { type: 'open', stream: 1, host: 'denied.example', port: 443 })
  t.same(await parent.next(), { type: 'open', stream: 2, host: 'kms', port: 443 })
  parent.send({ type: 'close', stream: 1, code: 'ERR_RELAY_ENDPOINT_DENIED' })
  t.equal(await failure(denied), 'ERR_RELAY_ENDPOINT_DENIED')
  parent.send({ type: 'close', stream: 2 })
  t.equal(await failure(dropped), 'ERR_RELAY_CLOSED')
  t.equal(denied.destroyed, true)
  t.equal(dropped.destroyed, true)

  // Neither stream answers with a close of its own: the next message is the next open.
  connector.open('kms', 443)
  t.same(await parent.next(), { type: 'open', stream: 3, host: 'kms', port: 443 })
  parent.channel.close()
  await turn()
  t.same(
    [...errors],
    [
      [1, 'ERR_RELAY_ENDPOINT_DENIED'],
      [2, 'ERR_RELAY_CLOSED'],
      [3, 'ERR_RELAY_CLOSED'],
    ],
  )
})

t.test('destroy from the enclave sends close, once', async (t) => {
  const { connector, parent, errors } = setUp()
  const stream = connector.open('kms', 443)
  await parent.next()
  stream.destroy()
  stream.destroy()
  t.same(await parent.next(), { type: 'close', stream: 1 })
  t.equal(stream.destroyed, true)

  const failed = connector.open('kms', 443)
  t.same(await parent.next(), { type: 'open', stream: 2, host: 'kms', port: 443 })
  const failing = failure(failed)
  failed.destroy(new Error('tls alert'))
  t.equal(await failing, 'Error: tls alert')
  t.same(await parent.next(), { type: 'close', stream: 2 })

  // Messages for the closed streams are a race with our own close: dropped.
  parent.send({ type: 'data', stream: 1, bytes: hexBytes('01') })
  parent.send({ type: 'close', stream: 2, code: 'ERR_RELAY_CONNECT_FAILED' })
  await turn()
  connector.open('kms', 443)
  t.same(await parent.next(), { type: 'open', stream: 3, host: 'kms', port: 443 })
  parent.channel.close()
  await turn()
  t.same(
    [...errors],
    [
      [2, 'Error: tls alert'],
      [3, 'ERR_RELAY_CLOSED'],
    ],
  )
})

t.test('messages for unknown streams and opened are ignored', async (t) => {
  const { connector, parent, errors } = setUp()
  let closed = false
  parent.channel.onClose(() => {
    closed = true
  })
  const stream = connector.open('kms', 443)
  await parent.next()
  const chunks: string[] = []
  stream.on('data', (chunk: Buffer) => chunks.push(toHex(chunk)))
  parent.send({ type: 'data', stream: 99, bytes: hexBytes('99') })
  parent.send({ type: 'end', stream: 99 })
  parent.send({ type: 'close', stream: 99, code: 'ERR_RELAY_CONNECT_FAILED' })
  parent.send({ type: 'open', stream: 99, host: 'x', port: 1 })
  parent.send({ type: 'opened', stream: 1 })
  parent.send({ type: 'opened', stream: 1 })
  parent.send({ type: 'data', stream: 1, bytes: hexBytes('0a0b') })
  await turn()
  await turn()
  t.same(chunks, ['0a0b'])
  t.equal(closed, false)
  t.equal(stream.destroyed, false)
  parent.channel.close()
  await turn()
  t.same([...errors], [[1, 'ERR_RELAY_CLOSED']])
})

t.test('a malformed frame closes the channel and fails every stream', async (t) => {
  const { connector, parent, errors } = setUp()
  let closed = 0
  parent.channel.onClose(() => {
    closed += 1
  })
  const first = connector.open('kms', 443)
  const second = connector.open('kms', 443)
  await parent.next()
  await parent.next()
  const failures = [failure(first), failure(second)]
  parent.channel.send(hexBytes('a0'))
  t.same(await Promise.all(failures), ['ERR_RELAY_CLOSED', 'ERR_RELAY_CLOSED'])
  t.equal(closed, 1)
  t.equal(parent.send({ type: 'end', stream: 1 }), false, 'the channel is closed')
  t.same(
    [...errors],
    [
      [1, 'ERR_RELAY_CLOSED'],
      [2, 'ERR_RELAY_CLOSED'],
    ],
  )
})

t.test('a frame that is not CBOR closes the channel too', async (t) => {
  const { connector, parent, errors } = setUp()
  const stream = connector.open('kms', 443)
  await parent.next()
  const failing = failure(stream)
  parent.channel.send(hexBytes('ff'))
  t.equal(await failing, 'ERR_RELAY_CLOSED')
  t.same([...errors], [[1, 'ERR_RELAY_CLOSED']])
})

t.test('an open from the parent closes the channel and fails every stream', async (t) => {
  const { connector, parent, errors } = setUp()
  const first = connector.open('kms', 443)
  const second = connector.open('kms', 443)
  await parent.next()
  await parent.next()
  const failures = [failure(first), failure(second)]
  parent.send({ type: 'open', stream: 1, host: 'kms', port: 443 })
  t.same(await Promise.all(failures), ['ERR_RELAY_CLOSED', 'ERR_RELAY_CLOSED'])
  t.equal(parent.send({ type: 'opened', stream: 1 }), false, 'the channel is closed')
  t.same(
    [...errors],
    [
      [1, 'ERR_RELAY_CLOSED'],
      [2, 'ERR_RELAY_CLOSED'],
    ],
  )
})

t.test('opening on a closed channel fails the stream on the next tick', async (t) => {
  const { connector, enclaveEnd } = setUp()
  enclaveEnd.close()
  const stream = connector.open('kms', 443)
  t.equal(stream.destroyed, false, 'not yet')
  t.equal(await failure(stream), 'ERR_RELAY_CLOSED')
  t.equal(stream.destroyed, true)
  const again = connector.open('kms', 443)
  t.equal(await failure(again), 'ERR_RELAY_CLOSED')
})

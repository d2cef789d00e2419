/** The real process I/O: bounded reads of files and standard input. */

import { EventEmitter } from 'node:events'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import t from 'tap'
import { createProcessIo } from '../../../scripts/cli/cli-io.js'
import { decodeDocumentInput } from '../../../scripts/cli/decode-document-input.js'

function streams(stdinChunks: Uint8Array[]) {
  const written = { out: '', err: '' }
  const signals = new EventEmitter()
  return {
    written,
    signals,
    streams: {
      once: (signal: 'SIGINT' | 'SIGTERM', listener: () => void) => signals.once(signal, listener),
      stdin: Readable.from(stdinChunks),
      stdout: { write: (text: string) => (written.out += text) },
      stderr: { write: (text: string) => (written.err += text) },
    },
  }
}

t.test('files and standard input are read up to one byte past the limit', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'cloister-cli-'))
  const path = join(dir, 'input')
  writeFileSync(path, Buffer.alloc(100, 7))
  const { streams: fake, written } = streams([
    new Uint8Array(30).fill(1),
    new Uint8Array(30).fill(2),
  ])
  const io = createProcessIo(fake)
  t.equal((await io.readInput(path, 1000)).byteLength, 100)
  t.equal((await io.readInput(path, 10)).byteLength, 11)
  const stdin = await io.readInput('-', 40)
  t.equal(stdin.byteLength, 41)
  t.equal(stdin[40], 2)
  await t.rejects(io.readInput(join(dir, 'missing'), 10), { code: 'ENOENT' })
  io.stdout('out')
  io.stderr('err')
  t.same(written, { out: 'out', err: 'err' })
  t.ok(Math.abs(io.now() - Date.now()) < 60_000)
  await io.writeOutput(join(dir, 'out'), 'written')
  t.equal(readFileSync(join(dir, 'out'), 'utf8'), 'written')
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    const { streams: fake, signals } = streams([])
    const shutdown = createProcessIo(fake).waitForShutdown()
    signals.emit(signal)
    await shutdown
    t.pass(`${signal} ends the wait`)
  }
  const small = createProcessIo(streams([Uint8Array.of(1, 2)]).streams)
  t.same(await small.readInput('-', 40), Uint8Array.of(1, 2))
})

t.test('input text forms are recognised; anything else passes through as raw bytes', (t) => {
  const raw = Uint8Array.of(0x84, 0x44, 0xa1)
  t.equal(decodeDocumentInput(raw), raw)
  const encode = (text: string) => new TextEncoder().encode(text)
  t.same(decodeDocumentInput(encode('8444A1\n')), raw)
  t.same(decodeDocumentInput(encode('hESh\n')), raw)
  t.same(decodeDocumentInput(encode('hESh')), raw)
  t.same(decodeDocumentInput(encode('_-_-')), Uint8Array.of(0xff, 0xef, 0xfe))
  const empty = encode(' \n')
  t.equal(decodeDocumentInput(empty), empty)
  const prose = encode('not a document!')
  t.equal(decodeDocumentInput(prose), prose)
  t.end()
})

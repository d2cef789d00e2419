/** The command line's boundary to the process: output streams, bounded file reads and the clock. */

import { open, writeFile } from 'node:fs/promises'
import { asBytes } from '../../shared/bytes/bytes.js'

/** What a command may do to the outside world; tests pass a fake that records it. */
export interface CliIo {
  readonly stdout: (text: string) => void
  readonly stderr: (text: string) => void
  /** Reads at most `maxBytes + 1` bytes of a file (`-` is standard input), so size is checkable. */
  readonly readInput: (path: string, maxBytes: number) => Promise<Uint8Array>
  /** Writes a whole file (an issued document, a PEM). */
  readonly writeOutput: (path: string, bytes: Uint8Array | string) => Promise<void>
  /** Resolves when the process is asked to stop (SIGINT or SIGTERM). */
  readonly waitForShutdown: () => Promise<void>
  /** Milliseconds since the epoch. */
  readonly now: () => number
}

/** The streams a process talks through; `process` itself is one. */
export interface ProcessStreams {
  readonly stdin: AsyncIterable<Uint8Array>
  readonly stdout: { write: (text: string) => unknown }
  readonly stderr: { write: (text: string) => unknown }
  /** Where SIGINT and SIGTERM are reported. */
  once(signal: 'SIGINT' | 'SIGTERM', listener: () => void): unknown
}

/** The real process: its streams, the file system and the system clock. */
export function createProcessIo(streams: ProcessStreams = process): CliIo {
  return {
    stdout: (text) => void streams.stdout.write(text),
    stderr: (text) => void streams.stderr.write(text),
    readInput: (path, maxBytes) =>
      path === '-' ? readStream(streams.stdin, maxBytes) : readFileHead(path, maxBytes),
    writeOutput: (path, bytes) => writeFile(path, bytes),
    waitForShutdown: () =>
      new Promise((resolve) => {
        streams.once('SIGINT', resolve)
        streams.once('SIGTERM', resolve)
      }),
    now: () => Date.now(),
  }
}

/** At most `maxBytes + 1` bytes of a file: enough to tell that it is too large, never more. */
async function readFileHead(path: string, maxBytes: number): Promise<Uint8Array> {
  const handle = await open(path, 'r')
  try {
    const buffer = Buffer.alloc(maxBytes + 1)
    let filled = 0
    for (;;) {
      const { bytesRead } = await handle.read(buffer, filled, buffer.byteLength - filled, null)
      if (bytesRead === 0) break
      filled += bytesRead
      if (filled === buffer.byteLength) break
    }
    return asBytes(buffer.subarray(0, filled))
  } finally {
    await handle.close()
  }
}

/** At most `maxBytes + 1` bytes of a stream. */
async function readStream(
  stream: AsyncIterable<Uint8Array>,
  maxBytes: number,
): Promise<Uint8Array> {
  const chunks: Uint8Array[] = []
  let total = 0
  for await (const chunk of stream) {
    chunks.push(chunk)
    total += chunk.byteLength
    if (total > maxBytes) break
  }
  return asBytes(Buffer.concat(chunks).subarray(0, maxBytes + 1))
}

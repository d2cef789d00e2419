/** A CliIo that records what a command prints and serves files from memory or disk. */

import { readFileSync } from 'node:fs'
import type { CliIo } from '../../scripts/cli/cli-io.js'

export interface RecordingIo extends CliIo {
  readonly out: () => string
  readonly err: () => string
  /** Files the command wrote, by path. */
  readonly written: ReadonlyMap<string, Uint8Array | string>
}

export interface RecordingIoOptions {
  readonly files?: Readonly<Record<string, Uint8Array | string>>
  readonly now?: number
  /** What `waitForShutdown` returns; an already resolved promise by default. */
  readonly shutdown?: Promise<void>
}

/** `files` are served by name; other paths are read from disk; `now` is fixed. */
export function createRecordingIo(options: RecordingIoOptions = {}): RecordingIo {
  let out = ''
  let err = ''
  const written = new Map<string, Uint8Array | string>()
  const files = options.files ?? {}
  const load = (path: string): Uint8Array | string => {
    const file = files[path]
    return file ?? new Uint8Array(readFileSync(path))
  }
  return {
    stdout: (text) => {
      out += text
    },
    stderr: (text) => {
      err += text
    },
    readInput: (path, maxBytes) =>
      Promise.resolve().then(() => {
        const file = load(path)
        const bytes = typeof file === 'string' ? new TextEncoder().encode(file) : file
        return bytes.slice(0, maxBytes + 1)
      }),
    writeOutput: (path, bytes) => {
      written.set(path, bytes)
      return Promise.resolve()
    },
    waitForShutdown: () => options.shutdown ?? Promise.resolve(),
    written,
    now: () => options.now ?? Date.UTC(2026, 10, 27),
    out: () => out,
    err: () => err,
  }
}

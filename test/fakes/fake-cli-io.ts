/** A CliIo that records what a command prints and serves files from memory or disk. */

import { readFileSync } from 'node:fs'
import type { CliIo } from '../../scripts/cli/cli-io.js'

export interface RecordingIo extends CliIo {
  readonly out: () => string
  readonly err: () => string
}

/** `files` are served by name; other paths are read from disk; `now` is fixed. */
export function createRecordingIo(
  options: { files?: Readonly<Record<string, Uint8Array | string>>; now?: number } = {},
): RecordingIo {
  let out = ''
  let err = ''
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
    now: () => options.now ?? Date.UTC(2026, 10, 27),
    out: () => out,
    err: () => err,
  }
}

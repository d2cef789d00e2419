/** The error a command throws for a command line it cannot run: exit status 2 with a message. */

/** A usage error; its message is printed as is, so it must never contain secrets. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'UsageError'
  }
}

/** The usage error for a file that cannot be read: its path and the system's error code only. */
export function readFailure(path: string, error: unknown): UsageError {
  const code = (error as { code?: unknown } | null)?.code
  return new UsageError(`cannot read ${path}: ${typeof code === 'string' ? code : 'unreadable'}`)
}

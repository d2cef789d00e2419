/** Keeps one enclave running: waits for ready, pings it, restarts it with backoff when it dies. */

import { CloisterError, isCloisterError } from '../../shared/errors/cloister-error.js'
import type { ErrorCode } from '../../shared/errors/catalog.js'
import type { OpName, OpRequest, OpResponse } from '../../shared/protocol/ops.js'
import type { EnclaveClient } from './enclave-client.js'

/** One booted enclave, as a launcher returns it once the enclave reported ready. */
export interface BootedEnclave {
  readonly client: EnclaveClient
  /** Resolves when the enclave process has exited. */
  readonly exited: Promise<void>
  stop(): Promise<void>
}

export interface SupervisorOptions {
  /** Boots a new enclave and resolves once it is ready; rejects if it cannot. */
  readonly boot: () => Promise<BootedEnclave>
  /** Time between health pings, in ms. */
  readonly pingIntervalMs?: number
  /** A ping slower than this counts as a hung enclave, which is killed and restarted. */
  readonly pingTimeoutMs?: number
  /** First restart delay, doubled after each failure up to `maxBackoffMs`. */
  readonly initialBackoffMs?: number
  readonly maxBackoffMs?: number
  /** Told of every state change (for logs; carries no data). */
  readonly onStateChange?: (state: SupervisorState) => void
  /** Told why a boot failed: a catalog code, or `ERR_ENCLAVE_INTERNAL` for anything else. */
  readonly onBootFailure?: (code: ErrorCode) => void
}

export type SupervisorState = 'starting' | 'ready' | 'restarting' | 'stopped'

export interface Supervisor {
  /** Calls the running enclave; `ERR_ENCLAVE_UNAVAILABLE` at once while none is ready. */
  call<K extends OpName>(
    op: K,
    request: OpRequest<K>,
    options?: { readonly timeoutMs?: number },
  ): Promise<OpResponse<K>>
  readonly state: SupervisorState
  /** Enclaves booted after the first. */
  readonly restarts: number
  /** Why the latest boot failed, until one succeeds: the status a parent reports. */
  readonly lastBootFailure: ErrorCode | undefined
  /** Resolves the next time the enclave is ready (at once if it is). */
  whenReady(): Promise<void>
  /** Stops supervising and kills the enclave. */
  stop(): Promise<void>
}

const DEFAULTS = {
  pingIntervalMs: 2_000,
  pingTimeoutMs: 1_000,
  initialBackoffMs: 100,
  maxBackoffMs: 5_000,
}

/**
 * Boots the enclave and keeps it up. Calls in flight when it dies fail fast with
 * `ERR_ENCLAVE_UNAVAILABLE` (the client fails them as its channel closes); new calls fail the same
 * way until the restarted enclave is ready. A failed boot is retried after the backoff.
 */
export function startSupervisor(options: SupervisorOptions): Supervisor {
  const settings = { ...DEFAULTS, ...options }
  let state: SupervisorState = 'starting'
  let current: BootedEnclave | undefined
  let restarts = 0
  let backoff = settings.initialBackoffMs
  let readyWaiters: (() => void)[] = []
  let pingTimer: NodeJS.Timeout | undefined
  let restartTimer: NodeJS.Timeout | undefined
  let booted = 0
  let lastBootFailure: ErrorCode | undefined

  const setState = (next: SupervisorState) => {
    state = next
    settings.onStateChange?.(next)
    if (next === 'ready') {
      for (const waiter of readyWaiters) waiter()
      readyWaiters = []
    }
  }

  const scheduleBoot = () => {
    if (state === 'stopped') return
    setState('restarting')
    restartTimer = setTimeout(() => void boot(), backoff)
    backoff = Math.min(backoff * 2, settings.maxBackoffMs)
  }

  const boot = async () => {
    let enclave: BootedEnclave
    try {
      enclave = await settings.boot()
    } catch (error) {
      lastBootFailure = isCloisterError(error) ? error.code : 'ERR_ENCLAVE_INTERNAL'
      settings.onBootFailure?.(lastBootFailure)
      scheduleBoot()
      return
    }
    lastBootFailure = undefined
    if (state === 'stopped') {
      await enclave.stop()
      return
    }
    if (booted > 0) restarts += 1
    booted += 1
    current = enclave
    backoff = settings.initialBackoffMs
    setState('ready')
    void enclave.exited.then(() => {
      if (current !== enclave) return
      current = undefined
      scheduleBoot()
    })
  }

  const ping = async () => {
    const enclave = current
    if (enclave === undefined) return
    const healthy = await enclave.client
      .call('ping', {}, { timeoutMs: settings.pingTimeoutMs })
      .then(
        () => true,
        () => false,
      )
    // A hung or broken enclave: kill it; its exit triggers the restart. (Stopping one that was
    // already replaced is harmless: it has exited.)
    if (!healthy) await enclave.stop()
  }

  void boot()
  pingTimer = setInterval(() => void ping(), settings.pingIntervalMs)
  pingTimer.unref()

  return {
    call(op, request, callOptions) {
      if (current === undefined || state !== 'ready') {
        return Promise.reject(new CloisterError('ERR_ENCLAVE_UNAVAILABLE'))
      }
      return current.client.call(op, request, callOptions)
    },
    get state() {
      return state
    },
    get restarts() {
      return restarts
    },
    get lastBootFailure() {
      return lastBootFailure
    },
    whenReady() {
      if (state === 'ready') return Promise.resolve()
      return new Promise((resolve) => readyWaiters.push(resolve))
    },
    async stop() {
      setState('stopped')
      clearInterval(pingTimer)
      clearTimeout(restartTimer)
      pingTimer = undefined
      const enclave = current
      current = undefined
      await enclave?.stop()
    },
  }
}

/** Starts the enclave process isolated like a Nitro enclave: no network, no disk, no privileges. */

import { spawn, type ChildProcess } from 'node:child_process'
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { randomInt } from 'node:crypto'
import type { Writable } from 'node:stream'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Socket } from 'node:net'
import type { SandboxMode } from '../../shared/protocol/ops.js'
import {
  NSM_CHANNEL,
  PARENT_CHANNEL,
  RELAY_CHANNEL,
  type TransportAddress,
} from '../../shared/protocol/transport-address.js'
import {
  BUNDLE_PATH_IN_SANDBOX,
  launchArguments,
  RUNTIME_PATH_IN_SANDBOX,
} from './enclave-image.js'

/** What to run and how to isolate it. */
export interface LaunchOptions {
  /** The Node runtime binary on the host (measured as PCR1). */
  readonly runtimePath: string
  /**
   * The bundle's bytes: exactly what was measured as PCR2. They reach the sandbox through a pipe
   * (or a fresh private copy), never by re-reading a file someone could have changed since.
   */
  readonly bundle: Uint8Array
  readonly configuration: Uint8Array
  readonly sandbox: SandboxMode
  /** Host directories holding the runtime's shared libraries, shown read-only. */
  readonly libraryPaths?: readonly string[]
  /** Whether we run as root (then `unshare` makes the network namespace, with nothing up). */
  readonly asRoot?: boolean
  /**
   * The host uid the enclave runs as under bubblewrap (inside it is 65534). A fresh uid of its own,
   * so no other process on the host shares it and could ptrace the enclave's memory.
   */
  readonly hostUid?: number
}

/** Host uids for enclaves are drawn from [2^30, 2^31): far above any real account. */
export function freshEnclaveUid(): number {
  return 0x40000000 + randomInt(0x40000000)
}

/** A command line: program and arguments. */
export interface Command {
  readonly program: string
  readonly args: readonly string[]
}

const NOBODY = '65534' // uid and gid of nobody
/** The fd on which bubblewrap reads the bundle's bytes (`--ro-bind-data`): no host path needed. */
export const BUNDLE_FD = 5
/**
 * Every launch starts from an empty environment with only a PATH to find the tools: nothing the
 * parent's environment holds (NODE_OPTIONS, for one) may reach the enclave's runtime unmeasured.
 */
const CLEAN_ENV = ['-i', 'PATH=/usr/sbin:/usr/bin:/sbin:/bin']
/** Drops to `uid` with no capabilities; a parent death kills the process even after the uid change. */
const asUser = (uid: string) => [
  'setpriv',
  `--reuid=${uid}`,
  `--regid=${uid}`,
  '--clear-groups',
  '--inh-caps=-all',
  '--bounding-set=-all',
  '--pdeathsig=KILL',
]
/**
 * Closes every inherited descriptor but 0–6 before anything else runs: a descriptor the parent
 * left open (a file, a socket) would otherwise be a way out of the sandbox.
 */
const CLOSE_OTHER_FDS = [
  'bash',
  '-c',
  'for f in /proc/self/fd/*; do n=${f##*/}; if [ "$n" -gt 6 ]; then eval "exec $n>&-"; fi; done; exec "$@"',
  'close-fds',
]
const DEFAULT_LIBRARY_PATHS = ['/lib', '/lib64', '/usr/lib']

/**
 * The command that runs the enclave runtime in `options.sandbox`:
 *
 * - `bubblewrap`: new user, PID, IPC, UTS, cgroup and network namespaces; a root file system
 *   holding only the runtime, its libraries and the bundle, all read-only and nothing writable;
 *   uid/gid 65534 with every capability dropped; an empty environment; killed with its parent. As
 *   root, `unshare --net` makes the network namespace so that not even loopback is up (bubblewrap
 *   would bring `lo` up).
 * - `unshare`: the fallback where bubblewrap is missing: namespaces and uid 65534 with no
 *   capabilities (`setpriv`), but the host file system stays visible read-write to nobody's
 *   permissions; only Node's permission model limits reads.
 * - `none`: no isolation at all, for debugging only.
 *
 * Every mode runs under `prlimit --core=0` (no core dumps of enclave memory) and Node's permission
 * model with file reads limited to the bundle.
 */
export function sandboxCommand(options: LaunchOptions, hostBundlePath: string): Command {
  // Every mode starts the same way: an empty environment, no stray descriptors, no core dumps.
  const start = [...CLEAN_ENV, ...CLOSE_OTHER_FDS, 'prlimit', '--core=0', '--']
  switch (options.sandbox) {
    case 'bubblewrap': {
      const binds = (options.libraryPaths ?? DEFAULT_LIBRARY_PATHS)
        .filter((path) => existsSync(path))
        .flatMap((path) => ['--ro-bind', path, path])
      const network = options.asRoot === true ? [] : ['--unshare-net']
      // As root: `unshare` makes a network namespace with nothing up (bubblewrap would raise `lo`),
      // then `setpriv` drops to nobody, and bubblewrap maps nobody to nobody in its namespace.
      const bwrap = [
        'bwrap',
        '--unshare-user',
        '--unshare-ipc',
        '--unshare-pid',
        '--unshare-uts',
        '--unshare-cgroup-try',
        ...network,
        '--disable-userns',
        '--die-with-parent',
        '--new-session',
        '--cap-drop',
        'ALL',
        '--uid',
        NOBODY,
        '--gid',
        NOBODY,
        '--clearenv',
        ...binds,
        '--ro-bind',
        options.runtimePath,
        RUNTIME_PATH_IN_SANDBOX,
        '--ro-bind-data',
        String(BUNDLE_FD),
        BUNDLE_PATH_IN_SANDBOX,
        '--remount-ro',
        '/',
        '--chdir',
        '/',
        '--',
        RUNTIME_PATH_IN_SANDBOX,
        ...launchArguments(options.configuration),
      ]
      const hostUid = String(options.hostUid ?? freshEnclaveUid())
      const outer =
        options.asRoot === true ? ['unshare', '--net', '--', ...asUser(hostUid), '--'] : []
      return {
        program: 'env',
        args: [...start, ...outer, ...bwrap],
      }
    }
    case 'unshare':
      return {
        program: 'env',
        args: [
          ...start,
          'unshare',
          '--net',
          '--ipc',
          '--uts',
          '--pid',
          '--fork',
          '--kill-child',
          '--',
          ...asUser(NOBODY),
          '--no-new-privs',
          '--',
          options.runtimePath,
          ...hostArguments(options, hostBundlePath),
        ],
      }
    case 'none':
      return {
        program: 'env',
        args: [...start, options.runtimePath, ...hostArguments(options, hostBundlePath)],
      }
  }
}

/** The launch arguments with the bundle at its host path: without bubblewrap there is no /enclave. */
function hostArguments(options: LaunchOptions, hostBundlePath: string): string[] {
  return launchArguments(options.configuration).map((argument) =>
    argument === `--allow-fs-read=${BUNDLE_PATH_IN_SANDBOX}`
      ? `--allow-fs-read=${hostBundlePath}`
      : argument === BUNDLE_PATH_IN_SANDBOX
        ? hostBundlePath
        : argument,
  )
}

/** A running enclave process and its three channels' streams. */
export interface LaunchedEnclave {
  /** The simulation's transport: a socketpair whose other end is the enclave's fd 3. */
  readonly address: TransportAddress
  readonly process: ChildProcess
  /** fd 3 in the enclave: requests, responses, events. */
  readonly parentStream: Socket
  /** fd 4 in the enclave: the NSM device. */
  readonly nsmStream: Socket
  /** fd 6 in the enclave: the relay for its TCP streams. */
  readonly relayStream: Socket
  /** Resolves once the process has exited, or could not be started at all. */
  readonly exited: Promise<void>
}

/**
 * Spawns the enclave with three inherited AF_UNIX socketpairs (libuv makes one per `pipe` stdio
 * entry), on fds 3, 4 and 6: no filesystem path exists for anyone to connect to. Under bubblewrap the
 * measured bundle bytes flow through a pipe on fd 5 into a read-only file of the sandbox; the
 * other modes run a private copy written from the same bytes. The enclave's stdout and stderr are
 * discarded: on Nitro its console is only readable in debug mode.
 */
export function launchEnclave(options: LaunchOptions): LaunchedEnclave {
  const piped = options.sandbox === 'bubblewrap'
  const copy = piped ? undefined : privateCopy(options.bundle)
  const { program, args } = sandboxCommand(options, copy?.bundlePath ?? '')
  const child = spawn(program, args, {
    stdio: ['ignore', 'ignore', 'ignore', 'pipe', 'pipe', piped ? 'pipe' : 'ignore', 'pipe'],
    env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin' }, // `env -i` then starts from nothing
  })
  const bundleStream = (child.stdio as readonly unknown[])[BUNDLE_FD] as Writable | null
  bundleStream?.on('error', () => undefined) // a sandbox that died early stops reading: no matter
  bundleStream?.end(options.bundle)
  const exited = new Promise<void>((resolve) => {
    child.once('exit', () => {
      resolve()
    })
    // Spawn itself failing (EMFILE, a missing tool) leaves no process to wait for. It cannot be
    // provoked here without exhausting the test runner's own descriptors.
    /* c8 ignore next 3 */
    child.once('error', () => {
      resolve()
    })
  })
  void exited.then(() => {
    copy?.remove()
  })
  return {
    address: PARENT_CHANNEL,
    process: child,
    parentStream: child.stdio[PARENT_CHANNEL.fd] as Socket,
    nsmStream: child.stdio[NSM_CHANNEL.fd] as Socket,
    relayStream: (child.stdio as readonly unknown[])[RELAY_CHANNEL.fd] as Socket,
    exited,
  }
}

/** The bundle written to a fresh 0755 directory, readable by the unprivileged enclave user. */
function privateCopy(bundle: Uint8Array): { bundlePath: string; remove: () => void } {
  const directory = mkdtempSync(join(tmpdir(), 'cloister-enclave-'))
  chmodSync(directory, 0o755)
  const copy = join(directory, 'enclave.mjs')
  writeFileSync(copy, bundle, { mode: 0o644 })
  return {
    bundlePath: copy,
    remove: () => {
      rmSync(directory, { recursive: true, force: true })
    },
  }
}

/** Whether bubblewrap is installed (the fallback is announced loudly by the caller). */
export function hasBubblewrap(paths = ['/usr/bin/bwrap', '/bin/bwrap']): boolean {
  return paths.some((path) => existsSync(path))
}

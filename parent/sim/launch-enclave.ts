/** Starts the enclave process isolated like a Nitro enclave: no network, no disk, no privileges. */

import { spawn, type ChildProcess } from 'node:child_process'
import {
  chmodSync,
  closeSync,
  copyFileSync,
  existsSync,
  mkdtempSync,
  openSync,
  rmSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Socket } from 'node:net'
import type { SandboxMode } from '../../shared/protocol/ops.js'
import {
  NSM_CHANNEL,
  PARENT_CHANNEL,
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
  /** The bundle file on the host (measured as PCR2). */
  readonly bundlePath: string
  readonly configuration: Uint8Array
  readonly sandbox: SandboxMode
  /** Host directories holding the runtime's shared libraries, shown read-only. */
  readonly libraryPaths?: readonly string[]
  /** Whether we run as root (then `unshare` makes the network namespace, with nothing up). */
  readonly asRoot?: boolean
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
/** Drops to nobody before bubblewrap starts, so even the host sees the enclave as uid 65534. */
const AS_NOBODY = [
  'setpriv',
  `--reuid=${NOBODY}`,
  `--regid=${NOBODY}`,
  '--clear-groups',
  '--inh-caps=-all',
  '--bounding-set=-all',
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
export function sandboxCommand(options: LaunchOptions): Command {
  const noCore = ['--core=0', '--']
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
        '--chdir',
        '/',
        '--',
        RUNTIME_PATH_IN_SANDBOX,
        ...launchArguments(options.configuration),
      ]
      const outer = options.asRoot === true ? ['unshare', '--net', '--', ...AS_NOBODY, '--'] : []
      return { program: 'env', args: [...CLEAN_ENV, 'prlimit', ...noCore, ...outer, ...bwrap] }
    }
    case 'unshare':
      return {
        program: 'env',
        args: [
          ...CLEAN_ENV,
          'prlimit',
          ...noCore,
          'unshare',
          '--net',
          '--ipc',
          '--uts',
          '--pid',
          '--fork',
          '--kill-child',
          '--',
          ...AS_NOBODY,
          '--no-new-privs',
          '--',
          options.runtimePath,
          ...hostArguments(options),
        ],
      }
    case 'none':
      return {
        program: 'env',
        args: [...CLEAN_ENV, 'prlimit', ...noCore, options.runtimePath, ...hostArguments(options)],
      }
  }
}

/** The launch arguments with the bundle at its host path: without bubblewrap there is no /enclave. */
function hostArguments(options: LaunchOptions): string[] {
  return launchArguments(options.configuration).map((argument) =>
    argument === `--allow-fs-read=${BUNDLE_PATH_IN_SANDBOX}`
      ? `--allow-fs-read=${options.bundlePath}`
      : argument === BUNDLE_PATH_IN_SANDBOX
        ? options.bundlePath
        : argument,
  )
}

/** A running enclave process and its two channels' streams. */
export interface LaunchedEnclave {
  /** The simulation's transport: a socketpair whose other end is the enclave's fd 3. */
  readonly address: TransportAddress
  readonly process: ChildProcess
  /** fd 3 in the enclave: requests and responses. */
  readonly parentStream: Socket
  /** fd 4 in the enclave: the NSM device. */
  readonly nsmStream: Socket
}

/**
 * Spawns the enclave with two inherited AF_UNIX socketpairs (libuv makes one per `pipe` stdio
 * entry), on fds 3 and 4: no filesystem path exists for anyone to connect to. The enclave's
 * stdout and stderr are discarded: on Nitro its console is only readable in debug mode.
 */
export function launchEnclave(options: LaunchOptions): LaunchedEnclave {
  // In the unshare fallback the runtime reads the bundle by path as nobody, so it gets a copy in
  // a directory nobody may enter; bubblewrap instead reads the bytes from fd 5 as it starts.
  const copy = options.sandbox === 'unshare' ? copyForNobody(options.bundlePath) : undefined
  const { program, args } = sandboxCommand(
    copy === undefined ? options : { ...options, bundlePath: copy.bundlePath },
  )
  const bundleFd = openSync(options.bundlePath, 'r')
  const child = spawn(program, args, {
    stdio: ['ignore', 'ignore', 'ignore', 'pipe', 'pipe', bundleFd],
    env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin' }, // `env -i` then starts from nothing
  })
  closeSync(bundleFd)
  child.once('exit', () => copy?.remove())
  return {
    address: PARENT_CHANNEL,
    process: child,
    parentStream: child.stdio[PARENT_CHANNEL.fd] as Socket,
    nsmStream: child.stdio[NSM_CHANNEL.fd] as Socket,
  }
}

/** A copy of the bundle that uid 65534 can read: a fresh 0755 directory in the temp folder. */
function copyForNobody(bundlePath: string): { bundlePath: string; remove: () => void } {
  const directory = mkdtempSync(join(tmpdir(), 'cloister-enclave-'))
  chmodSync(directory, 0o755)
  const copy = join(directory, 'enclave.mjs')
  copyFileSync(bundlePath, copy)
  chmodSync(copy, 0o644)
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

/** The launch command for each sandbox mode, argument by argument. */

import t from 'tap'
import { launchArguments } from '../../../parent/sim/enclave-image.js'
import {
  freshEnclaveUid,
  hasBubblewrap,
  sandboxCommand,
} from '../../../parent/sim/launch-enclave.js'

const configuration = Uint8Array.of(1, 2, 3)
const base = { runtimePath: '/usr/bin/node', bundle: Uint8Array.of(1), configuration }
const HOST_BUNDLE = '/tmp/cloister-enclave-x/enclave.mjs'
const inside = launchArguments(configuration)
const CLEAN_ENV = ['-i', 'PATH=/usr/sbin:/usr/bin:/sbin:/bin']
const CLOSE_FDS = [
  'bash',
  '-c',
  'for f in /proc/self/fd/*; do n=${f##*/}; if [ "$n" -gt 6 ]; then eval "exec $n>&-"; fi; done; exec "$@"',
  'close-fds',
]
const asUser = (uid: string) => [
  'setpriv',
  `--reuid=${uid}`,
  `--regid=${uid}`,
  '--clear-groups',
  '--inh-caps=-all',
  '--bounding-set=-all',
  '--pdeathsig=KILL',
]

t.test(
  'bubblewrap as root: unshare makes the network namespace, setpriv drops to a fresh uid',
  (t) => {
    const { program, args } = sandboxCommand(
      {
        ...base,
        sandbox: 'bubblewrap',
        asRoot: true,
        hostUid: 1_234_567_890,
        libraryPaths: ['/lib', '/nonexistent-library-dir'],
      },
      '',
    )
    t.equal(program, 'env')
    t.same(args, [
      ...CLEAN_ENV,
      ...CLOSE_FDS,
      'prlimit',
      '--core=0',
      '--',
      'unshare',
      '--net',
      '--',
      ...asUser('1234567890'),
      '--',
      'bwrap',
      '--unshare-user',
      '--unshare-ipc',
      '--unshare-pid',
      '--unshare-uts',
      '--unshare-cgroup-try',
      '--disable-userns',
      '--die-with-parent',
      '--new-session',
      '--cap-drop',
      'ALL',
      '--uid',
      '65534',
      '--gid',
      '65534',
      '--clearenv',
      '--ro-bind',
      '/lib',
      '/lib',
      '--ro-bind',
      '/usr/bin/node',
      '/enclave/node',
      '--ro-bind-data',
      '5',
      '/enclave/enclave.mjs',
      '--remount-ro',
      '/',
      '--chdir',
      '/',
      '--',
      '/enclave/node',
      ...inside,
    ])
    t.end()
  },
)

t.test('bubblewrap without root makes its own network namespace; uids are fresh', (t) => {
  const { args } = sandboxCommand({ ...base, sandbox: 'bubblewrap', asRoot: false }, '')
  t.notOk(args.includes('unshare'))
  t.ok(args.includes('--unshare-net'))
  t.ok(args.includes('/usr/lib'), 'the default library directories')
  const uid = freshEnclaveUid()
  t.ok(uid >= 0x40000000 && uid < 0x80000000)
  const rootArgs = sandboxCommand({ ...base, sandbox: 'bubblewrap', asRoot: true }, '').args
  t.ok(
    rootArgs.some((argument) => /^--reuid=\d{10}$/.test(argument)),
    'a fresh uid by default',
  )
  t.end()
})

t.test('the unshare fallback and no sandbox run a private copy of the bundle', (t) => {
  const hosted = inside.map((argument) =>
    argument === '/enclave/enclave.mjs'
      ? HOST_BUNDLE
      : argument === '--allow-fs-read=/enclave/enclave.mjs'
        ? `--allow-fs-read=${HOST_BUNDLE}`
        : argument,
  )
  t.same(sandboxCommand({ ...base, sandbox: 'unshare' }, HOST_BUNDLE).args, [
    ...CLEAN_ENV,
    ...CLOSE_FDS,
    'prlimit',
    '--core=0',
    '--',
    'unshare',
    '--net',
    '--ipc',
    '--uts',
    '--pid',
    '--fork',
    '--kill-child',
    '--',
    ...asUser('65534'),
    '--no-new-privs',
    '--',
    '/usr/bin/node',
    ...hosted,
  ])
  t.same(sandboxCommand({ ...base, sandbox: 'none' }, HOST_BUNDLE).args, [
    ...CLEAN_ENV,
    ...CLOSE_FDS,
    'prlimit',
    '--core=0',
    '--',
    '/usr/bin/node',
    ...hosted,
  ])
  t.end()
})

t.test('hasBubblewrap looks for the binary', (t) => {
  t.equal(hasBubblewrap(['/nonexistent/bwrap']), false)
  t.equal(hasBubblewrap([process.execPath]), true)
  t.end()
})

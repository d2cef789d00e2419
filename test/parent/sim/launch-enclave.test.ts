/** The launch command for each sandbox mode, argument by argument. */

import t from 'tap'
import { launchArguments } from '../../../parent/sim/enclave-image.js'
import { hasBubblewrap, sandboxCommand } from '../../../parent/sim/launch-enclave.js'

const configuration = Uint8Array.of(1, 2, 3)
const base = {
  runtimePath: '/usr/bin/node',
  bundlePath: '/state/enclave/enclave.mjs',
  configuration,
}
const inside = launchArguments(configuration)
const CLEAN_ENV = ['-i', 'PATH=/usr/sbin:/usr/bin:/sbin:/bin']

t.test('bubblewrap as root: unshare makes the network namespace, setpriv drops to nobody', (t) => {
  const { program, args } = sandboxCommand({
    ...base,
    sandbox: 'bubblewrap',
    asRoot: true,
    libraryPaths: ['/lib', '/nonexistent-library-dir'],
  })
  t.equal(program, 'env')
  t.same(args, [
    ...CLEAN_ENV,
    'prlimit',
    '--core=0',
    '--',
    'unshare',
    '--net',
    '--',
    'setpriv',
    '--reuid=65534',
    '--regid=65534',
    '--clear-groups',
    '--inh-caps=-all',
    '--bounding-set=-all',
    '--',
    'bwrap',
    '--unshare-user',
    '--unshare-ipc',
    '--unshare-pid',
    '--unshare-uts',
    '--unshare-cgroup-try',
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
    '--chdir',
    '/',
    '--',
    '/enclave/node',
    ...inside,
  ])
  t.end()
})

t.test('bubblewrap without root makes its own network namespace', (t) => {
  const { args } = sandboxCommand({ ...base, sandbox: 'bubblewrap', asRoot: false })
  t.notOk(args.includes('unshare'))
  t.ok(args.includes('--unshare-net'))
  t.ok(args.includes('/usr/lib'), 'the default library directories')
  t.end()
})

t.test('the unshare fallback and no sandbox run the bundle from its host path', (t) => {
  const hosted = inside.map((argument) =>
    argument === '/enclave/enclave.mjs'
      ? base.bundlePath
      : argument === '--allow-fs-read=/enclave/enclave.mjs'
        ? `--allow-fs-read=${base.bundlePath}`
        : argument,
  )
  t.same(sandboxCommand({ ...base, sandbox: 'unshare' }).args, [
    ...CLEAN_ENV,
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
    'setpriv',
    '--reuid=65534',
    '--regid=65534',
    '--clear-groups',
    '--inh-caps=-all',
    '--bounding-set=-all',
    '--no-new-privs',
    '--',
    '/usr/bin/node',
    ...hosted,
  ])
  t.same(sandboxCommand({ ...base, sandbox: 'none' }).args, [
    ...CLEAN_ENV,
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

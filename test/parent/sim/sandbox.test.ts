/** The sandbox, asserted from inside a running one: no network, no disk, nobody, no capabilities. */

import { spawn, spawnSync } from 'node:child_process'
import { readFileSync, readdirSync } from 'node:fs'
import { createServer } from 'node:net'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import {
  hasBubblewrap,
  launchEnclave,
  type LaunchOptions,
} from '../../../parent/sim/launch-enclave.js'

const PROBE = fileURLToPath(new URL('../../fixtures/isolation-probe.mjs', import.meta.url))
const asRoot = process.getuid?.() === 0

/** Runs the probe in `sandbox` against a host TCP server on loopback; returns its report. */
async function probe(sandbox: LaunchOptions['sandbox']) {
  const server = createServer((socket) => {
    socket.on('error', () => undefined) // the probe hangs up at once
    socket.end('host')
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  const launched = launchEnclave({
    runtimePath: process.execPath,
    bundle: new Uint8Array(readFileSync(PROBE)),
    configuration: new TextEncoder().encode(String(port)),
    sandbox,
    asRoot,
  })
  let text = ''
  launched.parentStream.on('data', (chunk: Buffer) => (text += chunk.toString()))
  await new Promise((resolve) => launched.parentStream.once('close', resolve))
  server.close()
  return JSON.parse(text) as Record<string, unknown>
}

t.test(
  'bubblewrap: no network, no writable path, nothing outside the bundle, nobody',
  { skip: !hasBubblewrap() },
  async (t) => {
    const report = await probe('bubblewrap')
    t.equal(report.uid, 65534)
    t.equal(report.gid, 65534)
    t.same(report.interfaces, [], 'no interface is up, not even loopback')
    t.same(report.env, ['PWD'], 'only PWD, which bubblewrap sets to / (--chdir)')
    t.not(report.tcp4, 'connected', 'the host listening on 127.0.0.1 is out of reach')
    t.not(report.tcp6, 'connected')
    t.not(report.udp4, 'sent')
    for (const key of ['writeTmp', 'writeRoot', 'writeBundleDir', 'readPasswd', 'readProc']) {
      t.not(report[key], 'allowed', key)
    }
    t.equal(report.readOwnBundle, 'allowed', 'the bundle itself stays readable')
  },
)

t.test('the control: without a sandbox the same probe reaches the host', async (t) => {
  const report = await probe('none')
  t.equal(report.tcp4, 'connected', 'so the refusals above are the sandbox, not the probe')
})

t.test(
  'the enclave runs with no capabilities and dies with its parent',
  { skip: !hasBubblewrap() },
  async (t) => {
    // A parent process that launches a long-running enclave and is then killed with SIGKILL.
    const script = `
    import { readFileSync } from 'node:fs'
    import { launchEnclave } from ${JSON.stringify(new URL('../../../dist/parent/sim/launch-enclave.js', import.meta.url).href)}
    const launched = launchEnclave({ runtimePath: process.execPath, bundle: readFileSync(process.argv[1]), configuration: new Uint8Array(), sandbox: 'bubblewrap', asRoot: ${String(asRoot)} })
    setInterval(() => {}, 1000)
  `
    const parent = spawn(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        script,
        fileURLToPath(new URL('../../fixtures/idle-enclave.mjs', import.meta.url)),
      ],
      { stdio: 'ignore' },
    )
    const enclavePid = await waitFor(() => findEnclaveBelow(parent.pid ?? 0))
    const status = readFileSync(`/proc/${String(enclavePid)}/status`, 'utf8')
    t.match(status, /\nCapEff:\s+0000000000000000\n/)
    // Inside the sandbox the enclave is 65534; on the host it has a uid of its own, shared with no
    // other process that could ptrace it.
    const hostUid = Number(/\nUid:\s+(\d+)\s/.exec(status)?.[1])
    t.ok(hostUid >= 0x40000000 && hostUid < 0x80000000, `a dedicated host uid (${String(hostUid)})`)
    parent.kill('SIGKILL')
    await waitFor(() => (processAlive(enclavePid) ? undefined : true))
    t.notOk(processAlive(enclavePid), 'the enclave did not outlive its parent')
  },
)

function processAlive(pid: number): boolean {
  return spawnSync('kill', ['-0', String(pid)]).status === 0
}

function parentOf(pid: number): number {
  const status = readFileSync(`/proc/${String(pid)}/status`, 'utf8')
  return Number(/\nPPid:\s+(\d+)/.exec(status)?.[1] ?? 0)
}

/** The pid of the sandboxed runtime (`/enclave/node …`) that descends from `ancestor`. */
function findEnclaveBelow(ancestor: number): number | undefined {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    try {
      if (!readFileSync(`/proc/${entry}/cmdline`, 'utf8').startsWith('/enclave/node')) continue
      for (let pid = Number(entry); pid > 1; pid = parentOf(pid)) {
        if (pid === ancestor) return Number(entry)
      }
    } catch {
      // the process ended while we looked
    }
  }
  return undefined
}

async function waitFor<T>(check: () => T | undefined, attempts = 100): Promise<T> {
  for (let attempt = 0; attempt < attempts; attempt += 1) {
    const value = check()
    if (value !== undefined) return value
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  throw new Error('timed out waiting')
}

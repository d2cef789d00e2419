/** The supervisor keeps one enclave up: ready, pings, restarts with backoff, fails calls fast. */

import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import type { EnclaveClient } from '../../../parent/host/enclave-client.js'
import { startSupervisor, type BootedEnclave } from '../../../parent/host/supervisor.js'
import { buildEnclaveBundle } from '../../../parent/sim/build-enclave-bundle.js'
import { hasBubblewrap } from '../../../parent/sim/launch-enclave.js'
import { startSimulatedEnclave } from '../../../parent/sim/start-simulated-enclave.js'
import { CloisterError } from '../../../shared/errors/cloister-error.js'

const bundle = await buildEnclaveBundle()
const sandbox = hasBubblewrap() ? 'bubblewrap' : 'unshare'

t.test('a real enclave killed with SIGKILL is restarted and answers again', async (t) => {
  const stateDirectory = mkdtempSync(join(tmpdir(), 'cloister-supervisor-'))
  const booted: Awaited<ReturnType<typeof startSimulatedEnclave>>[] = []
  const states: string[] = []
  const supervisor = startSupervisor({
    boot: async () => {
      const enclave = await startSimulatedEnclave({ stateDirectory, sandbox, bundle })
      booted.push(enclave)
      return enclave
    },
    onStateChange: (state) => states.push(state),
  })
  t.teardown(() => supervisor.stop())
  await t.rejects(
    supervisor.call('ping', {}),
    { code: /^ERR_ENCLAVE_UNAVAILABLE$/ },
    'not ready yet',
  )
  await supervisor.whenReady()
  await supervisor.whenReady()
  const first = await supervisor.call('describe', {})
  booted[0]?.process.kill('SIGKILL')
  await booted[0]?.exited
  t.equal(supervisor.state, 'restarting')
  await t.rejects(supervisor.call('ping', {}), { code: /^ERR_ENCLAVE_UNAVAILABLE$/ }, 'fails fast')
  await supervisor.whenReady()
  const second = await supervisor.call('describe', {})
  t.not(second.moduleId, first.moduleId, 'a new enclave, with a new module id')
  t.same(second.pcrs, first.pcrs, 'the same measured image')
  t.equal(supervisor.restarts, 1)
  await supervisor.stop()
  t.equal(supervisor.state, 'stopped')
  t.same(states, ['ready', 'restarting', 'ready', 'stopped'])
})

/** A booted enclave whose client answers pings as told; `stop` ends it. */
function fakeEnclave(ping: () => Promise<{ now: number }>): BootedEnclave & { stopped: boolean } {
  let finish: () => void = () => undefined
  const exited = new Promise<void>((resolve) => {
    finish = resolve
  })
  const enclave = {
    stopped: false,
    client: {
      call: (op: string) =>
        op === 'ping' ? ping() : Promise.reject(new CloisterError('ERR_PROTOCOL_UNKNOWN_OP')),
    } as unknown as EnclaveClient,
    exited,
    stop: () => {
      enclave.stopped = true
      finish()
      return exited
    },
  }
  return enclave
}

t.test('a failed boot is retried after a growing backoff', async (t) => {
  let attempts = 0
  const failures: string[] = []
  const states: (string | undefined)[] = []
  const supervisor = startSupervisor({
    boot: () => {
      attempts += 1
      // The first boot starts inside startSupervisor, before `supervisor` is assigned.
      if (attempts > 1) states.push(supervisor.lastBootFailure)
      if (attempts === 1) return Promise.reject(new Error('boot failed'))
      if (attempts === 2) return Promise.reject(new CloisterError('ERR_KMS_ACCESS_DENIED'))
      return Promise.resolve(fakeEnclave(() => Promise.resolve({ now: 1 })))
    },
    initialBackoffMs: 5,
    maxBackoffMs: 8,
    onBootFailure: (code) => failures.push(code),
  })
  await supervisor.whenReady()
  t.equal(attempts, 3)
  t.strictSame(failures, ['ERR_ENCLAVE_INTERNAL', 'ERR_KMS_ACCESS_DENIED'])
  t.strictSame(states, ['ERR_ENCLAVE_INTERNAL', 'ERR_KMS_ACCESS_DENIED'])
  t.equal(supervisor.lastBootFailure, undefined, 'a successful boot clears the failure')
  t.equal(supervisor.restarts, 0, 'failed boots are not restarts')
  await supervisor.stop()
})

t.test('a hung enclave fails its ping, is killed, and a new one boots', async (t) => {
  const enclaves: ReturnType<typeof fakeEnclave>[] = []
  const supervisor = startSupervisor({
    boot: () => {
      const enclave = fakeEnclave(
        enclaves.length === 0
          ? () => Promise.reject(new CloisterError('ERR_ENCLAVE_TIMEOUT'))
          : () => Promise.resolve({ now: 1 }),
      )
      enclaves.push(enclave)
      return Promise.resolve(enclave)
    },
    pingIntervalMs: 10,
    initialBackoffMs: 1,
  })
  while (enclaves.length < 2 || supervisor.state !== 'ready') {
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
  t.ok(enclaves[0]?.stopped, 'the hung one was killed')
  t.equal(supervisor.restarts, 1)
  await supervisor.stop()
  t.ok(enclaves[1]?.stopped)
})

t.test('pings skip the gap while a restart is pending, and stop ends a pending boot', async (t) => {
  let boots = 0
  let failLate: (error: Error) => void = () => undefined
  const first = fakeEnclave(() => Promise.resolve({ now: 1 }))
  const supervisor = startSupervisor({
    boot: () => {
      boots += 1
      if (boots === 1) return Promise.resolve(first)
      return new Promise((_, reject) => {
        failLate = reject
      })
    },
    pingIntervalMs: 5,
    initialBackoffMs: 1,
  })
  await supervisor.whenReady()
  await new Promise((resolve) => setTimeout(resolve, 20)) // a few healthy pings
  t.equal(first.stopped, false, 'a healthy enclave is left alone')
  await first.stop() // the enclave dies; the second boot hangs while pings keep firing
  while (boots < 2) await new Promise((resolve) => setTimeout(resolve, 5))
  await new Promise((resolve) => setTimeout(resolve, 20))
  t.equal(supervisor.state, 'restarting')
  await supervisor.stop()
  failLate(new Error('boot failed after stop'))
  await new Promise((resolve) => setTimeout(resolve, 10))
  t.equal(supervisor.state, 'stopped', 'a boot failing after stop schedules nothing')
})

t.test('an enclave that finishes booting after stop is stopped at once', async (t) => {
  let release: (enclave: BootedEnclave) => void = () => undefined
  const late = fakeEnclave(() => Promise.resolve({ now: 1 }))
  const supervisor = startSupervisor({
    boot: () =>
      new Promise((resolve) => {
        release = resolve
      }),
  })
  await supervisor.stop()
  release(late)
  await late.exited
  t.ok(late.stopped)
  t.equal(supervisor.state, 'stopped')
})

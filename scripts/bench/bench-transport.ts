/** `npm run bench:transport`: calls/s and round trips over the enclave socketpair, boot and restart times. */

import { spawn } from 'node:child_process'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Socket } from 'node:net'
import { startSupervisor } from '../../parent/host/supervisor.js'
import { buildEnclaveBundle } from '../../parent/sim/build-enclave-bundle.js'
import { hasBubblewrap } from '../../parent/sim/launch-enclave.js'
import {
  prepareImage,
  startSimulatedEnclave,
  type RunningEnclave,
} from '../../parent/sim/start-simulated-enclave.js'
import { encodeFrame, createFrameReader } from '../../shared/protocol/frame.js'

const CALLS = 40_000
const WINDOW = 256 // calls in flight at once

const sandbox = hasBubblewrap() ? 'bubblewrap' : 'unshare'
const stateDirectory = mkdtempSync(join(tmpdir(), 'cloister-bench-'))
const bundle = await buildEnclaveBundle()
await prepareImage({ stateDirectory, sandbox, bundle }) // PKI and runtime digest made once, before timing

const percentile = (sorted: readonly number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0

/** Sends `CALLS` frames through `roundTrip`, `WINDOW` at a time; calls/s and latencies in µs. */
async function pipeline(roundTrip: () => Promise<unknown>) {
  const latencies: number[] = []
  let sent = 0
  const start = process.hrtime.bigint()
  const worker = async () => {
    while (sent < CALLS) {
      sent += 1
      const begin = process.hrtime.bigint()
      await roundTrip()
      latencies.push(Number(process.hrtime.bigint() - begin) / 1000)
    }
  }
  await Promise.all(Array.from({ length: WINDOW }, worker))
  const seconds = Number(process.hrtime.bigint() - start) / 1e9
  latencies.sort((a, b) => a - b)
  return { rate: CALLS / seconds, p50: percentile(latencies, 50), p99: percentile(latencies, 99) }
}

/** Baseline: the same framing over the same kind of socketpair, to a child that only echoes. */
async function echoBaseline() {
  const child = spawn(
    process.execPath,
    ['-e', "const s = new (require('net').Socket)({ fd: 3 }); s.pipe(s)"],
    { stdio: ['ignore', 'ignore', 'inherit', 'pipe'] },
  )
  const socket = child.stdio[3] as Socket
  const reader = createFrameReader()
  const waiting: (() => void)[] = []
  socket.on('data', (chunk: Buffer) => {
    for (let count = reader.push(chunk).length; count > 0; count -= 1) waiting.shift()?.()
  })
  // A describe request's size: the echo moves the same bytes.
  const frame = encodeFrame(new Uint8Array(40).fill(0xa0))
  const result = await pipeline(
    () =>
      new Promise<void>((resolve) => {
        waiting.push(resolve)
        socket.write(frame)
      }),
  )
  child.kill()
  return result
}

const baseline = await echoBaseline()
const bootStart = process.hrtime.bigint()
const enclave: RunningEnclave = await startSimulatedEnclave({ stateDirectory, sandbox, bundle })
const bootMs = Number(process.hrtime.bigint() - bootStart) / 1e6
const describe = await pipeline(() => enclave.client.call('describe', {}))
await enclave.stop()

const supervisor = startSupervisor({
  boot: () => startSimulatedEnclave({ stateDirectory, sandbox, bundle }),
  initialBackoffMs: 1,
})
await supervisor.whenReady()
const { moduleId } = await supervisor.call('describe', {})
const killedAt = process.hrtime.bigint()
// The supervisor's enclave is found through the process table: its module id is not a pid.
const { execSync } = await import('node:child_process')
execSync(`pkill -KILL -f '^/enclave/node' || pkill -KILL -f 'enclave.mjs'`)
await new Promise((resolve) => setTimeout(resolve, 1))
while ((await supervisor.call('describe', {}).catch(() => ({ moduleId }))).moduleId === moduleId) {
  await new Promise((resolve) => setTimeout(resolve, 5))
}
const restartMs = Number(process.hrtime.bigint() - killedAt) / 1e6
await supervisor.stop()

const row = (label: string, value: string, note: string) =>
  `${label.padEnd(46)} ${value.padStart(14)}  ${note}`
console.log(
  `bench:transport: node ${process.version}, sandbox ${sandbox}, ${String(CALLS)} calls, ${String(WINDOW)} in flight`,
)
console.log(
  row(
    'baseline: echo child, same frames, socketpair',
    `${baseline.rate.toFixed(0)} /s`,
    `p50 ${baseline.p50.toFixed(0)} µs, p99 ${baseline.p99.toFixed(0)} µs`,
  ),
)
console.log(
  row(
    'describe through the enclave',
    `${describe.rate.toFixed(0)} /s`,
    `p50 ${describe.p50.toFixed(0)} µs, p99 ${describe.p99.toFixed(0)} µs; ${((100 * describe.rate) / baseline.rate).toFixed(0)}% of baseline; target >= 20000 /s: ${describe.rate >= 20_000 ? 'met' : 'MISSED'}`,
  ),
)
console.log(
  row(
    'cold boot to ready',
    `${bootMs.toFixed(0)} ms`,
    `target <= 1500 ms: ${bootMs <= 1500 ? 'met' : 'MISSED'}`,
  ),
)
console.log(
  row(
    'restart after kill -9 to ready',
    `${restartMs.toFixed(0)} ms`,
    `target <= 1000 ms: ${restartMs <= 1000 ? 'met' : 'MISSED'}`,
  ),
)

/** Challenge nonces: single use, expiring, bounded in number, and fail-closed when the clock jumps. */

import t from 'tap'
import {
  createChallenges,
  DEFAULT_CHALLENGE_TTL_MS,
  DEFAULT_MAX_OUTSTANDING,
  NONCE_BYTES,
  type ChallengesOptions,
} from '../../../enclave/broker/challenges.js'
import { caughtCode } from '../../helpers/caught-code.js'
import { mulberry32 } from '../../helpers/seeded-random.js'

/** A settable clock and a seeded source, so each test draws the same nonces every run. */
function fixture(overrides: Partial<ChallengesOptions> = {}) {
  const time = { now: 1_000_000 }
  const next = mulberry32(42)
  const options: ChallengesOptions = {
    clock: () => time.now,
    random: (length) => Uint8Array.from({ length }, () => Math.floor(next() * 256)),
    ...overrides,
  }
  return { time, challenges: createChallenges(options) }
}

t.test('a nonce is 32 bytes, expires after the TTL, and is accepted exactly once', (t) => {
  const { time, challenges } = fixture()
  const { nonce, expiresAt } = challenges.issue()
  t.equal(nonce.byteLength, NONCE_BYTES)
  t.equal(expiresAt, time.now + DEFAULT_CHALLENGE_TTL_MS)
  time.now = expiresAt - 1
  t.equal(
    caughtCode(() => challenges.consume(nonce)),
    'returned',
  )
  t.equal(
    caughtCode(() => challenges.consume(nonce)),
    'ERR_RELEASE_NONCE_REUSED',
  )
  t.equal(
    caughtCode(() => challenges.consume(nonce.slice())),
    'ERR_RELEASE_NONCE_REUSED',
    'a copy',
  )
  t.end()
})

t.test('nonces never issued, or of another length, are unknown', (t) => {
  const { challenges } = fixture()
  const { nonce } = challenges.issue()
  const altered = nonce.slice()
  altered[0] = (altered[0] ?? 0) ^ 1
  for (const [name, candidate] of [
    ['one bit flipped', altered],
    ['empty', new Uint8Array(0)],
    ['a prefix', nonce.subarray(0, 31)],
    ['one byte longer', Uint8Array.of(...nonce, 0)],
  ] as const) {
    t.equal(
      caughtCode(() => challenges.consume(candidate)),
      'ERR_RELEASE_NONCE_UNKNOWN',
      name,
    )
  }
  t.equal(
    caughtCode(() => challenges.consume(nonce)),
    'returned',
    'the real one still works',
  )
  t.end()
})

t.test('an expired nonce is unknown; a consumed one is forgotten after its expiry', (t) => {
  const { time, challenges } = fixture({ ttlMs: 1000 })
  const unused = challenges.issue()
  const used = challenges.issue()
  challenges.consume(used.nonce)
  time.now = used.expiresAt
  t.equal(
    caughtCode(() => challenges.consume(unused.nonce)),
    'ERR_RELEASE_NONCE_UNKNOWN',
  )
  t.equal(
    caughtCode(() => challenges.consume(used.nonce)),
    'ERR_RELEASE_NONCE_UNKNOWN',
  )
  t.end()
})

t.test('the limit counts held nonces, consumed ones too, and frees them at expiry', (t) => {
  const { time, challenges } = fixture({ ttlMs: 1000, maxOutstanding: 3 })
  const first = challenges.issue()
  time.now += 500
  challenges.issue()
  challenges.issue()
  challenges.consume(first.nonce)
  t.equal(
    caughtCode(() => challenges.issue()),
    'ERR_RELEASE_CHALLENGE_LIMIT',
  )
  time.now = first.expiresAt // the first (consumed) one expires: one slot frees
  t.equal(
    caughtCode(() => challenges.issue()),
    'returned',
  )
  t.equal(
    caughtCode(() => challenges.issue()),
    'ERR_RELEASE_CHALLENGE_LIMIT',
  )
  time.now += 10_000 // all expire
  for (let index = 0; index < 3; index += 1) challenges.issue()
  t.equal(
    caughtCode(() => challenges.issue()),
    'ERR_RELEASE_CHALLENGE_LIMIT',
  )
  t.end()
})

t.test('the default limit is 10 000 and memory stays bounded under a flood', (t) => {
  const { time, challenges } = fixture()
  for (let index = 0; index < DEFAULT_MAX_OUTSTANDING; index += 1) challenges.issue()
  t.equal(
    caughtCode(() => challenges.issue()),
    'ERR_RELEASE_CHALLENGE_LIMIT',
  )
  // A flood over many TTLs never holds more than the limit: each round finds the last expired.
  for (let round = 0; round < 3; round += 1) {
    time.now += DEFAULT_CHALLENGE_TTL_MS
    for (let index = 0; index < DEFAULT_MAX_OUTSTANDING; index += 1) challenges.issue()
    t.equal(
      caughtCode(() => challenges.issue()),
      'ERR_RELEASE_CHALLENGE_LIMIT',
      `round ${round}`,
    )
  }
  t.end()
})

t.test('a clock that steps back or returns NaN only ever refuses', (t) => {
  const { time, challenges } = fixture({ ttlMs: 1000 })
  const early = challenges.issue() // expires at 1_001_000
  time.now -= 500
  const late = challenges.issue() // issued "earlier", expires at 1_000_500, behind `early`
  time.now = 1_000_700 // `late` expired, but the sweep stops at `early`, still valid
  t.equal(
    caughtCode(() => challenges.consume(late.nonce)),
    'ERR_RELEASE_NONCE_UNKNOWN',
  )
  t.equal(
    caughtCode(() => challenges.consume(early.nonce)),
    'returned',
  )

  const broken = fixture({ clock: () => NaN }).challenges
  const { nonce } = broken.issue()
  t.equal(
    caughtCode(() => broken.consume(nonce)),
    'ERR_RELEASE_NONCE_UNKNOWN',
  )
  t.end()
})

t.test('a broken random source or bad options are programming errors', (t) => {
  const short = fixture({ random: (length) => new Uint8Array(length - 1) }).challenges
  t.throws(() => short.issue(), TypeError)
  const constant = fixture({ random: (length) => new Uint8Array(length).fill(7) }).challenges
  constant.issue()
  t.throws(() => constant.issue(), { message: 'the random source repeated a nonce' })
  for (const bad of [
    { ttlMs: 0 },
    { ttlMs: 1.5 },
    { maxOutstanding: -1 },
    { maxOutstanding: NaN },
  ]) {
    t.throws(() => fixture(bad), RangeError, JSON.stringify(bad))
  }
  t.end()
})

t.test('the returned nonce is a copy: changing it changes nothing held', (t) => {
  const { challenges } = fixture()
  const { nonce } = challenges.issue()
  const kept = nonce.slice()
  nonce.fill(0)
  t.equal(
    caughtCode(() => challenges.consume(kept)),
    'returned',
  )
  t.end()
})

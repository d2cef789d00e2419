/** findCoseAlgorithm knows exactly ES256, ES384 and ES512, by integer COSE `alg` only. */

import t from 'tap'
import { COSE_ALG_ES384, findCoseAlgorithm } from '../../../shared/cose/algorithms.js'

t.test('ES384 is -35, the algorithm Nitro signs with', (t) => {
  t.equal(COSE_ALG_ES384, -35)
  t.end()
})

t.test('each supported alg maps to its hash, curve and raw r‖s size (RFC 9053 §2.1)', (t) => {
  t.strictSame(findCoseAlgorithm(-7), {
    name: 'ES256',
    hash: 'sha256',
    curve: 'prime256v1',
    signatureBytes: 64,
  })
  t.strictSame(findCoseAlgorithm(-35), {
    name: 'ES384',
    hash: 'sha384',
    curve: 'secp384r1',
    signatureBytes: 96,
  })
  t.strictSame(findCoseAlgorithm(-36), {
    name: 'ES512',
    hash: 'sha512',
    curve: 'secp521r1',
    signatureBytes: 132, // 2 × ⌈521 / 8⌉
  })
  t.end()
})

t.test('anything else is undefined', (t) => {
  // Unassigned, EdDSA (-8), PS256 (-37), ES256K (-47), and the positive twins of supported values.
  for (const alg of [0, 1, 7, 35, -8, -37, -47, -999]) {
    t.equal(findCoseAlgorithm(alg), undefined, `alg ${alg}`)
  }
  t.end()
})

t.test('only a number is looked up: the text, bigint or boxed forms of -35 are not', (t) => {
  const cases: readonly [string, unknown][] = [
    ["'-35'", '-35'],
    ["'ES384'", 'ES384'],
    ['-35n', -35n],
    ['null', null],
    ['undefined', undefined],
    ['[-35]', [-35]],
    ['{ alg: -35 }', { alg: -35 }],
  ]
  for (const [name, alg] of cases) t.equal(findCoseAlgorithm(alg), undefined, name)
  t.end()
})

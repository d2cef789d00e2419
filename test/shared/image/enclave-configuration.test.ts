import t from 'tap'
import { toHex } from '../../../shared/bytes/bytes.js'
import type { CborKey, CborValue } from '../../../shared/cbor/cbor-value.js'
import { encodeCbor } from '../../../shared/cbor/encode.js'
import {
  decodeEnclaveConfiguration,
  encodeEnclaveConfiguration,
  type EnclaveConfiguration,
} from '../../../shared/image/enclave-configuration.js'
import { SANDBOX_MODES } from '../../../shared/protocol/ops.js'
import { caughtCode } from '../../helpers/caught-code.js'
import { exactCode } from '../../helpers/exact-code.js'
import { hexBytes } from '../../helpers/hex-bytes.js'

/** The hex of `text` as a CBOR text string of fewer than 24 bytes. */
function shortText(text: string): string {
  const bytes = Buffer.from(text, 'utf8')
  return toHex(Uint8Array.of(0x60 + bytes.byteLength)) + bytes.toString('hex')
}

/** Configuration bytes from entries, in order (anything the encoder can write). */
function configurationBytes(...entries: (readonly [CborKey, CborValue])[]): Uint8Array {
  return encodeCbor(new Map(entries))
}

const PEM = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n'

const VALID: readonly (readonly [string, CborValue])[] = [
  ['version', 1],
  ['trustedRoots', [PEM]],
  ['sandbox', 'bubblewrap'],
]

/** The valid configuration with `field` replaced by `value`, or removed when it is undefined. */
function variant(field: string, value: CborValue | undefined): Uint8Array {
  const entries = VALID.filter(([key]) => key !== field)
  return configurationBytes(...entries, ...(value === undefined ? [] : [[field, value] as const]))
}

t.test('a configuration encodes to exact bytes', (t) => {
  const bytes = encodeEnclaveConfiguration({ version: 1, trustedRoots: ['x'], sandbox: 'none' })
  t.equal(
    toHex(bytes),
    'a3' +
      shortText('version') +
      '01' +
      shortText('trustedRoots') +
      '81' +
      shortText('x') +
      shortText('sandbox') +
      shortText('none'),
  )
  t.equal(toHex(bytes).slice(0, 18), 'a36776657273696f6e')
  t.end()
})

t.test('configurations round-trip to equal bytes', (t) => {
  const configurations: EnclaveConfiguration[] = [
    ...SANDBOX_MODES.map((sandbox) => ({ version: 1 as const, trustedRoots: [PEM], sandbox })),
    { version: 1, trustedRoots: [], sandbox: 'none' },
    {
      version: 1,
      trustedRoots: Array.from({ length: 8 }, (_, i) => `${PEM}${i}`),
      sandbox: 'unshare',
    },
    { version: 1, trustedRoots: ['r'.repeat(8192)], sandbox: 'bubblewrap' },
  ]
  for (const configuration of configurations) {
    const bytes = encodeEnclaveConfiguration(configuration)
    const decoded = decodeEnclaveConfiguration(bytes)
    t.same(
      decoded,
      configuration,
      `${configuration.sandbox}, ${configuration.trustedRoots.length} roots`,
    )
    t.equal(toHex(encodeEnclaveConfiguration(decoded)), toHex(bytes), 'equal bytes')
  }
  t.end()
})

t.test('equal configurations have equal bytes whatever the order of their properties', (t) => {
  const canonical = encodeEnclaveConfiguration({ version: 1, trustedRoots: [PEM], sandbox: 'none' })
  const reordered = encodeEnclaveConfiguration({ sandbox: 'none', trustedRoots: [PEM], version: 1 })
  t.equal(toHex(reordered), toHex(canonical))
  const withExtra = { version: 1, trustedRoots: [PEM], sandbox: 'none', debug: true } as const
  t.equal(toHex(encodeEnclaveConfiguration(withExtra)), toHex(canonical), 'nothing else is written')
  const fromOtherOrder = decodeEnclaveConfiguration(
    configurationBytes(['sandbox', 'none'], ['trustedRoots', [PEM]], ['version', 1]),
  )
  t.same(fromOtherOrder, { sandbox: 'none', trustedRoots: [PEM], version: 1 }, 'decoded')
  t.equal(toHex(encodeEnclaveConfiguration(fromOtherOrder)), toHex(canonical), 're-encoded')
  t.end()
})

t.test('configuration bytes that are not one strict CBOR map are invalid', (t) => {
  const valid = encodeEnclaveConfiguration({ version: 1, trustedRoots: [PEM], sandbox: 'none' })
  const cases: [string, Uint8Array][] = [
    ['no bytes', new Uint8Array(0)],
    ['a break byte', hexBytes('ff')],
    ['text that is not CBOR', new TextEncoder().encode('{"version":1}')],
    ['truncated', valid.subarray(0, valid.byteLength - 1)],
    ['trailing bytes', hexBytes(toHex(valid) + '00')],
    ['a duplicate key', hexBytes('a2' + shortText('version') + '01' + shortText('version') + '01')],
    ['a tag', hexBytes('d818' + toHex(valid))],
    ['over 64 KiB', configurationBytes(['version', 1], ['trustedRoots', ['r'.repeat(65536)]])],
    ['an array', encodeCbor([1, [PEM], 'none'])],
    ['an integer', hexBytes('01')],
    ['text', encodeCbor('version')],
    ['null', hexBytes('f6')],
  ]
  for (const [name, bytes] of cases) {
    t.equal(
      caughtCode(() => decodeEnclaveConfiguration(bytes)),
      'ERR_CONFIGURATION_INVALID',
      name,
    )
  }
  t.throws(() => decodeEnclaveConfiguration(hexBytes('ff')), {
    code: exactCode('ERR_CONFIGURATION_INVALID'),
  })
  t.throws(() => decodeEnclaveConfiguration(hexBytes('01')), {
    code: exactCode('ERR_CONFIGURATION_INVALID'),
  })
  t.end()
})

t.test('configurations with a field out of bounds are invalid', (t) => {
  const nine = Array.from({ length: 9 }, (_, index) => `${PEM}${index}`)
  const cases: [string, Uint8Array][] = [
    ['version 2', variant('version', 2)],
    ['version 0', variant('version', 0)],
    ['version -1', variant('version', -1)],
    ['version "1"', variant('version', '1')],
    ['version true', variant('version', true)],
    ['no version', variant('version', undefined)],
    ['9 roots', variant('trustedRoots', nine)],
    ['a root of 8193 characters', variant('trustedRoots', ['r'.repeat(8193)])],
    ['a root that is bytes', variant('trustedRoots', [hexBytes('30')])],
    ['a root that is null', variant('trustedRoots', [null])],
    ['roots that are one text', variant('trustedRoots', PEM)],
    ['roots that are a map', variant('trustedRoots', new Map([[0, PEM]]))],
    ['no roots', variant('trustedRoots', undefined)],
    ['sandbox "docker"', variant('sandbox', 'docker')],
    ['sandbox ""', variant('sandbox', '')],
    ['sandbox "None"', variant('sandbox', 'None')],
    ['sandbox null', variant('sandbox', null)],
    ['sandbox false', variant('sandbox', false)],
    ['no sandbox', variant('sandbox', undefined)],
    ['an extra field', configurationBytes(...VALID, ['debug', false])],
    ['an extra integer key', configurationBytes(...VALID, [1, 1])],
    ['an inherited name', configurationBytes(...VALID, ['toString', 'x'])],
    ['an empty map', hexBytes('a0')],
  ]
  for (const [name, bytes] of cases) {
    t.equal(
      caughtCode(() => decodeEnclaveConfiguration(bytes)),
      'ERR_CONFIGURATION_INVALID',
      name,
    )
  }
  t.end()
})

t.test('the limits themselves are accepted: 8 roots, 8192 characters, 64 KiB', (t) => {
  const eight = Array.from({ length: 8 }, (_, index) => `${PEM}${index}`)
  t.same(decodeEnclaveConfiguration(variant('trustedRoots', eight)).trustedRoots, eight)
  const longest = 'r'.repeat(8192)
  t.same(decodeEnclaveConfiguration(variant('trustedRoots', [longest])).trustedRoots, [longest])
  // Seven roots of 8192 characters and one that fills the rest: 65536 bytes in all.
  const base = configurationBytes(
    ['version', 1],
    ['trustedRoots', [...Array.from({ length: 7 }, () => longest), '']],
    ['sandbox', 'none'],
  )
  const fill = 65536 - base.byteLength - 2 // the last root's head grows from 1 byte to 3
  const full = configurationBytes(
    ['version', 1],
    ['trustedRoots', [...Array.from({ length: 7 }, () => longest), 'r'.repeat(fill)]],
    ['sandbox', 'none'],
  )
  t.equal(full.byteLength, 65536)
  t.equal(decodeEnclaveConfiguration(full).trustedRoots.length, 8)
  const over = configurationBytes(
    ['version', 1],
    ['trustedRoots', [...Array.from({ length: 7 }, () => longest), 'r'.repeat(fill + 1)]],
    ['sandbox', 'none'],
  )
  t.equal(over.byteLength, 65537)
  t.equal(
    caughtCode(() => decodeEnclaveConfiguration(over)),
    'ERR_CONFIGURATION_INVALID',
  )
  t.end()
})

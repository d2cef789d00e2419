/** The configuration's optional `kms` field: the measured KMS key, region, TLS name and roots. */

import t from 'tap'
import { toHex } from '../../../shared/bytes/bytes.js'
import type { CborKey, CborValue } from '../../../shared/cbor/cbor-value.js'
import { encodeCbor } from '../../../shared/cbor/encode.js'
import {
  decodeEnclaveConfiguration,
  encodeEnclaveConfiguration,
  type EnclaveConfiguration,
  type KmsConfiguration,
} from '../../../shared/image/enclave-configuration.js'
import { caughtCode } from '../../helpers/caught-code.js'
import { exactCode } from '../../helpers/exact-code.js'
import { hexBytes } from '../../helpers/hex-bytes.js'

/** The hex of `text` as a CBOR text string of fewer than 256 bytes (RFC 8949 §3.1, major type 3). */
function text(value: string): string {
  const bytes = Buffer.from(value, 'utf8')
  const head =
    bytes.byteLength < 24
      ? Uint8Array.of(0x60 + bytes.byteLength)
      : Uint8Array.of(0x78, bytes.byteLength)
  return toHex(head) + bytes.toString('hex')
}

/** CBOR map bytes from entries, in order (anything the encoder can write). */
function mapBytes(...entries: (readonly [CborKey, CborValue])[]): Uint8Array {
  return encodeCbor(new Map(entries))
}

const PEM = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n'
const ARN = 'arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab'

const KMS: KmsConfiguration = {
  keyArn: ARN,
  region: 'eu-west-1',
  serverName: 'kms.eu-west-1.amazonaws.com',
  trustAnchors: [PEM],
}

const KMS_ENTRIES: readonly (readonly [string, CborValue])[] = [
  ['keyArn', ARN],
  ['region', 'eu-west-1'],
  ['serverName', 'kms.eu-west-1.amazonaws.com'],
  ['trustAnchors', [PEM]],
]

/** A configuration's bytes whose `kms` field is `kms`. */
function withKms(kms: CborValue): Uint8Array {
  return mapBytes(['version', 1], ['trustedRoots', [PEM]], ['sandbox', 'none'], ['kms', kms])
}

/** The valid kms map with `field` replaced by `value`, or removed when it is undefined. */
function kmsVariant(field: string, value: CborValue | undefined): Uint8Array {
  const entries = KMS_ENTRIES.filter(([key]) => key !== field)
  return withKms(new Map([...entries, ...(value === undefined ? [] : [[field, value] as const])]))
}

const HEAD = text('version') + '01' + text('trustedRoots') + '81' + text(PEM)

t.test('a configuration without kms encodes as before: no kms key', (t) => {
  const bytes = encodeEnclaveConfiguration({ version: 1, trustedRoots: [PEM], sandbox: 'none' })
  t.equal(toHex(bytes), `a3${HEAD}${text('sandbox')}${text('none')}`)
  t.notOk(toHex(bytes).includes(Buffer.from('kms').toString('hex')), 'no kms anywhere')
  const decoded = decodeEnclaveConfiguration(bytes)
  t.same(decoded, { version: 1, trustedRoots: [PEM], sandbox: 'none' })
  t.equal(Object.hasOwn(decoded, 'kms'), false)
  t.end()
})

t.test('a configuration with kms encodes to exact bytes, kms last', (t) => {
  const bytes = encodeEnclaveConfiguration({
    version: 1,
    trustedRoots: [PEM],
    sandbox: 'none',
    kms: KMS,
  })
  t.equal(
    toHex(bytes),
    'a4' +
      HEAD +
      text('sandbox') +
      text('none') +
      text('kms') +
      'a4' +
      text('keyArn') +
      text(ARN) +
      text('region') +
      text('eu-west-1') +
      text('serverName') +
      text('kms.eu-west-1.amazonaws.com') +
      text('trustAnchors') +
      '81' +
      text(PEM),
  )
  t.end()
})

t.test('configurations with kms round-trip to equal bytes', (t) => {
  const configurations: EnclaveConfiguration[] = [
    { version: 1, trustedRoots: [PEM], sandbox: 'none' },
    { version: 1, trustedRoots: [], sandbox: 'bubblewrap', kms: KMS },
    {
      version: 1,
      trustedRoots: [],
      sandbox: 'unshare',
      kms: { keyArn: '', region: '', serverName: '', trustAnchors: [] },
    },
    {
      version: 1,
      trustedRoots: [PEM],
      sandbox: 'none',
      kms: {
        keyArn: 'a'.repeat(2048),
        region: 'r'.repeat(64),
        serverName: 'h'.repeat(253),
        trustAnchors: Array.from({ length: 8 }, (_, index) => `${PEM}${index}`),
      },
    },
    {
      version: 1,
      trustedRoots: [PEM],
      sandbox: 'none',
      kms: { ...KMS, trustAnchors: ['p'.repeat(8192)] },
    },
  ]
  for (const [index, configuration] of configurations.entries()) {
    const bytes = encodeEnclaveConfiguration(configuration)
    const decoded = decodeEnclaveConfiguration(bytes)
    t.same(decoded, configuration, `configuration ${index}`)
    t.equal(toHex(encodeEnclaveConfiguration(decoded)), toHex(bytes), 'equal bytes')
  }
  t.end()
})

t.test('kms fields are written in canonical order whatever the object order', (t) => {
  const canonical = encodeEnclaveConfiguration({
    version: 1,
    trustedRoots: [PEM],
    sandbox: 'none',
    kms: KMS,
  })
  const reordered = encodeEnclaveConfiguration({
    kms: {
      trustAnchors: [PEM],
      serverName: 'kms.eu-west-1.amazonaws.com',
      region: 'eu-west-1',
      keyArn: ARN,
    },
    sandbox: 'none',
    trustedRoots: [PEM],
    version: 1,
  })
  t.equal(toHex(reordered), toHex(canonical))
  const withExtra = { ...KMS, endpoint: 'https://evil.example' }
  t.equal(
    toHex(
      encodeEnclaveConfiguration({
        version: 1,
        trustedRoots: [PEM],
        sandbox: 'none',
        kms: withExtra,
      }),
    ),
    toHex(canonical),
    'nothing else is written',
  )
  const fromOtherOrder = decodeEnclaveConfiguration(
    mapBytes(
      ['kms', new Map([...KMS_ENTRIES].reverse())],
      ['sandbox', 'none'],
      ['trustedRoots', [PEM]],
      ['version', 1],
    ),
  )
  t.same(fromOtherOrder, { version: 1, trustedRoots: [PEM], sandbox: 'none', kms: KMS })
  t.equal(toHex(encodeEnclaveConfiguration(fromOtherOrder)), toHex(canonical), 're-encoded')
  t.end()
})

t.test('a kms field out of shape is refused with ERR_CONFIGURATION_INVALID', (t) => {
  const nine = Array.from({ length: 9 }, (_, index) => `${PEM}${index}`)
  const cases: [string, Uint8Array][] = [
    ['kms an array', withKms([ARN, 'eu-west-1', 'kms', [PEM]])],
    ['kms text', withKms(ARN)],
    ['kms bytes', withKms(hexBytes('a0'))],
    ['kms null', withKms(null)],
    ['kms an integer', withKms(1)],
    ['kms an empty map', withKms(new Map())],
    [
      'a valid kms in a version 2 configuration',
      mapBytes(
        ['version', 2],
        ['trustedRoots', [PEM]],
        ['sandbox', 'none'],
        ['kms', new Map(KMS_ENTRIES)],
      ),
    ],
    ['no keyArn', kmsVariant('keyArn', undefined)],
    ['no region', kmsVariant('region', undefined)],
    ['no serverName', kmsVariant('serverName', undefined)],
    ['no trustAnchors', kmsVariant('trustAnchors', undefined)],
    ['an extra field', withKms(new Map([...KMS_ENTRIES, ['endpoint', 'https://evil.example']]))],
    ['an extra integer key', withKms(new Map<CborKey, CborValue>([...KMS_ENTRIES, [1, 'x']]))],
    ['an inherited name', withKms(new Map([...KMS_ENTRIES, ['toString', 'x']]))],
    ['a keyArn of 2049 characters', kmsVariant('keyArn', 'a'.repeat(2049))],
    ['a region of 65 characters', kmsVariant('region', 'r'.repeat(65))],
    ['a serverName of 254 characters', kmsVariant('serverName', 'h'.repeat(254))],
    ['a trust anchor of 8193 characters', kmsVariant('trustAnchors', ['p'.repeat(8193)])],
    ['9 trust anchors', kmsVariant('trustAnchors', nine)],
    ['keyArn bytes', kmsVariant('keyArn', hexBytes('61'))],
    ['region null', kmsVariant('region', null)],
    ['serverName an integer', kmsVariant('serverName', 443)],
    ['trustAnchors one text', kmsVariant('trustAnchors', PEM)],
    ['a trust anchor that is bytes', kmsVariant('trustAnchors', [hexBytes('30')])],
  ]
  for (const [name, bytes] of cases) {
    t.equal(
      caughtCode(() => decodeEnclaveConfiguration(bytes)),
      'ERR_CONFIGURATION_INVALID',
      name,
    )
  }
  const valid = toHex(withKms(new Map(KMS_ENTRIES)))
  t.equal(
    caughtCode(() => decodeEnclaveConfiguration(hexBytes(`${valid}00`))),
    'ERR_CONFIGURATION_INVALID',
    'trailing bytes after a kms configuration',
  )
  t.equal(
    caughtCode(() => decodeEnclaveConfiguration(encodeCbor([1, [PEM], 'none', [ARN]]))),
    'ERR_CONFIGURATION_INVALID',
    'not a map',
  )
  t.throws(() => decodeEnclaveConfiguration(withKms(null)), {
    code: exactCode('ERR_CONFIGURATION_INVALID'),
  })
  t.throws(() => decodeEnclaveConfiguration(kmsVariant('trustAnchors', nine)), {
    code: exactCode('ERR_CONFIGURATION_INVALID'),
  })
  t.end()
})

t.test('the kms limits themselves are accepted', (t) => {
  const eight = Array.from({ length: 8 }, (_, index) => `${PEM}${index}`)
  const cases: [string, string, CborValue][] = [
    ['a keyArn of 2048 characters', 'keyArn', 'a'.repeat(2048)],
    ['a region of 64 characters', 'region', 'r'.repeat(64)],
    ['a serverName of 253 characters', 'serverName', 'h'.repeat(253)],
    ['8 trust anchors', 'trustAnchors', eight],
    ['a trust anchor of 8192 characters', 'trustAnchors', ['p'.repeat(8192)]],
  ]
  for (const [name, field, value] of cases) {
    const kms = decodeEnclaveConfiguration(kmsVariant(field, value)).kms
    t.same(kms, { ...KMS, [field]: value }, name)
  }
  t.end()
})

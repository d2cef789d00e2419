/** SigV4 verification against the AWS SDK's own signer, and every way a signature can be wrong. */

import t from 'tap'
import { SignatureV4 } from '@smithy/signature-v4'
import { Sha256 } from '../../../helpers/node-sha256.js'
import { verifySigV4, type SignedRequest } from '../../../../parent/kms/sigv4/verify-sigv4.js'

const ACCESS_KEY = 'AKIACLOISTERTEST0001'
const SECRET = 'cloister-test-secret-key-0000000000000000'
const NOW = Date.UTC(2026, 10, 27, 12, 0, 0)
const body = new TextEncoder().encode('{"KeyId":"alias/cloister"}')

/** A request signed by @smithy/signature-v4, exactly as @aws-sdk/client-kms signs it. */
async function signed(at = NOW, overrides: { secret?: string; region?: string } = {}) {
  const signer = new SignatureV4({
    credentials: { accessKeyId: ACCESS_KEY, secretAccessKey: overrides.secret ?? SECRET },
    region: overrides.region ?? 'us-east-1',
    service: 'kms',
    sha256: Sha256,
  })
  const result = await signer.sign(
    {
      method: 'POST',
      protocol: 'https:',
      hostname: 'localhost',
      port: 4599,
      path: '/',
      headers: {
        host: 'localhost:4599',
        'content-type': 'application/x-amz-json-1.1',
        'x-amz-target': 'TrentService.Decrypt',
      },
      body,
    },
    { signingDate: new Date(at) },
  )
  return { method: 'POST', path: '/', headers: result.headers, body } satisfies SignedRequest
}

const verify = (request: SignedRequest, now = NOW) =>
  verifySigV4(request, {
    secretOf: (id) => (id === ACCESS_KEY ? SECRET : undefined),
    now,
    service: 'kms',
  })

t.test('a request signed by the AWS SDK signer verifies', async (t) => {
  t.same(verify(await signed()), { ok: true, accessKeyId: ACCESS_KEY, region: 'us-east-1' })
  t.same(verify(await signed(NOW, { region: 'eu-west-1' })), {
    ok: true,
    accessKeyId: ACCESS_KEY,
    region: 'eu-west-1',
  })
  const request = await signed()
  const upper = Object.fromEntries(
    Object.entries(request.headers).map(([k, v]) => [k.toUpperCase(), v]),
  )
  t.same(verify({ ...request, headers: upper }).ok, true, 'header names in any case')
  const spaced = { ...request.headers, 'content-type': '  application/x-amz-json-1.1  ' }
  t.same(verify({ ...request, headers: spaced }).ok, true, 'values are trimmed')
})

t.test('every tampering is refused with the AWS error the SDK expects', async (t) => {
  const request = await signed()
  const failure = (changed: SignedRequest, now = NOW) => {
    const verdict = verify(changed, now)
    return verdict.ok ? 'accepted' : verdict.failure
  }
  const headers = request.headers as Record<string, string>
  const without = (name: string) =>
    Object.fromEntries(Object.entries(headers).filter(([key]) => key !== name))
  const authorization = headers.authorization ?? ''
  t.equal(
    failure({ ...request, headers: without('authorization') }),
    'MissingAuthenticationTokenException',
  )
  t.equal(
    failure({ ...request, headers: { ...headers, authorization: 'Bearer x' } }),
    'IncompleteSignatureException',
  )
  t.equal(failure({ ...request, headers: without('x-amz-date') }), 'IncompleteSignatureException')
  t.equal(
    failure({ ...request, body: new TextEncoder().encode('{"KeyId":"alias/other"}') }),
    'InvalidSignatureException',
  )
  t.equal(
    failure({ ...request, headers: { ...headers, 'x-amz-target': 'TrentService.Encrypt' } }),
    'InvalidSignatureException',
  )
  t.equal(failure({ ...request, method: 'PUT' }), 'InvalidSignatureException')
  t.equal(failure(await signed(NOW, { secret: 'wrong' })), 'InvalidSignatureException')
  t.equal(failure(request, NOW + 15 * 60_000), 'accepted', '15 minutes of skew are tolerated')
  t.equal(failure(request, NOW + 15 * 60_000 + 1000), 'InvalidSignatureException', 'but not more')
  t.equal(failure(request, NOW - 16 * 60_000), 'InvalidSignatureException')
  const rewrite = (from: RegExp, to: string) => ({
    ...request,
    headers: { ...headers, authorization: authorization.replace(from, to) },
  })
  t.equal(
    failure(rewrite(/Credential=AKIACLOISTERTEST0001/, 'Credential=AKIAUNKNOWNKEY000001')),
    'UnrecognizedClientException',
  )
  t.equal(failure(rewrite(/\/kms\//, '/s3/')), 'IncompleteSignatureException', 'another service')
  t.equal(failure(rewrite(/\/\d{8}\//, '/20200101/')), 'IncompleteSignatureException', 'scope date')
  t.equal(
    failure(rewrite(/SignedHeaders=[^,]+/, 'SignedHeaders=content-type;host')),
    'IncompleteSignatureException',
    'x-amz-date unsigned',
  )
  t.equal(
    failure(rewrite(/SignedHeaders=/, 'SignedHeaders=zzz;')),
    'IncompleteSignatureException',
    'unsorted',
  )
  t.equal(
    failure(rewrite(/SignedHeaders=/, 'SignedHeaders=content-type;')),
    'IncompleteSignatureException',
    'repeated',
  )
  t.equal(
    failure(rewrite(/SignedHeaders=/, 'SignedHeaders=a-missing-header;')),
    'IncompleteSignatureException',
    'absent',
  )
})

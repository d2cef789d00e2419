/** An in-memory stand-in for the enclave's attested KMS: blobs bind their context, as KMS's do. */

import { randomBytes } from 'node:crypto'
import type { AttestedKms } from '../../enclave/kms/attested-kms.js'
import { CloisterError } from '../../shared/errors/cloister-error.js'

/** Counts of calls, and a switch to make the next calls fail with a code. */
export interface FakeAttestedKms extends AttestedKms {
  readonly calls: { generateDataKey: number; decryptDataKey: number; generateRandom: number }
  failWith: CloisterError | undefined
}

/**
 * A fake whose "ciphertext blob" is the JSON of the context and the key (not secret: tests only).
 * Decrypting under another context fails with `ERR_KEYS_CONTEXT_MISMATCH`, as KMS refuses it.
 */
export function createFakeAttestedKms(): FakeAttestedKms {
  const fake: FakeAttestedKms = {
    calls: { generateDataKey: 0, decryptDataKey: 0, generateRandom: 0 },
    failWith: undefined,
    generateDataKey(context) {
      fake.calls.generateDataKey += 1
      if (fake.failWith !== undefined) return Promise.reject(fake.failWith)
      const key = new Uint8Array(randomBytes(32))
      const blob = JSON.stringify({ context, key: Buffer.from(key).toString('hex') })
      return Promise.resolve({ key, ciphertextBlob: new TextEncoder().encode(blob) })
    },
    decryptDataKey(ciphertextBlob, context) {
      fake.calls.decryptDataKey += 1
      if (fake.failWith !== undefined) return Promise.reject(fake.failWith)
      const { context: bound, key } = JSON.parse(new TextDecoder().decode(ciphertextBlob)) as {
        context: Record<string, string>
        key: string
      }
      if (JSON.stringify(bound) !== JSON.stringify(context)) {
        return Promise.reject(new CloisterError('ERR_KEYS_CONTEXT_MISMATCH'))
      }
      return Promise.resolve(new Uint8Array(Buffer.from(key, 'hex')))
    },
    generateRandom(length) {
      fake.calls.generateRandom += 1
      return Promise.resolve(new Uint8Array(randomBytes(length)))
    },
  }
  return fake
}

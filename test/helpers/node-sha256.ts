/** The SHA-256 the AWS SDK signer asks for (its Checksum interface), built on node:crypto. */

import { createHash, createHmac } from 'node:crypto'

interface Digest {
  update(data: Uint8Array): unknown
  digest(): Buffer
}

/** The hash the signer asks for (its Checksum interface), on node:crypto. */
export class Sha256 {
  private hash: Digest
  private readonly secret: Uint8Array | string | undefined
  constructor(secret?: string | ArrayBuffer | ArrayBufferView) {
    this.secret =
      secret === undefined || typeof secret === 'string'
        ? secret
        : ArrayBuffer.isView(secret)
          ? new Uint8Array(secret.buffer, secret.byteOffset, secret.byteLength)
          : new Uint8Array(secret)
    this.hash = this.fresh()
  }
  private fresh(): Digest {
    return this.secret === undefined ? createHash('sha256') : createHmac('sha256', this.secret)
  }
  update(data: Uint8Array): void {
    this.hash.update(data)
  }
  digest(): Promise<Uint8Array> {
    return Promise.resolve(new Uint8Array(this.hash.digest()))
  }
  reset(): void {
    this.hash = this.fresh()
  }
}

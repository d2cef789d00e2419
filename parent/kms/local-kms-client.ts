/** The parent's own AWS SDK client for the local KMS: its dev CA trusted, its access key signing. */

import { Agent } from 'node:https'
import { KMSClient } from '@aws-sdk/client-kms'
import { NodeHttpHandler } from '@smithy/node-http-handler'
import type { KmsState } from './state/kms-state.js'
import { LOCAL_REGION } from './open-local-kms.js'

/**
 * A stock `KMSClient` for the local KMS on `port`, as a deployment pipeline would use AWS KMS:
 * only the endpoint and the trusted CA differ.
 */
export function createLocalKmsClient(state: KmsState, port: number): KMSClient {
  return new KMSClient({
    region: LOCAL_REGION,
    endpoint: `https://localhost:${String(port)}`,
    credentials: { accessKeyId: state.accessKeyId, secretAccessKey: state.secretAccessKey },
    requestHandler: new NodeHttpHandler({ httpsAgent: new Agent({ ca: state.caPem }) }),
  })
}

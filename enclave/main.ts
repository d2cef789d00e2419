/** The enclave's composition root: wires the real NSM channel, parent channel, clock and keys. */

import { randomBytes } from 'node:crypto'
import { createCertificateCache } from '../shared/attestation/certificate-cache.js'
import { trustRootCertificates } from '../shared/attestation/trusted-roots.js'
import {
  decodeEnclaveConfiguration,
  type KmsConfiguration,
} from '../shared/image/enclave-configuration.js'
import { NSM_RESPONSE_MAX_BYTES } from '../shared/nsm/nsm-messages.js'
import { encodeReply } from '../shared/protocol/envelope.js'
import { createFramedChannel } from '../shared/protocol/framed-channel.js'
import { encodeBody, PROTOCOL_VERSION } from '../shared/protocol/ops.js'
import { MAX_RELAY_FRAME_BYTES } from '../shared/protocol/relay-messages.js'
import { NSM_CHANNEL, PARENT_CHANNEL, RELAY_CHANNEL } from '../shared/protocol/transport-address.js'
import { generateEnclaveKeys } from './keys/enclave-keys.js'
import { describeNsm, describePcr } from './nsm/nsm-calls.js'
import { createNsmOverChannel } from './nsm/nsm-over-channel.js'
import { createHandlers, dispatch } from './service.js'
import { openFdStream } from './transport/open-fd-stream.js'
import { createKeyBroker, type ReleaseAuditRecord } from './broker/key-broker.js'
import { createChallenges } from './broker/challenges.js'
import { createAttestedKms } from './kms/attested-kms.js'
import { createKeyStore } from './keys/key-store.js'
import { createRelayConnector } from './relay/relay-connector.js'

/**
 * Boots the enclave: reads its measured configuration (base64 CBOR, the first argument), makes its
 * keys, reads PCR0–4 from the NSM, then serves the parent and reports `ready`. Any failure ends the
 * process; the supervisor restarts it.
 */
export async function main(argv: readonly string[]): Promise<void> {
  // The AWS SDK resolves a home directory for ~/.aws files on every call, and os.homedir() throws
  // in the sandbox (no HOME, no /etc/passwd). A home that holds nothing: the SDK finds no files
  // (the permission model refuses the reads, which it ignores) and uses only what we configure.
  process.env.HOME = '/nonexistent'
  const configuration = decodeEnclaveConfiguration(Buffer.from(argv[0] ?? '', 'base64'))
  const nsm = createNsmOverChannel(
    createFramedChannel(openFdStream(NSM_CHANNEL.fd), NSM_RESPONSE_MAX_BYTES),
  )
  const parent = createFramedChannel(openFdStream(PARENT_CHANNEL.fd))
  const relay = createRelayConnector(
    createFramedChannel(openFdStream(RELAY_CHANNEL.fd), MAX_RELAY_FRAME_BYTES),
  )
  const keys = generateEnclaveKeys()
  const { moduleId } = await describeNsm(nsm)
  const pcrs = new Map<number, Uint8Array>()
  for (const index of [0, 1, 2, 3, 4]) pcrs.set(index, await describePcr(nsm, index))
  const clock = () => Date.now()
  const random = (length: number) => new Uint8Array(randomBytes(length))
  const trustedRoots = trustRootCertificates(configuration.trustedRoots)
  const cache = createCertificateCache()
  const kmsConfiguration = configuration.kms
  const keyStore = createKeyStore({
    configuration: kmsConfiguration,
    connect: (access) =>
      createAttestedKms({
        // keyStore.load refuses to connect without a KMS configuration.
        configuration: kmsConfiguration as KmsConfiguration,
        access,
        relay,
        nsm,
        keys,
      }),
    random,
  })
  const audit = (record: ReleaseAuditRecord) => {
    parent.send(encodeReply({ kind: 'event', event: 'audit', body: encodeBody(record) }))
  }
  const broker = createKeyBroker({
    store: keyStore,
    challenges: createChallenges({ clock, random }),
    clock,
    trustedRoots,
    cache,
    audit,
  })
  const handlers = createHandlers({
    nsm,
    clock,
    keys,
    moduleId,
    sandbox: configuration.sandbox,
    pcrs,
    trustedRoots,
    cache,
    keyStore,
    broker,
  })
  parent.onMessage((frame) => {
    void dispatch(handlers, frame).then((answer) => {
      if (answer === undefined) parent.close()
      else parent.send(answer)
    })
  })
  // The enclave has nothing to do without its parent: it exits with it.
  parent.onClose(() => process.exit(0))
  const body = encodeBody({ protocolVersion: PROTOCOL_VERSION, moduleId })
  parent.send(encodeReply({ kind: 'event', event: 'ready', body }))
}

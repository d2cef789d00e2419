/** The enclave's key pairs: an RSA-2048 recipient and a P-384 agreement key, fresh at every boot. */

import {
  createPublicKey,
  diffieHellman,
  generateKeyPairSync,
  privateDecrypt,
  publicEncrypt,
  constants,
} from 'node:crypto'
import t from 'tap'
import { generateEnclaveKeys } from '../../../enclave/keys/enclave-keys.js'
import { equalBytes, toHex } from '../../../shared/bytes/bytes.js'

const keys = generateEnclaveKeys()

function publicKeyOf(spki: Uint8Array) {
  return createPublicKey({ key: Buffer.from(spki), format: 'der', type: 'spki' })
}

t.test('the recipient is an RSA-2048 private key whose SPKI DER is its public half', (t) => {
  t.equal(keys.recipient.type, 'private')
  t.equal(keys.recipient.asymmetricKeyType, 'rsa')
  t.equal(keys.recipient.asymmetricKeyDetails?.modulusLength, 2048)
  t.equal(keys.recipient.asymmetricKeyDetails?.publicExponent, 65537n)
  t.ok(keys.recipientSpki instanceof Uint8Array)
  const derived = createPublicKey(keys.recipient).export({ format: 'der', type: 'spki' })
  t.equal(toHex(keys.recipientSpki), derived.toString('hex'), 'SPKI DER of the private key')
  t.equal(keys.recipientSpki[0], 0x30, 'DER SEQUENCE')
  const publicKey = publicKeyOf(keys.recipientSpki)
  t.equal(publicKey.asymmetricKeyType, 'rsa')
  // What KMS does with the document's public_key: RSAES_OAEP_SHA_256 to the recipient.
  const secret = Buffer.from('data key')
  const oaep = { padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }
  const sealed = publicEncrypt({ key: publicKey, ...oaep }, secret)
  t.same(privateDecrypt({ key: keys.recipient, ...oaep }, sealed), secret)
  t.end()
})

t.test('the agreement key is a P-384 ECDH key whose SPKI DER is its public half', (t) => {
  t.equal(keys.agreement.type, 'private')
  t.equal(keys.agreement.asymmetricKeyType, 'ec')
  t.equal(keys.agreement.asymmetricKeyDetails?.namedCurve, 'secp384r1')
  const derived = createPublicKey(keys.agreement).export({ format: 'der', type: 'spki' })
  t.equal(toHex(keys.agreementSpki), derived.toString('hex'))
  const publicKey = publicKeyOf(keys.agreementSpki)
  t.equal(publicKey.asymmetricKeyDetails?.namedCurve, 'secp384r1')
  // A client encrypting to the enclave (JWE ECDH-ES) reaches the same shared secret.
  const client = generateKeyPairSync('ec', { namedCurve: 'P-384' })
  const clientSide = diffieHellman({ privateKey: client.privateKey, publicKey })
  const enclaveSide = diffieHellman({ privateKey: keys.agreement, publicKey: client.publicKey })
  t.equal(clientSide.byteLength, 48)
  t.ok(equalBytes(clientSide, enclaveSide))
  t.end()
})

t.test('every call makes fresh key pairs', (t) => {
  const again = generateEnclaveKeys()
  t.not(toHex(again.recipientSpki), toHex(keys.recipientSpki))
  t.not(toHex(again.agreementSpki), toHex(keys.agreementSpki))
  t.notOk(again.recipient.equals(keys.recipient))
  t.notOk(again.agreement.equals(keys.agreement))
  t.end()
})

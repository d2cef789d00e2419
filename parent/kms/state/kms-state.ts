/** The local KMS's secrets on disk: master key, access key, dev CA and TLS certificate, all owner-only. */

import { randomBytes } from 'node:crypto'
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { CloisterError } from '../../../shared/errors/cloister-error.js'
import { issueCertificate, type IssuedCertificate } from '../../sim/issue-certificate.js'
import { x509 } from '../../sim/x509.js'

/** What `cloister kms serve` needs from its state directory. */
export interface KmsState {
  /** Encrypts key material at rest (AES-256-GCM). */
  readonly masterKey: Uint8Array
  readonly accessKeyId: string
  readonly secretAccessKey: string
  /** PEM of the CA that signs the TLS certificate: what clients put in NODE_EXTRA_CA_CERTS. */
  readonly caPem: string
  readonly tlsCertificatePem: string
  readonly tlsKeyPem: string
  /** Paths handed to AWS tooling. */
  readonly credentialsPath: string
  readonly caPath: string
}

const YEAR = 365 * 24 * 3_600_000
const PROFILE = 'cloister'
const ACCESS_KEY_PREFIX = 'AKIACLOISTER' // an AWS-shaped id (AKIA…), plainly not AWS's

/**
 * Opens (creating on first use) `<state>/kms/` (0700) and `<state>/ca.pem`: a 32-byte master key,
 * an access key written in the AWS shared-credentials format (profile `cloister`), a dev CA and a
 * TLS certificate for localhost and 127.0.0.1 signed by it. Secrets are written 0600.
 *
 * @throws {CloisterError} `ERR_KMS_STATE` when stored files are unreadable or inconsistent.
 */
export async function openKmsState(stateDirectory: string, now: number): Promise<KmsState> {
  const directory = join(stateDirectory, 'kms')
  await mkdir(directory, { recursive: true, mode: 0o700 })
  const paths: KmsPaths = {
    master: join(directory, 'master.key'),
    credentials: join(directory, 'credentials'),
    caKey: join(directory, 'ca.key.pem'),
    tlsCertificate: join(directory, 'tls.cert.pem'),
    tlsKey: join(directory, 'tls.key.pem'),
    ca: join(stateDirectory, 'ca.pem'),
  }
  const existing = await readExisting(paths)
  if (existing !== undefined) return existing
  const masterKey = new Uint8Array(randomBytes(32))
  const accessKeyId = `${ACCESS_KEY_PREFIX}${randomBytes(4).toString('hex').toUpperCase()}`
  const secretAccessKey = randomBytes(30).toString('base64')
  const ca = await issueCertificate({
    subject: 'CN=Cloister Local KMS Dev CA, O=Cloister',
    ca: true,
    pathLength: 0,
    notBefore: now - 60_000,
    notAfter: now + 10 * YEAR,
  })
  const tls = await issueCertificate({
    subject: 'CN=localhost, O=Cloister',
    issuer: ca,
    ca: false,
    notBefore: now - 60_000,
    notAfter: now + YEAR,
    extraExtensions: [
      new x509.SubjectAlternativeNameExtension([
        { type: 'dns', value: 'localhost' },
        { type: 'ip', value: '127.0.0.1' },
        { type: 'ip', value: '::1' },
      ]),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
    ],
  })
  await writeSecret(paths.master, Buffer.from(masterKey).toString('base64'))
  await writeSecret(
    paths.credentials,
    `[${PROFILE}]\naws_access_key_id = ${accessKeyId}\naws_secret_access_key = ${secretAccessKey}\n`,
  )
  await writeSecret(paths.caKey, pkcs8(ca))
  await writeSecret(paths.tlsKey, pkcs8(tls))
  await writeFile(paths.tlsCertificate, tls.pem)
  await writeFile(paths.ca, ca.pem)
  return {
    masterKey,
    accessKeyId,
    secretAccessKey,
    caPem: ca.pem,
    tlsCertificatePem: tls.pem,
    tlsKeyPem: pkcs8(tls),
    credentialsPath: paths.credentials,
    caPath: paths.ca,
  }
}

function pkcs8(certificate: IssuedCertificate): string {
  return certificate.privateKey.export({ format: 'pem', type: 'pkcs8' }) as string
}

async function writeSecret(path: string, content: string): Promise<void> {
  await writeFile(path, content, { mode: 0o600 })
  await chmod(path, 0o600) // the mode only applies when writeFile creates the file
}

interface KmsPaths {
  readonly master: string
  readonly credentials: string
  readonly caKey: string
  readonly tlsCertificate: string
  readonly tlsKey: string
  readonly ca: string
}

const CREDENTIALS = /^\[cloister\]\naws_access_key_id = (\S+)\naws_secret_access_key = (\S+)\n$/

async function readExisting(paths: KmsPaths): Promise<KmsState | undefined> {
  let master: string
  try {
    master = await readFile(paths.master, 'utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw new CloisterError('ERR_KMS_STATE')
  }
  try {
    const credentials = CREDENTIALS.exec(await readFile(paths.credentials, 'utf8'))
    const masterKey = new Uint8Array(Buffer.from(master, 'base64'))
    if (credentials === null || masterKey.byteLength !== 32) throw new Error('inconsistent')
    return {
      masterKey,
      accessKeyId: credentials[1] as string,
      secretAccessKey: credentials[2] as string,
      caPem: await readFile(paths.ca, 'utf8'),
      tlsCertificatePem: await readFile(paths.tlsCertificate, 'utf8'),
      tlsKeyPem: await readFile(paths.tlsKey, 'utf8'),
      credentialsPath: paths.credentials,
      caPath: paths.ca,
    }
  } catch {
    throw new CloisterError('ERR_KMS_STATE')
  }
}

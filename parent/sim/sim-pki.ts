/** The simulated Nitro host's PKI: root → regional → zonal → instance → leaf, kept under the state directory. */

import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises'
import { createPrivateKey, webcrypto, X509Certificate } from 'node:crypto'
import { join } from 'node:path'
import { asBytes } from '../../shared/bytes/bytes.js'
import { CloisterError } from '../../shared/errors/cloister-error.js'
import { issueCertificate, type IssuedCertificate } from './issue-certificate.js'
import { x509 } from './x509.js'

const MINUTE = 60_000
const HOUR = 60 * MINUTE
const DAY = 24 * HOUR

/**
 * One level of the chain, shaped like the real one (see the certificates inside
 * `../shared/vectors/nitro/*.cose`): lifetimes, pathLen and keyUsage as AWS issues them, names
 * that say "simulated" and never claim to be AWS.
 */
interface Level {
  readonly name: 'regional' | 'zonal' | 'instance' | 'leaf'
  readonly subject: string
  readonly lifetime: number
  /** Renew when less than this remains, so a document never carries a nearly expired chain. */
  readonly renewBefore: number
  readonly pathLength: number | undefined
  readonly ca: boolean
  readonly keyUsage: x509.KeyUsageFlags
  readonly keyUsageCritical: boolean
}

const ROOT_SUBJECT = 'CN=Cloister Simulated Nitro Root G1, OU=Simulation, O=Cloister'
const ROOT_LIFETIME = 30 * 365 * DAY
const CA_USAGE = (x509.KeyUsageFlags.digitalSignature |
  x509.KeyUsageFlags.keyCertSign |
  x509.KeyUsageFlags.cRLSign) as x509.KeyUsageFlags
const LEVELS: readonly Level[] = [
  {
    name: 'regional',
    subject: 'CN=regional.sim.cloister, OU=Simulation, O=Cloister',
    lifetime: 20 * DAY,
    renewBefore: 5 * DAY,
    pathLength: 2,
    ca: true,
    keyUsage: CA_USAGE,
    keyUsageCritical: true,
  },
  {
    name: 'zonal',
    subject: 'CN=zonal.sim.cloister, OU=Simulation, O=Cloister',
    lifetime: 6 * DAY,
    renewBefore: DAY,
    pathLength: 1,
    ca: true,
    keyUsage: CA_USAGE,
    keyUsageCritical: true,
  },
  {
    name: 'instance',
    subject: 'CN=instance.sim.cloister, OU=Simulation, O=Cloister',
    lifetime: 32 * HOUR,
    renewBefore: 6 * HOUR,
    pathLength: 0,
    ca: true,
    keyUsage: x509.KeyUsageFlags.keyCertSign,
    keyUsageCritical: true,
  },
  {
    name: 'leaf',
    subject: 'CN=enclave.sim.cloister, OU=Simulation, O=Cloister',
    lifetime: 3 * HOUR, // real NSM leaves live three hours
    renewBefore: 30 * MINUTE,
    pathLength: undefined,
    ca: false,
    keyUsage: x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.nonRepudiation,
    keyUsageCritical: false,
  },
]
/** Certificates start a minute in the past, so a verifier whose clock lags a little accepts them. */
const BACKDATE = MINUTE

/** What the NSM signs a document with at a given instant. */
export interface SimSigner {
  /** Root first, then regional, zonal and instance: the document's `cabundle`. */
  readonly cabundle: readonly Uint8Array[]
  readonly leaf: IssuedCertificate
}

/** The simulated PKI, opened on a state directory. */
export interface SimPki {
  readonly root: IssuedCertificate
  /** The chain valid at `now`, renewing (and persisting) every level that nears expiry. */
  signerAt(now: number): Promise<SimSigner>
}

/**
 * Opens the PKI stored in `directory` (created with mode 0700, keys 0600), creating the root and
 * the intermediates on first use. The root lives 30 years; the leaf stays in memory.
 *
 * @throws {CloisterError} `ERR_SIM_STATE` when stored files are unreadable or inconsistent.
 * @example
 * ```ts
 * const pki = await openSimPki('.cloister/sim', Date.now())
 * const { cabundle, leaf } = await pki.signerAt(Date.now())
 * ```
 */
export async function openSimPki(directory: string, now: number): Promise<SimPki> {
  await mkdir(directory, { recursive: true, mode: 0o700 })
  const root =
    (await load(directory, 'root')) ??
    (await store(
      directory,
      'root',
      await issueCertificate({
        subject: ROOT_SUBJECT,
        ca: true,
        keyUsage: CA_USAGE,
        notBefore: now - BACKDATE,
        notAfter: now + ROOT_LIFETIME,
      }),
    ))
  const chain: IssuedCertificate[] = [root]
  for (const level of LEVELS.slice(0, -1)) {
    const stored = await load(directory, level.name)
    if (stored !== undefined) chain.push(stored)
    else break
  }
  let pending: Promise<unknown> = Promise.resolve()
  return {
    root,
    signerAt(at) {
      // Renewals run one at a time: two callers must not both replace the same level.
      const next = pending.then(() => renew(directory, chain, at))
      pending = next.catch(() => undefined)
      return next
    },
  }
}

async function renew(
  directory: string,
  chain: IssuedCertificate[],
  now: number,
): Promise<SimSigner> {
  let renewedAbove = false
  for (const [offset, level] of LEVELS.entries()) {
    const index = offset + 1
    const issuer = chain[offset] as IssuedCertificate // the root is always there
    const current = chain[index]
    if (renewedAbove || current === undefined || needsRenewal(current, level, now)) {
      const issued = await issueCertificate({
        subject: level.subject,
        issuer,
        ca: level.ca,
        ...(level.pathLength === undefined ? {} : { pathLength: level.pathLength }),
        keyUsage: level.keyUsage,
        keyUsageCritical: level.keyUsageCritical,
        notBefore: now - BACKDATE,
        // A certificate never outlives its issuer.
        notAfter: Math.min(now + level.lifetime, validity(issuer).notAfter),
      })
      chain[index] = level.name === 'leaf' ? issued : await store(directory, level.name, issued)
      renewedAbove = true
    }
  }
  return {
    cabundle: chain.slice(0, -1).map((item) => item.der),
    leaf: chain.at(-1) as IssuedCertificate,
  }
}

function validity(certificate: IssuedCertificate): { notBefore: number; notAfter: number } {
  const parsed = new X509Certificate(certificate.der)
  return { notBefore: Date.parse(parsed.validFrom), notAfter: Date.parse(parsed.validTo) }
}

function needsRenewal(certificate: IssuedCertificate, level: Level, now: number): boolean {
  const { notBefore, notAfter } = validity(certificate)
  return now < notBefore || notAfter - now < level.renewBefore
}

async function store(
  directory: string,
  name: string,
  certificate: IssuedCertificate,
): Promise<IssuedCertificate> {
  const keyPath = join(directory, `${name}.key.pem`)
  const key = certificate.privateKey.export({ format: 'pem', type: 'pkcs8' })
  await writeFile(keyPath, key, { mode: 0o600 })
  await chmod(keyPath, 0o600) // writeFile's mode applies only when it creates the file
  await writeFile(join(directory, `${name}.cert.pem`), certificate.pem)
  return certificate
}

/** The stored certificate and key called `name`, or `undefined` when there is none. */
async function load(directory: string, name: string): Promise<IssuedCertificate | undefined> {
  let pem: string
  let keyPem: string
  try {
    pem = await readFile(join(directory, `${name}.cert.pem`), 'utf8')
    keyPem = await readFile(join(directory, `${name}.key.pem`), 'utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw new CloisterError('ERR_SIM_STATE')
  }
  try {
    const certificate = new X509Certificate(pem)
    const privateKey = createPrivateKey(keyPem)
    if (!certificate.checkPrivateKey(privateKey)) throw new Error('key does not match')
    const algorithm = { name: 'ECDSA', namedCurve: 'P-384' }
    const keys = {
      privateKey: await webcrypto.subtle.importKey(
        'pkcs8',
        privateKey.export({ format: 'der', type: 'pkcs8' }),
        algorithm,
        true,
        ['sign'],
      ),
      publicKey: await webcrypto.subtle.importKey(
        'spki',
        certificate.publicKey.export({ format: 'der', type: 'spki' }),
        algorithm,
        true,
        ['verify'],
      ),
    }
    return { der: asBytes(certificate.raw), pem, keys, privateKey }
  } catch {
    throw new CloisterError('ERR_SIM_STATE')
  }
}

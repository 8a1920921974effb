/**
 * A small PKI for agent TLS: a self-signed CA plus server, client and CLI certificates, the
 * same shapes `consul tls ca create` / `consul tls cert create` produce (ECDSA P-256 keys,
 * ECDSA-with-SHA256 signatures, the same names, SANs and key usages), so certificates made
 * here and by HashiCorp's binary are interchangeable.
 *
 * Keys are generated with WebCrypto and certificates built with @peculiar/x509; Node's own
 * crypto only converts key encodings and checks results. Nothing shells out to openssl.
 */
import { createPrivateKey, createPublicKey, randomBytes, webcrypto, X509Certificate as NodeX509, type KeyObject } from 'node:crypto'
import { isIP } from 'node:net'
import { writeFileSync } from 'node:fs'
import type * as X509 from '@peculiar/x509'

installReflectMetadata()
// A dynamic import, because the Reflect metadata API must exist before @peculiar/x509 (through
// tsyringe) evaluates; static imports would run first.
const x509: typeof X509 = await import('@peculiar/x509')

// @peculiar/x509 takes a WebCrypto implementation; Node's is complete for ECDSA P-256.
const subtle = webcrypto.subtle
const provider = webcrypto
x509.cryptoProvider.set(provider)

const EC_ALG = { name: 'ECDSA', namedCurve: 'P-256' } as const
const SIGN_ALG = { name: 'ECDSA', hash: 'SHA-256' } as const
const NAME_CONSTRAINTS_OID = '2.5.29.30'
const DAY_MS = 86_400_000
// Certificates start a minute in the past so a verifier whose clock runs slightly behind the
// issuing machine's does not reject a certificate that was made a moment ago.
const BACKDATE_MS = 60_000

export type CertKind = 'server' | 'client' | 'cli'

export interface PemPair {
  certPem: string
  /** SEC1 "EC PRIVATE KEY" PEM: what Consul writes and reads, and what Node's tls loads. */
  keyPem: string
}

export interface CaOptions {
  /** Validity in days (Consul's default: 1825). */
  days?: number
  /** Cluster DNS domain; only matters with nameConstraint (default "consul"). */
  domain?: string
  /** Default: `Consul Agent CA <decimal serial>`, as Consul names it. */
  commonName?: string
  /** Restrict the CA to localhost, the domain and additionalNameConstraints (X.509 name constraints). */
  nameConstraint?: boolean
  additionalNameConstraints?: string[]
}

export interface CertOptions {
  caCertPem: string
  caKeyPem: string
  kind: CertKind
  datacenter?: string
  domain?: string
  /** Validity in days (Consul's default: 365). */
  days?: number
  /** Server certificates only: adds `<node>.server.<dc>.<domain>`. */
  node?: string
  additionalDnsNames?: string[]
  additionalIps?: string[]
}

export interface CertProfile {
  commonName: string
  dnsNames: string[]
  ips: string[]
  /** Extended key usage OIDs; empty means the extension is left out (any use). */
  extKeyUsages: string[]
  /** File name stem Consul uses: `<dc>-server-<domain>`, `<dc>-client-<domain>`, `<dc>-cli-<domain>`. */
  filePrefix: string
}

export class PkiError extends Error {}

/**
 * Writes a new PEM file, never over an existing one ('wx' also loses no race with another
 * process); private keys get mode 0600. Throws PkiError with Consul's message.
 */
export function savePem(file: string, data: string, mode: number): void {
  try {
    writeFileSync(file, data, { flag: 'wx', mode })
  } catch (err) {
    throw new PkiError((err as NodeJS.ErrnoException).code === 'EEXIST' ? `${file} already exists.` : `Error writing ${file}: ${(err as Error).message}`)
  }
}

/**
 * Names and usages of one kind of certificate, as `consul tls cert create` assigns them:
 * server and client certificates serve and authenticate (serverAuth + clientAuth) and always
 * cover localhost and 127.0.0.1; CLI certificates only carry their name and localhost.
 */
export function certProfile(opts: Pick<CertOptions, 'kind' | 'datacenter' | 'domain' | 'node' | 'additionalDnsNames' | 'additionalIps'>): CertProfile {
  const dc = opts.datacenter ?? 'dc1'
  const domain = opts.domain ?? 'consul'
  const extraDns = (opts.additionalDnsNames ?? []).map((d) => d.trim()).filter((d) => d.length > 0)
  const extraIps = (opts.additionalIps ?? []).map((i) => i.trim()).filter((i) => i.length > 0)
  for (const ip of extraIps) if (isIP(ip) === 0) throw new PkiError(`invalid IP address: ${ip}`)
  if (opts.node && opts.kind !== 'server') throw new PkiError('-node requires -server')
  const both = [x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth]
  switch (opts.kind) {
    case 'server': {
      const commonName = `server.${dc}.${domain}`
      const nodeName = opts.node ? [`${opts.node}.server.${dc}.${domain}`] : []
      return { commonName, dnsNames: uniq([...extraDns, ...nodeName, commonName, 'localhost']), ips: uniq([...extraIps, '127.0.0.1']), extKeyUsages: both, filePrefix: `${dc}-server-${domain}` }
    }
    case 'client': {
      const commonName = `client.${dc}.${domain}`
      return { commonName, dnsNames: uniq([...extraDns, commonName, 'localhost']), ips: uniq([...extraIps, '127.0.0.1']), extKeyUsages: both, filePrefix: `${dc}-client-${domain}` }
    }
    case 'cli': {
      // Consul ignores the additional names for CLI certificates: they identify a user, not a host.
      const commonName = `cli.${dc}.${domain}`
      return { commonName, dnsNames: [commonName, 'localhost'], ips: [], extKeyUsages: [], filePrefix: `${dc}-cli-${domain}` }
    }
  }
}

/** Creates a self-signed CA certificate and its private key. */
export async function createCa(opts: CaOptions = {}): Promise<PemPair> {
  const days = checkDays(opts.days ?? 1825)
  const domain = opts.domain ?? 'consul'
  const keys = (await subtle.generateKey(EC_ALG, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair
  const serialHex = serial()
  const commonName = opts.commonName ?? `Consul Agent CA ${BigInt(`0x${serialHex}`).toString(10)}`
  const now = Date.now()
  const ski = await x509.SubjectKeyIdentifierExtension.create(keys.publicKey, false, provider)
  const extensions: X509.Extension[] = [
    new x509.BasicConstraintsExtension(true, undefined, true),
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature, true),
    ski,
    new x509.AuthorityKeyIdentifierExtension(ski.keyId),
  ]
  if (opts.nameConstraint) {
    const permitted = uniq([...(opts.additionalNameConstraints ?? []), domain, 'localhost'].map((d) => d.trim()).filter((d) => d.length > 0))
    extensions.push(new x509.Extension(NAME_CONSTRAINTS_OID, true, nameConstraintsDer(permitted)))
  }
  const cert = await x509.X509CertificateGenerator.createSelfSigned(
    {
      serialNumber: serialHex,
      name: [{ CN: [commonName] }],
      notBefore: new Date(now - BACKDATE_MS),
      notAfter: new Date(now + days * DAY_MS),
      signingAlgorithm: SIGN_ALG,
      keys,
      extensions,
    },
    provider,
  )
  return { certPem: cert.toString('pem') + '\n', keyPem: await exportSec1(keys.privateKey) }
}

/** Creates a certificate of the given kind signed by the CA, with a fresh key pair. */
export async function createCert(opts: CertOptions): Promise<PemPair & { profile: CertProfile }> {
  const days = checkDays(opts.days ?? 365)
  const profile = certProfile(opts)
  const ca = parseCaCert(opts.caCertPem)
  checkNameConstraints(ca.peculiar, profile.dnsNames)
  const caKey = loadCaKey(opts.caKeyPem)
  const caSpki = ca.node.publicKey.export({ type: 'spki', format: 'der' })
  if (!createPublicKey(caKey).export({ type: 'spki', format: 'der' }).equals(caSpki)) {
    throw new PkiError('the CA key does not belong to the CA certificate')
  }
  const signingKey = await subtle.importKey('pkcs8', caKey.export({ type: 'pkcs8', format: 'der' }), EC_ALG, false, ['sign'])
  const keys = (await subtle.generateKey(EC_ALG, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair

  // The authority key identifier must repeat the CA's subject key identifier so verifiers can
  // pick the right issuer; fall back to hashing the CA key for CAs made without one.
  const caSki = ca.peculiar.getExtension(x509.SubjectKeyIdentifierExtension)
  const aki = caSki ? new x509.AuthorityKeyIdentifierExtension(caSki.keyId) : await x509.AuthorityKeyIdentifierExtension.create(ca.peculiar.publicKey, false, provider)
  const names: X509.JsonGeneralNames = [...profile.dnsNames.map((value) => ({ type: 'dns' as const, value })), ...profile.ips.map((value) => ({ type: 'ip' as const, value }))]
  const extensions: X509.Extension[] = [
    new x509.BasicConstraintsExtension(false, undefined, true),
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
    await x509.SubjectKeyIdentifierExtension.create(keys.publicKey, false, provider),
    aki,
    new x509.SubjectAlternativeNameExtension(names),
  ]
  if (profile.extKeyUsages.length > 0) extensions.push(new x509.ExtendedKeyUsageExtension(profile.extKeyUsages))

  const now = Date.now()
  const cert = await x509.X509CertificateGenerator.create(
    {
      serialNumber: serial(),
      subject: [{ CN: [profile.commonName] }],
      issuer: ca.peculiar.subjectName,
      notBefore: new Date(now - BACKDATE_MS),
      notAfter: new Date(now + days * DAY_MS),
      signingAlgorithm: SIGN_ALG,
      publicKey: keys.publicKey,
      signingKey,
      extensions,
    },
    provider,
  )
  const certPem = cert.toString('pem') + '\n'
  // Like Consul, check the result chains to the CA before anyone writes it to disk.
  if (!new NodeX509(certPem).verify(ca.node.publicKey)) throw new PkiError('the new certificate does not verify against the CA')
  return { certPem, keyPem: await exportSec1(keys.privateKey), profile }
}

/** Parses the CA certificate PEM, insisting it really is a CA. */
function parseCaCert(pem: string): { node: NodeX509; peculiar: X509.X509Certificate } {
  let node: NodeX509
  let peculiar: X509.X509Certificate
  try {
    node = new NodeX509(pem)
    peculiar = new x509.X509Certificate(pem)
  } catch (err) {
    throw new PkiError(`cannot parse the CA certificate: ${(err as Error).message}`)
  }
  if (!node.ca) throw new PkiError('the CA certificate is not a CA (basic constraints CA:FALSE)')
  return { node, peculiar }
}

/**
 * Refuses DNS names a name-constrained CA may not sign: TLS clients would reject such a
 * certificate, and Consul's own check refuses to write one. Only dNSName subtrees are
 * read; other name forms do not constrain DNS names.
 */
function checkNameConstraints(ca: X509.X509Certificate, dnsNames: string[]): void {
  const ext = ca.getExtension(NAME_CONSTRAINTS_OID)
  if (!ext) return
  const permitted: string[] = []
  const excluded: string[] = []
  try {
    const [outer] = readDer(new Uint8Array(ext.value))
    if (!outer || outer.tag !== 0x30) throw new Error('not a SEQUENCE')
    for (const part of readDer(outer.content)) {
      const into = part.tag === 0xa0 ? permitted : part.tag === 0xa1 ? excluded : undefined
      if (!into) continue
      for (const subtree of readDer(part.content)) {
        const [base] = readDer(subtree.content)
        if (base?.tag === 0x82) into.push(Buffer.from(base.content).toString('ascii'))
      }
    }
  } catch (err) {
    throw new PkiError(`cannot read the CA's name constraints: ${(err as Error).message}`)
  }
  const within = (name: string, constraint: string): boolean => {
    const n = name.toLowerCase()
    const c = constraint.toLowerCase()
    if (c === '') return true
    return c.startsWith('.') ? n.endsWith(c) : n === c || n.endsWith(`.${c}`)
  }
  for (const name of dnsNames) {
    if (excluded.some((c) => within(name, c)) || (permitted.length > 0 && !permitted.some((c) => within(name, c)))) {
      throw new PkiError(`the CA's name constraints do not permit ${name} (permitted: ${permitted.join(', ') || 'any'}${excluded.length ? `; excluded: ${excluded.join(', ')}` : ''})`)
    }
  }
}

/** Splits DER bytes into their top-level TLVs (definite lengths only, as DER requires). */
function readDer(bytes: Uint8Array): { tag: number; content: Uint8Array }[] {
  const out: { tag: number; content: Uint8Array }[] = []
  let i = 0
  while (i < bytes.length) {
    const tag = bytes[i++]!
    let len = bytes[i++]
    if (len === undefined) throw new Error('truncated DER')
    if (len & 0x80) {
      const count = len & 0x7f
      if (count === 0 || count > 4) throw new Error('unsupported DER length')
      len = 0
      for (let k = 0; k < count; k++) len = len * 256 + (bytes[i++] ?? Number.NaN)
    }
    if (!Number.isFinite(len) || i + len > bytes.length) throw new Error('truncated DER')
    out.push({ tag, content: bytes.subarray(i, i + len) })
    i += len
  }
  return out
}

/** Loads the CA's private key from SEC1 ("EC PRIVATE KEY", Consul's format) or PKCS#8 PEM. */
function loadCaKey(pem: string): KeyObject {
  let key: KeyObject
  try {
    key = createPrivateKey(pem)
  } catch (err) {
    throw new PkiError(`cannot parse the CA key: ${(err as Error).message}`)
  }
  if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
    throw new PkiError(`the CA key must be an ECDSA P-256 key, got ${key.asymmetricKeyType ?? 'unknown'} ${key.asymmetricKeyDetails?.namedCurve ?? ''}`.trim())
  }
  return key
}

/** WebCrypto exports PKCS#8 only; Consul's `-key` reader accepts SEC1 alone, so convert. */
async function exportSec1(key: webcrypto.CryptoKey): Promise<string> {
  const pkcs8 = Buffer.from(await subtle.exportKey('pkcs8', key))
  return createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' }).export({ type: 'sec1', format: 'pem' }).toString()
}

/** A random positive 128-bit serial (RFC 5280 allows up to 20 octets; Consul uses < 2^128). */
function serial(): string {
  const bytes = randomBytes(16)
  // Clear the sign bit and keep the first octet non-zero so the DER integer is exactly 16 octets.
  bytes[0] = (bytes[0]! & 0x7f) | 0x01
  return bytes.toString('hex')
}

function checkDays(days: number): number {
  if (!Number.isInteger(days) || days <= 0) throw new PkiError(`days must be a positive whole number, got ${days}`)
  return days
}

function uniq(list: string[]): string[] {
  return [...new Set(list)]
}

/**
 * DER of NameConstraints { permittedSubtrees [0] GeneralSubtrees } with dNSName bases only.
 * @peculiar/x509 has no builder for this extension, and it is small enough to encode here.
 */
function nameConstraintsDer(dnsNames: string[]): Uint8Array {
  const subtrees = dnsNames.map((name) => der(0x30, der(0x82, Buffer.from(name, 'ascii'))))
  return der(0x30, der(0xa0, Buffer.concat(subtrees)))
}

/** One DER TLV with a definite-length encoding. */
function der(tag: number, content: Uint8Array): Buffer {
  const len = content.length
  let header: number[]
  if (len < 0x80) header = [tag, len]
  else {
    const octets: number[] = []
    for (let n = len; n > 0; n >>= 8) octets.unshift(n & 0xff)
    header = [tag, 0x80 | octets.length, ...octets]
  }
  return Buffer.concat([Buffer.from(header), content])
}

/**
 * The slice of the Reflect metadata API (the reflect-metadata proposal) that tsyringe, used
 * inside @peculiar/x509, calls: define, get and get-own. The library refuses to load without
 * it and the project takes no polyfill dependency, so this stands in; a real polyfill, when
 * something else loaded one first, is left alone.
 */
function installReflectMetadata(): void {
  type Target = object
  type Store = Map<string | symbol | undefined, Map<unknown, unknown>>
  const reflect = Reflect as unknown as Record<string, unknown>
  if (typeof reflect.getMetadata === 'function') return
  const stores = new WeakMap<Target, Store>()
  const table = (target: Target, prop: string | symbol | undefined, create: boolean): Map<unknown, unknown> | undefined => {
    let store = stores.get(target)
    if (!store) {
      if (!create) return undefined
      store = new Map()
      stores.set(target, store)
    }
    let entries = store.get(prop)
    if (!entries && create) store.set(prop, (entries = new Map()))
    return entries
  }
  const getOwnMetadata = (key: unknown, target: Target, prop?: string | symbol): unknown => table(target, prop, false)?.get(key)
  const hasOwnMetadata = (key: unknown, target: Target, prop?: string | symbol): boolean => table(target, prop, false)?.has(key) ?? false
  const getMetadata = (key: unknown, target: Target, prop?: string | symbol): unknown => {
    // Metadata is inherited along the prototype chain, as the proposal specifies.
    for (let t: Target | null = target; t; t = Object.getPrototypeOf(t) as Target | null) {
      if (hasOwnMetadata(key, t, prop)) return getOwnMetadata(key, t, prop)
    }
    return undefined
  }
  const defineMetadata = (key: unknown, value: unknown, target: Target, prop?: string | symbol): void => {
    table(target, prop, true)!.set(key, value)
  }
  Object.assign(reflect, {
    getOwnMetadata,
    hasOwnMetadata,
    getMetadata,
    hasMetadata: (key: unknown, target: Target, prop?: string | symbol): boolean => getMetadata(key, target, prop) !== undefined,
    defineMetadata,
    metadata: (key: unknown, value: unknown) => (target: Target, prop?: string | symbol): void => defineMetadata(key, value, target, prop),
  })
}

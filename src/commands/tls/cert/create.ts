import { Command, Flags } from '@oclif/core'
import { existsSync, readFileSync } from 'node:fs'
import { certProfile, savePem, createCert, PkiError, type CertKind } from '../../../agent/pki.js'

/** Consul's placeholder in the -ca/-key defaults, replaced by -domain. */
const DOMAIN = '#DOMAIN#'
/** Consul gives up looking for a free file number after this many. */
const MAX_INDEX = 10_000

export default class TlsCertCreate extends Command {
  static override summary = 'Create a server, client or CLI certificate signed by the agent CA.'
  static override description = `Writes <dc>-server-<domain>-N.pem and <dc>-server-<domain>-N-key.pem (or -client-, -cli-) to the current directory, N being the first number not yet taken.

Server and client certificates name server.<dc>.<domain> (client.<dc>.<domain>), localhost and 127.0.0.1, and may both serve and authenticate. CLI certificates name cli.<dc>.<domain> and localhost.`
  static override examples = [
    '<%= config.bin %> tls cert create -server',
    '<%= config.bin %> tls cert create -server -dc=dc2 -node=n1 -additional-dnsname=consul.example.com -additional-ipaddress=10.0.0.5',
    '<%= config.bin %> tls cert create -client',
    '<%= config.bin %> tls cert create -cli -ca=/etc/consul.d/consul-agent-ca.pem -key=/etc/consul.d/consul-agent-ca-key.pem',
  ]
  static override flags = {
    server: Flags.boolean({ description: 'Generate a server certificate.' }),
    client: Flags.boolean({ description: 'Generate a client certificate.' }),
    cli: Flags.boolean({ description: 'Generate a CLI certificate.' }),
    dc: Flags.string({ description: 'Datacenter the certificate is for.', default: 'dc1' }),
    domain: Flags.string({ description: 'DNS domain of the cluster.', default: 'consul' }),
    days: Flags.integer({ description: 'Number of days the certificate is valid for.', default: 365, min: 1 }),
    ca: Flags.string({ description: 'CA certificate to sign with.', default: `${DOMAIN}-agent-ca.pem` }),
    key: Flags.string({ description: 'The CA\'s private key.', default: `${DOMAIN}-agent-ca-key.pem` }),
    node: Flags.string({ description: 'With -server, also name <node>.server.<dc>.<domain>.' }),
    'additional-dnsname': Flags.string({ description: 'Another DNS name for the certificate (localhost is always included); repeatable.', multiple: true }),
    'additional-ipaddress': Flags.string({ description: 'Another IP address for the certificate (127.0.0.1 is always included); repeatable.', multiple: true }),
  }

  async run(): Promise<void> {
    const { flags } = await this.parse(TlsCertCreate)
    const kinds = (['server', 'client', 'cli'] as const).filter((k) => flags[k])
    if (kinds.length !== 1) this.#fail('Please provide either -server, -client, or -cli')
    const kind: CertKind = kinds[0]!
    if (!flags.ca) this.#fail('Please provide the ca')
    if (!flags.key) this.#fail('Please provide the key')

    const spec = {
      kind,
      datacenter: flags.dc,
      domain: flags.domain,
      days: flags.days,
      node: flags.node,
      additionalDnsNames: flags['additional-dnsname'],
      additionalIps: flags['additional-ipaddress'],
    }
    let profile
    try {
      profile = certProfile(spec)
    } catch (err) {
      if (err instanceof PkiError) this.#fail(err.message)
      throw err
    }
    const [certFile, keyFile] = freeFileNames(profile.filePrefix) ?? this.#fail('Could not find a filename that doesn\'t already exist')

    const caFile = flags.ca.replace(DOMAIN, flags.domain)
    const caKeyFile = flags.key.replace(DOMAIN, flags.domain)
    const caCertPem = this.#read(caFile, 'Error reading CA')
    const caKeyPem = this.#read(caKeyFile, 'Error reading CA key')
    if (kind === 'server') {
      this.log(`==> WARNING: Server Certificates grants authority to become a
    server and access all state in the cluster including root keys
    and all ACL tokens. Do not distribute them to production hosts
    that are not server nodes. Store them as securely as CA keys.`)
    }
    this.log(`==> Using ${caFile} and ${caKeyFile}`)

    let pair
    try {
      pair = await createCert({ ...spec, caCertPem, caKeyPem })
    } catch (err) {
      if (err instanceof PkiError) this.#fail(err.message)
      throw err
    }
    this.#write(certFile, pair.certPem, 0o644)
    this.#write(keyFile, pair.keyPem, 0o600)
  }

  #read(file: string, what: string): string {
    try {
      return readFileSync(file, 'utf8')
    } catch (err) {
      this.#fail(`${what}: ${(err as Error).message}`)
    }
  }

  #write(file: string, data: string, mode: number): void {
    try {
      savePem(file, data, mode)
    } catch (err) {
      this.#fail((err as Error).message)
    }
    this.log(`==> Saved ${file}`)
  }

  /** Consul prints the bare reason and exits 1. */
  #fail(message: string): never {
    this.logToStderr(message)
    this.exit(1)
  }
}

/** The first `<prefix>-N.pem` / `<prefix>-N-key.pem` pair where neither file exists. */
function freeFileNames(prefix: string): [string, string] | undefined {
  for (let i = 0; i <= MAX_INDEX; i++) {
    const cert = `${prefix}-${i}.pem`
    const key = `${prefix}-${i}-key.pem`
    if (!existsSync(cert) && !existsSync(key)) return [cert, key]
  }
  return undefined
}

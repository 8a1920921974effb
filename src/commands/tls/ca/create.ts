import { Command, Flags } from '@oclif/core'
import { existsSync } from 'node:fs'
import { createCa, savePem, PkiError } from '../../../agent/pki.js'

export default class TlsCaCreate extends Command {
  static override summary = 'Create a self-signed CA for the agents\' TLS (HTTPS and RPC).'
  static override description = `Writes <domain>-agent-ca.pem and <domain>-agent-ca-key.pem to the current directory and refuses to overwrite either. The key is ECDSA P-256: keep it as safe as the cluster itself.

Sign agent certificates with it using "tls cert create".`
  static override examples = [
    '<%= config.bin %> tls ca create',
    '<%= config.bin %> tls ca create -days=3650 -common-name="My Consul CA"',
    '<%= config.bin %> tls ca create -name-constraint -domain=example.com -additional-name-constraint=ui.example.net',
  ]
  static override flags = {
    days: Flags.integer({ description: 'Number of days the CA is valid for.', default: 1825, min: 1 }),
    domain: Flags.string({ description: 'DNS domain of the cluster; names the files and, with -name-constraint, the permitted names.', default: 'consul' }),
    'common-name': Flags.string({ description: 'Common name of the CA (default: "Consul Agent CA <serial>").' }),
    'name-constraint': Flags.boolean({ description: 'Only let the CA sign names under -domain, localhost and -additional-name-constraint.' }),
    'additional-name-constraint': Flags.string({ description: 'Another permitted DNS name with -name-constraint; repeatable.', multiple: true }),
  }

  async run(): Promise<void> {
    const { flags } = await this.parse(TlsCaCreate)
    const certFile = `${flags.domain}-agent-ca.pem`
    const keyFile = `${flags.domain}-agent-ca-key.pem`
    for (const file of [certFile, keyFile]) if (existsSync(file)) this.#fail(`${file} already exists.`)
    let ca
    try {
      ca = await createCa({
        days: flags.days,
        domain: flags.domain,
        commonName: flags['common-name'],
        nameConstraint: flags['name-constraint'],
        additionalNameConstraints: flags['additional-name-constraint'],
      })
    } catch (err) {
      if (err instanceof PkiError) this.#fail(err.message)
      throw err
    }
    // 'wx' fails instead of clobbering a file another process created since the check above;
    // the key is private to its owner.
    this.#write(certFile, ca.certPem, 0o644)
    this.#write(keyFile, ca.keyPem, 0o600)
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

import { readFileSync } from 'node:fs'
import { Command, Errors, Flags, type Interfaces } from '@oclif/core'
import { ConsulClient, optionsFromEnv, type ClientOptions } from './client.js'
import { exitWithError } from '../lib/command-errors.js'

/**
 * `-datacenter`, for the commands whose requests Consul routes to a datacenter's servers (kv, catalog,
 * event, lock, watch, operator). Agent-local commands (members, reload, maint, services ...) do not take
 * it, as in Consul, rather than silently acting on the local agent.
 */
export const datacenterFlag = {
  datacenter: Flags.string({ description: 'Datacenter to query. Default: the agent\'s.', helpGroup: 'HTTP API' }),
}

/**
 * Base of every `consul` command that talks to an agent: Consul's shared HTTP flags, with
 * the CONSUL_* environment as defaults, and Consul-style error output.
 */
export abstract class ApiCommand<T extends typeof Command> extends Command {
  static override baseFlags = {
    'http-addr': Flags.string({ description: 'Address of the agent: [http://|https://]host:port. Default: CONSUL_HTTP_ADDR or 127.0.0.1:8500.', helpGroup: 'HTTP API' }),
    token: Flags.string({ description: 'ACL token for the request. Default: CONSUL_HTTP_TOKEN.', helpGroup: 'HTTP API' }),
    'token-file': Flags.string({ description: 'File holding the ACL token (-token wins). Default: CONSUL_HTTP_TOKEN_FILE.', helpGroup: 'HTTP API' }),
    'ca-file': Flags.string({ description: 'CA certificate to verify the agent with. Default: CONSUL_CACERT.', helpGroup: 'HTTP API' }),
    'client-cert': Flags.string({ description: 'Client certificate for verify_incoming agents. Default: CONSUL_CLIENT_CERT.', helpGroup: 'HTTP API' }),
    'client-key': Flags.string({ description: 'Key of the client certificate. Default: CONSUL_CLIENT_KEY.', helpGroup: 'HTTP API' }),
  }

  protected flags!: Interfaces.InferredFlags<(typeof ApiCommand)['baseFlags'] & T['flags']>
  protected args!: Interfaces.InferredArgs<T['args']>
  /** Every positional argument oclif parsed (the extra ones too, for `strict = false` commands). */
  protected positional: string[] = []
  #client: ConsulClient | undefined

  override async init(): Promise<void> {
    await super.init()
    const { flags, args, argv } = await this.parse({
      flags: this.ctor.flags,
      baseFlags: (super.ctor as typeof ApiCommand).baseFlags,
      args: this.ctor.args,
      strict: this.ctor.strict,
    })
    this.flags = flags as typeof this.flags
    this.args = args as typeof this.args
    this.positional = argv.map(String)
  }

  /** The client built from flags over environment. */
  protected get client(): ConsulClient {
    if (!this.#client) {
      const env = optionsFromEnv()
      const f = this.flags as Record<string, string | undefined>
      const opts: ClientOptions = {
        ...env,
        address: f['http-addr'] ?? env.address,
        token: f.token ?? (f['token-file'] ? readTokenFile(f['token-file']) : env.token),
        caFile: f['ca-file'] ?? env.caFile,
        certFile: f['client-cert'] ?? env.certFile,
        keyFile: f['client-key'] ?? env.keyFile,
        datacenter: f.datacenter,
      }
      this.#client = new ConsulClient(opts)
    }
    return this.#client
  }

  /**
   * Runs one API call, reporting its failure as Consul's command does: `prefix` then the reason
   * (`Error! Failed writing data: Unexpected response code: 403 (...)`).
   */
  protected async attempt<R>(prefix: string, call: () => Promise<R>): Promise<R> {
    try {
      return await call()
    } catch (err) {
      if (err instanceof Errors.ExitError) throw err
      throw Object.assign(new Error(`${prefix}${(err as Error).message}`), { oclif: { exit: 1 } })
    }
  }

  protected override async catch(err: Error & { oclif?: { exit?: number | false } }): Promise<unknown> {
    // Consul prints errors as plain lines and exits 1.
    exitWithError(this, err, 1)
  }

  protected override async finally(err: Error | undefined): Promise<unknown> {
    this.#client?.close()
    return super.finally(err)
  }
}

function readTokenFile(file: string): string {
  try {
    return readFileSync(file, 'utf8').trim()
  } catch (err) {
    throw new Errors.CLIError(`Error reading token file ${file}: ${(err as Error).message}`, { exit: 1 })
  }
}

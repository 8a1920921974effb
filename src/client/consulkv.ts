import { Command, Errors, Flags } from '@oclif/core'
import { ConsulClient, optionsFromEnv } from './client.js'
import { exitWithError } from '../lib/command-errors.js'

/** Exit codes of consulkv: 0 done, 1 the key does not exist, 2 usage or connection error. */
export const CONSULKV_EXIT = { ok: 0, missing: 1, error: 2 } as const

/** Consul's default HTTPS port, which `--ssl` aims at when no address is given. */
const DEFAULT_HTTPS_ADDR = '127.0.0.1:8501'

/** The flags every consulkv verb takes. */
export const consulkvFlags = {
  consul: Flags.string({ description: 'Agent address host:port (default: CONSUL_HTTP_ADDR, else 127.0.0.1:8500, or 127.0.0.1:8501 with --ssl).' }),
  ssl: Flags.boolean({ description: 'Talk HTTPS to the agent.' }),
  'ssl-verify': Flags.string({ description: 'Verify the agent\'s certificate (true or false).', options: ['true', 'false'], default: 'true' }),
  'ca-file': Flags.string({ description: 'CA certificate to verify the agent with (default: CONSUL_CACERT).' }),
  'client-cert': Flags.string({ description: 'Client certificate for agents with verify_incoming (default: CONSUL_CLIENT_CERT).' }),
  'client-key': Flags.string({ description: 'Key of the client certificate (default: CONSUL_CLIENT_KEY).' }),
  token: Flags.string({ description: 'ACL token (default: CONSUL_HTTP_TOKEN).' }),
  recurse: Flags.boolean({ description: 'Act on every key under the prefix.' }),
}

export interface ConsulkvFlagValues {
  consul?: string
  ssl: boolean
  'ssl-verify': string
  'ca-file'?: string
  'client-cert'?: string
  'client-key'?: string
  token?: string
}

export function consulkvClient(flags: ConsulkvFlagValues, environment: NodeJS.ProcessEnv = process.env): ConsulClient {
  const env = optionsFromEnv(environment)
  const ssl = flags.ssl || env.ssl === true
  let address = flags.consul ?? env.address ?? (ssl ? DEFAULT_HTTPS_ADDR : undefined)
  // --ssl or CONSUL_HTTP_SSL wins over an http:// address, as Consul's api.Config does.
  if (address && ssl) address = address.replace(/^http:\/\//, 'https://')
  return new ConsulClient({
    ...env,
    address,
    ssl,
    sslVerify: flags['ssl-verify'] !== 'false' && env.sslVerify !== false,
    caFile: flags['ca-file'] ?? env.caFile,
    certFile: flags['client-cert'] ?? env.certFile,
    keyFile: flags['client-key'] ?? env.keyFile,
    token: flags.token ?? env.token,
  })
}

/** Base of the consulkv verbs: any failure is one line on stderr and exit 2 (usage or connection). */
export abstract class ConsulkvCommand extends Command {
  protected override async catch(err: Error & { oclif?: { exit?: number | false }; args?: Array<{ name: string }> }): Promise<unknown> {
    if (err instanceof Errors.ExitError) throw err
    if (/^Missing \d+ required arg/.test(err.message) && Array.isArray(err.args)) {
      // oclif's message lists the arguments on following lines, which the one-line report would drop.
      const verb = this.id?.split(/[: ]/).pop() ?? ''
      const names = err.args.map((a) => a.name.toUpperCase()).join(' ')
      err = Object.assign(new Error(`${verb}: missing ${names} argument (usage: consulkv ${verb} ${names}${verb === 'write' ? ' [VALUE]' : ''})`), { oclif: err.oclif })
    }
    exitWithError(this, Object.assign(err, { oclif: { exit: CONSULKV_EXIT.error } }), CONSULKV_EXIT.error, 'consulkv: ')
  }
}

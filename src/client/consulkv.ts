import { Command, Errors, Flags } from '@oclif/core'
import { ConsulClient, optionsFromEnv } from './client.js'
import { exitWithError } from '../lib/command-errors.js'

/** Exit codes of consulkv: 0 done, 1 the key does not exist, 2 usage or connection error. */
export const CONSULKV_EXIT = { ok: 0, missing: 1, error: 2 } as const

/** The flags every consulkv verb takes. */
export const consulkvFlags = {
  consul: Flags.string({ description: 'Agent address host:port (default: CONSUL_HTTP_ADDR or 127.0.0.1:8500).' }),
  ssl: Flags.boolean({ description: 'Talk HTTPS to the agent.' }),
  'ssl-verify': Flags.string({ description: 'Verify the agent\'s certificate (true or false).', options: ['true', 'false'], default: 'true' }),
  'ca-file': Flags.string({ description: 'CA certificate to verify the agent with (default: CONSUL_CACERT).' }),
  token: Flags.string({ description: 'ACL token (default: CONSUL_HTTP_TOKEN).' }),
  recurse: Flags.boolean({ description: 'Act on every key under the prefix.' }),
}

export function consulkvClient(flags: { consul?: string; ssl: boolean; 'ssl-verify': string; 'ca-file'?: string; token?: string }): ConsulClient {
  const env = optionsFromEnv()
  let address = flags.consul ?? env.address
  if (address && flags.ssl) address = address.replace(/^http:\/\//, 'https://')
  return new ConsulClient({
    ...env,
    address,
    ssl: flags.ssl || env.ssl,
    sslVerify: flags['ssl-verify'] !== 'false' && env.sslVerify !== false,
    caFile: flags['ca-file'] ?? env.caFile,
    token: flags.token ?? env.token,
  })
}

/** Base of the consulkv verbs: any failure is one line on stderr and exit 2 (usage or connection). */
export abstract class ConsulkvCommand extends Command {
  protected override async catch(err: Error & { oclif?: { exit?: number | false } }): Promise<unknown> {
    if (err instanceof Errors.ExitError) throw err
    exitWithError(this, Object.assign(err, { oclif: { exit: CONSULKV_EXIT.error } }), CONSULKV_EXIT.error, 'consulkv: ')
  }
}

import { Flags, Command } from '@oclif/core'
import { ConsulClient, optionsFromEnv } from './client.js'
import { ApiError } from '../lib/errors.js'

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

/** consulkv's error reporting: one line, exit 2 for anything but a missing key. */
export function consulkvFail(cmd: Command, err: unknown): never {
  const message = err instanceof ApiError || err instanceof Error ? err.message : String(err)
  cmd.logToStderr(`consulkv: ${message}`)
  cmd.exit(CONSULKV_EXIT.error)
}

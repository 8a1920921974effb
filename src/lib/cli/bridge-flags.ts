import { Flags } from '@oclif/core'

/** The flags both bridges take for the Consul agents on their hosts (upstream's names). */
export const consulAgentFlags = {
  'consul-port': Flags.integer({ description: 'HTTP port of the Consul agent on every host.', default: 8500, min: 1, max: 65535 }),
  'consul-ssl': Flags.boolean({ description: 'Use HTTPS to the agents.' }),
  'consul-ssl-verify': Flags.boolean({ description: 'Verify the agents\' certificates.', default: true, allowNo: true }),
  'consul-ssl-cert': Flags.string({ description: 'Client certificate (PEM) for the agents.' }),
  'consul-ssl-cacert': Flags.string({ description: 'CA certificates (PEM) the agents\' certificates are checked against.' }),
  'consul-token': Flags.string({ description: 'ACL token for the agents (default: CONSUL_HTTP_TOKEN).' }),
  'consul-auth': Flags.string({ description: 'HTTP basic auth, user[:password].' }),
}

/** Runs a bridge to its end: a bad flag is one line on stderr naming it, exit 1; a signal ends it with 0. */
export async function runBridge(name: string, log: (line: string) => void, run: () => Promise<number>): Promise<never> {
  let code: number
  try {
    code = await run()
  } catch (err) {
    log(`${name}: ${(err as Error).message}`)
    code = 1
  }
  process.exit(code)
}

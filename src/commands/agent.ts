import { Command, Flags } from '@oclif/core'
import { Agent } from '../agent/agent.js'
import { loadConfig, type AgentFlags } from '../agent/config.js'
import { ConfigError } from '../lib/errors.js'
import { exitWithError } from '../lib/command-errors.js'

export default class AgentCommand extends Command {
  static override summary = 'Run a Consul agent (server mode; -dev for an in-memory development server).'
  static override description = `Flags win over config files; files merge in the order given, lists append.
Config files use Consul's snake_case keys; -config-dir reads *.json in lexical order.
SIGHUP re-reads the configuration; SIGINT or SIGTERM stops the agent (twice forces it).`
  static override examples = [
    '<%= config.bin %> agent -dev',
    '<%= config.bin %> agent -server -bootstrap-expect=1 -data-dir=/var/lib/consul -node=n1 -bind=127.0.0.1',
    '<%= config.bin %> agent -config-dir=/etc/consul.d -data-dir=/var/lib/consul',
  ]
  static override flags = {
    dev: Flags.boolean({ description: 'Development server: in memory, self-elected, bound to 127.0.0.1.' }),
    server: Flags.boolean({ description: 'Run as a server.' }),
    bootstrap: Flags.boolean({ description: 'Let this server elect itself.' }),
    'bootstrap-expect': Flags.integer({ description: 'Servers to wait for before electing (1 in this build).', min: 0, max: 7 }),
    'data-dir': Flags.string({ description: 'Where the raft log, snapshots and node ID live.' }),
    node: Flags.string({ description: 'Node name (default: host name).' }),
    datacenter: Flags.string({ description: 'Datacenter (default: dc1).' }),
    bind: Flags.string({ description: 'Address for cluster traffic.' }),
    advertise: Flags.string({ description: 'Address advertised to other nodes.' }),
    client: Flags.string({ description: 'Address(es) for HTTP and DNS, space separated (default: 127.0.0.1).' }),
    'config-file': Flags.string({ description: 'JSON config file; repeatable.', multiple: true }),
    'config-dir': Flags.string({ description: 'Directory of *.json config files; repeatable.', multiple: true }),
    'http-port': Flags.integer({ description: 'HTTP API port (-1 disables).', min: -1, max: 65535 }),
    'https-port': Flags.integer({ description: 'HTTPS API port (-1 disables).', min: -1, max: 65535 }),
    'dns-port': Flags.integer({ description: 'DNS port (-1 disables).', min: -1, max: 65535 }),
    'server-port': Flags.integer({ description: 'Server RPC port.', min: -1, max: 65535 }),
    'pid-file': Flags.string({ description: 'Write the process ID here.' }),
    'log-level': Flags.string({ description: 'trace, debug, info, warn or error.' }),
    'node-meta': Flags.string({ description: 'key:value node metadata; repeatable.', multiple: true }),
  }

  async run(): Promise<void> {
    const { flags } = await this.parse(AgentCommand)
    const agentFlags: AgentFlags = {
      dev: flags.dev,
      server: flags.server || undefined,
      bootstrap: flags.bootstrap || undefined,
      bootstrapExpect: flags['bootstrap-expect'],
      dataDir: flags['data-dir'],
      node: flags.node,
      datacenter: flags.datacenter,
      bind: flags.bind,
      advertise: flags.advertise,
      client: flags.client,
      configFile: flags['config-file'],
      configDir: flags['config-dir'],
      httpPort: flags['http-port'],
      httpsPort: flags['https-port'],
      dnsPort: flags['dns-port'],
      serverPort: flags['server-port'],
      pidFile: flags['pid-file'],
      logLevel: flags['log-level'],
      nodeMeta: flags['node-meta'],
    }
    const agent = await Agent.start({ loadConfig: () => loadConfig(agentFlags) })
    await waitForShutdown(agent)
  }

  protected override async catch(err: Error & { oclif?: { exit?: number | false } }): Promise<unknown> {
    // Consul's agent reports start-up failures as `==> message` and exits 1.
    const prefix = err instanceof ConfigError ? '==> Config validation failed: ' : '==> '
    exitWithError(this, err, 1, prefix)
  }
}

/** Serves until SIGINT/SIGTERM (a second one forces exit); SIGHUP reloads. */
function waitForShutdown(agent: Agent): Promise<void> {
  return new Promise((resolve) => {
    let stopping = false
    const stop = (signal: string): void => {
      if (stopping) {
        agent.logger.warn(`agent: second ${signal}, exiting now`)
        process.exit(1)
      }
      stopping = true
      agent.logger.info(signal === 'leave' ? 'agent: leaving, shutting down' : `agent: caught ${signal}, shutting down`)
      void agent.stop().then(() => {
        process.off('SIGHUP', hup)
        resolve()
      })
    }
    const hup = (): void => {
      agent.reload().catch((err: Error) => agent.logger.error(`agent: reload failed: ${err.message}`))
    }
    process.on('SIGINT', () => stop('SIGINT'))
    process.on('SIGTERM', () => stop('SIGTERM'))
    process.on('SIGHUP', hup)
    void agent.left.then(() => stop('leave'))
  })
}

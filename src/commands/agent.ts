import { Command, Flags } from '@oclif/core'
import type { AgentFlags } from '../agent/config.js'
import { rejectUnsupportedFlags, runAgent } from '../agent/run.js'
import { ConfigError } from '../lib/errors.js'
import { exitWithError } from '../lib/command-errors.js'

const port = (description: string) => Flags.integer({ description, min: -1, max: 65535 })

export default class AgentCommand extends Command {
  static override summary = 'Run a Consul agent (server mode; -dev for an in-memory development server).'
  static override description = `Flags win over config files; files merge in the order given, lists append.
Config files are JSON (*.json) or HCL (*.hcl) with Consul's snake_case keys; -config-dir reads both, in lexical order.
Config keys this build does not support yet are accepted with a warning; Consul's agent flags it does not have yet
(-encrypt, -ui, ...) stop it with a message naming the flag. Agents gossip on the serf LAN port (8301, UDP and TCP)
and join each other there (-join, -retry-join); servers of several datacenters also gossip on the serf WAN port (8302).
SIGHUP re-reads the configuration; SIGINT or SIGTERM stops the agent (twice forces it; a client agent leaves first).`
  static override examples = [
    '<%= config.bin %> agent -dev',
    '<%= config.bin %> agent -server -bootstrap-expect=1 -data-dir=/var/lib/consul -node=n1 -bind=127.0.0.1',
    '<%= config.bin %> agent -config-dir=/etc/consul.d -data-dir=/var/lib/consul',
    '<%= config.bin %> agent -server -bootstrap-expect=3 -data-dir=/var/lib/consul -bind=10.0.0.1 -retry-join=10.0.0.2 -retry-join=10.0.0.3',
  ]
  static override flags = {
    dev: Flags.boolean({ description: 'Development server: in memory, self-elected, bound to 127.0.0.1.' }),
    server: Flags.boolean({ description: 'Run as a server.' }),
    bootstrap: Flags.boolean({ description: 'Let this server elect itself.' }),
    'bootstrap-expect': Flags.integer({ description: 'Servers to wait for before the cluster bootstraps (1 to 7).', min: 0, max: 7 }),
    join: Flags.string({ description: 'Address of an agent to join at start (host or host:port of its serf LAN port); repeatable.', multiple: true }),
    'retry-join': Flags.string({ description: 'As -join, retried until it succeeds; repeatable.', multiple: true }),
    'retry-interval': Flags.string({ description: 'Time between -retry-join attempts (default: 30s).' }),
    encrypt: Flags.string({ description: 'Gossip encryption key (base64, from consul keygen); a keyring in the data dir wins.' }),
    rejoin: Flags.boolean({ description: 'Rejoin the members of the last run even after a graceful leave (rejoin_after_leave).' }),
    'retry-max': Flags.integer({ description: 'Attempts of -retry-join before giving up (default: 0, forever).', min: 0 }),
    'serf-lan-port': port('LAN gossip port, UDP and TCP (default: 8301).'),
    'serf-wan-port': port('WAN gossip port of a server, UDP and TCP (default: 8302).'),
    'join-wan': Flags.string({ description: 'A server of another datacenter to join at start (its serf WAN port); repeatable.', multiple: true }),
    'retry-join-wan': Flags.string({ description: 'As -join-wan, retried until it succeeds; repeatable.', multiple: true }),
    'retry-interval-wan': Flags.string({ description: 'Time between -retry-join-wan attempts (default: 30s).' }),
    'retry-max-wan': Flags.integer({ description: 'Attempts of -retry-join-wan before giving up (default: 0, forever).', min: 0 }),
    'data-dir': Flags.string({ description: 'Where the raft log, snapshots and node ID live.' }),
    node: Flags.string({ description: 'Node name (default: host name).' }),
    'node-id': Flags.string({ description: 'Node ID (default: a random one, kept in -data-dir).' }),
    datacenter: Flags.string({ description: 'Datacenter (default: dc1).' }),
    bind: Flags.string({ description: 'Address for cluster traffic.' }),
    advertise: Flags.string({ description: 'Address advertised to other nodes.' }),
    client: Flags.string({ description: 'Address(es) for HTTP and DNS, space separated (default: 127.0.0.1).' }),
    'config-file': Flags.string({ description: 'JSON (.json) or HCL (.hcl) config file; repeatable.', multiple: true }),
    'config-dir': Flags.string({ description: 'Directory of *.json and *.hcl config files; repeatable.', multiple: true }),
    'http-port': port('HTTP API port (-1 disables).'),
    'https-port': port('HTTPS API port (-1 disables).'),
    'dns-port': port('DNS port (-1 disables).'),
    'server-port': port('Server RPC port.'),
    domain: Flags.string({ description: 'DNS domain (default: consul).' }),
    'alt-domain': Flags.string({ description: 'Alternative DNS domain.' }),
    recursor: Flags.string({ description: 'Upstream DNS server; repeatable.', multiple: true }),
    'default-query-time': Flags.string({ description: 'Blocking query wait when none is asked for (default: 300s).' }),
    'max-query-time': Flags.string({ description: 'Longest blocking query wait (default: 600s).' }),
    'enable-script-checks': Flags.boolean({ description: 'Allow script checks from any source.' }),
    'enable-local-script-checks': Flags.boolean({ description: 'Allow script checks from config files only.' }),
    'pid-file': Flags.string({ description: 'Write the process ID here.' }),
    'log-level': Flags.string({ description: 'trace, debug, info, warn or error.' }),
    'log-json': Flags.boolean({ description: 'Log JSON lines (@level, @message, @module, @timestamp).' }),
    'log-file': Flags.string({ description: 'Also write the log here (a file, or a directory ending in /).' }),
    'log-rotate-bytes': Flags.integer({ description: 'Rotate the log file past this many bytes (0: no limit).' }),
    'log-rotate-duration': Flags.string({ description: 'Rotate the log file this often (default: 24h).' }),
    ui: Flags.boolean({ description: 'Serve the web UI at /ui/ (ui_config.enabled; on with -dev).', allowNo: true }),
    'ui-dir': Flags.string({ description: 'Serve the web UI from this directory instead of the built-in one.' }),
    'ui-content-path': Flags.string({ description: 'Where the web UI is served (default: /ui/).' }),
    syslog: Flags.boolean({ description: 'Also send the log to the host\'s syslog (enable_syslog).' }),
    'log-rotate-max-files': Flags.integer({ description: 'Rotated log files kept (0: all, -1: none).' }),
    'node-meta': Flags.string({ description: 'key:value node metadata; repeatable.', multiple: true }),
  }

  async run(): Promise<void> {
    rejectUnsupportedFlags(this.argv)
    const { flags } = await this.parse(AgentCommand)
    // Each flag's AgentFlags field is its name in camelCase; a boolean not given stays unset.
    const agentFlags = Object.fromEntries(
      Object.entries(flags).map(([name, value]) => [name.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase()), value === false ? undefined : value]),
    ) as AgentFlags
    await runAgent(agentFlags)
  }

  protected override async catch(err: Error & { oclif?: { exit?: number | false } }): Promise<unknown> {
    // Consul's agent reports start-up failures as `==> message` and exits 1.
    const prefix = err instanceof ConfigError ? '==> Config validation failed: ' : '==> '
    exitWithError(this, err, 1, prefix)
  }
}

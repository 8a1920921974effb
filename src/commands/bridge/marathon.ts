import { Command, Flags } from '@oclif/core'
import { consulAgentFlags, runBridge } from '../../lib/cli/bridge-flags.js'
import { runMarathonBridge, type MarathonFlags } from '../../bridges/marathon/main.js'

export default class BridgeMarathon extends Command {
  static override summary = 'Register the healthy tasks of labelled Marathon apps in Consul (marathon-consul).'
  static override description =
    'Follows Marathon\'s event stream (GET /v2/events; or, with --events=callback, Marathon\'s posts to --listen at /events) and ' +
    'registers the tasks of apps labelled `consul` on the Consul agents of their hosts: one service per app, or per port definition ' +
    'labelled `consul` (or app label consul_<port index>=<name>), tagged with --consul-tag and every label whose value is `tag`. A ' +
    'task is registered once it runs and its health checks pass, and removed on kill, failure, scale-down or app deletion. A full sync ' +
    'against /v2/apps runs at start, after every reconnect and every --sync-interval; --kv also writes <kv-prefix>/<app>/config and ' +
    '<kv-prefix>/<app>/tasks/<task> for consul-template. Follows a Marathon leader change. Also installed as `marathon-consul`.'
  static override examples = [
    '<%= config.bin %> bridge marathon --marathon-location=marathon1:8080,marathon2:8080',
    '<%= config.bin %> bridge marathon --events=callback --listen=:4000 --callback-url=http://bridge.example:4000/events',
    'marathon-consul --marathon-location=10.0.0.5:8080 --kv --sync-interval=5m --log-level=debug',
  ]
  static override flags = {
    ...consulAgentFlags,
    'marathon-location': Flags.string({ description: 'Marathon instances, host:port, comma-separated.', default: 'localhost:8080' }),
    'marathon-protocol': Flags.string({ description: 'http or https, for locations without a scheme.', default: 'http' }),
    'marathon-username': Flags.string({ description: 'Marathon basic auth user.' }),
    'marathon-password': Flags.string({ description: 'Marathon basic auth password.' }),
    'marathon-timeout': Flags.string({ description: 'How long a Marathon request may take.', default: '30s' }),
    events: Flags.string({ description: 'sse: follow /v2/events; callback: Marathon posts to --listen /events (older Marathon).', options: ['sse', 'callback'], default: 'sse' }),
    listen: Flags.string({ description: 'Address of /health, /metrics and (callback mode) /events.', default: ':4000' }),
    'callback-url': Flags.string({ description: 'The URL Marathon should post events to (callback mode; default http://<hostname>:<port>/events).' }),
    'sync-interval': Flags.string({ description: 'Time between full syncs against /v2/apps.', default: '15m' }),
    'consul-timeout': Flags.string({ description: 'How long an agent request may take.', default: '3s' }),
    'consul-tag': Flags.string({ description: 'Tag on every registration.', default: 'marathon' }),
    'consul-name-separator': Flags.string({ description: 'Replaces / of an app ID in its service name (/shop/web -> shop-web).', default: '-' }),
    'service-id-prefix': Flags.string({ description: 'Prefix of every service ID this bridge registers (and sweeps).', default: 'marathon-consul' }),
    kv: Flags.boolean({ description: 'Also write <kv-prefix>/<app>/config and <kv-prefix>/<app>/tasks/<task> in Consul\'s KV.' }),
    'kv-prefix': Flags.string({ description: 'Root of the KV tree.', default: 'marathon' }),
    consul: Flags.string({ description: 'The agent the KV tree is written through (default 127.0.0.1:<consul-port>).' }),
    version: Flags.boolean({ description: 'Print the version and exit.' }),
    'log-level': Flags.string({ description: 'debug, info, warn or err.', default: 'info' }),
  }

  async run(): Promise<void> {
    const { flags } = await this.parse(BridgeMarathon)
    await runBridge('marathon-consul', (l) => this.logToStderr(l), () => runMarathonBridge(flags as MarathonFlags))
  }
}

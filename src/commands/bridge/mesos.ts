import { Command, Flags } from '@oclif/core'
import { consulAgentFlags, runBridge } from '../../lib/cli/bridge-flags.js'
import { runMesosBridge, type MesosFlags } from '../../bridges/mesos/main.js'

export default class BridgeMesos extends Command {
  static override summary = 'Register Mesos tasks, masters and agents in Consul (mesos-consul).'
  static override description =
    'Polls the leading Mesos master (found through ZooKeeper, or --mesos-master) every --refresh and registers each running task ' +
    'on the Consul agent of its host as <task>.service.consul, with its ports, tags from its `tags` label and --task-tag, and its ' +
    'Mesos health; the masters as `mesos` tagged leader/master and the agents tagged follower, so leader.mesos.service.consul ' +
    'follows the leader. Registrations that leave the state are removed by an ID-prefix sweep on every agent, and an agent that ' +
    'was unreachable is swept when it answers again. A master that fails, hangs or answers garbage skips the poll: nothing is ' +
    'deregistered for it. Also installed as `mesos-consul`.'
  static override examples = [
    '<%= config.bin %> bridge mesos --zk=zk://zk1:2181,zk2:2181/mesos --refresh=30s',
    '<%= config.bin %> bridge mesos --mesos-master=10.0.0.1:5050,10.0.0.2:5050 --service-tags=prod',
    'mesos-consul --zk=zk://zookeeper.service.consul:2181/mesos --whitelist="^web" --task-tag="^web:public" --healthcheck',
  ]
  static override flags = {
    ...consulAgentFlags,
    zk: Flags.string({ description: 'Where Mesos keeps its masters in ZooKeeper.', default: 'zk://127.0.0.1:2181/mesos' }),
    'mesos-master': Flags.string({ description: 'Comma-separated Mesos masters (host[:5050]) to poll instead of ZooKeeper; the leader is read from their state.' }),
    refresh: Flags.string({ description: 'Time between polls of the Mesos state.', default: '1m' }),
    'mesos-ip-order': Flags.string({ description: 'Where a task\'s address comes from, first found wins: netinfo, mesos, docker, host.', default: 'netinfo,mesos,host' }),
    'service-name': Flags.string({ description: 'Service name of the Mesos masters and agents.', default: 'mesos' }),
    'service-tags': Flags.string({ description: 'Comma-separated tags; the masters and agents also get <role>.<tag> (leader.prod).' }),
    'service-id-prefix': Flags.string({ description: 'Prefix of every service ID this bridge registers (and sweeps).', default: 'mesos-consul' }),
    healthcheck: Flags.boolean({ description: 'Serve /health and /metrics on --healthcheck-ip:--healthcheck-port.' }),
    'healthcheck-ip': Flags.string({ description: 'Address of the health and metrics endpoint.', default: '127.0.0.1' }),
    'healthcheck-port': Flags.integer({ description: 'Port of the health and metrics endpoint.', default: 24476, min: 0, max: 65535 }),
    whitelist: Flags.string({ description: 'Only register tasks whose name matches this regex (repeatable).', multiple: true }),
    blacklist: Flags.string({ description: 'Never register tasks whose name matches this regex (repeatable).', multiple: true }),
    'fw-whitelist': Flags.string({ description: 'Only register tasks of frameworks whose name matches this regex (repeatable).', multiple: true }),
    'task-tag': Flags.string({ description: 'pattern:tag - tag tasks whose name matches pattern (repeatable).', multiple: true }),
    'shared-service-name': Flags.string({ description: 'A regex whose first group names the service of every task it matches: (KafkaBroker)-.* registers KafkaBroker-0 and -1 as kafkabroker (repeatable).', multiple: true }),
    'group-separator': Flags.string({ description: 'Replaces _ in task names.', default: '' }),
    'heartbeats-before-remove': Flags.integer({ description: 'Polls a task may be missing from the state before it is removed.', default: 1 }),
    'state-timeout': Flags.string({ description: 'How long a master may take to answer with its state.', default: '10s' }),
    version: Flags.boolean({ description: 'Print the version and exit.' }),
    'log-level': Flags.string({ description: 'DEBUG, INFO, WARN or ERROR.', default: 'WARN' }),
  }

  async run(): Promise<void> {
    const { flags } = await this.parse(BridgeMesos)
    await runBridge('mesos-consul', (l) => this.logToStderr(l), () => runMesosBridge(flags as MesosFlags))
  }
}

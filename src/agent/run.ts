/**
 * `consul agent` as a process: Consul's start-up banner ahead of the log, the flags this build
 * does not have yet, and the signals (SIGHUP reloads, SIGINT/SIGTERM stop, twice forces).
 */
import { Agent } from './agent.js'
import { loadConfig, type AgentFlags } from './config.js'
import { Logger, type LogSink } from './log.js'
import { CONSUL_COMPAT_VERSION } from '../version.js'

/**
 * Consul's `consul agent` flags this build does not have yet (Consul's agent/config/flags.go).
 * Asked for, they stop the agent with a message naming them rather than oclif's "Nonexistent flag".
 */
export const UNSUPPORTED_AGENT_FLAGS: ReadonlySet<string> = new Set([
  'advertise-wan',
  'allow-write-http-from',
  'auto-reload-config',
  'check_output_max_size',
  'config-format',
  'disable-host-node-id',
  'disable-keyring-file',
  'grpc-port',
  'grpc-tls-port',
  'hcl',
  'non-voting-server',
  'primary-gateway',
  'protocol',
  'raft-protocol',
  'read-replica',
  'segment',
  'serf-lan-allowed-cidrs',
  'serf-lan-bind',
  'serf-wan-allowed-cidrs',
  'serf-wan-bind',
])

/** Throws for the first flag of `argv` (as normalised, `--join=x`) that this build does not have yet. */
export function rejectUnsupportedFlags(argv: readonly string[]): void {
  for (const arg of argv) {
    if (arg === '--') return
    const name = /^--?([A-Za-z][\w.-]*)(=|$)/.exec(arg)?.[1]
    if (name && UNSUPPORTED_AGENT_FLAGS.has(name)) throw new Error(`-${name} is not supported by this version yet`)
  }
}

/**
 * Holds log lines until the banner is out, as Consul's gated writer does, so the banner comes
 * first even though the agent logs while it starts.
 */
class LogGate implements LogSink {
  #held: string[] | undefined = []
  readonly isTTY: boolean

  constructor(readonly out: LogSink) {
    this.isTTY = Boolean(out.isTTY)
  }

  write(chunk: string): void {
    if (this.#held) this.#held.push(chunk)
    else this.out.write(chunk)
  }

  open(): void {
    const held = this.#held ?? []
    this.#held = undefined
    for (const chunk of held) this.out.write(chunk)
  }
}

/**
 * Consul's banner with the ports really in use: ephemeral ports as bound, -1 for what is off or
 * not built yet (gRPC, and the serf LAN/WAN gossip ports, since there is no gossip yet).
 */
export function banner(agent: Agent): string {
  const c = agent.config
  const port = (protocol: 'http' | 'https'): number => agent.listeners.find((l) => l.protocol === protocol)?.port ?? -1
  const lines: Array<[string, string]> = [
    ['Version', `'${CONSUL_COMPAT_VERSION}'`],
    ['Node ID', `'${agent.nodeId}'`],
    ['Node name', `'${c.nodeName}'`],
    ['Datacenter', `'${c.datacenter}' (Segment: '<all>')`],
    ['Server', `${c.server} (Bootstrap: ${c.bootstrap})`],
    ['Client Addr', `[${c.clientAddrs.join(' ')}] (HTTP: ${port('http')}, HTTPS: ${port('https')}, gRPC: -1, gRPC-TLS: -1, DNS: ${agent.dnsListeners[0]?.port ?? -1})`],
    ['Cluster Addr', `${c.advertiseAddr} (LAN: -1, WAN: -1)`],
    ['Gossip Encryption', 'false'],
    ['ACL Enabled', c.acl.enabled ? `true (default policy: ${c.acl.defaultPolicy})` : 'false'],
  ]
  return lines.map(([label, value]) => `${label.padStart(18)}: ${value}\n`).join('')
}

/** Starts the agent, prints the banner, then streams the log; resolves once the agent has stopped. */
export async function runAgent(flags: AgentFlags, out: LogSink = process.stderr): Promise<void> {
  const gate = new LogGate(out)
  let loads = 0
  const load: typeof loadConfig = (f) => {
    const loaded = loadConfig(f)
    // As Consul: a config that does not validate stops the agent before the banner starts.
    if (loads++ === 0) out.write('==> Starting Consul agent...\n')
    return loaded
  }
  let agent: Agent
  try {
    agent = await Agent.start({ loadConfig: () => load(flags), logger: new Logger('info', gate) })
  } catch (err) {
    gate.open()
    throw err
  }
  out.write(`${banner(agent)}\n==> Log data will now stream in as it occurs:\n\n`)
  gate.open()
  await waitForShutdown(agent)
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
      // Consul's rules: SIGTERM leaves first with leave_on_terminate, SIGINT unless skip_leave_on_interrupt.
      const c = agent.config
      const leave = (signal === 'SIGTERM' && c.leaveOnTerminate) || (signal === 'SIGINT' && !c.skipLeaveOnInterrupt)
      void (leave ? agent.leaveCluster() : Promise.resolve()).then(() => agent.stop()).then(() => {
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

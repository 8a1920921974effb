/** Pieces of /v1/agent/self and /v1/agent/members as Consul shapes them. */
import { MemberStatus, type Member } from '../gossip/members.js'
import type { RuntimeFigures } from './telemetry.js'

/** A member as /v1/agent/members shows it (serf's fields). */
export function memberJson(m: Member): Record<string, unknown> {
  return {
    Name: m.name,
    Addr: m.addr,
    Port: m.port,
    Tags: m.tags,
    Status: MemberStatus[m.status],
    ProtocolMin: 1,
    ProtocolMax: 5,
    ProtocolCur: 2,
    DelegateMin: 2,
    DelegateMax: 5,
    DelegateCur: 4,
  }
}

/**
 * `consul info`'s runtime section: Consul's keys, then the figures the runtime.* gauges show
 * (one reading, Telemetry.runtime), under their gauge names.
 */
export function runtimeStats(r: RuntimeFigures): Record<string, string> {
  return {
    goroutines: String(r.goroutines),
    timers: String(r.timers),
    heap_used_bytes: String(r.allocBytes),
    rss_bytes: String(r.sysBytes),
    heap_total_bytes: String(r.heapTotalBytes),
    total_gc_runs: String(r.gcRuns),
    total_gc_pause_ns: String(r.gcPauseNs),
    event_loop_lag_ms: r.eventLoopLagMs.toFixed(3),
    ...(r.openFds !== undefined ? { open_fds: String(r.openFds) } : {}),
  }
}

/** One role's readiness in GET /v1/agent/health (Nomad's shape: `ok`, and `message` saying why not). */
export interface RoleHealth {
  ok: boolean
  message: string
}
export type Readiness = { server: RoleHealth } | { client: RoleHealth }

/**
 * Whether this agent can serve what a load balancer sends it: a server that knows a cluster
 * leader, a client agent whose servers answer and know one; neither while leaving.
 */
export async function readiness(server: boolean, leaving: boolean, leader: () => Promise<string>): Promise<Readiness> {
  const role = async (): Promise<RoleHealth> => {
    if (leaving) return { ok: false, message: 'agent is leaving' }
    try {
      return (await leader()) ? { ok: true, message: 'ok' } : { ok: false, message: 'No cluster leader' }
    } catch (err) {
      return { ok: false, message: (err as Error).message }
    }
  }
  return server ? { server: await role() } : { client: await role() }
}

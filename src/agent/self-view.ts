/** Pieces of /v1/agent/self and /v1/agent/members as Consul shapes them. */
import { MemberStatus, type Member } from '../gossip/members.js'

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
 * Consul's runtime stats as Node has them: `goroutines` counts what keeps the event loop busy
 * (timers, sockets, pending fs and DNS work), the closest thing to a goroutine; heap and timers are
 * ours, for leak hunting (the soak test reads them).
 */
export function runtimeStats(): Record<string, string> {
  const resources = process.getActiveResourcesInfo()
  const mem = process.memoryUsage()
  return {
    goroutines: String(resources.length),
    timers: String(resources.filter((r) => r === 'Timeout').length),
    heap_used_bytes: String(mem.heapUsed),
    rss_bytes: String(mem.rss),
  }
}

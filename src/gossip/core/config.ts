/**
 * Gossip timing presets: memberlist's LAN and WAN configurations, which Consul uses for its LAN
 * and WAN pools (a local preset for tests on loopback). Durations in milliseconds.
 */
export interface GossipConfig {
  /** Between probes of one random member. */
  probeIntervalMs: number
  /** How long a direct probe waits for its ack before asking others. */
  probeTimeoutMs: number
  /** Members asked to probe on our behalf when a direct probe fails. */
  indirectChecks: number
  /** Lifeguard: probe intervals and timeouts stretch up to this many times while this member is unhealthy. */
  awarenessMaxMultiplier: number
  /** Suspicion lasts suspicionMult × log10(n) probe intervals at least, up to suspicionMaxTimeoutMult times that. */
  suspicionMult: number
  suspicionMaxTimeoutMult: number
  /** Broadcasts are retransmitted retransmitMult × log10(n + 1) times. */
  retransmitMult: number
  /** Between gossip rounds, and how many members each round goes to. */
  gossipIntervalMs: number
  gossipNodes: number
  /** Dead members still get gossip this long (so they learn they were declared dead). */
  gossipToTheDeadMs: number
  /** Between full-state exchanges over TCP (scaled up in large pools). */
  pushPullIntervalMs: number
  /** Deadline of one TCP exchange (push-pull, TCP fallback probe). */
  tcpTimeoutMs: number
}

export const LAN_CONFIG: Readonly<GossipConfig> = Object.freeze({
  probeIntervalMs: 1000,
  probeTimeoutMs: 500,
  indirectChecks: 3,
  awarenessMaxMultiplier: 8,
  suspicionMult: 4,
  suspicionMaxTimeoutMult: 6,
  retransmitMult: 4,
  gossipIntervalMs: 200,
  gossipNodes: 3,
  gossipToTheDeadMs: 30_000,
  pushPullIntervalMs: 30_000,
  tcpTimeoutMs: 10_000,
})

export const WAN_CONFIG: Readonly<GossipConfig> = Object.freeze({
  ...LAN_CONFIG,
  probeIntervalMs: 5000,
  probeTimeoutMs: 3000,
  suspicionMult: 6,
  gossipIntervalMs: 500,
  gossipNodes: 4,
  gossipToTheDeadMs: 60_000,
  pushPullIntervalMs: 60_000,
  tcpTimeoutMs: 30_000,
})

/** For members on one host (tests): quicker probes, fewer indirect checks. */
export const LOCAL_CONFIG: Readonly<GossipConfig> = Object.freeze({
  ...LAN_CONFIG,
  probeIntervalMs: 1000,
  probeTimeoutMs: 200,
  indirectChecks: 1,
  suspicionMult: 3,
  retransmitMult: 2,
  gossipIntervalMs: 100,
  gossipToTheDeadMs: 15_000,
  pushPullIntervalMs: 15_000,
  tcpTimeoutMs: 1000,
})

/**
 * The agent's telemetry: the registry (lib/metrics.ts) built from the telemetry block, Node's
 * runtime figures under Consul's runtime.* names, and the statsd / dogstatsd push sinks.
 */
import dgram from 'node:dgram'
import { readdirSync } from 'node:fs'
import { monitorEventLoopDelay, performance, PerformanceObserver, type IntervalHistogram } from 'node:perf_hooks'
import { Metrics, type Labels, type MetricsSink } from '../lib/metrics.js'
import type { TelemetryConfig } from './config.js'
import type { BlockingCounters } from '../server/blocking.js'
import type { Member, Members } from '../gossip/members.js'
import type { StateStore } from '../state/store.js'
import type { CheckStatus } from '../checks/types.js'

/** What the agent's collectors read: the subsystems that keep counters of their own. */
export interface TelemetrySources {
  blocking: BlockingCounters
  /** The local checks' statuses. */
  checks: () => Iterable<{ status: CheckStatus }>
  /** The server RPC endpoint's counters (rpc/server.ts), server or client agent. */
  rpc: () => Record<string, number> | undefined
  server: boolean
  /** A server's replicated state: its sizes are Consul's state.* gauges. */
  state: StateStore | undefined
  lan: () => Members | undefined
  wan: () => Members | undefined
}

/** One reading of the process's runtime figures (Telemetry.runtime). */
export interface RuntimeFigures {
  allocBytes: number
  heapTotalBytes: number
  sysBytes: number
  goroutines: number
  /** Ours, for leak hunting (the soak test reads it). */
  timers: number
  gcRuns: number
  gcPauseNs: number
  eventLoopLagMs: number
  /** Undefined where /proc is not mounted. */
  openFds: number | undefined
}

type Log = (level: 'debug' | 'info' | 'warn' | 'error', message: string) => void

export class Telemetry {
  readonly metrics: Metrics
  readonly #sinks: StatsdSink[] = []
  readonly #loop: IntervalHistogram
  readonly #gc: PerformanceObserver
  #gcRuns = 0
  #gcPauseNs = 0
  #timer: NodeJS.Timeout | undefined

  constructor(c: TelemetryConfig, hostname: string, log: Log) {
    if (c.statsdAddress) this.#sinks.push(new StatsdSink(c.statsdAddress, false, [], log))
    if (c.dogstatsdAddr) this.#sinks.push(new StatsdSink(c.dogstatsdAddr, true, c.dogstatsdTags, log))
    this.metrics = new Metrics({
      clock: { now: () => performance.now(), wall: () => Date.now() },
      prefix: c.metricsPrefix,
      hostname: c.disableHostname ? '' : hostname,
      prometheusRetentionMs: c.prometheusRetentionMs,
      filterDefault: c.filterDefault,
      prefixFilter: c.prefixFilter,
      sinks: this.#sinks,
    })
    this.#loop = monitorEventLoopDelay({ resolution: 20 })
    this.#loop.enable()
    const pause = this.metrics.timer('runtime.gc_pause_ns')
    this.#gc = new PerformanceObserver((list) => {
      for (const e of list.getEntries()) {
        const ns = Math.round(e.duration * 1e6)
        this.#gcRuns++
        this.#gcPauseNs += ns
        pause.observe(ns)
      }
    })
    this.#gc.observe({ entryTypes: ['gc'] })
    this.metrics.collect(() => this.#runtime())
    // Pushed sinks see the gauges read on demand once a second, as go-metrics' runtime sampler.
    if (this.#sinks.length > 0) {
      this.#timer = setInterval(() => this.metrics.runCollectors(), 1000)
      this.#timer.unref()
    }
  }

  /**
   * The runtime figures, read once for both the runtime.* gauges and `consul info`'s runtime
   * section, so the two never disagree. `goroutines` counts what keeps the event loop busy (timers,
   * sockets, pending fs and DNS work), the closest thing Node has to a goroutine.
   */
  runtime(): RuntimeFigures {
    const mem = process.memoryUsage()
    const resources = process.getActiveResourcesInfo()
    return {
      allocBytes: mem.heapUsed,
      heapTotalBytes: mem.heapTotal,
      sysBytes: mem.rss,
      goroutines: resources.length,
      timers: resources.filter((r) => r === 'Timeout').length,
      gcRuns: this.#gcRuns,
      gcPauseNs: this.#gcPauseNs,
      // The event loop's delay is this runtime's load figure: the 99th percentile since the last gauge reading.
      eventLoopLagMs: this.#loop.count > 0 ? this.#loop.percentile(99) / 1e6 : 0,
      openFds: openDescriptors(),
    }
  }

  #runtime(): void {
    const m = this.metrics
    const r = this.runtime()
    m.setGauge('runtime.alloc_bytes', r.allocBytes)
    m.setGauge('runtime.heap_total_bytes', r.heapTotalBytes)
    m.setGauge('runtime.sys_bytes', r.sysBytes)
    m.setGauge('runtime.num_goroutines', r.goroutines)
    m.setGauge('runtime.total_gc_runs', r.gcRuns)
    m.setGauge('runtime.total_gc_pause_ns', r.gcPauseNs)
    m.setGauge('runtime.event_loop_lag_ms', r.eventLoopLagMs)
    this.#loop.reset()
    if (r.openFds !== undefined) m.setGauge('runtime.open_fds', r.openFds)
  }

  /**
   * The figures the subsystems already count, under Consul's names: read at each rendering
   * (cumulative counters become counter increments), so the hot paths pay nothing for them.
   */
  watch(src: TelemetrySources): void {
    const m = this.metrics
    const mirror = mirrors(m)
    m.collect(() => {
      m.setGauge('rpc.queries_blocking', src.blocking.loops + src.blocking.parked)
      const checks: Record<CheckStatus, number> = { passing: 0, warning: 0, critical: 0 }
      for (const c of src.checks()) checks[c.status]++
      for (const status of ['passing', 'warning', 'critical'] as const) m.setGauge('health.checks', checks[status], { status })
      const rpc = src.rpc()
      if (rpc) {
        if (src.server) {
          mirror('rpc.request', rpc.requests_in ?? 0)
          mirror('rpc.request_error', rpc.handler_errors ?? 0)
        } else {
          mirror('client.rpc', rpc.requests_out ?? 0)
          mirror('client.rpc.failed', (rpc.call_failures ?? 0) + (rpc.call_timeouts ?? 0))
        }
      }
      for (const [pool, members] of [['lan', src.lan()], ['wan', src.wan()]] as const) {
        if (!members) continue
        const st = members.stats()
        const labels = { network: pool }
        mirror('memberlist.udp.received', Number(st.packets_in ?? 0), labels)
        mirror('memberlist.udp.sent', Number(st.packets_out ?? 0), labels)
        mirror('memberlist.tcp.accept', Number(st.push_pulls_in ?? 0), labels)
        mirror('memberlist.tcp.connect', Number(st.push_pulls_out ?? 0), labels)
        mirror('memberlist.msg.alive', Number(st.msg_alive ?? 0), labels)
        mirror('memberlist.msg.suspect', Number(st.msg_suspect ?? 0), labels)
        mirror('memberlist.msg.dead', Number(st.msg_dead ?? 0), labels)
        mirror('memberlist.degraded.probe', Number(st.probes_degraded ?? 0), labels)
        m.setGauge('memberlist.health.score', Number(st.health_score ?? 0), labels)
        // Serf's queue depths: events (user messages) and intents (membership news) waiting to be gossiped.
        const queued = Number(st.queued_broadcasts ?? 0)
        const events = Number(st.queued_events ?? 0)
        m.setGauge('memberlist.queue.broadcasts', queued, labels)
        m.setGauge('serf.queue.Event', events, labels)
        m.setGauge('serf.queue.Intent', queued - events, labels)
        m.setGauge('serf.members', Number(st.members ?? 0), labels)
      }
      const s = src.state
      if (s) {
        m.setGauge('state.nodes', s.catalog.nodes.size)
        m.setGauge('state.services', s.catalog.byName.size)
        m.setGauge('state.service_instances', s.catalog.services.size)
        m.setGauge('state.kv_entries', s.kv.size)
        m.setGauge('session_ttl.active', s.sessions.sessions.size)
      }
    })
  }

  /** serf's member events as Consul counts them: join, failed, left, update, and flap (failed, then back). */
  members(members: Members, pool: 'lan' | 'wan'): void {
    const last = new Map<string, Member['status']>()
    const labels = { network: pool }
    members.onChange((mb) => {
      const before = last.get(mb.name)
      last.set(mb.name, mb.status)
      if (before === mb.status) {
        this.metrics.incr('serf.member.update', 1, labels)
        return
      }
      if (mb.status === 'alive') this.metrics.incr(before === 'failed' ? 'serf.member.flap' : 'serf.member.join', 1, labels)
      else if (mb.status === 'failed') this.metrics.incr('serf.member.failed', 1, labels)
      else if (mb.status === 'left') this.metrics.incr('serf.member.left', 1, labels)
    })
  }

  close(): void {
    if (this.#timer) clearInterval(this.#timer)
    this.#loop.disable()
    this.#gc.disconnect()
    for (const s of this.#sinks) s.close()
  }
}

/** Counter increments from a cumulative figure: what it grew by since the last reading. */
function mirrors(m: Metrics): (name: string, total: number, labels?: Labels) => void {
  const seen = new Map<string, number>()
  return (name, total, labels) => {
    const key = labels ? `${name} ${JSON.stringify(labels)}` : name
    const before = seen.get(key)
    seen.set(key, total)
    if (before === undefined) {
      if (total > 0) m.incr(name, total, labels)
      return
    }
    if (total > before) m.incr(name, total - before, labels)
  }
}

function openDescriptors(): number | undefined {
  try {
    return readdirSync('/proc/self/fd').length
  } catch {
    return undefined
  }
}

/** Largest datagram sent: one Ethernet frame's payload, as go-metrics' statsd sink. */
const STATSD_PACKET = 1432

/**
 * Lines in the statsd text format (`name:value|c`, `|g`, `|ms`), batched into datagrams and
 * flushed every 100 ms; dogstatsd adds the labels and the configured tags as `|#k:v,...`, statsd
 * folds label values into the name as go-metrics does. Nothing waits on the socket: a lost
 * datagram is a lost sample, never a slower request.
 */
class StatsdSink implements MetricsSink {
  readonly #socket: dgram.Socket
  readonly #host: string
  readonly #port: number
  #buffer = ''
  #timer: NodeJS.Timeout | undefined
  #failed = false

  constructor(
    address: string,
    readonly dogstatsd: boolean,
    readonly tags: readonly string[],
    readonly log: Log,
  ) {
    const at = address.lastIndexOf(':')
    this.#host = address.slice(0, at).replace(/^\[|\]$/g, '')
    this.#port = Number(address.slice(at + 1))
    this.#socket = dgram.createSocket(this.#host.includes(':') ? 'udp6' : 'udp4')
    this.#socket.on('error', (err) => this.#warn(err))
    this.#socket.unref()
  }

  emit(kind: 'counter' | 'gauge' | 'sample', name: string, value: number, labels: Labels | undefined): void {
    const type = kind === 'counter' ? 'c' : kind === 'gauge' ? 'g' : 'ms'
    let line: string
    if (this.dogstatsd) {
      const tags = [...this.tags]
      if (labels) for (const [k, v] of Object.entries(labels)) tags.push(`${k}:${v}`)
      line = `${statsdName(name)}:${value}|${type}${tags.length ? `|#${tags.join(',')}` : ''}`
    } else {
      const suffix = labels ? Object.values(labels).map((v) => `.${v}`).join('') : ''
      line = `${statsdName(name + suffix)}:${value}|${type}`
    }
    if (this.#buffer.length + line.length + 1 > STATSD_PACKET) this.#flush()
    this.#buffer += this.#buffer ? `\n${line}` : line
    if (!this.#timer) {
      this.#timer = setTimeout(() => this.#flush(), 100)
      this.#timer.unref()
    }
  }

  #flush(): void {
    if (this.#timer) clearTimeout(this.#timer)
    this.#timer = undefined
    if (!this.#buffer) return
    const data = this.#buffer
    this.#buffer = ''
    this.#socket.send(data, this.#port, this.#host, (err) => {
      if (err) this.#warn(err)
    })
  }

  #warn(err: Error): void {
    // Once: an absent statsd must not fill the log.
    if (this.#failed) return
    this.#failed = true
    this.log('warn', `telemetry: cannot send to ${this.dogstatsd ? 'dogstatsd' : 'statsd'} at ${this.#host}:${this.#port}: ${err.message}`)
  }

  close(): void {
    this.#flush()
    // Let the last datagram leave before the socket closes.
    setImmediate(() => this.#socket.close())
  }
}

/** statsd's separators (`:`, `|`, `@`, newline) and spaces cannot appear in a name. */
function statsdName(name: string): string {
  return name.replace(/[:|@\s]/g, '_')
}

/**
 * The agent's telemetry registry, with go-metrics' semantics as Consul uses them: counters,
 * gauges and samples (timings in milliseconds) named by dotted keys (`raft.commitTime`), the
 * service prefix (`consul`) in front and the host name after it on gauges unless disabled.
 * GET /v1/agent/metrics renders the last whole 10 s interval as go-metrics' inmem sink does; the
 * Prometheus text renders cumulative counters, gauges and summaries (0.5/0.9/0.99 quantiles over
 * the last two intervals), dropping series not updated within the retention time.
 *
 * Hot paths take a series handle once (`timer(name, labels)`) and observe into it: one clock read
 * and a few arithmetic operations, no allocation. A series the prefix filter drops is a shared
 * no-op. Time and sinks are injected; there is no module-level state (several agents per process).
 */

export type Labels = Readonly<Record<string, string>>

export interface MetricsClock {
  /** Milliseconds, high resolution; only differences matter (performance.now in production). */
  now(): number
  /** Wall-clock milliseconds, for the JSON answer's Timestamp. */
  wall(): number
}

/** Where every observation also goes as it happens (statsd, dogstatsd): given the full dotted name. */
export interface MetricsSink {
  emit(kind: 'counter' | 'gauge' | 'sample', name: string, value: number, labels: Labels | undefined): void
}

export interface MetricsOptions {
  clock: MetricsClock
  /** telemetry.metrics_prefix (Consul: "consul"). */
  prefix?: string
  /** The host name gauges carry after the prefix; empty when telemetry.disable_hostname. */
  hostname?: string
  /** go-metrics' inmem interval (Consul: 10 s). */
  intervalMs?: number
  /** telemetry.prometheus_retention_time: 0 turns the Prometheus format off, as Consul does. */
  prometheusRetentionMs?: number
  /** telemetry.filter_default and prefix_filter (`+consul.raft`, `-consul.http`); the longest match wins. */
  filterDefault?: boolean
  prefixFilter?: readonly string[]
  sinks?: readonly MetricsSink[]
}

/** One interval's aggregate of a counter or sample, as go-metrics keeps it. */
class Aggregate {
  count = 0
  sum = 0
  sumSq = 0
  min = 0
  max = 0

  add(v: number): void {
    if (this.count === 0 || v < this.min) this.min = v
    if (this.count === 0 || v > this.max) this.max = v
    this.count++
    this.sum += v
    this.sumSq += v * v
  }

  reset(): void {
    this.count = this.sum = this.sumSq = this.min = this.max = 0
  }

  /** Folds in another process's aggregate of the same interval. */
  merge(o: SampleBatch): void {
    if (o.count === 0) return
    if (this.count === 0 || o.min < this.min) this.min = o.min
    if (this.count === 0 || o.max > this.max) this.max = o.max
    this.count += o.count
    this.sum += o.sum
    this.sumSq += o.sumSq
  }

  copyFrom(o: Aggregate): void {
    this.count = o.count
    this.sum = o.sum
    this.sumSq = o.sumSq
    this.min = o.min
    this.max = o.max
  }
}

/**
 * Observations made in another process (the DNS UDP workers): the aggregate, and a few of the
 * values drawn evenly, which stand for all of them in the quantiles.
 */
export interface SampleBatch {
  count: number
  sum: number
  sumSq: number
  min: number
  max: number
  values: number[]
}

/** Values a batch carries: a few per second per worker is plenty for quantiles. */
const BATCH_VALUES = 64

/**
 * Reservoir sampling: an even chance for every value offered, at a bounded cost. A value may stand
 * for `weight` observations (a batch's draw); weights are whole numbers, so slots stay integral.
 */
class Reservoir {
  readonly values: number[] = []
  #seen = 0
  #rng = 1

  constructor(readonly size: number) {}

  offer(v: number, weight = 1): void {
    this.#seen += weight
    if (this.values.length < this.size) this.values.push(v)
    else {
      this.#rng = (Math.imul(this.#rng, 1664525) + 1013904223) >>> 0
      const slot = this.#rng % this.#seen
      if (slot < this.size) this.values[slot] = v
    }
  }
}

/** Gathers observations into a SampleBatch until taken. */
export class SampleBatcher {
  #agg = new Aggregate()
  #draw = new Reservoir(BATCH_VALUES)

  add(v: number): void {
    this.#agg.add(v)
    this.#draw.offer(v)
  }

  /** What was gathered since the last take, or undefined when nothing was. */
  take(): SampleBatch | undefined {
    const a = this.#agg
    if (a.count === 0) return undefined
    const b = { count: a.count, sum: a.sum, sumSq: a.sumSq, min: a.min, max: a.max, values: this.#draw.values }
    this.#agg = new Aggregate()
    this.#draw = new Reservoir(BATCH_VALUES)
    return b
  }
}

/** Values kept per interval for the Prometheus quantiles: enough for 1% resolution, bounded. */
const RESERVOIR = 512

abstract class Series {
  /** Interval number of `current`; `previous` is the interval before it. */
  interval = -1
  readonly current = new Aggregate()
  readonly previous = new Aggregate()
  total = 0
  count = 0
  updated = 0

  constructor(
    readonly registry: Metrics,
    readonly name: string,
    readonly labels: Labels | undefined,
  ) {}

  protected roll(now: number): void {
    const interval = this.registry.intervalOf(now)
    if (interval === this.interval) return
    if (interval === this.interval + 1) this.previous.copyFrom(this.current)
    else this.previous.reset()
    this.current.reset()
    this.rolled(interval === this.interval + 1)
    this.interval = interval
  }

  protected rolled(_adjacent: boolean): void {}

  /** The aggregate of the interval `interval`, if this series has it. */
  at(interval: number): Aggregate | undefined {
    if (interval === this.interval) return this.current
    if (interval === this.interval - 1) return this.previous
    return undefined
  }
}

export class Counter extends Series {
  incr(by = 1): void {
    const now = this.registry.clock.now()
    this.roll(now)
    this.current.add(by)
    this.total += by
    this.count++
    this.updated = now
    this.registry.emit('counter', this, by)
  }
}

export class Gauge extends Series {
  value = 0

  set(v: number): void {
    const now = this.registry.clock.now()
    this.roll(now)
    this.value = v
    this.updated = now
    this.registry.emit('gauge', this, v)
  }
}

export class Sample extends Series {
  #draw = new Reservoir(RESERVOIR)
  #older: number[] = []

  /** Observes one value (a duration in milliseconds, or a size). */
  observe(v: number): void {
    this.#record(v, this.registry.clock.now())
  }

  /** Observes the time since `start` (a reading of the registry's clock): one clock reading serves both. */
  since(start: number): void {
    const now = this.registry.clock.now()
    this.#record(now - start, now)
  }

  /** Observes `end - start` where the caller already read the clock at `end` (several timings of one moment). */
  between(start: number, end: number): void {
    this.#record(end - start, end)
  }

  #record(v: number, now: number): void {
    this.roll(now)
    this.current.add(v)
    this.total += v
    this.count++
    this.updated = now
    this.#draw.offer(v)
    this.registry.emit('sample', this, v)
  }

  /**
   * Folds in a batch observed elsewhere: its aggregate whole; its values into the reservoir, each
   * weighing as the share of the batch it stands for. Sinks get the batch's values.
   */
  merge(b: SampleBatch): void {
    if (b.count === 0) return
    const now = this.registry.clock.now()
    this.roll(now)
    this.current.merge(b)
    this.total += b.sum
    this.count += b.count
    this.updated = now
    const weight = b.values.length > 0 ? Math.max(1, Math.round(b.count / b.values.length)) : 0
    for (const v of b.values) {
      this.#draw.offer(v, weight)
      this.registry.emit('sample', this, v)
    }
  }

  protected override rolled(adjacent: boolean): void {
    this.#older = adjacent ? this.#draw.values : []
    this.#draw = new Reservoir(RESERVOIR)
  }

  /** Quantiles over the current and the previous interval's values (NaN when none). */
  quantiles(qs: readonly number[], now: number): number[] {
    const interval = this.registry.intervalOf(now)
    const values = interval === this.interval ? [...this.#draw.values, ...this.#older] : interval === this.interval + 1 ? [...this.#draw.values] : []
    values.sort((a, b) => a - b)
    return qs.map((q) => (values.length === 0 ? NaN : values[Math.min(values.length - 1, Math.floor(q * values.length))]!))
  }
}

/** A filtered-out series: observations cost a call and nothing else. */
const noop = { incr() {}, set() {}, observe() {}, since() {}, between() {}, merge() {} }

export interface GaugeValue { Name: string; Value: number; Labels: Record<string, string> }
export interface SampledValue { Name: string; Count: number; Rate: number; Sum: number; Min: number; Max: number; Mean: number; Stddev: number; Labels: Record<string, string> }
/** GET /v1/agent/metrics, go-metrics' MetricsSummary. */
export interface MetricsSummary { Timestamp: string; Gauges: GaugeValue[]; Points: unknown[]; Counters: SampledValue[]; Samples: SampledValue[] }

const QUANTILES = [0.5, 0.9, 0.99] as const

export class Metrics {
  readonly clock: MetricsClock
  readonly prefix: string
  readonly hostname: string
  readonly intervalMs: number
  readonly prometheusRetentionMs: number
  readonly #filterDefault: boolean
  readonly #filters: Array<{ prefix: string; allow: boolean }>
  readonly #sinks: readonly MetricsSink[]
  readonly #series = new Map<string, Series>()
  readonly #collectors: Array<() => void> = []
  readonly #started: number

  constructor(o: MetricsOptions) {
    this.clock = o.clock
    this.prefix = o.prefix ?? 'consul'
    this.hostname = o.hostname ?? ''
    this.intervalMs = o.intervalMs ?? 10_000
    this.prometheusRetentionMs = o.prometheusRetentionMs ?? 0
    this.#filterDefault = o.filterDefault ?? true
    this.#filters = (o.prefixFilter ?? [])
      .map((f) => ({ prefix: f.slice(1), allow: f.startsWith('+') }))
      .sort((a, b) => b.prefix.length - a.prefix.length)
    this.#sinks = o.sinks ?? []
    this.#started = this.clock.now()
  }

  intervalOf(now: number): number {
    return Math.floor((now - this.#started) / this.intervalMs)
  }

  counter(name: string, labels?: Labels): Pick<Counter, 'incr'> {
    return this.#get('counter', name, labels, (full) => new Counter(this, full, labels))
  }

  gauge(name: string, labels?: Labels): Pick<Gauge, 'set'> {
    return this.#get('gauge', name, labels, (full) => new Gauge(this, full, labels))
  }

  timer(name: string, labels?: Labels): Pick<Sample, 'observe' | 'since' | 'between' | 'merge'> {
    return this.#get('sample', name, labels, (full) => new Sample(this, full, labels))
  }

  incr(name: string, by = 1, labels?: Labels): void {
    this.counter(name, labels).incr(by)
  }

  setGauge(name: string, value: number, labels?: Labels): void {
    this.gauge(name, labels).set(value)
  }

  addSample(name: string, value: number, labels?: Labels): void {
    this.timer(name, labels).observe(value)
  }

  /** Runs before every rendering (and at each interval where sinks push): for gauges read on demand. */
  collect(fn: () => void): void {
    this.#collectors.push(fn)
  }

  runCollectors(): void {
    for (const fn of this.#collectors) fn()
  }

  /** Whether a full dotted name passes telemetry.prefix_filter / filter_default. */
  allowed(full: string): boolean {
    for (const f of this.#filters) if (full.startsWith(f.prefix)) return f.allow
    return this.#filterDefault
  }

  emit(kind: 'counter' | 'gauge' | 'sample', s: Series, v: number): void {
    for (const sink of this.#sinks) sink.emit(kind, s.name, v, s.labels)
  }

  #get<T>(kind: string, name: string, labels: Labels | undefined, make: (full: string) => T): T {
    const key = labels === undefined ? `${kind}\x00${name}` : `${kind}\x00${name}\x00${labelKey(labels)}`
    let s = this.#series.get(key) as T | undefined
    if (s === undefined) {
      const full = this.fullName(kind, name)
      s = this.allowed(full) ? make(full) : (noop as T)
      this.#series.set(key, s as Series)
    }
    return s
  }

  fullName(kind: string, name: string): string {
    const host = kind === 'gauge' && this.hostname ? `${this.hostname}.` : ''
    return this.prefix ? `${this.prefix}.${host}${name}` : `${host}${name}`
  }

  #live(): Series[] {
    return [...this.#series.values()].filter((s): s is Series => s instanceof Series)
  }

  /** go-metrics' inmem view: the last whole interval (the current one while it is the first). */
  summary(): MetricsSummary {
    this.runCollectors()
    const now = this.clock.now()
    const current = this.intervalOf(now)
    const shown = current > 0 ? current - 1 : 0
    const wallStart = this.clock.wall() - (now - this.#started - shown * this.intervalMs)
    const out: MetricsSummary = { Timestamp: goTime(wallStart), Gauges: [], Points: [], Counters: [], Samples: [] }
    for (const s of this.#live()) {
      const labels = { ...s.labels }
      if (s instanceof Gauge) {
        if (s.interval >= 0) out.Gauges.push({ Name: s.name, Value: s.value, Labels: labels })
        continue
      }
      const a = s.at(shown)
      if (!a || a.count === 0) continue
      const mean = a.sum / a.count
      const variance = a.count > 1 ? (a.sumSq - a.count * mean * mean) / (a.count - 1) : 0
      const v: SampledValue = {
        Name: s.name, Count: a.count, Rate: a.sum / (this.intervalMs / 1000), Sum: a.sum, Min: a.min, Max: a.max,
        Mean: mean, Stddev: Math.sqrt(Math.max(0, variance)), Labels: labels,
      }
      ;(s instanceof Counter ? out.Counters : out.Samples).push(v)
    }
    for (const list of [out.Gauges, out.Counters, out.Samples]) list.sort((a, b) => (a.Name < b.Name ? -1 : a.Name > b.Name ? 1 : 0))
    return out
  }

  /** The Prometheus text format (version 0.0.4). */
  prometheus(): string {
    this.runCollectors()
    const now = this.clock.now()
    const families = new Map<string, { type: string; lines: string[] }>()
    const family = (name: string, type: string): string[] => {
      let f = families.get(name)
      if (!f) families.set(name, (f = { type, lines: [] }))
      return f.lines
    }
    for (const s of this.#live()) {
      if (s.interval < 0 || now - s.updated > this.prometheusRetentionMs) continue
      const name = promName(s.name)
      if (s instanceof Gauge) family(name, 'gauge').push(`${name}${promLabels(s.labels)} ${promValue(s.value)}`)
      else if (s instanceof Counter) family(name, 'counter').push(`${name}${promLabels(s.labels)} ${promValue(s.total)}`)
      else if (s instanceof Sample) {
        const lines = family(name, 'summary')
        const qs = s.quantiles(QUANTILES, now)
        QUANTILES.forEach((q, i) => lines.push(`${name}${promLabels(s.labels, `quantile="${q}"`)} ${promValue(qs[i]!)}`))
        lines.push(`${name}_sum${promLabels(s.labels)} ${promValue(s.total)}`, `${name}_count${promLabels(s.labels)} ${s.count}`)
      }
    }
    let text = ''
    for (const name of [...families.keys()].sort()) {
      const f = families.get(name)!
      text += `# HELP ${name} ${name}\n# TYPE ${name} ${f.type}\n${f.lines.join('\n')}\n`
    }
    return text
  }
}

function labelKey(labels: Labels): string {
  const keys = Object.keys(labels)
  if (keys.length === 1) return `${keys[0]}=${labels[keys[0]!]}`
  return keys.sort().map((k) => `${k}=${labels[k]}`).join('\x00')
}

/** go-metrics' Prometheus sink: every character outside [a-zA-Z0-9_:] becomes `_`. */
export function promName(dotted: string): string {
  return dotted.replace(/[^a-zA-Z0-9_:]/g, '_')
}

function promLabels(labels: Labels | undefined, extra?: string): string {
  const parts: string[] = []
  if (labels) {
    for (const k of Object.keys(labels).sort()) {
      const v = labels[k]!.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')
      parts.push(`${k.replace(/[^a-zA-Z0-9_]/g, '_')}="${v}"`)
    }
  }
  if (extra) parts.push(extra)
  return parts.length === 0 ? '' : `{${parts.join(',')}}`
}

function promValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN'
  if (v === Infinity) return '+Inf'
  if (v === -Infinity) return '-Inf'
  return String(v)
}

/** Go's time.Time.String() in UTC, as go-metrics' Timestamp: `2017-08-08 02:55:10 +0000 UTC`. */
function goTime(ms: number): string {
  const iso = new Date(Math.floor(ms / 1000) * 1000).toISOString()
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)} +0000 UTC`
}

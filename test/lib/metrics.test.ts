import { test } from 'node:test'
import assert from 'node:assert/strict'
import { Metrics, promName, SampleBatcher, type MetricsSink } from '../../src/lib/metrics.js'

function clock(start = 0): { now: () => number; wall: () => number; at: number } {
  const c = { at: start, now: () => c.at, wall: () => Date.UTC(2017, 7, 8, 2, 55, 0) + c.at }
  return c
}

test('the JSON view is go-metrics\' inmem summary of the last whole 10 s interval, with the service prefix and the host on gauges', () => {
  const c = clock()
  const m = new Metrics({ clock: c, hostname: 'node1', prometheusRetentionMs: 60_000 })
  m.incr('raft.apply', 2)
  m.incr('raft.apply', 4)
  m.addSample('raft.commitTime', 3)
  m.setGauge('runtime.alloc_bytes', 100)
  // The first interval is shown while it is the only one.
  let s = m.summary()
  assert.equal(s.Timestamp, '2017-08-08 02:55:00 +0000 UTC')
  assert.deepEqual(s.Counters.map((x) => [x.Name, x.Count, x.Sum, x.Min, x.Max, x.Mean]), [['consul.raft.apply', 2, 6, 2, 4, 3]])
  assert.equal(s.Counters[0]!.Rate, 0.6)
  assert.equal(s.Counters[0]!.Stddev, Math.SQRT2)
  assert.deepEqual(s.Gauges, [{ Name: 'consul.node1.runtime.alloc_bytes', Value: 100, Labels: {} }])
  assert.deepEqual(s.Points, [])
  // In the next interval the previous, complete one is shown; what happens now waits for the one after.
  c.at = 10_500
  m.addSample('raft.commitTime', 5)
  s = m.summary()
  assert.equal(s.Timestamp, '2017-08-08 02:55:00 +0000 UTC')
  assert.deepEqual(s.Samples.map((x) => [x.Name, x.Count, x.Sum]), [['consul.raft.commitTime', 1, 3]])
  c.at = 20_100
  s = m.summary()
  assert.equal(s.Timestamp, '2017-08-08 02:55:10 +0000 UTC')
  assert.deepEqual(s.Samples.map((x) => [x.Count, x.Sum]), [[1, 5]])
  assert.deepEqual(s.Counters, [], 'a counter with nothing in the shown interval is left out')
  assert.deepEqual(s.Gauges.map((g) => g.Value), [100], 'gauges keep their last value')
})

test('the Prometheus text: cumulative counters, gauges and summaries with quantiles, labels escaped, names as go-metrics flattens them', () => {
  const c = clock()
  const m = new Metrics({ clock: c, prometheusRetentionMs: 60_000 })
  for (let i = 1; i <= 100; i++) m.addSample('api.http', i, { method: 'GET', path: 'v1.kv._' })
  m.incr('raft.state.leader')
  c.at = 15_000
  m.incr('raft.state.leader')
  m.setGauge('health.checks', 2, { status: 'critical' })
  m.setGauge('odd', 1, { why: 'a "quoted"\\ value\n' })
  const text = m.prometheus()
  assert.match(text, /^# HELP consul_raft_state_leader consul_raft_state_leader\n# TYPE consul_raft_state_leader counter\nconsul_raft_state_leader 2$/m)
  assert.match(text, /^# TYPE consul_api_http summary$/m)
  assert.match(text, /^consul_api_http\{method="GET",path="v1\.kv\._",quantile="0\.5"\} 51$/m)
  assert.match(text, /^consul_api_http\{method="GET",path="v1\.kv\._",quantile="0\.99"\} 100$/m)
  assert.match(text, /^consul_api_http_sum\{method="GET",path="v1\.kv\._"\} 5050$/m)
  assert.match(text, /^consul_api_http_count\{method="GET",path="v1\.kv\._"\} 100$/m)
  assert.match(text, /^consul_health_checks\{status="critical"\} 2$/m)
  assert.ok(text.includes('consul_odd{why="a \\"quoted\\"\\\\ value\\n"} 1'))
  // Quantiles cover the last two intervals: later, with no new values, they are NaN; sum and count stay.
  c.at = 35_000
  assert.match(m.prometheus(), /^consul_api_http\{method="GET",path="v1\.kv\._",quantile="0\.5"\} NaN$/m)
  assert.equal(promName('consul.raft.replication.appendEntries.rpc'), 'consul_raft_replication_appendEntries_rpc')
  assert.equal(promName('consul.prepared-query.apply'), 'consul_prepared_query_apply')
})

test('series not updated within prometheus_retention_time leave the Prometheus text', () => {
  const c = clock()
  const m = new Metrics({ clock: c, prometheusRetentionMs: 5_000 })
  m.incr('old')
  c.at = 4_000
  m.incr('fresh')
  c.at = 6_000
  const text = m.prometheus()
  assert.doesNotMatch(text, /consul_old/)
  assert.match(text, /^consul_fresh 1$/m)
})

test('a sample\'s quantiles stay bounded in memory and close to the truth for many values', () => {
  const c = clock()
  const m = new Metrics({ clock: c, prometheusRetentionMs: 60_000 })
  const t = m.timer('x')
  for (let i = 0; i < 100_000; i++) t.observe(i % 1000)
  const median = Number(/^consul_x\{quantile="0\.5"\} (\S+)$/m.exec(m.prometheus())![1])
  assert.ok(median > 400 && median < 600, `median ${median}`)
  assert.match(m.prometheus(), /^consul_x_count 100000$/m)
})

test('telemetry.prefix_filter and filter_default: the longest rule wins, a filtered series costs nothing and shows nowhere', () => {
  const seen: string[] = []
  const sink: MetricsSink = { emit: (kind, name, value) => seen.push(`${kind} ${name} ${value}`) }
  const m = new Metrics({ clock: clock(), prometheusRetentionMs: 60_000, filterDefault: false, prefixFilter: ['+consul.raft', '-consul.raft.apply'], sinks: [sink] })
  m.incr('raft.apply')
  m.incr('raft.state.leader')
  m.incr('kvs.apply')
  const s = m.summary()
  assert.deepEqual(s.Counters.map((x) => x.Name), ['consul.raft.state.leader'])
  assert.deepEqual(seen, ['counter consul.raft.state.leader 1'])
  assert.doesNotMatch(m.prometheus(), /kvs|raft_apply/)
})

test('collectors run before each rendering: gauges read on demand', () => {
  const m = new Metrics({ clock: clock(), prometheusRetentionMs: 60_000, prefix: 'myapp' })
  let n = 0
  m.collect(() => m.setGauge('reads', ++n))
  assert.equal(m.summary().Gauges[0]!.Value, 1)
  assert.match(m.prometheus(), /^myapp_reads 2$/m)
})

test('a batch observed in another process (SampleBatcher) merges into the same timer: the whole aggregate, its values in the quantiles', () => {
  const c = clock()
  const m = new Metrics({ clock: c, prometheusRetentionMs: 60_000 })
  const b = new SampleBatcher()
  for (let i = 1; i <= 1000; i++) b.add(i % 100 === 0 ? 50 : 1)
  const batch = b.take()!
  assert.equal(b.take(), undefined, 'taken: the batcher starts empty again')
  assert.equal(batch.count, 1000)
  assert.equal(batch.sum, 990 + 500)
  assert.deepEqual([batch.min, batch.max], [1, 50])
  assert.equal(batch.values.length, 64, 'a bounded draw of the values')
  m.timer('dns.domain_query').observe(2)
  m.timer('dns.domain_query').merge(batch)
  c.at = 10_500
  const s = m.summary().Samples.find((x) => x.Name === 'consul.dns.domain_query')!
  assert.deepEqual([s.Count, s.Sum, s.Min, s.Max], [1001, 1492, 1, 50])
  const text = m.prometheus()
  assert.match(text, /^consul_dns_domain_query_count 1001$/m)
  assert.match(text, /^consul_dns_domain_query\{quantile="0.5"\} 1$/m, 'the median is what most of the batch was')
})

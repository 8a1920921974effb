/**
 * `npm run bench -- <name>`: one entry point for every benchmark. Each benchmark is imported
 * only when chosen, so one that is mid-development cannot break the others at start-up.
 */
type Bench = { describe: string; run: (args: readonly string[]) => Promise<number> }

const BENCHES: Record<string, Bench> = {
  kv: {
    describe: 'KV PUT/GET req/s and p50/p99 at 1, 64, 256 connections: our durable server vs etcd (issue 2)',
    run: async (args) => (await import('./kv.js')).runKvBench(args),
  },
  template: {
    describe: 'renders/s of a 200-line template over 1,000 services: our engine vs Go text/template (issue 5)',
    run: async (args) => (await import('../test/template/bench.js')).runTemplateBenchCli(args),
  },
  health: {
    describe: 'register 1,000 services; agent CPU with 1,000 HTTP checks at 10s; check change → blocking watcher p50/p99 (issue 3)',
    run: async (args) => (await import('./health.js')).runHealthBench(args),
  },
  distributive: {
    describe: 'a 50-check local checklist: whole process (start-up included, target < 300 ms) and the in-agent check type (issue 7)',
    run: async (args) => (await import('./distributive.js')).runDistributiveBench(args),
  },
  ctemplate: {
    describe: '100 templates over 100 services in one consul-template: change → rewritten file p50/p99, idle requests/min, open queries per dependency (issue 6)',
    run: async (args) => (await import('./ctemplate.js')).runCtemplateBench(args),
  },
  watch: {
    describe: 'watch fan-out: 1,000 and 10,000 blocking GETs on 1 and on 100 keys, write -> last answer and CPU: our agent vs a minimal Node long-poll server (issue 11)',
    run: async (args) => (await import('./watch.js')).runWatchBench(args),
  },
  raft: {
    describe: '3 voters in one process, in-memory transport, fsync: commits/s and p50/p99 at 1 and 64 proposers, ours vs hashicorp/raft + raft-boltdb; simulator steps/s (issue 12)',
    run: async (args) => (await import('./raft.js')).runRaftBench(args),
  },
  cluster: {
    describe: '3 servers vs 3 etcd members on loopback: PUT/GET req/s and p50/p99 (etcd JSON gateway and gRPC), stale GET on leader and follower, kill -9 failover median at raft_multiplier 1 and 5 (--quick for a short run)',
    run: async (args) => (await import('./cluster.js')).runClusterBench(args),
  },
  gossip: {
    describe: 'gossip: simulated pools of 50, 200 and 1,000 (crash detection, new-member spread, false positives, bytes/member/s); 50 members on loopback vs hashicorp/memberlist (join convergence, failure detection; --quick skips 1,000) (issue 14)',
    run: async (args) => (await import('./gossip.js')).runGossipBench(args),
  },
  acl: {
    describe: 'what ACLs cost: KV GET and PUT at 64 clients and a 10,000-key recursive read, ACLs off vs on with a token of 50 policies x 20 rules (issue 15; --quick)',
    run: async (args) => (await import('./acl.js')).runAclBench(args),
  },
  telemetry: {
    describe: 'what metrics cost: KV GET and PUT at 64 clients, telemetry off vs on (Prometheus scraped every second), and the metrics endpoint with 10,000 services (issue 17; --quick; --aa: both agents off, the harness alone)',
    run: async (args) => (await import('./telemetry.js')).runTelemetryBench(args),
  },
  ui: {
    describe: 'the web UI in headless Chromium: first rows, filter, live update at 100, 1,000 and 10,000 services (5,000 nodes), idle requests/min, bundle size (issue 18; --quick)',
    run: async (args) => (await import('./ui.js')).runUiBench(args),
  },
  bridges: {
    describe: 'marathon-consul event -> DNS answer p50/p99 and registrations/s in a 1,000-task deploy vs direct registration; mesos-consul CPU per poll at 10,000 tasks vs a Go peer doing upstream\'s per-poll work (issue 19; --quick)',
    run: async (args) => (await import('./bridges.js')).runBridgesBench(args),
  },
  dns: {
    describe: 'service lookup (10 instances, A and SRV) q/s and p99 at 1 and 64 clients: our agent vs dnsmasq (issue 4)',
    run: async (args) => (await import('./dns.js')).runDnsBench(args),
  },
}

function usage(): string {
  const names = Object.entries(BENCHES).map(([name, b]) => `  ${name.padEnd(14)}${b.describe}`)
  return [
    'usage: npm run bench -- <name> [args]',
    '',
    'benchmarks:',
    ...names,
    '',
    'env: BENCH_SECONDS=<n>  seconds per measured cell (default 10)',
    '',
  ].join('\n')
}

const [name, ...rest] = process.argv.slice(2)
// hasOwn: a name like "toString" must not resolve to an Object.prototype member.
const bench = name !== undefined && Object.hasOwn(BENCHES, name) ? BENCHES[name] : undefined
if (!bench) {
  if (name !== undefined && name !== '-h' && name !== '--help') process.stderr.write(`unknown benchmark ${JSON.stringify(name)}\n\n`)
  process.stderr.write(usage())
  process.exit(name === '-h' || name === '--help' ? 0 : 2)
}
try {
  process.exitCode = await bench.run(rest)
} catch (err) {
  process.stderr.write(`bench ${name}: ${(err as Error).stack ?? String(err)}\n`)
  process.exitCode = 1
}

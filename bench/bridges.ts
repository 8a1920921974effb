/**
 * `npm run bench -- bridges [--quick]` (issue 19), on a server and two client agents on loopback
 * (127.0.0.71-73, one HTTP port as on three hosts) with fake Mesos and Marathon servers:
 * - Marathon event -> DNS answer: a task added and its status_update_event sent, until the server's
 *   DNS answers its SRV record (p50/p99); the reference, in the same run, registers the same
 *   service on the same agent directly (the floor: the agent's sync and the catalog).
 * - registrations/s during a 1,000-task deploy (1,000 TASK_RUNNING events in a burst), until the
 *   agents hold them and until the catalog does; the reference registers 1,000 services on the
 *   same agents directly, 16 in flight per agent.
 * - mesos-consul's poll cost at 10,000 running tasks: CPU per steady-state poll of the bridge
 *   process, against a small Go program of ours doing upstream's per-poll work (decode the
 *   state, build the registrations, read and compare every agent's services) on the same data.
 */
import { execFile, spawnSync } from 'node:child_process'
import { promisify } from 'node:util'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { Resolver } from 'node:dns/promises'
import { join, dirname } from 'node:path'
import { fileURLToPath } from 'node:url'
import { cleanupAll, installSignalHandlers, tempDir } from './lib/procs.js'
import { textTable } from './lib/table.js'
import { FakeMarathon, FakeMesosMaster, marathonTask, mesosTask } from '../test/bridges/fakes.js'
import { startBridge, startCluster, type Cluster } from '../test/bridges/helpers.js'

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
const IPS = ['127.0.0.71', '127.0.0.72', '127.0.0.73']
const VERSION = '2015-12-01T10:03:32.003Z'

const pct = (xs: readonly number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!
}

/** Polls the server's DNS until `name` has an SRV answer on `port`; returns when it does. */
async function dnsHas(resolver: Resolver, name: string, port: number): Promise<void> {
  for (;;) {
    const answers = await resolver.resolveSrv(name).catch(() => [])
    if (answers.some((a) => a.port === port)) return
    await new Promise((r) => setTimeout(r, 1))
  }
}

async function agentCount(cluster: Cluster, prefix: string): Promise<number> {
  let n = 0
  for (const h of [cluster.server, ...cluster.clients]) {
    const svcs = (await (await fetch(`${h.agent.httpAddr}/v1/agent/services`)).json()) as Record<string, unknown>
    n += Object.keys(svcs).filter((id) => id.startsWith(prefix)).length
  }
  return n
}

async function catalogCount(cluster: Cluster, service: string): Promise<number> {
  return ((await (await fetch(`${cluster.server.agent.httpAddr}/v1/catalog/service/${service}`)).json()) as unknown[]).length
}

async function waitFor(what: string, probe: () => Promise<boolean>, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 20))
  }
}

/** CPU seconds (user + system) a process has used, from /proc. */
function cpuSeconds(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')
  return (Number(f[11]) + Number(f[12])) / 100
}

function buildPeer(dir: string): string | undefined {
  const out = join(dir, 'mesos-peer')
  const env: NodeJS.ProcessEnv = { ...process.env, GO111MODULE: 'off', GOFLAGS: '', GOTOOLCHAIN: 'local', GOPROXY: 'off', GOPATH: `${dir}:/usr/share/gocode`, GOCACHE: process.env.GOCACHE ?? join(dir, 'gocache') }
  const r = spawnSync('go', ['build', '-o', out, '.'], { cwd: join(ROOT, 'bench', 'bridges', 'go'), env, encoding: 'utf8' })
  return r.status === 0 ? out : undefined
}

export async function runBridgesBench(args: readonly string[]): Promise<number> {
  installSignalHandlers()
  const quick = args.includes('--quick')
  const events = quick ? 50 : 200
  const pollTasks = quick ? 2000 : 10_000
  const dir = tempDir('bench-bridges-')
  const cluster = await startCluster(IPS)
  const rows: string[][] = []
  const report: Record<string, unknown> = { date: new Date().toISOString(), quick }
  try {
    const resolver = new Resolver({ timeout: 1000, tries: 1 })
    resolver.setServers([`${IPS[0]}:${cluster.server.agent.dnsPort}`])
    const client = cluster.clients[0]!

    // 1. Marathon event -> DNS answer, and the direct registration it is compared with.
    const marathon = await new FakeMarathon(IPS[0]!).listen()
    marathon.apps.set('/lat', { id: '/lat', labels: { consul: 'true' }, version: VERSION, tasks: [] })
    marathon.apps.set('/deploy', { id: '/deploy', labels: { consul: 'true' }, version: VERSION, tasks: [] })
    const mb = startBridge('marathon', [`--marathon-location=${marathon.address}`, `--consul-port=${cluster.httpPort}`, '--sync-interval=1h', `--listen=${IPS[0]}:0`, '--log-level=warn'])
    await waitFor('the event stream', async () => marathon.streams.size > 0)
    await new Promise((r) => setTimeout(r, 500))
    const viaBridge: number[] = []
    const direct: number[] = []
    for (let i = 0; i < events; i++) {
      const t = marathonTask('/lat', i, client.ip, [41000 + i])
      marathon.apps.get('/lat').tasks.push(t)
      const t0 = performance.now()
      marathon.emit({ eventType: 'status_update_event', slaveId: t.slaveId, taskId: t.id, taskStatus: 'TASK_RUNNING', appId: '/lat', host: t.host, ports: t.ports, version: VERSION })
      await dnsHas(resolver, 'lat.service.consul', 41000 + i)
      viaBridge.push(performance.now() - t0)
      const t1 = performance.now()
      await fetch(`${client.agent.httpAddr}/v1/agent/service/register`, { method: 'PUT', body: JSON.stringify({ ID: `direct-${i}`, Name: 'direct', Port: 42000 + i, Address: client.ip }) })
      await dnsHas(resolver, 'direct.service.consul', 42000 + i)
      direct.push(performance.now() - t1)
    }
    const latRow = (name: string, xs: number[]): string[] => [name, pct(xs, 50).toFixed(1), pct(xs, 99).toFixed(1)]
    process.stdout.write(`\nMarathon event -> DNS answer (${events} tasks, ms)\n`)
    process.stdout.write(textTable(['path', 'p50', 'p99'], [latRow('marathon-consul', viaBridge), latRow('direct register (reference)', direct), ['ratio (reference / ours)', (pct(direct, 50) / pct(viaBridge, 50)).toFixed(2), (pct(direct, 99) / pct(viaBridge, 99)).toFixed(2)]], new Set([0])) + '\n')
    report.eventToDns = { ours: { p50: pct(viaBridge, 50), p99: pct(viaBridge, 99) }, direct: { p50: pct(direct, 50), p99: pct(direct, 99) } }

    // 2. A 1,000-task deploy: registrations per second, at the agents and in the catalog.
    const hosts = [IPS[1]!, IPS[2]!]
    const deployT0 = performance.now()
    for (let i = 0; i < 1000; i++) {
      const t = marathonTask('/deploy', i, hosts[i % 2]!, [43000 + i])
      marathon.apps.get('/deploy').tasks.push(t)
      marathon.emit({ eventType: 'status_update_event', slaveId: t.slaveId, taskId: t.id, taskStatus: 'TASK_RUNNING', appId: '/deploy', host: t.host, ports: t.ports, version: VERSION })
    }
    await waitFor('1,000 at the agents', async () => (await agentCount(cluster, 'marathon-consul:deploy')) >= 1000)
    const atAgents = performance.now() - deployT0
    await waitFor('1,000 in the catalog', async () => (await catalogCount(cluster, 'deploy')) >= 1000)
    const inCatalog = performance.now() - deployT0
    await mb.stop()
    await marathon.close()
    const refT0 = performance.now()
    await Promise.all(hosts.map(async (host, h) => {
      const base = `http://${host}:${cluster.httpPort}`
      let next = 0
      const worker = async (): Promise<void> => {
        while (next < 500) {
          const i = next++ * 2 + h
          await fetch(`${base}/v1/agent/service/register`, { method: 'PUT', body: JSON.stringify({ ID: `ref:${i}`, Name: 'refdeploy', Port: 44000 + i, Address: host }) }).then((r) => r.text())
        }
      }
      await Promise.all(Array.from({ length: 16 }, worker))
    }))
    const refAgents = performance.now() - refT0
    await waitFor('1,000 reference in the catalog', async () => (await catalogCount(cluster, 'refdeploy')) >= 1000)
    const refCatalog = performance.now() - refT0
    const rate = (ms: number): string => (1000 / (ms / 1000)).toFixed(0)
    process.stdout.write(`\n1,000-task deploy: registrations/s\n`)
    process.stdout.write(textTable(['path', 'at the agents', 'in the catalog'], [['marathon-consul (1,000 events)', rate(atAgents), rate(inCatalog)], ['direct register (reference)', rate(refAgents), rate(refCatalog)], ['ratio (ours / reference)', (refAgents / atAgents).toFixed(2), (refCatalog / inCatalog).toFixed(2)]], new Set([0])) + '\n')
    report.deploy = { ours: { agentsPerS: 1e6 / atAgents, catalogPerS: 1e6 / inCatalog }, direct: { agentsPerS: 1e6 / refAgents, catalogPerS: 1e6 / refCatalog } }

    // 3. mesos-consul's poll cost at 10,000 running tasks.
    const master = await new FakeMesosMaster(IPS[0]!).listen()
    const slaves = IPS.map((ip, i) => ({ id: `S${i}`, pid: `slave(1)@${ip}:5051`, hostname: `h${i}` }))
    master.leaderPid = `master@${master.address}`
    master.state = { slaves, frameworks: [{ name: 'marathon', tasks: Array.from({ length: pollTasks }, (_, i) => mesosTask(`app${i % 100}.${i}`, `app${i % 100}`, slaves[i % 3]!.id, [20000 + Math.floor(i / 3)], { labels: [{ key: 'tags', value: 'a,b' }] })) }] }
    const mesos = startBridge('mesos', [`--mesos-master=${master.address}`, `--consul-port=${cluster.httpPort}`, '--refresh=100ms', '--mesos-ip-order=host', '--healthcheck', `--healthcheck-ip=${IPS[0]}`, '--healthcheck-port=0', '--log-level=INFO'])
    const firstT0 = performance.now()
    await waitFor(`${pollTasks} registered`, async () => (await mesos.metric('mesos_consul_registered')) >= pollTasks, 300_000)
    const firstPollMs = performance.now() - firstT0
    // Steady state: every poll reads the state and every agent, and changes nothing.
    const polls0 = await mesos.metric('mesos_consul_poll_count')
    await waitFor('steady polls', async () => (await mesos.metric('mesos_consul_poll_count')) >= polls0 + 2)
    const p1 = await mesos.metric('mesos_consul_poll_count')
    const s1 = await mesos.metric('mesos_consul_poll_sum')
    const c1 = cpuSeconds(mesos.proc.pid!)
    await new Promise((r) => setTimeout(r, quick ? 5000 : 15_000))
    const p2 = await mesos.metric('mesos_consul_poll_count')
    const s2 = await mesos.metric('mesos_consul_poll_sum')
    const c2 = cpuSeconds(mesos.proc.pid!)
    // The whole process's CPU (its HTTP server answering /metrics included) per poll; wall time from the bridge's own poll timer.
    const oursCpu = ((c2 - c1) * 1000) / (p2 - p1)
    const oursWall = (s2 - s1) / (p2 - p1)
    await mesos.stop()
    const peer = buildPeer(dir)
    let peerRes: { cpuMsPerPoll: number; wallMsPerPoll: number; registrations: number } | undefined
    if (peer) {
      // Asynchronously: the fake master it polls lives in this process.
      try {
        const r = await promisify(execFile)(peer, [`-master=${master.address}`, `-consul-port=${cluster.httpPort}`, `-polls=${quick ? 5 : 20}`], { encoding: 'utf8' })
        peerRes = JSON.parse(r.stdout)
      } catch (err) {
        process.stdout.write(`Go peer failed: ${(err as { stderr?: string }).stderr ?? String(err)}\n`)
      }
    } else process.stdout.write('Go peer: go build failed (golang-go missing?); no reference row\n')
    await master.close()
    process.stdout.write(`\nmesos-consul poll at ${pollTasks.toLocaleString('en')} running tasks (3 agents; first poll registered them in ${(firstPollMs / 1000).toFixed(1)} s)\n`)
    rows.push(['mesos-consul (ours)', oursCpu.toFixed(1), oursWall.toFixed(1)])
    if (peerRes) rows.push(['Go peer (reference: upstream\'s per-poll work)', peerRes.cpuMsPerPoll.toFixed(1), peerRes.wallMsPerPoll.toFixed(1)], ['ratio (reference / ours)', (peerRes.cpuMsPerPoll / oursCpu).toFixed(2), (peerRes.wallMsPerPoll / oursWall).toFixed(2)])
    process.stdout.write(textTable(['poller', 'CPU ms/poll', 'wall ms/poll'], rows, new Set([0])) + '\n')
    report.poll = { tasks: pollTasks, firstPollMs, ours: { cpuMsPerPoll: oursCpu, wallMsPerPoll: oursWall }, peer: peerRes }

    const results = join(ROOT, 'bench', 'results')
    mkdirSync(results, { recursive: true })
    const out = join(results, `bridges-${new Date().toISOString().slice(0, 10)}${quick ? '-quick' : ''}.json`)
    writeFileSync(out, JSON.stringify(report, null, 2))
    process.stdout.write(`results: ${out}\n`)
    return 0
  } finally {
    await cluster.stop()
    await cleanupAll()
  }
}

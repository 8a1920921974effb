/**
 * mesos-consul end to end: a server (127.0.0.41) and two client agents (.42, .43) on one HTTP port
 * as on three hosts, two fake Mesos masters (on .41 and .42) serving the fixture's shapes, and the
 * bridge as a real process. Tasks appear in the catalog and in `dig` with their ports and tags and
 * leave when killed; leader.mesos.service.consul follows a leader change; a host whose agent was
 * down is cleaned up when it comes back; masters that fail, hang or answer garbage deregister
 * nothing; a restart of the bridge changes nothing; 1,000 churning tasks end with no leaked or
 * missing registration. One cluster for the file, the steps in order.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { until } from '../helpers/poll.js'
import { FakeMesosMaster, fixture, mesosTask } from './fakes.js'
import { catalogIds, catalogOf, dig, startBridge, startCluster, type Cluster, type RunningBridge } from './helpers.js'

const IPS = ['127.0.0.41', '127.0.0.42', '127.0.0.43']
const HAVE_DIG = (await import('node:child_process')).spawnSync('dig', ['-v']).status === 0

let cluster: Cluster
let base = ''
const masters: FakeMesosMaster[] = []
let bridge: RunningBridge
const slaves = [
  { id: 'S42', pid: `slave(1)@${IPS[1]}:5051`, hostname: 'agent-42' },
  { id: 'S43', pid: `slave(1)@${IPS[2]}:5051`, hostname: 'agent-43' },
]

/** The fixture's Marathon tasks, moved onto our two hosts (its IPs are not ours). */
function fixtureTasks(): any[] {
  const fw = fixture('mesos-dns/master-state.fake.json').frameworks.find((f: any) => f.name === 'marathon')
  return fw.tasks.map((t: any, i: number) => ({ ...t, slave_id: slaves[i % 2]!.id }))
}

function setState(tasks: any[], leader: FakeMesosMaster = masters[0]!): void {
  for (const m of masters) {
    m.state = { slaves, frameworks: [{ name: 'marathon', id: 'fw-marathon', tasks }] }
    m.leaderPid = `master@${leader.address}`
  }
}

const bridgeArgs = (): string[] => [`--mesos-master=${masters.map((m) => m.address).join(',')}`, `--consul-port=${cluster.httpPort}`, '--refresh=300ms', '--state-timeout=1s', '--mesos-ip-order=host', '--healthcheck', '--healthcheck-ip=127.0.0.41', '--healthcheck-port=0', '--log-level=INFO']

/** Waits until the bridge has polled `n` more times (its poll summary's count). */
async function polls(n: number, b = bridge, name = 'mesos_consul_poll_count'): Promise<void> {
  const start = await b.metric(name)
  await until(`${n} more polls`, async () => ((await b.metric(name)) >= start + n ? true : undefined))
}

before(async () => {
  cluster = await startCluster(IPS)
  base = cluster.server.agent.httpAddr
  masters.push(await new FakeMesosMaster(IPS[0]!).listen(), await new FakeMesosMaster(IPS[1]!).listen())
  setState(fixtureTasks())
  bridge = startBridge('mesos', bridgeArgs())
})

after(async () => {
  await bridge?.stop()
  for (const m of masters) await m.close()
  await cluster?.stop()
})

describe('mesos-consul', () => {
  test('the fixture\'s running tasks appear on their hosts\' agents with their ports and tags; the killed one does not', async () => {
    const car = await until('car-store registered', async () => {
      const c = await catalogOf(base, 'car-store')
      return c.length === 2 ? c : undefined
    })
    const carHost = car[0]!.split('@')[1]!.split(' ')[0]!
    assert.deepEqual(car.map((c) => c.replace(/@\S+/, '')), [`mesos-consul:${carHost === 'c42' ? IPS[1] : IPS[2]}:car-store:31364 ${carHost === 'c42' ? IPS[1] : IPS[2]}:31364 []`, `mesos-consul:${carHost === 'c42' ? IPS[1] : IPS[2]}:car-store:31365 ${carHost === 'c42' ? IPS[1] : IPS[2]}:31365 []`])
    // The fixture's liquor.store runs under two names; discovery info names its ports.
    assert.deepEqual((await catalogOf(base, 'liquor-store')).map((c) => c.replace(/^\S+ /, '')).sort(), [`${IPS[2]}:31354 [http]`, `${IPS[2]}:31355 [https]`])
    assert.deepEqual(await catalogOf(base, 'poseidon-bc4e3796-2d7a-11e4-b8df-d43d7edb01cd'), [])
    if (HAVE_DIG) {
      const srv = await until('car-store in DNS', async () => {
        const a = await dig(IPS[0]!, cluster.server.agent.dnsPort!, 'car-store.service.consul')
        return a.length === 2 ? a : undefined
      })
      assert.deepEqual(srv.map((l) => l.split(' ')[2]).sort(), ['31364', '31365'])
    }
  })

  test('the masters are `mesos` tagged leader and master, the agents follower; leader.mesos.service.consul follows a leader change', async () => {
    const tagsOf = async (): Promise<string[]> => (await catalogOf(base, 'mesos')).map((c) => c.replace(/^\S+@\S+ /, ''))
    await until('masters and followers registered', async () => {
      const t = await tagsOf()
      return t.length === 4 ? t : undefined
    })
    const [a, b] = masters as [FakeMesosMaster, FakeMesosMaster]
    assert.deepEqual((await tagsOf()).filter((t) => t.includes('master')).sort(), [`${a.address} [leader,master]`, `${b.address} [master]`].sort())
    // The masters' HTTP checks pass (the fakes answer /master/health), so DNS answers for the leader.
    const leaderIp = async (): Promise<string | undefined> => {
      if (!HAVE_DIG) return (await catalogOf(base, 'mesos')).find((c) => c.includes('[leader'))?.replace(/^\S+@\S+ /, '').split(':')[0]
      return (await dig(IPS[0]!, cluster.server.agent.dnsPort!, 'leader.mesos.service.consul', 'A'))[0]
    }
    assert.equal(await until('leader.mesos answers', leaderIp), IPS[0])
    // The new leader knows no tasks yet (its agents have not re-registered): for a few polls that takes nothing away.
    const before = await catalogIds(base, 'mesos-consul:')
    setState([], b)
    await until('the bridge saw the new leader', () => (/leading master is now 127\.0\.0\.42:\d+; removals held/.test(bridge.output()) ? true : undefined))
    await polls(1)
    assert.deepEqual((await catalogIds(base, 'mesos-consul:')).filter((id) => !id.includes(':mesos:')), before.filter((id) => !id.includes(':mesos:')))
    setState(fixtureTasks(), b)
    assert.equal(await until('leader.mesos follows the new leader', async () => ((await leaderIp()) === IPS[1] ? IPS[1] : undefined)), IPS[1])
    assert.deepEqual((await tagsOf()).filter((t) => t.includes('master')).sort(), [`${a.address} [master]`, `${b.address} [leader,master]`].sort())
  })

  test('a killed task leaves the catalog', async () => {
    const tasks = fixtureTasks()
    tasks.find((t) => t.name === 'car.store').state = 'TASK_KILLED'
    setState(tasks, masters[1])
    await until('car-store gone', async () => ((await catalogOf(base, 'car-store')).length === 0 ? true : undefined))
    assert.equal((await catalogOf(base, 'chronos')).length, 1, 'the others stay')
  })

  test('a task\'s Mesos health is mirrored by its check', async () => {
    const withHealth = (healthy: boolean): any[] => {
      const tasks = fixtureTasks().filter((t) => t.name !== 'car.store')
      return [...tasks, mesosTask('hw.1', 'health-web', 'S42', [31900], { statuses: [{ state: 'TASK_RUNNING', timestamp: 1, healthy }] })]
    }
    const status = async (): Promise<string | undefined> => {
      const entries = (await (await fetch(`${base}/v1/health/service/health-web`)).json()) as Array<{ Checks: Array<{ Name: string; Status: string; Output: string }> }>
      return entries[0]?.Checks.find((c) => c.Name === 'Mesos task health')?.Status
    }
    setState(withHealth(true), masters[1])
    assert.equal(await until('passing', async () => ((await status()) === 'passing' ? 'passing' : undefined)), 'passing')
    setState(withHealth(false), masters[1])
    assert.equal(await until('critical', async () => ((await status()) === 'critical' ? 'critical' : undefined)), 'critical')
    assert.equal((await catalogOf(base, 'health-web')).length, 1, 'still registered: Consul keeps it out of DNS and ?passing')
    setState(fixtureTasks().filter((t) => t.name !== 'car.store'), masters[1])
    await until('gone', async () => ((await catalogOf(base, 'health-web')).length === 0 ? true : undefined))
  })

  test('masters that answer 500, garbage or nothing skip the poll: nothing is deregistered', async () => {
    const before = await catalogIds(base, 'mesos-consul:')
    assert.ok(before.length > 5)
    for (const mode of ['error', 'garbage', 'hang'] as const) {
      for (const m of masters) m.mode = mode
      const failed = await bridge.metric('mesos_consul_poll_failed')
      await until(`two polls failed (${mode})`, async () => ((await bridge.metric('mesos_consul_poll_failed')) >= failed + 2 ? true : undefined))
      assert.deepEqual(await catalogIds(base, 'mesos-consul:'), before, `nothing deregistered while the masters ${mode}`)
    }
    for (const m of masters) m.mode = 'ok'
    await polls(1)
    assert.match(bridge.output(), /poll skipped, registrations left as they are: no Mesos master answered with its state \(127\.0\.0\.41:\d+: HTTP 500/)
    assert.match(bridge.output(), /is not JSON/)
    assert.match(bridge.output(), /(aborted|timeout|TimeoutError)/i)
    // A master that only has state.json (Mesos before 0.25) still works.
    for (const m of masters) m.legacyOnly = true
    await polls(2)
    assert.deepEqual(await catalogIds(base, 'mesos-consul:'), before)
    for (const m of masters) m.legacyOnly = false
  })

  test('a host whose agent was down is cleaned up when its agent comes back', async () => {
    const host = cluster.clients[1]!
    const onHost = async (): Promise<string[]> => (await catalogIds(base, `mesos-consul:${host.ip}:`)).filter((id) => !id.includes(':mesos:'))
    const before = await onHost()
    assert.ok(before.length > 0, 'tasks run on the host')
    await host.agent.stop()
    // The tasks on that host die while its agent is down; the bridge cannot reach it to deregister.
    setState(fixtureTasks().filter((t) => t.slave_id !== 'S43').concat(fixtureTasks().filter((t) => t.name === 'car.store' && t.slave_id === 'S43').map((t) => ({ ...t, state: 'TASK_KILLED' }))), masters[1])
    await until('the bridge finds the agent unreachable', async () => ((await bridge.metric('mesos_consul_agents_unreachable')) >= 1 ? true : undefined))
    // Back with its data dir: the agent restores what the bridge had registered there (upstream leaked these).
    await cluster.restart(host)
    await until('the stale registrations of the returned agent are swept', async () => ((await onHost()).length === 0 ? true : undefined))
    assert.match(bridge.output(), new RegExp(`agent ${host.ip.replace(/\./g, '\\.')}:\\d+ unreachable, will retry`))
    assert.match(bridge.output(), new RegExp(`deregistered mesos-consul:${host.ip.replace(/\./g, '\\.')}:`))
  })

  test('a restart of the bridge changes nothing', async () => {
    await polls(1)
    const before = await catalogIds(base, 'mesos-consul:')
    const index = (await fetch(`${base}/v1/catalog/services`)).headers.get('x-consul-index')
    await bridge.stop()
    bridge = startBridge('mesos', bridgeArgs())
    await polls(2)
    assert.equal(await bridge.metric('mesos_consul_registered'), 0)
    assert.equal(await bridge.metric('mesos_consul_deregistered'), 0)
    assert.deepEqual(await catalogIds(base, 'mesos-consul:'), before)
    assert.equal((await fetch(`${base}/v1/catalog/services`)).headers.get('x-consul-index'), index, 'the catalog did not move')
  })

  test('1,000 tasks churning are reconciled with no leaked or missing registration', async () => {
    const make = (gen: number, n: number): any[] => Array.from({ length: n }, (_, i) => mesosTask(`app${i % 40}.${gen}-${i}`, `churn${i % 40}`, slaves[i % 2]!.id, [20000 + gen * 1000 + Math.floor(i / 2)]))
    let tasks = make(1, 1000)
    const expected = (): string[] => tasks.filter((t) => t.state === 'TASK_RUNNING').map((t) => {
      const ip = t.slave_id === 'S42' ? IPS[1] : IPS[2]
      return `mesos-consul:${ip}:${t.name}:${/\[(\d+)-/.exec(t.resources.ports)![1]}`
    }).sort()
    const churnIds = async (): Promise<string[]> => (await catalogIds(base, 'mesos-consul:')).filter((id) => id.includes(':churn'))
    setState(tasks, masters[1])
    await until('1,000 tasks registered', async () => ((await churnIds()).length === 1000 ? true : undefined), 60_000)
    assert.deepEqual(await churnIds(), expected())
    // Kill 300, replace 200 by a new generation on other ports, move 100 to the other host.
    tasks = tasks.map((t, i) => (i < 300 ? { ...t, state: 'TASK_KILLED' } : i < 500 ? make(2, 1000)[i] : i < 600 ? { ...t, slave_id: t.slave_id === 'S42' ? 'S43' : 'S42', resources: { ports: `[${25000 + i}-${25000 + i}]` } } : t))
    setState(tasks, masters[1])
    await until('the churn reconciled', async () => (JSON.stringify(await churnIds()) === JSON.stringify(expected()) ? true : undefined), 60_000)
    await polls(2)
    assert.deepEqual(await churnIds(), expected(), 'and it stays so')
  })
})

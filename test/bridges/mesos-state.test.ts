/** mesos-consul's pure core against mesos-dns' fake state (the fixture read in place) and careless input. */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { desiredFromState, parsePid, parsePortRanges, StateError, type MesosOptions } from '../../src/bridges/mesos/state.js'
import { masterFromInfo, parseZkUrl } from '../../src/bridges/mesos/zk.js'
import { fixture } from './fakes.js'

const OPTS: MesosOptions = {
  idPrefix: 'mesos-consul',
  serviceName: 'mesos',
  serviceTags: [],
  ipOrder: ['netinfo', 'mesos', 'docker', 'host'],
  whitelist: [],
  blacklist: [],
  frameworkWhitelist: [],
  taskTags: [],
  sharedNames: [],
  groupSeparator: '',
  consulPort: 8500,
  healthTtl: '3m',
}

const flat = (d: ReturnType<typeof desiredFromState>) => [...d.byAgent].flatMap(([agent, list]) => list.map((s) => ({ agent, ...s })))

test('pids and port ranges parse as Mesos writes them; nonsense does not', () => {
  assert.deepEqual(parsePid('master@1.2.3.4:5050'), { host: '1.2.3.4', port: 5050 })
  assert.deepEqual(parsePid('slave(1)@[2001:db8::1]:5051'), { host: '2001:db8::1', port: 5051 })
  assert.equal(parsePid('master@nowhere'), undefined)
  assert.equal(parsePid(42), undefined)
  assert.deepEqual(parsePortRanges('[31354-31354, 31355-31355]'), [31354, 31355])
  assert.deepEqual(parsePortRanges('[31737-31738]'), [31737, 31738])
  assert.deepEqual(parsePortRanges('[]'), [])
  assert.equal(parsePortRanges('[31000-32000]'), undefined, 'a 1,001-port range is a mistake, not a service')
  assert.equal(parsePortRanges('[0-10]'), undefined)
  assert.equal(parsePortRanges('[70000-70001]'), undefined)
  assert.equal(parsePortRanges('ports!'), undefined)
})

test('the fixture state: running tasks on their hosts\' agents, addresses by --mesos-ip-order, masters and followers', () => {
  const state = fixture('mesos-dns/master-state.fake.json')
  const d = desiredFromState(state, [{ host: '1.2.3.4', port: 5050, leader: true }, { host: '1.2.3.5', port: 5050, leader: false }], OPTS)
  const all = flat(d)
  const byName = (n: string) => all.filter((s) => s.Name === n)
  // The killed poseidon task is not registered; liquor.store runs twice under two names.
  assert.equal(byName('poseidon-bc4e3796-2d7a-11e4-b8df-d43d7edb01cd').length, 0)
  const liquor = byName('liquor-store')
  // At the container's own address, the container ports its discovery info declares, named.
  assert.deepEqual(liquor.map((s) => [s.Port, s.Tags]), [[80, ['http']], [443, ['https']]])
  // Docker's address from the latest TASK_RUNNING status (10.3.0.1, not the older 10.3.0.4).
  assert.deepEqual([...new Set(liquor.map((s) => s.Address))], ['10.3.0.1'])
  assert.deepEqual([...new Set(liquor.map((s) => s.agent))], ['1.2.3.11:8500'])
  assert.equal(liquor[0]!.ID, 'mesos-consul:1.2.3.11:liquor-store:liquor-store.b8db9f73-562f-11e4-a088-c20493233aa5:80')
  // A task without discovery info registers its host ports, the ID as upstream's.
  const car = byName('car-store')
  assert.deepEqual(car.map((s) => s.ID), ['mesos-consul:1.2.3.11:car-store:31364', 'mesos-consul:1.2.3.11:car-store:31365'])
  assert.equal(liquor[0]!.Meta['external-source'], 'mesos')
  const nh = byName('non-human-readable-liquor-store')
  assert.match(nh[0]!.ID, /liquor-store\.b71166c1.*:80$/)
  // Docker's bridged port mappings, at the container's own address.
  const bridged = { slaves: [{ id: 's1', pid: 'slave(1)@10.0.0.1:5051' }], frameworks: [{ name: 'm', tasks: [{ id: 'b.1', name: 'bridged', slave_id: 's1', state: 'TASK_RUNNING', resources: { ports: '[31500-31500]' }, container: { type: 'DOCKER', docker: { network: 'BRIDGE', port_mappings: [{ host_port: 31500, container_port: 8080, protocol: 'tcp' }] } }, statuses: [{ state: 'TASK_RUNNING', timestamp: 1, labels: [{ key: 'Docker.NetworkSettings.IPAddress', value: '172.17.0.5' }] }] }] }] }
  assert.deepEqual(flat(desiredFromState(bridged, [], { ...OPTS, ipOrder: ['docker', 'host'] })).filter((s) => s.Name === 'bridged').map((s) => [s.Address, s.Port]), [['172.17.0.5', 8080]])
  assert.deepEqual(flat(desiredFromState(bridged, [], { ...OPTS, ipOrder: ['host'] })).filter((s) => s.Name === 'bridged').map((s) => [s.Address, s.Port]), [['10.0.0.1', 31500]])
  // MesosContainerizer's label, and a task with no ports registers once without a port.
  const nginx = byName('nginx')
  assert.equal(nginx.length, 1)
  assert.equal(nginx[0]!.Address, '10.3.0.3')
  assert.equal(nginx[0]!.Port, undefined)
  // netinfo: the first IPv4 address of the first network.
  assert.equal(byName('toy-store')[0]!.Address, '12.0.1.3')
  assert.equal(byName('toy-store')[0]!.agent, '[2001:db8::1]:8500')
  // With host first, every task is registered at its agent's address.
  // With host first, every task is registered at its agent's address and host ports, still named.
  const hostFirst = flat(desiredFromState(state, [], { ...OPTS, ipOrder: ['host'] })).filter((s) => s.Name === 'liquor-store')
  assert.deepEqual([...new Set(hostFirst.map((s) => s.Address))], ['1.2.3.11'])
  assert.deepEqual(hostFirst.map((s) => [s.Port, s.Tags]), [[31354, ['http']], [31355, ['https']]])
  // Masters and followers.
  const mesos = byName('mesos')
  assert.deepEqual(mesos.filter((s) => s.Tags.includes('leader')).map((s) => s.Address), ['1.2.3.4'])
  assert.deepEqual(mesos.filter((s) => s.Tags.includes('master')).map((s) => s.Address).sort(), ['1.2.3.4', '1.2.3.5'])
  assert.equal(mesos.filter((s) => s.Tags.includes('follower')).length, state.slaves.length)
  assert.equal(mesos.find((s) => s.Tags.includes('leader'))!.Check!.HTTP, 'http://1.2.3.4:5050/master/health')
  // Every digest differs with the definition and is stable for the same one.
  const again = flat(desiredFromState(state, [{ host: '1.2.3.4', port: 5050, leader: true }, { host: '1.2.3.5', port: 5050, leader: false }], OPTS))
  assert.deepEqual(again.map((s) => s.Meta['bridge-digest']), all.map((s) => s.Meta['bridge-digest']))
})

test('filters, tags from labels and --task-tag, overrideTaskName, service tags, and Mesos health', () => {
  const state = {
    slaves: [{ id: 's1', pid: 'slave(1)@10.0.0.1:5051', hostname: 'a1' }],
    frameworks: [{
      name: 'marathon',
      tasks: [
        { id: 'web.1', name: 'web', slave_id: 's1', state: 'TASK_RUNNING', resources: { ports: '[31000-31000]' }, labels: [{ key: 'tags', value: 'a, b' }], statuses: [{ state: 'TASK_RUNNING', timestamp: 2, healthy: false }] },
        { id: 'db.1', name: 'db_primary', slave_id: 's1', state: 'TASK_RUNNING', resources: { ports: '[31001-31001]' }, labels: [{ key: 'overrideTaskName', value: 'Postgres' }] },
        { id: 'tmp.1', name: 'tmp-job', slave_id: 's1', state: 'TASK_RUNNING' },
      ],
    }],
  }
  const d = desiredFromState(state, [], { ...OPTS, blacklist: [/^tmp/], taskTags: [{ pattern: /^web$/, tag: 'public' }], serviceTags: ['prod'] })
  const all = flat(d)
  assert.deepEqual(all.filter((s) => s.Name !== 'mesos').map((s) => s.Name).sort(), ['postgres', 'web'])
  const web = all.find((s) => s.Name === 'web')!
  assert.deepEqual(web.Tags, ['a', 'b', 'public'])
  assert.equal(web.Check!.TTL, '3m')
  assert.deepEqual([...d.health.get('10.0.0.1:8500')!], [[`service:${web.ID}`, false]])
  assert.deepEqual(all.find((s) => s.Name === 'mesos')!.Tags, ['follower', 'follower.prod'])
  assert.equal(flat(desiredFromState(state, [], { ...OPTS, whitelist: [/^db/] })).filter((s) => s.Name !== 'mesos').length, 1)
  assert.equal(flat(desiredFromState(state, [], { ...OPTS, frameworkWhitelist: [/^chronos/] })).filter((s) => s.Name !== 'mesos').length, 0)
  assert.equal(all.find((s) => s.Meta['mesos-task'] === 'db.1')!.Name, 'postgres')
  const grouped = { slaves: state.slaves, frameworks: [{ name: 'm', tasks: [{ ...state.frameworks[0]!.tasks[1]!, labels: [] }] }] }
  assert.equal(flat(desiredFromState(grouped, [], OPTS)).find((s) => s.Meta['mesos-task'])!.Name, 'db-primary')
  assert.equal(flat(desiredFromState(grouped, [], { ...OPTS, groupSeparator: 'x' })).find((s) => s.Meta['mesos-task'])!.Name, 'dbxprimary')
  const kafka = { slaves: state.slaves, frameworks: [{ name: 'k', tasks: [0, 1].map((i) => ({ id: `kb.${i}`, name: `KafkaBroker-${i}`, slave_id: 's1', state: 'TASK_RUNNING', resources: { ports: `[${9092 + i}-${9092 + i}]` } })) }] }
  assert.deepEqual(flat(desiredFromState(kafka, [], { ...OPTS, sharedNames: [/(KafkaBroker)-.*/] })).filter((s) => s.Meta['mesos-task']).map((s) => s.Name), ['kafkabroker', 'kafkabroker'])
})

test('bad input: a malformed document throws; a bad task or agent is skipped with a warning naming it', () => {
  assert.throws(() => desiredFromState('nope', [], OPTS), StateError)
  assert.throws(() => desiredFromState({ slaves: 'x' }, [], OPTS), StateError)
  assert.throws(() => desiredFromState({ frameworks: {} }, [], OPTS), StateError)
  const d = desiredFromState({
    slaves: [{ id: 's1', pid: 'slave(1)@10.0.0.1:5051' }, { id: 's2' }, 7],
    frameworks: [{ name: 'fw', tasks: [
      { id: 'wide.1', name: 'wide', slave_id: 's1', state: 'TASK_RUNNING', resources: { ports: '[31000-32000]' } },
      { id: 'orphan.1', name: 'orphan', slave_id: 'gone', state: 'TASK_RUNNING' },
      { id: 'odd.1', name: '!!!', slave_id: 's1', state: 'TASK_RUNNING' },
      { id: 'ok.1', name: 'ok', slave_id: 's1', state: 'TASK_RUNNING', discovery: { ports: { ports: [{ number: 99999 }] } } },
      null,
    ] }, { name: 'broken', tasks: 'x' }],
  }, [], OPTS)
  assert.equal(flat(d).filter((s) => s.Name !== 'mesos').length, 0)
  const w = d.warnings.join('\n')
  for (const named of ['"wide.1"', '"orphan.1"', '"odd.1"', '"ok.1"', 'broken', 's2']) assert.ok(w.includes(named), `a warning names ${named}:\n${w}`)
})

test('ZooKeeper: zk:// URLs and MasterInfo addresses', () => {
  assert.deepEqual(parseZkUrl('zk://10.0.0.1:2181,10.0.0.2/mesos'), { servers: [{ host: '10.0.0.1', port: 2181 }, { host: '10.0.0.2', port: 2181 }], path: '/mesos' })
  assert.deepEqual(parseZkUrl('zk://user:pw@zk.local:2182'), { servers: [{ host: 'zk.local', port: 2182 }], path: '/mesos' })
  assert.throws(() => parseZkUrl('http://zk:2181/mesos'), /zk:\/\//)
  assert.throws(() => parseZkUrl('zk://zk:99999/mesos'), /bad server/)
  assert.deepEqual(masterFromInfo({ address: { hostname: 'm1', ip: '10.0.0.9', port: 5050 }, pid: 'master@10.0.0.8:5050' }), { host: '10.0.0.9', port: 5050 })
  assert.deepEqual(masterFromInfo({ pid: 'master@10.0.0.8:5050' }), { host: '10.0.0.8', port: 5050 })
  // Mesos packs the IPv4 address in network order: 127.0.0.1 reads as 16777343.
  assert.deepEqual(masterFromInfo({ ip: 16777343, port: 5050 }), { host: '127.0.0.1', port: 5050 })
  assert.equal(masterFromInfo({ hostname: 'x' }), undefined)
})

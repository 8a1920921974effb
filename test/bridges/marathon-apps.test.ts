/** marathon-consul's pure core against allegro/marathon-consul's test data (read in place) and careless input. */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { appInfo, appRegistrations, taskInfo, type MarathonOptions } from '../../src/bridges/marathon/apps.js'
import { fixture } from './fakes.js'

const OPTS: MarathonOptions = { idPrefix: 'marathon-consul', consulTag: 'marathon', consulPort: 8500, nameSeparator: '-' }

test('app.json: a `consul: true` app registers its healthy tasks at port index 0, tagged by `tag` labels', () => {
  const warnings: string[] = []
  const { info, tasks } = appRegistrations(fixture('allegro-marathon-consul-testdata/app.json').app, OPTS, (w) => warnings.push(w))
  assert.equal(info!.id, '/myapp')
  assert.equal(info!.hasHealthChecks, true)
  assert.deepEqual(tasks.map((t) => t.agent), ['10.141.141.10:8500', '10.141.141.10:8500'])
  const svcs = tasks.flatMap((t) => t.services)
  assert.deepEqual(svcs.map((s) => [s.Name, s.Port, s.Tags]), [['myapp', 31678, ['marathon', 'public']], ['myapp', 31307, ['marathon', 'public']]])
  assert.equal(svcs[0]!.ID, 'marathon-consul:myapp.cc49ccc1-9812-11e5-a06e-56847afe9799:31678')
  assert.deepEqual(svcs[0]!.Meta, { 'external-source': 'marathon', 'marathon-app': '/myapp', 'marathon-task': 'myapp.cc49ccc1-9812-11e5-a06e-56847afe9799', 'marathon-port-index': '0', 'bridge-digest': svcs[0]!.Meta['bridge-digest'] })
  assert.deepEqual(warnings, [])
})

test('health: an app with health checks registers only tasks whose every result is alive; without checks, running is enough', () => {
  const app = fixture('allegro-marathon-consul-testdata/app.json').app
  app.tasks[0].healthCheckResults[0].alive = false
  delete app.tasks[1].healthCheckResults
  assert.equal(appRegistrations(app, OPTS, () => {}).tasks.flatMap((t) => t.services).length, 0)
  const plain = { ...app, healthChecks: [] }
  assert.equal(appRegistrations(plain, OPTS, () => {}).tasks.flatMap((t) => t.services).length, 2)
  const staged = { ...plain, tasks: plain.tasks.map((t: any) => ({ ...t, state: 'TASK_STAGING' })) }
  assert.equal(appRegistrations(staged, OPTS, () => {}).tasks.flatMap((t) => t.services).length, 0)
})

test('lorem-ipsum.json: per-port `consul` labels name their own services; other ports are not registered', () => {
  const app = fixture('allegro-marathon-consul-testdata/lorem-ipsum.json').app
  const info = appInfo(app, OPTS)!
  assert.equal(info.id, '/lorem/ipsum')
  assert.deepEqual(info.ports.map((p) => [p.index, p.name]), [[0, 'lorem-ipsum'], [2, 'lorem-ipsum-secured']])
  assert.deepEqual(info.ports[1]!.tags, ['secureConnection:true'])
  assert.deepEqual(info.tags.sort(), ['default-monitoring', 'hystrix-dashboard', 'weight:50'])
  const task = { id: 'lorem_ipsum.1', appId: '/lorem/ipsum', host: '10.0.0.7', ports: [31001, 31002, 31003, 31004], state: 'TASK_RUNNING' }
  const regs = appRegistrations({ ...app, healthChecks: [], tasks: [task] }, OPTS, () => {}).tasks[0]!.services
  assert.deepEqual(regs.map((s) => [s.Name, s.Port]), [['lorem-ipsum', 31001], ['lorem-ipsum-secured', 31003]])
  assert.ok(regs[0]!.Tags.includes('Lorem ipsum dolor sit amet, consectetur adipiscing elit'))
})

test('apps.json and tasks.json: apps without a `consul` label are left alone; tasks parse from every shape', () => {
  const apps = fixture('allegro-marathon-consul-testdata/apps.json').apps
  for (const a of apps) assert.equal(appInfo(a, OPTS), undefined)
  const tasks = fixture('allegro-marathon-consul-testdata/tasks.json').tasks.map((t: unknown) => taskInfo(t))
  assert.deepEqual(tasks.map((t: any) => [t.appId, t.ports, t.healthy]), [['/test', [31315], true], ['/test', [31797], undefined]])
  const ev = taskInfo(fixture('marathon-api-examples/events/status_update_event.json'))!
  assert.deepEqual([ev.id, ev.appId, ev.host, ev.ports, ev.state], ['my-app_0-1396592784349', '/my-app', 'slave-1234.acme.org', [31372], 'TASK_RUNNING'])
  assert.equal(taskInfo({ id: 'x' }), undefined)
})

test('names: the app ID with its separator, a label value cleaned for DNS, consul_<index> labels', () => {
  assert.equal(appInfo({ id: '/shop/web', labels: { consul: 'true' } }, OPTS)!.ports[0]!.name, 'shop-web')
  assert.equal(appInfo({ id: '/shop/web', labels: { consul: '' } }, { ...OPTS, nameSeparator: '.' })!.ports[0]!.name, 'shop.web')
  assert.equal(appInfo({ id: '/shop/web', labels: { consul: 'Front End' } }, OPTS)!.ports[0]!.name, 'front-end')
  const info = appInfo({ id: '/db', labels: { consul: 'true', consul_1: 'db-admin', consul_0: '' } }, OPTS)!
  assert.deepEqual(info.ports.map((p) => [p.index, p.name]).sort(), [[0, 'db'], [1, 'db-admin']])
})

test('bad input: no id, a port index out of range, a label naming no index: errors and warnings name the app', () => {
  assert.throws(() => appInfo({ labels: { consul: 'true' } }, OPTS), /no usable id/)
  assert.throws(() => appInfo({ id: '/', labels: { consul: 'true' } }, OPTS), /no usable id/)
  assert.throws(() => appInfo({ id: '/x', labels: { consul: 'true', consul_http: 'web' } }, OPTS), /app \/x: label consul_http/)
  assert.throws(() => appInfo({ id: '/x', labels: { consul: '!!!' } }, OPTS), /app \/x: service name/)
  const warnings: string[] = []
  const app = { id: '/web', labels: { consul: 'true', consul_3: 'web-debug' }, tasks: [{ id: 'web.1', host: '10.0.0.1', ports: [31000], state: 'TASK_RUNNING' }, { id: 'web.2', ports: [1] }] }
  const { tasks } = appRegistrations(app, OPTS, (w) => warnings.push(w))
  assert.deepEqual(tasks.flatMap((t) => t.services), [])
  assert.equal(warnings.length, 2)
  assert.match(warnings[0]!, /^app \/web: task web\.1 has no usable port at index 3/)
  assert.match(warnings[1]!, /^app \/web: skipping a task with no id or host/)
  const bad = appRegistrations({ id: '/web', labels: { consul: 'true' }, tasks: [{ id: 'web.1', host: 'h', ports: [70000] }] }, OPTS, (w) => warnings.push(w))
  assert.deepEqual(bad.tasks[0]!.services, [])
  assert.match(warnings[2]!, /index 0/)
})

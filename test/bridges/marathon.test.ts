/**
 * marathon-consul end to end: a server (127.0.0.61) and two client agents (.62, .63) on one HTTP
 * port as on three hosts, two fake Marathons (on .61 and .62, one app store) speaking the
 * fixtures' shapes and event stream, and the bridge as a real process. Labelled apps' healthy tasks
 * appear in the catalog, `dig` and the KV tree; consul-template's HAProxy backend follows a scale;
 * health changes, kills, failures, scale-downs and app deletion deregister; malformed events and a
 * failing Marathon deregister nothing; the bridge follows a leader change, sweeps a returned agent,
 * changes nothing on restart, reconciles 1,000 churning tasks, and takes callbacks for older
 * Marathon. One cluster for the file, the steps in order.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { ROOT } from '../helpers/agent.js'
import { until } from '../helpers/poll.js'
import { startCt } from '../ctemplate/helpers.js'
import { FakeMarathon, FIXTURES, fixture, marathonTask } from './fakes.js'
import { catalogOf, dig, removeDir, startBridge, startCluster, tempDir, type Cluster, type RunningBridge } from './helpers.js'

const IPS = ['127.0.0.61', '127.0.0.62', '127.0.0.63']
const HAVE_DIG = (await import('node:child_process')).spawnSync('dig', ['-v']).status === 0
const VERSION = '2015-12-01T10:03:32.003Z'

let cluster: Cluster
let base = ''
let m1: FakeMarathon
let m2: FakeMarathon
let bridge: RunningBridge
let dir = ''

const apps = (): Map<string, any> => m1.apps
const app = (id: string): any => apps().get(id)
const names = async (service: string, prefix = 'marathon-consul:'): Promise<string[]> => (await catalogOf(base, service, prefix)).map((c) => c.replace(/^\S+@\S+ /, '')).sort()
const count = (service: string, n: number, prefix?: string): Promise<string[]> =>
  until(`${n} instances of ${service}`, async () => {
    const c = await names(service, prefix)
    return c.length === n ? c : undefined
  })

function addTask(appId: string, n: number, host: string, ports: number[], healthy?: boolean): any {
  const t = marathonTask(appId, n, host, ports, healthy)
  app(appId).tasks.push(t)
  return t
}

function removeTask(appId: string, taskId: string): void {
  const a = app(appId)
  a.tasks = a.tasks.filter((t: any) => t.id !== taskId)
}

const statusEvent = (t: any, taskStatus: string): Record<string, unknown> => ({ eventType: 'status_update_event', slaveId: t.slaveId, taskId: t.id, taskStatus, message: '', appId: t.appId, host: t.host, ports: t.ports, version: VERSION })
const leader = (): FakeMarathon => (m1.leader === m2.address ? m2 : m1)
const kvKeys = async (prefix: string): Promise<string[]> => {
  const res = await fetch(`${base}/v1/kv/${prefix}?keys`)
  return res.status === 404 ? [] : ((await res.json()) as string[]).sort()
}
const bridgeArgs = (): string[] => [`--marathon-location=${m1.address},${m2.address}`, `--consul-port=${cluster.httpPort}`, '--kv', `--consul=${IPS[0]}:${cluster.httpPort}`, '--sync-interval=1h', '--marathon-timeout=1s', `--listen=${IPS[0]}:0`, '--log-level=debug']

before(async () => {
  cluster = await startCluster(IPS)
  base = cluster.server.agent.httpAddr
  dir = tempDir('marathon-test-')
  m1 = await new FakeMarathon(IPS[0]!).listen()
  m2 = await new FakeMarathon(IPS[1]!).listen()
  m2.apps = m1.apps
  m1.leader = m1.address
  m2.leader = m1.address
  apps().set('/web', { id: '/web', labels: { consul: 'true', public: 'tag' }, healthChecks: [], version: VERSION, tasks: [] })
  addTask('/web', 1, IPS[1]!, [31001])
  addTask('/web', 2, IPS[2]!, [31002])
  addTask('/web', 3, IPS[1]!, [31003])
  apps().set('/shop/api', {
    id: '/shop/api',
    labels: { consul: 'true' },
    healthChecks: [{ protocol: 'HTTP', path: '/health', portIndex: 0 }],
    portDefinitions: [{ port: 10000, labels: { consul: 'api' } }, { port: 10001, labels: { consul: 'api-admin', internal: 'tag' } }],
    version: VERSION,
    tasks: [],
  })
  addTask('/shop/api', 1, IPS[1]!, [32001, 32002], true)
  addTask('/shop/api', 2, IPS[2]!, [32003, 32004], false)
  apps().set('/bad', { id: '/bad', labels: { consul: 'true', consul_5: 'bad-debug' }, version: VERSION, tasks: [] })
  addTask('/bad', 1, IPS[1]!, [33001])
  apps().set('/ignored', { id: '/ignored', labels: {}, version: VERSION, tasks: [] })
  addTask('/ignored', 1, IPS[1]!, [34001])
  bridge = startBridge('marathon', bridgeArgs())
})

after(async () => {
  await bridge?.stop()
  await m1?.close()
  await m2?.close()
  await cluster?.stop()
  removeDir(dir)
})

describe('marathon-consul', () => {
  test('labelled apps\' healthy tasks appear with their ports and tags, in dig and in the KV tree; a bad port label is logged with the app named', async () => {
    assert.deepEqual(await count('web', 3), [`${IPS[1]}:31001 [marathon,public]`, `${IPS[1]}:31003 [marathon,public]`, `${IPS[2]}:31002 [marathon,public]`])
    assert.deepEqual(await count('api', 1), [`${IPS[1]}:32001 [marathon]`], 'only the healthy task')
    assert.deepEqual(await names('api-admin'), [`${IPS[1]}:32002 [marathon,internal]`])
    assert.deepEqual(await names('bad'), [])
    assert.deepEqual(await names('ignored'), [])
    assert.match(bridge.output(), /app \/bad: task bad\.\S+ has no usable port at index 5/)
    const web = app('/web')
    assert.deepEqual(await until('the KV tree', async () => {
      const k = await kvKeys('marathon/web/')
      return k.length === 4 ? k : undefined
    }), ['marathon/web/config', ...web.tasks.map((t: any) => `marathon/web/tasks/${t.id}`).sort()])
    const config = JSON.parse(Buffer.from(((await (await fetch(`${base}/v1/kv/marathon/web/config`)).json()) as any)[0].Value, 'base64').toString())
    assert.equal(config.id, '/web')
    assert.equal(config.tasks, undefined)
    if (HAVE_DIG) {
      const srv = await dig(IPS[0]!, cluster.server.agent.dnsPort!, 'web.service.consul')
      assert.deepEqual(srv.map((l) => l.split(' ')[2]).sort(), ['31001', '31002', '31003'])
    }
  })

  test('consul-template turns the services into an HAProxy backend that follows a scale', async () => {
    const out = join(dir, 'haproxy.cfg')
    const ct = startCt(['-consul-addr', `${IPS[0]}:${cluster.httpPort}`, '-template', `${join(ROOT, 'templates', 'haproxy-marathon.cfg.ctmpl')}:${out}`])
    try {
      const servers = (): string[] => {
        try {
          const text = readFileSync(out, 'utf8')
          const web = text.slice(text.indexOf('backend web'))
          return web.split('\n').slice(1).filter((l) => l.trim().startsWith('server')).map((l) => l.trim().split(' ')[2]!).sort()
        } catch {
          return []
        }
      }
      assert.deepEqual(await until('three web servers', () => (servers().length === 3 ? servers() : undefined)), [`${IPS[1]}:31001`, `${IPS[1]}:31003`, `${IPS[2]}:31002`])
      const t4 = addTask('/web', 4, IPS[2]!, [31004])
      leader().emit(statusEvent(t4, 'TASK_RUNNING'))
      await until('four web servers after a scale-up', () => (servers().length === 4 ? true : undefined))
      const t1 = app('/web').tasks[0]
      removeTask('/web', t1.id)
      leader().emit(statusEvent(t1, 'TASK_KILLED'))
      assert.deepEqual(await until('three again after a scale-down', () => (servers().length === 3 ? servers() : undefined)), [`${IPS[1]}:31003`, `${IPS[2]}:31002`, `${IPS[2]}:31004`])
      assert.match(readFileSync(out, 'utf8'), /backend api\n/)
    } finally {
      await ct.stop()
    }
  })

  test('health changes register and deregister a task', async () => {
    const [h1, h2] = app('/shop/api').tasks
    h2.healthCheckResults[0].alive = true
    leader().emit({ eventType: 'health_status_changed_event', appId: '/shop/api', taskId: h2.id, version: VERSION, alive: true })
    await count('api', 2)
    h1.healthCheckResults[0].alive = false
    leader().emit({ eventType: 'health_status_changed_event', appId: '/shop/api', taskId: h1.id, version: VERSION, alive: false })
    assert.deepEqual(await count('api', 1), [`${IPS[2]}:32003 [marathon]`])
    assert.deepEqual(await names('api-admin'), [`${IPS[2]}:32004 [marathon,internal]`])
    // Marathon 1.4+ names the instance, not the task.
    const h3 = addTask('/shop/api', 3, IPS[1]!, [32005, 32006], true)
    h3.id = 'shop_api.instance-c7c311a4-b669-11e6-a48f-0ea4f4b1778c._app.1'
    leader().emit({ eventType: 'health_status_changed_event', appId: '/shop/api', instanceId: 'shop_api.instance-c7c311a4-b669-11e6-a48f-0ea4f4b1778c', version: VERSION, alive: true })
    await count('api', 2)
    h3.healthCheckResults[0].alive = false
    leader().emit({ eventType: 'health_status_changed_event', appId: '/shop/api', instanceId: 'shop_api.instance-c7c311a4-b669-11e6-a48f-0ea4f4b1778c', version: VERSION, alive: false })
    assert.deepEqual(await count('api', 1), [`${IPS[2]}:32003 [marathon]`])
  })

  test('every event type of the fixtures\' stream is taken without harm (the recorded stream, then each event file)', async () => {
    const snapshot = async (): Promise<string[]> => [...(await names('web')), ...(await names('api')), ...(await names('api-admin'))]
    const before = await snapshot()
    const total = await bridge.metric('marathon_consul_events')
    const sse = readFileSync(join(FIXTURES, 'marathon-api-examples', 'v2-events.sse.txt'), 'utf8')
    for (const s of leader().streams) s.write(sse)
    const files = readdirSync(join(FIXTURES, 'marathon-api-examples', 'events')).filter((f) => f.endsWith('.json'))
    for (const f of files) leader().emit(fixture(`marathon-api-examples/events/${f}`))
    const sent = files.length + (sse.match(/^data: /gm) ?? []).length
    await until(`${sent} events counted`, async () => ((await bridge.metric('marathon_consul_events')) >= total + sent ? true : undefined))
    // They name apps the bridge does not register (/my-app, /foo, /test-app): nothing of ours moves.
    assert.deepEqual(await snapshot(), before)
    assert.equal(bridge.proc.exitCode, null)
    for (const type of ['event_stream_attached', 'status_update_event', 'health_status_changed_event', 'unhealthy_task_kill_event', 'failed_health_check_event', 'app_terminated_event', 'api_post_event', 'deployment_info', 'deployment_success', 'deployment_failed', 'group_change_success', 'subscribe_event', 'unsubscribe_event']) {
      assert.ok((await bridge.metric('marathon_consul_events')) > 0 && (await (await fetch(`${await bridge.endpoint()}/metrics`)).text()).includes(`type="${type}"`), `${type} counted`)
    }
  })

  test('a failed task and a scale-down leave the catalog and the KV tree', async () => {
    const web = app('/web')
    const failed = web.tasks.find((t: any) => t.ports[0] === 31002)
    removeTask('/web', failed.id)
    leader().emit(statusEvent(failed, 'TASK_FAILED'))
    await count('web', 2)
    const gone = web.tasks.find((t: any) => t.ports[0] === 31003)
    removeTask('/web', gone.id)
    // A deployment step names the app; the bridge re-reads it and drops what it no longer runs.
    leader().emit({ eventType: 'deployment_info', plan: { id: 'p1', steps: [{ action: 'ScaleApplication', app: '/web' }] }, currentStep: { actions: [{ type: 'ScaleApplication', app: '/web' }] } })
    assert.deepEqual(await count('web', 1), [`${IPS[2]}:31004 [marathon,public]`])
    assert.deepEqual(await until('the KV tree follows', async () => {
      const k = await kvKeys('marathon/web/tasks/')
      return k.length === 1 ? k : undefined
    }), [`marathon/web/tasks/${app('/web').tasks[0].id}`])
  })

  test('malformed events are dropped and counted; the stream goes on', async () => {
    const before = await bridge.metric('marathon_consul_events_malformed')
    leader().emit({ raw: '{"eventType": "status_update_event", "taskId": ', type: 'status_update_event' })
    leader().emit({ raw: '[1, 2]', type: 'status_update_event' })
    leader().emit({ eventType: 'status_update_event', appId: '/web', taskStatus: 'TASK_RUNNING' })
    const t5 = addTask('/web', 5, IPS[1]!, [31005])
    leader().emit(statusEvent(t5, 'TASK_RUNNING'))
    await count('web', 2)
    assert.equal((await bridge.metric('marathon_consul_events_malformed')) - before, 2)
    assert.match(bridge.output(), /dropping a malformed status_update_event/)
    // In stream mode the bridge takes no posted events: only Marathon's stream feeds it.
    assert.equal((await fetch(`${await bridge.endpoint()}/events`, { method: 'POST', body: JSON.stringify(statusEvent(t5, 'TASK_KILLED')) })).status, 404)
    assert.match(bridge.output(), /status_update_event of app \/web without taskId or host/)
  })

  test('events of an app not labelled for Consul cost one read of the app per version', async () => {
    const ignored = app('/ignored')
    const reads = (): number => (m1.appReads.get('/ignored') ?? 0) + (m2.appReads.get('/ignored') ?? 0)
    const before = reads()
    for (let i = 0; i < 5; i++) leader().emit(statusEvent(ignored.tasks[0], 'TASK_RUNNING'))
    await until('one read', () => (reads() === before + 1 ? true : undefined))
    // A marker event through the same stream: once it is handled, the five before it were too.
    const t = addTask('/web', 7, IPS[1]!, [31007])
    leader().emit(statusEvent(t, 'TASK_RUNNING'))
    await until('the marker registered', async () => ((await names('web')).some((n) => n.endsWith(':31007 [marathon,public]')) ? true : undefined))
    assert.equal(reads(), before + 1)
    assert.deepEqual(await names('ignored'), [])
    removeTask('/web', t.id)
    leader().emit(statusEvent(t, 'TASK_KILLED'))
    await until('the marker gone', async () => ((await names('web')).some((n) => n.includes(':31007 ')) ? undefined : true))
  })

  test('a Marathon that fails, hangs or answers garbage during a sync deregisters nothing', async () => {
    const snapshot = async (): Promise<string[]> => [...(await names('web')), ...(await names('api')), ...(await names('api-admin'))]
    const before = await snapshot()
    for (const mode of ['error', 'garbage', 'hang'] as const) {
      const failed = await bridge.metric('marathon_consul_sync_failed')
      m1.mode = mode
      m2.mode = mode
      leader().emit({ eventType: 'group_change_success', groupId: '/', version: VERSION })
      await until(`the sync failed (${mode})`, async () => ((await bridge.metric('marathon_consul_sync_failed')) > failed ? true : undefined))
      m1.mode = 'ok'
      m2.mode = 'ok'
      assert.deepEqual(await snapshot(), before, `nothing deregistered (${mode})`)
    }
    assert.match(bridge.output(), /full sync skipped, registrations left as they are: no Marathon answered/)
  })

  test('follows a Marathon leader change', async () => {
    m1.leader = m2.address
    m2.leader = m2.address
    m1.dropStreams()
    await until('the bridge attached to the new leader', () => (m2.streams.size > 0 ? true : undefined))
    const t6 = addTask('/web', 6, IPS[2]!, [31006])
    m2.emit(statusEvent(t6, 'TASK_RUNNING'))
    await count('web', 3)
    assert.match(bridge.output(), new RegExp(`attached to the event stream of http://${m2.address.replace(/\./g, '\\.')}`))
  })

  test('a host whose agent was down is swept when it is back', async () => {
    const host = cluster.clients[1]!
    const onHost = async (): Promise<string[]> => (await names('web')).filter((n) => n.startsWith(`${host.ip}:`))
    assert.ok((await onHost()).length > 0)
    await host.agent.stop()
    for (const t of app('/web').tasks.filter((t: any) => t.host === host.ip)) {
      removeTask('/web', t.id)
      leader().emit(statusEvent(t, 'TASK_KILLED'))
    }
    await until('the bridge could not reach it', () => (/deregistering marathon-consul:\S+ from 127\.0\.0\.63:\d+: /.test(bridge.output()) ? true : undefined))
    await cluster.restart(host)
    await until('the returned agent restored its services', async () => ((await onHost()).length > 0 ? true : undefined))
    leader().emit({ eventType: 'group_change_success', groupId: '/', version: VERSION })
    await until('swept by the next full sync', async () => ((await onHost()).length === 0 ? true : undefined))
  })

  test('a restart of the bridge changes nothing', async () => {
    const before = [...(await names('web')), ...(await names('api'))]
    const index = (await fetch(`${base}/v1/catalog/services`)).headers.get('x-consul-index')
    await bridge.stop()
    bridge = startBridge('marathon', bridgeArgs())
    await until('the first full sync', async () => ((await bridge.metric('marathon_consul_sync_full')) >= 1 ? true : undefined))
    assert.equal(await bridge.metric('marathon_consul_registered'), 0)
    assert.equal(await bridge.metric('marathon_consul_deregistered'), 0)
    assert.deepEqual([...(await names('web')), ...(await names('api'))], before)
    assert.equal((await fetch(`${base}/v1/catalog/services`)).headers.get('x-consul-index'), index)
  })

  test('1,000 tasks churning are reconciled with no leaked or missing registration', async () => {
    apps().set('/churn', { id: '/churn', labels: { consul: 'true' }, version: VERSION, tasks: [] })
    leader().emit({ eventType: 'api_post_event', uri: '/v2/apps/churn', appDefinition: { id: '/churn' } })
    const ports = (i: number): number[] => [40000 + i]
    const expected = (): string[] => app('/churn').tasks.map((t: any) => `${t.host}:${t.ports[0]} [marathon]`).sort()
    const churn = async (): Promise<string[]> => names('churn')
    const hosts = [IPS[1]!, IPS[2]!]
    for (let i = 0; i < 1000; i++) {
      const t = addTask('/churn', i, hosts[i % 2]!, ports(i))
      leader().emit(statusEvent(t, 'TASK_RUNNING'))
    }
    await until('1,000 tasks registered', async () => ((await churn()).length === 1000 ? true : undefined), 60_000)
    assert.deepEqual(await churn(), expected())
    // Kill 400, start 200 more.
    for (const t of app('/churn').tasks.slice(0, 400)) {
      removeTask('/churn', t.id)
      leader().emit(statusEvent(t, 'TASK_KILLED'))
    }
    for (let i = 1000; i < 1200; i++) leader().emit(statusEvent(addTask('/churn', i, hosts[i % 2]!, ports(i)), 'TASK_RUNNING'))
    await until('the churn reconciled', async () => (JSON.stringify(await churn()) === JSON.stringify(expected()) ? true : undefined), 60_000)
    const registered = await bridge.metric('marathon_consul_registered')
    const syncs = await bridge.metric('marathon_consul_sync_full')
    leader().emit({ eventType: 'group_change_success', groupId: '/', version: VERSION })
    await until('a full sync', async () => ((await bridge.metric('marathon_consul_sync_full')) > syncs ? true : undefined))
    assert.equal(await bridge.metric('marathon_consul_registered'), registered, 'the full sync found nothing to fix')
    assert.deepEqual(await churn(), expected())
  })

  test('app_terminated_event removes the app and its KV tree; a full sync deletes only keys of the bridge\'s shape', async () => {
    await fetch(`${base}/v1/kv/marathon/README`, { method: 'PUT', body: 'kept by an operator' })
    await fetch(`${base}/v1/kv/marathon/gone-app/config`, { method: 'PUT', body: '{}' })
    const syncs = await bridge.metric('marathon_consul_sync_full')
    leader().emit({ eventType: 'group_change_success', groupId: '/', version: VERSION })
    await until('a full sync', async () => ((await bridge.metric('marathon_consul_sync_full')) > syncs ? true : undefined))
    const keys = await kvKeys('marathon/')
    assert.ok(keys.includes('marathon/README'), 'an operator\'s key stays')
    assert.ok(!keys.includes('marathon/gone-app/config'), 'the config of an app Marathon no longer has goes')
    apps().delete('/web')
    leader().emit({ eventType: 'app_terminated_event', appId: '/web' })
    await count('web', 0)
    await until('its KV tree gone', async () => ((await kvKeys('marathon/web/')).length === 0 ? true : undefined))
  })

  test('callback mode: subscribes with Marathon and registers from posted events', async () => {
    const cb = startBridge('marathon', [`--marathon-location=${m2.address}`, `--consul-port=${cluster.httpPort}`, '--events=callback', '--service-id-prefix=mcb', '--sync-interval=1h', `--listen=${IPS[0]}:0`, '--log-level=debug'])
    try {
      const endpoint = await cb.endpoint()
      await until('subscribed', () => (m2.subscriptions.includes(`${endpoint}/events`) ? true : undefined))
      apps().set('/cb', { id: '/cb', labels: { consul: 'true' }, version: VERSION, tasks: [] })
      const t = addTask('/cb', 1, IPS[1]!, [35001])
      const post = await fetch(`${endpoint}/events`, { method: 'POST', body: JSON.stringify({ ...statusEvent(t, 'TASK_RUNNING'), timestamp: new Date().toISOString() }) })
      assert.equal(post.status, 200)
      assert.deepEqual(await count('cb', 1, 'mcb:'), [`${IPS[1]}:35001 [marathon]`])
      const bad = await fetch(`${endpoint}/events`, { method: 'POST', body: 'not json' })
      assert.equal(bad.status, 200, 'a malformed callback is dropped, not an error for Marathon to retry')
      assert.equal((await fetch(`${endpoint}/events`)).status, 405)
    } finally {
      await cb.stop()
    }
  })
})

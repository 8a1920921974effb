/**
 * The registrar's sweep against in-memory agents (the AgentApi seam: the integration tests use real
 * agents): register missing and changed, deregister only our prefix, and an agent that was down
 * swept when it answers again.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { Registrar, sealed, type AgentApi, type AgentServiceView, type BridgeService } from '../../src/bridges/registrar.js'
import { Logger } from '../../src/lib/line-log.js'

class Agents implements AgentApi {
  held = new Map<string, Map<string, BridgeService | AgentServiceView>>()
  down = new Set<string>()
  calls = 0
  #at(a: string) {
    if (this.down.has(a)) throw new Error(`connect ECONNREFUSED ${a}`)
    let m = this.held.get(a)
    if (!m) this.held.set(a, (m = new Map()))
    return m
  }
  async services(a: string) {
    this.calls++
    const out: Record<string, AgentServiceView> = {}
    for (const [id, s] of this.#at(a)) out[id] = 'Name' in s ? { ID: s.ID, Service: s.Name, Tags: s.Tags, Port: s.Port, Meta: s.Meta } : s
    return out
  }
  async register(a: string, s: BridgeService) {
    this.calls++
    this.#at(a).set(s.ID, s)
  }
  async deregister(a: string, id: string) {
    this.calls++
    this.#at(a).delete(id)
  }
}

const svc = (id: string, port: number): BridgeService => sealed({ ID: `b:${id}`, Name: id.split('.')[0]!, Tags: [], Port: port, Meta: {} })
const quiet = new Logger('err', () => {})

test('a sync registers what is missing or changed, deregisters only its own prefix, and is idempotent', async () => {
  const agents = new Agents()
  agents.held.set('a1', new Map([['other', { ID: 'other', Service: 'other' }], ['b:stale.1', { ID: 'b:stale.1', Service: 'stale' }]]))
  const r = new Registrar({ api: agents, prefix: 'b:', log: quiet, component: 't' })
  const first = await r.sync(new Map([['a1', [svc('web.1', 1), svc('web.2', 2)]], ['a2', [svc('db.1', 3)]]]))
  assert.deepEqual([first.registered, first.deregistered, first.unchanged], [3, 1, 0])
  assert.deepEqual([...agents.held.get('a1')!.keys()].sort(), ['b:web.1', 'b:web.2', 'other'])
  const again = await r.sync(new Map([['a1', [svc('web.1', 1), svc('web.2', 2)]], ['a2', [svc('db.1', 3)]]]))
  assert.deepEqual([again.registered, again.deregistered, again.unchanged], [0, 0, 3])
  const moved = await r.sync(new Map([['a1', [svc('web.1', 10)]]]))
  assert.deepEqual([moved.registered, moved.deregistered], [1, 2], 'web.1 changed port; web.2 and db.1 (on a2, no longer wanted) are gone')
  assert.equal((agents.held.get('a1')!.get('b:web.1') as BridgeService).Port, 10)
  assert.equal(agents.held.get('a2')!.size, 0)
  assert.ok(!r.known.has('a2'), 'an agent with nothing of ours is forgotten')
})

test('an unreachable agent keeps its entries pending and is swept when it answers again', async () => {
  const agents = new Agents()
  const r = new Registrar({ api: agents, prefix: 'b:', log: quiet, component: 't' })
  await r.sync(new Map([['a1', [svc('web.1', 1)]], ['a2', [svc('web.2', 2)]]]))
  agents.down.add('a2')
  const during = await r.sync(new Map([['a1', [svc('web.1', 1)]]]))
  assert.deepEqual(during.unreachable, ['a2'])
  assert.equal(agents.held.get('a2')!.size, 1, 'nothing could be done there')
  const stillDown = await r.sync(new Map([['a1', [svc('web.1', 1)]]]))
  assert.deepEqual(stillDown.unreachable, ['a2'], 'retried at every sync')
  agents.down.delete('a2')
  const back = await r.sync(new Map([['a1', [svc('web.1', 1)]]]))
  assert.deepEqual([back.deregistered, back.unreachable], [1, []])
  assert.equal(agents.held.get('a2')!.size, 0)
})

test('event-driven register skips an unchanged definition; deregister reaches the agent', async () => {
  const agents = new Agents()
  const r = new Registrar({ api: agents, prefix: 'b:', log: quiet, component: 't' })
  assert.equal(await r.register('a1', svc('web.1', 1)), true)
  assert.equal(await r.register('a1', svc('web.1', 1)), false)
  assert.equal(await r.register('a1', svc('web.1', 2)), true)
  await r.deregister('a1', 'b:web.1')
  assert.equal(agents.held.get('a1')!.size, 0)
})

import { describe, test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { startAgent, removeDir, runCli, tempDir, CONSUL_BIN, type RunningAgent } from '../helpers/agent.js'
import { until } from '../helpers/poll.js'

/**
 * Check updates as Consul makes them (check_update_interval, transitions in the log) and node_meta
 * reaching the catalog on reload, against one durable agent (Consul's non-dev defaults).
 */
describe('check output, status transitions and node_meta against a real agent', () => {
  let agent: RunningAgent
  let dir: string
  let node: string
  const api = async <T = any>(path: string, init?: RequestInit): Promise<{ body: T; index: number }> => {
    const res = await fetch(agent.httpAddr + path, init)
    assert.ok(res.ok, `${path}: ${res.status}`)
    const text = await res.text()
    return { body: (text ? JSON.parse(text) : undefined) as T, index: Number(res.headers.get('x-consul-index')) }
  }

  before(async () => {
    dir = tempDir('check-updates-')
    writeFileSync(join(dir, 'agent.json'), JSON.stringify({ enable_script_checks: true, node_meta: { rack: 'r1' } }))
    agent = await startAgent({ dns: true, args: [`-config-dir=${dir}`] })
    node = (await api('/v1/agent/self')).body.Config.NodeName
  })
  after(async () => {
    await agent.stop()
    removeDir(agent.dataDir)
    removeDir(dir)
  })

  test('a check whose output changes but whose status does not leaves the catalog alone (check_update_interval 5m)', async () => {
    await api('/v1/agent/service/register', {
      method: 'PUT',
      body: JSON.stringify({ Name: 'clock', Check: { Args: ['sh', '-c', 'date +%s%N'], Interval: '1s' } }),
    })
    const first = await until('the check passes in the catalog', async () => {
      const r = await api<Array<{ Status: string; Output: string }>>('/v1/health/checks/clock')
      return r.body[0]?.Status === 'passing' ? r : undefined
    })
    // The agent itself shows every new output at once...
    const outputs = new Set<string>()
    await until('three more outputs on the agent', async () => {
      const checks = (await api<Record<string, { Output: string }>>('/v1/agent/checks')).body
      outputs.add(checks['service:clock']!.Output)
      return outputs.size >= 4 ? true : undefined
    })
    // ...while the catalog, and every watcher of it, saw none of them.
    const later = await api<Array<{ Output: string }>>('/v1/health/checks/clock')
    assert.equal(later.index, first.index)
    assert.equal(later.body[0]!.Output, first.body[0]!.Output)
  })

  test('a status change goes to the catalog at once, with the latest output, and is logged', async () => {
    await api('/v1/agent/check/register', { method: 'PUT', body: JSON.stringify({ ID: 'beat', Name: 'beat', TTL: '10m' }) })
    await api('/v1/agent/check/pass/beat?note=one', { method: 'PUT' })
    await until('beat passing in the catalog', async () => (await api<any[]>(`/v1/health/node/${node}`)).body.find((c) => c.CheckID === 'beat' && c.Status === 'passing'))
    await until('the passing transition in the log', () => (/\[INFO\]  agent: Check is now passing: check=beat\n/.test(agent.output()) ? true : undefined))
    await api('/v1/agent/check/pass/beat?note=two', { method: 'PUT' }) // output only: deferred
    await api('/v1/agent/check/fail/beat?note=down', { method: 'PUT' })
    const failed = await until('beat critical in the catalog', async () => (await api<any[]>(`/v1/health/node/${node}`)).body.find((c) => c.CheckID === 'beat' && c.Status === 'critical'))
    assert.equal(failed.Output, 'down')
    await until('the critical transition in the log', () => (/\[WARN\]  agent: Check is now critical: check=beat\n/.test(agent.output()) ? true : undefined))
    await api('/v1/agent/check/fail/beat?note=still-down', { method: 'PUT' })
    await api('/v1/agent/check/warn/beat?note=degraded', { method: 'PUT' })
    await until('the warning transition in the log', () => (/\[WARN\]  agent: Check is now warning: check=beat\n/.test(agent.output()) ? true : undefined))
    // Only transitions are logged: the repeated failure added no line.
    assert.equal(agent.output().match(/Check is now critical: check=beat/g)?.length, 1)
  })

  test('node_meta changed by consul reload reaches the catalog and DNS TXT records', async () => {
    writeFileSync(join(dir, 'agent.json'), JSON.stringify({ enable_script_checks: true, node_meta: { rack: 'r2', zone: 'z' } }))
    const out = await runCli(CONSUL_BIN, ['reload'], { env: { CONSUL_HTTP_ADDR: agent.httpAddr } })
    assert.equal(out.code, 0, out.stderr)
    const meta = await until('the new meta in the catalog', async () => {
      const m = (await api<{ Node: { Meta: Record<string, string> } }>(`/v1/catalog/node/${node}`)).body.Node.Meta
      return m.rack === 'r2' ? m : undefined
    })
    assert.equal(meta.zone, 'z')
    const dig = await import('node:dns/promises')
    const resolver = new dig.Resolver()
    resolver.setServers([`127.0.0.1:${agent.dnsPort}`])
    const txt = (await resolver.resolveTxt(`${node}.node.consul`)).map((parts) => parts.join(''))
    assert.ok(txt.includes('rack=r2'), JSON.stringify(txt))
    assert.ok(txt.includes('zone=z'), JSON.stringify(txt))
  })
})

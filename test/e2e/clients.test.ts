/**
 * The npm `consul` package and Debian's python3-consul against a lone server (client-flows.ts;
 * cluster-clients.test.ts runs the same flows through a follower and a client agent).
 */
import { describe, before, after } from 'node:test'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { startAgent, removeDir, tempDir, type RunningAgent } from '../helpers/agent.js'
import { until } from '../helpers/poll.js'
import { npmClient, npmConsulFlows, pythonConsulFlows, type FlowTarget } from './client-flows.js'

describe('real clients against the agent: the npm consul package', () => {
  let agent: RunningAgent
  let dir: string
  const target = (): FlowTarget => ({ agent, node: 'test-node', host: '127.0.0.1', server: true, nodes: ['test-node'], servers: [agent.serverAddr], prefix: '' })

  before(async () => {
    dir = tempDir('clients-')
    writeFileSync(join(dir, 'agent.json'), JSON.stringify({ primary_datacenter: 'dc1', acl: { enabled: false }, enable_script_checks: true }))
    agent = await startAgent({ args: [`-config-file=${join(dir, 'agent.json')}`] })
    const consul = npmClient(agent)
    await until('the node in the catalog', async () => ((await consul.catalog.node.list()).length === 1 ? true : undefined))
  })
  after(async () => {
    await agent.stop()
    removeDir(agent.dataDir)
    removeDir(dir)
  })

  npmConsulFlows(target)
  pythonConsulFlows(target)
})

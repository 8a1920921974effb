/** One server over a fake consensus on a virtual clock: what the endpoint tests share. */
import { VirtualClock } from '../../src/lib/clock.js'
import { Server, type ServerOptions } from '../../src/server/server.js'
import type { NodeInput } from '../../src/state/catalog.js'
import { FakeConsensus } from './fake-consensus.js'

export const NODE: NodeInput = { ID: 'node-id-1', Node: 'n1', Address: '10.0.0.1', Datacenter: 'dc1', TaggedAddresses: {}, Meta: {} }
/** Lets promise chains and deferred work run (no time passes on the virtual clock). */
export const settle = async (clock: VirtualClock): Promise<void> => {
  for (let i = 0; i < 5; i++) {
    clock.runDeferred()
    await new Promise((resolve) => setImmediate(resolve))
  }
}

export function setup(opts: { leader: boolean; random?: () => number; more?: Partial<ServerOptions> }) {
  const clock = new VirtualClock(1_000_000)
  const raft = new FakeConsensus({ leader: opts.leader, now: () => clock.now() })
  const logs: string[] = []
  let ids = 0
  const server = new Server({
    state: raft.state,
    raft,
    datacenter: 'dc1',
    clock,
    log: (level, message) => logs.push(`${level} ${message}`),
    random: opts.random ?? (() => 0),
    newId: () => `id-${++ids}`,
    self: () => ({ serverId: 'server-1', node: NODE, serverPort: 8300 }),
    ...opts.more,
  })
  return { clock, raft, server, logs }
}


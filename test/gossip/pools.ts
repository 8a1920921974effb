/**
 * Gossip pools on real sockets for tests: each a Members driver with its own RPC endpoint and UDP
 * socket on 127.0.0.1, quick timers, and an RPC id that is not its name (as an agent's node ID).
 */
import { randomUUID } from 'node:crypto'
import type { GossipConfig } from '../../src/gossip/core/config.js'
import type { Keyring } from '../../src/gossip/keyring.js'
import { Members, type Member } from '../../src/gossip/members.js'
import { systemClock } from '../../src/lib/clock.js'
import { RpcServer } from '../../src/rpc/server.js'

export interface Pool {
  name: string
  members: Members
  rpc: RpcServer
  port: number
}

export interface PoolOptions {
  /** Where its snapshot is kept (none: no snapshot). */
  snapshotFile?: string
  /** The port to bind (a restart on its old one); any free port by default. */
  port?: number
  keyring?: Keyring
  verifyIncoming?: boolean
  verifyOutgoing?: boolean
  /** The port it tells the others (a relay in front of it); its own by default. */
  advertisePort?: () => number
  /** Start gossiping at once (default); false leaves `members.start()` to the test. */
  start?: boolean
}

export class Pools {
  readonly live: Pool[] = []

  constructor(readonly config: GossipConfig) {}

  async start(name: string, opts: PoolOptions = {}): Promise<Pool> {
    const rpc = new RpcServer({ id: randomUUID(), datacenter: 'dc1', cluster: '' })
    const port = (await rpc.listen('127.0.0.1', opts.port ?? 0)).port
    const self = (): Member => ({ name, addr: '127.0.0.1', port: opts.advertisePort?.() ?? port, tags: { role: 'node', dc: 'dc1' }, status: 'alive' })
    const members = new Members({
      rpc,
      self,
      clock: systemClock,
      log: () => undefined,
      config: this.config,
      snapshotFile: opts.snapshotFile,
      keyring: opts.keyring,
      verifyIncoming: opts.verifyIncoming,
      verifyOutgoing: opts.verifyOutgoing,
    })
    await members.listenUdp('127.0.0.1', port)
    if (opts.start !== false) members.start()
    const p = { name, members, rpc, port }
    this.live.push(p)
    return p
  }

  /** Closes a pool's sockets without a word: to the others, a crash. */
  async crash(p: Pool): Promise<void> {
    const i = this.live.indexOf(p)
    if (i >= 0) this.live.splice(i, 1)
    p.members.stop()
    await p.rpc.close()
  }

  async closeAll(): Promise<void> {
    for (const p of [...this.live]) await this.crash(p)
  }
}

export const statusOf = (p: Pool, name: string): string | undefined => p.members.list().find((m) => m.name === name)?.status

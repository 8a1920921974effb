/**
 * Our side of `npm run bench -- raft`: N voters of our raft (src/raft/driver.ts over the pure core)
 * in this process over the in-memory network, each with its own SQLite storage (WAL,
 * synchronous=FULL: every acknowledged write is fsync'd) in a directory under `dir`, and a
 * trivial state machine, the same one main.go gives hashicorp/raft.
 */
import { join } from 'node:path'
import { RaftDriver } from '../../src/raft/driver.js'
import { InMemoryNetwork } from '../../src/raft/inmem-transport.js'
import { SqliteStorage } from '../../src/raft/sqlite-storage.js'
import type { RaftServer, StateMachine } from '../../src/raft/types.js'
import { LIMITS } from '../../src/lib/limits.js'
import { mulberry32 } from '../../src/lib/prng.js'

/** What the bench needs from a cluster: proposals on the leader and a way to stop. */
export interface OurCluster {
  /** Proposes `data` on the leader; resolves once it is committed and applied there. */
  propose(data: Uint8Array): Promise<unknown>
  /** Entries applied on each voter so far, to check after the run that every voter replicated. */
  applied(): number[]
  /** How the cluster is configured (timing, storage, transport), for the results file. */
  readonly config: Record<string, unknown>
  close(): Promise<void>
}

const KEY_BYTES = 8
/** Consul's dev-mode timing (hashicorp's base timings, 1 s elections): it decides failure detection, not steady-state commit. */
const RAFT_MULTIPLIER = 1
const LEADER_TIMEOUT_MS = 15_000

/** The last value written under each key, as main.go's kvFSM. */
class KvMachine implements StateMachine {
  readonly values = new Map<string, Uint8Array>()
  applied = 0

  apply(_index: number, data: Uint8Array): unknown {
    if (data.byteLength <= KEY_BYTES) throw new Error(`entry of ${data.byteLength} bytes`)
    this.values.set(Buffer.from(data.buffer, data.byteOffset, KEY_BYTES).toString('latin1'), data.subarray(KEY_BYTES))
    this.applied++
    return null
  }

  skip(_index: number): void {}

  /** Only a key count, as main.go's: a snapshot that grew with the state would measure the state machine. */
  async snapshot(): Promise<Uint8Array> {
    return new TextEncoder().encode(`${this.values.size}\n`)
  }

  restore(_data: Uint8Array): void {}
}

export async function startOurCluster(dir: string, voters: number): Promise<OurCluster> {
  const net = new InMemoryNetwork()
  const ids = Array.from({ length: voters }, (_, i) => `n${i + 1}`)
  const bootstrap: RaftServer[] = ids.map((id) => ({ id, address: `inmem:${id}`, voter: true }))
  const warnings: string[] = []
  const nodes: Array<{ raft: RaftDriver; fsm: KvMachine }> = []
  const closeAll = async (): Promise<void> => {
    for (const n of nodes) await n.raft.close().catch(() => undefined)
  }
  try {
    for (const [i, id] of ids.entries()) {
      const fsm = new KvMachine()
      const raft = await RaftDriver.open({
        id,
        address: `inmem:${id}`,
        storage: new SqliteStorage(join(dir, id)),
        transport: net.connect(id),
        fsm,
        random: mulberry32(1000 + i),
        bootstrap,
        raftMultiplier: RAFT_MULTIPLIER,
        log: (level, m) => {
          if (level !== 'info') warnings.push(`${id} ${level}: ${m}`)
        },
      })
      nodes.push({ raft, fsm })
    }
    const deadline = Date.now() + LEADER_TIMEOUT_MS
    let leader = nodes.find((n) => n.raft.isLeader())
    while (!leader) {
      if (Date.now() > deadline) throw new Error(`no leader after ${LEADER_TIMEOUT_MS} ms${warnings.length ? `:\n${warnings.slice(-10).join('\n')}` : ''}`)
      await new Promise((r) => setTimeout(r, 10))
      leader = nodes.find((n) => n.raft.isLeader())
    }
    // The new leader's first entry of its term must commit before it answers anything.
    await leader.raft.barrier()
    const lead = leader.raft
    return {
      propose: (data) => lead.apply(data),
      applied: () => nodes.map((n) => n.fsm.applied),
      config: {
        driver: 'RaftDriver (src/raft/driver.ts) over the pure core',
        raftMultiplier: RAFT_MULTIPLIER,
        tickMs: LIMITS.raftTickMs,
        snapshotThreshold: LIMITS.raftSnapshotThreshold,
        snapshotIntervalMs: LIMITS.raftSnapshotIntervalMs,
        trailingLogs: LIMITS.raftTrailingLogs,
        transport: 'InMemoryNetwork (src/raft/inmem-transport.ts)',
        storage: 'SqliteStorage per voter (WAL, synchronous=FULL, storage thread + group commit)',
      },
      close: async () => {
        await closeAll()
        if (warnings.length) process.stderr.write(`ours: ${warnings.length} warnings, last: ${warnings.at(-1)}\n`)
      },
    }
  } catch (err) {
    await closeAll()
    throw err
  }
}

/**
 * The Raft message fuzzer: real messages of a 3-server group (votes, appends, heartbeats, snapshots,
 * read-index), encoded as they travel (msgpack), mutated as bytes or field by field, then stepped
 * into a live group. Peers are trusted in Raft, so a forged message may move terms and leaders; what
 * it must never do is throw, move a node's term or commit index backwards, or change an entry a node
 * has committed.
 */
import { decode, encode } from '@msgpack/msgpack'
import type { RaftNode } from '../../src/raft/core/node.js'
import type { Message } from '../../src/raft/core/types.js'
import { Network, enc } from '../raft/core/network.js'
import type { Mutator } from './mutate.js'
import { Finding, type Target } from './target.js'

const IDS = ['1', '2', '3']

/** A group with a leader, committed entries and a compacted prefix: every handler has state to guard. */
function group(record?: (m: Message) => void): Network {
  const net = new Network(IDS, { seed: 7 })
  if (record) net.filter = (m) => (record(m), true)
  net.node('1').campaign()
  net.stabilize()
  for (let i = 0; i < 6; i++) net.node('1').propose(enc(`v${i}`))
  net.stabilize()
  net.node('1').compact(3, enc('snapshot-data'))
  net.node('1').readIndex('r1')
  net.stabilize()
  return net
}

interface Seen {
  term: number
  committed: number
  terms: Array<number | undefined>
}

function seen(n: RaftNode): Seen {
  const terms: Array<number | undefined> = []
  for (let i = 1; i <= n.log.committed; i++) terms.push(n.log.term(i))
  return { term: n.term, committed: n.log.committed, terms }
}

const FIELD_VALUES: unknown[] = [0, -1, 1, 2, 3, 99, 2 ** 31, 2 ** 53, -(2 ** 53), 0.5, NaN, '', '1', '2', '9', null, true, [], {}, new Uint8Array(3), 'x'.repeat(100)]

/** A field of a message (at any depth) replaced by a boundary value, or a message of one type given another's type. */
function mutateFields(m: Mutator, v: unknown, depth = 0): unknown {
  if (m.random() < 0.1) return m.pick(FIELD_VALUES)
  if (v instanceof Uint8Array) return v
  if (Array.isArray(v)) return depth > 3 ? v : v.filter(() => m.random() > 0.1).map((x) => mutateFields(m, x, depth + 1))
  if (v && typeof v === 'object') {
    const out: Record<string, unknown> = {}
    for (const [k, x] of Object.entries(v)) if (m.random() > 0.05) out[k] = mutateFields(m, x, depth + 1)
    if (m.random() < 0.1) out.type = m.pick(['vote', 'voteResp', 'preVote', 'preVoteResp', 'append', 'appendResp', 'heartbeat', 'heartbeatResp', 'snapshot', 'readIndex', 'readIndexResp', 'timeoutNow'])
    return out
  }
  return v
}

export function raftTarget(): Target {
  return {
    name: 'raft-messages',
    what: 'Raft messages (captured from a live group, mutated as msgpack bytes or field by field) stepped into a 3-server group: never a throw, a term or commit going back, or a committed entry changed',
    corpus() {
      const messages: Message[] = []
      const record = (m: Message): boolean => (messages.push(m), true)
      const net = group(record)
      // A lagging follower's catch-up by snapshot, a forwarded read and a leadership transfer as well.
      net.isolate('3')
      for (let i = 0; i < 5; i++) net.node('1').propose(enc(`late${i}`))
      net.stabilize()
      net.node('1').compact(11, enc('snapshot-2'))
      net.heal() // (which resets the filter)
      net.filter = record
      net.tickAll(5)
      net.node('2').readIndex('r2')
      net.stabilize()
      net.node('1').transferLeadership('2')
      net.tickAll(5)
      return messages.map((m) => encode(m))
    },
    run(input, m) {
      let msg: unknown
      if (m.random() < 0.5) {
        try {
          msg = decode(input)
        } catch {
          return // not msgpack: the frame layer refuses it (the rpc-frames target covers that)
        }
      } else {
        try {
          msg = mutateFields(m, decode(input))
        } catch {
          return
        }
      }
      const net = group()
      // Most mutations break the addressing; steer most inputs at a real node from a real peer.
      if (msg && typeof msg === 'object' && !Array.isArray(msg)) {
        const o = msg as Record<string, unknown>
        if (m.random() < 0.8) o.to = m.pick(IDS)
        if (m.random() < 0.6) o.from = m.pick(IDS.filter((id) => id !== o.to))
      }
      const before = new Map(IDS.map((id) => [id, seen(net.node(id))]))
      const target = msg && typeof msg === 'object' && typeof (msg as { to?: unknown }).to === 'string' ? (msg as { to: string }).to : m.pick(IDS)
      try {
        const node = net.nodes.get(target) ?? net.node(m.pick(IDS))
        const why = node.step(msg)
        if (why !== undefined && typeof why !== 'string') throw new Finding(`step returned ${typeof why}`)
        // Let the group act on it: answers, elections, appends.
        const rounds = m.int(3)
        for (let i = 0; i < rounds; i++) net.tickAll(1)
        net.stabilize()
      } catch (err) {
        if (err instanceof Finding) throw err
        throw new Finding(`stepping ${JSON.stringify(msg, (_k, v) => (v instanceof Uint8Array ? `<${v.length} bytes>` : v)).slice(0, 400)} threw: ${(err as Error).stack ?? err}`)
      }
      for (const id of IDS) {
        const a = before.get(id)!
        const b = seen(net.node(id))
        if (b.term < a.term) throw new Finding(`node ${id}'s term went back from ${a.term} to ${b.term}`)
        if (b.committed < a.committed) throw new Finding(`node ${id}'s commit index went back from ${a.committed} to ${b.committed}`)
        for (let i = 0; i < a.terms.length; i++) {
          if (a.terms[i] !== undefined && b.terms[i] !== undefined && a.terms[i] !== b.terms[i]) throw new Finding(`node ${id}'s committed entry ${i + 1} changed term ${a.terms[i]} -> ${b.terms[i]}`)
        }
      }
    },
  }
}

import { test } from 'node:test'
import assert from 'node:assert/strict'
import { Metrics } from '../../src/lib/metrics.js'
import { RaftMetrics } from '../../src/raft/metrics.js'
import type { Message } from '../../src/raft/core/types.js'

test('raft metrics: an append\'s round trip per peer, logs counted as sent, role changes counted, an answer to a long-gone append not taken for a round trip', () => {
  const clock = { at: 0, now: () => clock.at, wall: () => 0 }
  const m = new Metrics({ clock, prometheusRetentionMs: 3_600_000 })
  const r = new RaftMetrics(m)
  const append = (to: string, index: number): Message => ({ type: 'append', from: 'a', to, term: 2, prevIndex: index - 1, prevTerm: 2, entries: [{ index, term: 2, type: 'normal', data: new Uint8Array() }], commit: 0 }) as Message
  const ack = (from: string, index: number): Message => ({ type: 'appendResp', from, to: 'a', term: 2, reject: false, index, hintIndex: 0, hintTerm: 0 }) as Message
  r.role('preCandidate')
  r.role('candidate')
  r.role('leader')
  r.sent(append('b', 5))
  r.sent(append('b', 6))
  clock.at = 3
  r.received(ack('b', 6))
  r.sent(append('c', 7))
  clock.at = 20_000
  r.received(ack('c', 7))
  const text = m.prometheus()
  assert.match(text, /^consul_raft_state_candidate 1$/m, 'a pre-vote and the vote are one candidacy')
  assert.match(text, /^consul_raft_state_leader 1$/m)
  assert.match(text, /^consul_server_isLeader 1$/m)
  assert.match(text, /^consul_raft_replication_appendEntries_rpc_count\{peer_id="b"\} 1$/m)
  assert.match(text, /^consul_raft_replication_appendEntries_rpc_sum\{peer_id="b"\} 3$/m)
  assert.doesNotMatch(text, /appendEntries_rpc_count\{peer_id="c"\}/)
  assert.match(text, /^consul_raft_replication_appendEntries_logs\{peer_id="b"\} 2$/m)
  r.role('follower')
  assert.match(m.prometheus(), /^consul_server_isLeader 0$/m)
})

import { test } from 'node:test'
import assert from 'node:assert/strict'
import { LAN_CONFIG } from '../../src/gossip/core/config.js'
import { MemberPool } from '../../src/gossip/core/state.js'
import { Prober, type ProbeEffect } from '../../src/gossip/core/prober.js'
import { mulberry32 } from '../../src/lib/prng.js'

function setup(names: string[]): { pool: MemberPool; prober: Prober } {
  const pool = new MemberPool(LAN_CONFIG, { name: 'me', addr: '10.0.0.1', port: 8301, meta: {} }, 0)
  names.forEach((n, i) => pool.alive({ node: n, incarnation: 1, addr: `10.0.0.${i + 2}`, port: 8301, meta: {} }, 0))
  return { pool, prober: new Prober(pool, LAN_CONFIG, mulberry32(7), 0) }
}
const summary = (effects: ProbeEffect[]): string[] =>
  effects.map((e) => (e.kind === 'ping' || e.kind === 'tcp-ping' ? `${e.kind} ${e.to.name}` : e.kind === 'indirect-ping' ? `indirect ${e.via.name}->${e.target.name}` : `suspect ${e.node}@${e.incarnation}`))

test('every live member is probed once per pass, never this member itself', () => {
  const { prober } = setup(['a', 'b', 'c'])
  const seen: string[] = []
  let now = 0
  for (let i = 0; i < 6; i++) {
    now = prober.nextWake()
    const [ping] = prober.advance(now)
    assert.equal(ping?.kind, 'ping')
    if (ping?.kind === 'ping') {
      seen.push(ping.to.name)
      prober.ack(ping.seq, now + 5)
    }
  }
  assert.deepEqual(seen.slice(0, 3).sort(), ['a', 'b', 'c'])
  assert.deepEqual(seen.slice(3).sort(), ['a', 'b', 'c'])
  assert.ok(!seen.includes('me'))
})

test('no ack: indirect pings through others and a TCP ping after the probe timeout, then suspicion at the end of the interval', () => {
  const { pool, prober } = setup(['a', 'b', 'c', 'd', 'e'])
  const start = prober.nextWake()
  assert.equal(start, 1000)
  const [ping] = prober.advance(start)
  assert.ok(ping?.kind === 'ping')
  const target = ping.to.name
  assert.equal(prober.nextWake(), start + 500, 'the probe timeout')
  const indirect = prober.advance(start + 500)
  const s = summary(indirect)
  assert.equal(s.filter((x) => x.startsWith('indirect')).length, 3, 'indirectChecks helpers')
  assert.ok(s.every((x) => !x.startsWith(`indirect ${target}`)), 'the target is not its own helper')
  assert.equal(s.at(-1), `tcp-ping ${target}`)
  prober.nack(ping.seq)
  assert.equal(prober.nextWake(), start + 1000, 'the end of the interval')
  assert.deepEqual(summary(prober.advance(start + 1000)), [`suspect ${target}@1`])
  assert.equal(pool.awareness.score, 2, 'two helpers that did not even nack count against our own health')
})

test('an ack relayed by a helper ends the probe; acks for other probes are ignored; health improves', () => {
  const { pool, prober } = setup(['a', 'b', 'c'])
  pool.awareness.apply(3)
  const t0 = prober.nextWake()
  const [ping] = prober.advance(t0)
  assert.ok(ping?.kind === 'ping')
  prober.advance(prober.nextWake())
  prober.ack(ping.seq + 100, t0 + 1)
  // Score 3 stretches the interval four times: still waiting for its own ack until then.
  assert.equal(prober.nextWake(), t0 + 4000, 'an ack for another probe changes nothing')
  prober.ack(ping.seq, t0 + 900)
  assert.equal(pool.awareness.score, 2)
  assert.deepEqual(prober.advance(t0 + 1500), [], 'nothing until the next interval')
})

test('an unhealthy member stretches its probe interval and timeout by its score + 1', () => {
  const { pool, prober } = setup(['a'])
  const [first] = prober.advance(prober.nextWake())
  assert.ok(first?.kind === 'ping')
  prober.ack(first.seq, 1000)
  pool.awareness.apply(3) // score 3: times 4
  const t = prober.nextWake()
  prober.advance(t)
  assert.equal(prober.nextWake(), t + 4 * 500)
})

test('alone, or with only dead members, nothing is probed', () => {
  const { pool, prober } = setup(['a'])
  pool.dead({ node: 'a', incarnation: 1, from: 'x' }, 0)
  assert.deepEqual(prober.advance(prober.nextWake()), [])
  assert.ok(prober.nextWake() > 1000)
})

import { test } from 'node:test'
import assert from 'node:assert/strict'
import { copyFileSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import type { RaftNode } from '../../../src/raft/core/node.js'
import { campaign, formatCampaign, type CampaignFailure } from './campaign.js'
import type { NodeFactory, SimOptions } from './sim.js'

/**
 * The checks are shown to bite: a copy of the compiled core with a broken commit rule must be
 * caught by the simulator within 1,000 seeds. The patch is textual and must match exactly once, so
 * this test fails loudly (rather than passing vacuously) when node.ts changes shape.
 */
const coreDir = fileURLToPath(new URL('../../../src/raft/core/', import.meta.url))

async function brokenCore(name: string, from: string, to: string): Promise<{ factory: NodeFactory; dispose: () => void }> {
  const dir = mkdtempSync(join(tmpdir(), `raft-mutant-${name}-`))
  for (const f of readdirSync(coreDir)) if (f.endsWith('.js')) copyFileSync(join(coreDir, f), join(dir, f))
  const src = readFileSync(join(dir, 'node.js'), 'utf8')
  assert.equal(src.split(from).length - 1, 1, `the patch for "${name}" must match node.js exactly once: ${JSON.stringify(from)}`)
  writeFileSync(join(dir, 'node.js'), src.replace(from, to))
  const mod = (await import(pathToFileURL(join(dir, 'node.js')).href)) as { RaftNode: typeof RaftNode }
  return { factory: (c, i) => new mod.RaftNode(c, i), dispose: () => rmSync(dir, { recursive: true, force: true }) }
}

async function expectCaught(name: string, servers: number, from: string, to: string, t: { diagnostic(s: string): void }, overrides: Partial<SimOptions> = {}): Promise<CampaignFailure> {
  const { factory, dispose } = await brokenCore(name, from, to)
  try {
    const r = campaign({ seeds: 1000, servers, createNode: factory, stopAtFirstFailure: true, overrides })
    const f = r.failures[0]
    t.diagnostic(f ? `caught at seed ${f.seed} after ${r.seeds} seeds (${f.kind}): ${f.what.split('\n')[0]}` : formatCampaign(r))
    assert.ok(f !== undefined, `the broken core (${name}) ran 1,000 seeds undetected`)
    assert.ok(f.kind === 'safety' || f.kind === 'linearizability', `caught by a check, not by a crash of the core: ${f.message}`)
    return f
  } finally {
    dispose()
  }
}

test('a core that commits entries of an earlier term by counting replicas (Raft Figure 8) is caught within 1,000 seeds', async (t) => {
  // Raft §5.4.2: only an entry of the leader's own term is committed by counting replicas.
  await expectCaught('commit-any-term', 3, 'if (index <= this.#log.committed || this.#log.term(index) !== this.#term)', 'if (index <= this.#log.committed)', t)
})

test('a core that commits with any two acknowledgements, whatever the cluster size, is caught within 1,000 seeds', async (t) => {
  await expectCaught('two-acks', 5, 'const index = matches[quorum(voters.length) - 1];', 'const index = matches[Math.min(1, matches.length - 1)];', t)
})

test('a follower that answers ReadIndex from its own commit index instead of asking the leader is caught within 1,000 seeds', async (t) => {
  // Raft dissertation §6.4: only the leader knows an index every earlier write is committed at; a lagging follower serves stale reads.
  await expectCaught('follower-local-read', 3,
    "this.#send({ type: 'readIndex', to: this.#leader, from: this.id, term: this.#term, context });",
    'this.#readStates.push({ context, index: this.#log.committed });', t)
})

test('the same follower, with the ReadIndex check off: the clients\' history alone is found not linearizable', async (t) => {
  const f = await expectCaught('follower-local-read-history', 3,
    "this.#send({ type: 'readIndex', to: this.#leader, from: this.id, term: this.#term, context });",
    'this.#readStates.push({ context, index: this.#log.committed });', t, { readFloorCheck: false })
  assert.match(f.what, /^linearizability: consistent reads and writes are illegal/)
})

test('the unpatched core copied the same way passes the same seeds (the copy itself breaks nothing)', async () => {
  const { factory, dispose } = await brokenCore('none', 'const index = matches[quorum(voters.length) - 1];', 'const index = matches[quorum(voters.length) - 1];')
  try {
    const r = campaign({ seeds: 100, servers: 3, createNode: factory })
    assert.deepEqual(r.failures.map((f) => f.seed), [], r.failures[0]?.message)
  } finally {
    dispose()
  }
})

import { test } from 'node:test'
import assert from 'node:assert/strict'
import { copyFileSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { RaftDriver } from '../../../src/raft/driver.js'
import { Server } from '../../../src/server/server.js'
import { formatCampaign } from '../../raft/core/campaign.js'
import type { CampaignFailure } from '../../raft/core/campaign.js'
import { driverCampaign } from './driver-campaign.js'
import type { Implementation } from './driver-sim.js'

/**
 * The checks bite at the driver level too: a copy of the compiled driver or endpoint layer with one
 * deliberate bug must be caught by the driver-level simulator within the seeds CI runs. Each patch
 * is textual and must match exactly once, so a test fails loudly (rather than passing vacuously)
 * when the source changes shape. Only the patched folder is copied; its imports of anything else
 * point at the original modules, so the error classes the clients test for are the same.
 */
const srcDir = fileURLToPath(new URL('../../../src/', import.meta.url))
const SEEDS = 500

type Patch = [from: string, to: string]

async function patched(folder: 'raft' | 'server', file: string, patches: Patch[]): Promise<{ impl: Implementation; dispose: () => void }> {
  const dir = mkdtempSync(join(tmpdir(), `sim-mutant-${folder}-`))
  const from = join(srcDir, folder)
  const up = pathToFileURL(srcDir).href
  const here = pathToFileURL(from + '/').href
  for (const f of readdirSync(from)) {
    if (!f.endsWith('.js')) continue
    // The raft folder: only the driver is copied, its siblings stay where they are.
    const text = readFileSync(join(from, f), 'utf8').replace(/from '\.\.\//g, `from '${up}`)
    writeFileSync(join(dir, f), folder === 'raft' ? text.replace(/from '\.\//g, `from '${here}`) : text)
  }
  let src = readFileSync(join(dir, file), 'utf8')
  for (const [a, b] of patches) {
    assert.equal(src.split(a).length - 1, 1, `the patch must match ${folder}/${file} exactly once: ${JSON.stringify(a)}`)
    src = src.replace(a, b)
  }
  writeFileSync(join(dir, file), src)
  const impl: Implementation = { RaftDriver, Server }
  if (folder === 'raft') impl.RaftDriver = ((await import(pathToFileURL(join(dir, 'driver.js')).href)) as { RaftDriver: typeof RaftDriver }).RaftDriver
  else impl.Server = ((await import(pathToFileURL(join(dir, 'server.js')).href)) as { Server: typeof Server }).Server
  return { impl, dispose: () => rmSync(dir, { recursive: true, force: true }) }
}

async function expectCaught(folder: 'raft' | 'server', file: string, patches: Patch[], servers: number, t: { diagnostic(s: string): void }): Promise<CampaignFailure> {
  const { impl, dispose } = await patched(folder, file, patches)
  try {
    const r = await driverCampaign({ seeds: SEEDS, servers, impl, stopAtFirstFailure: true })
    const f = r.failures[0]
    t.diagnostic(f ? `caught at seed ${f.seed} after ${r.seeds} seeds (${f.kind}): ${f.what.split('\n')[0]}` : formatCampaign(r))
    assert.ok(f !== undefined, `the mutant ran ${SEEDS} seeds undetected`)
    assert.ok(f.kind === 'safety' || f.kind === 'linearizability', `caught by a check, not by a crash: ${f.message}`)
    return f
  } finally {
    dispose()
  }
}

test('an endpoint layer that serves ?consistent reads without the read barrier is caught: the history is not linearizable', async (t) => {
  const f = await expectCaught('server', 'core.js', [["if (consistency === 'consistent')\n            return () => this.raft.readBarrier();", "if (consistency === 'consistent')\n            return undefined;"]], 3, t)
  assert.match(f.what, /^linearizability: consistent reads and writes are illegal/)
})

test('a driver that releases a read once the leader confirms it, before this server has applied up to the read index, is caught', async (t) => {
  // Raft dissertation §6.4: the read index only means something once the state machine has reached it.
  const f = await expectCaught('raft', 'driver.js', [['if (read.index !== undefined && read.index <= this.#applied) {', 'if (read.index !== undefined) {']], 3, t)
  assert.match(f.what, /^linearizability/)
})

test('a driver that answers a proposer with whatever entry is applied at its index (no term check, pending proposals kept across a leadership change) is caught', async (t) => {
  await expectCaught('raft', 'driver.js', [
    ['if (p.term !== e.term)\n                p.reject(new LeadershipLostError());\n            else if (failure)', 'if (failure)'],
    ['for (const p of this.#pending.values())\n                p.reject(lost);\n            this.#pending.clear();', 'void lost;'],
  ], 5, t)
})

test('the unpatched driver and endpoint layer copied the same way pass the same seeds (the copy itself breaks nothing)', async () => {
  for (const [folder, file, same] of [['raft', 'driver.js', 'if (read.index !== undefined'], ['server', 'core.js', "if (consistency === 'consistent')"]] as const) {
    const { impl, dispose } = await patched(folder, file, [[same, same]])
    try {
      const r = await driverCampaign({ seeds: 50, servers: 3, impl })
      assert.deepEqual(r.failures.map((f) => f.seed), [], r.failures[0]?.message)
      assert.notEqual(folder === 'raft' ? impl.RaftDriver : impl.Server, folder === 'raft' ? RaftDriver : Server, 'the copy is what ran')
    } finally {
      dispose()
    }
  }
})

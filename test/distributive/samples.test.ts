/**
 * Every upstream sample checklist in ../shared/fixtures/distributive loads and runs with a stated exit code in the
 * test world (see world.ts: what exists there is listed, so each expectation can be checked by reading the sample).
 */
import assert from 'node:assert/strict'
import { chmod, copyFile, mkdir, readdir, stat, symlink } from 'node:fs/promises'
import path from 'node:path'
import { after, before, describe, test } from 'node:test'
import { runDistributive } from '../../src/distributive/index.js'
import { createWorld, FIXTURES, type World } from './world.js'


interface Expectation {
  exit: number
  /** 1-based positions of the checks expected to fail (CRITICAL); others pass unless listed in `unknown`. */
  failing?: number[]
  /** For configuration errors: part of the message. */
  error?: RegExp
  why: string
}

const EXPECTED: Record<string, Expectation> = {
  // Upstream's docker image layout, recreated in the world from v0.2.4-files (with the symlink git lost).
  'docker-alpine-2015-10/docker-alpine.json': { exit: 0, why: 'every file exists in the world; the disk is 50 % full' },
  'fixtures/checklists_test-invalid1.json': { exit: 3, error: /check #1: empty check type/, why: 'empty ID' },
  'fixtures/checklists_test-invalid2.json': { exit: 3, error: /no "Checklist"/, why: 'no Checklist key' },
  'fixtures/checklists_test-invalid3.json': { exit: 3, error: /no "Checklist"/, why: 'no Checklist key' },
  'fixtures/checklists_test-valid1.json': { exit: 2, failing: [1], why: 'the world has no /dev/null' },
  'fixtures/checklists_test-valid2.json': { exit: 0, why: '/ is a directory' },
  'fixtures/test.json': { exit: 0, why: 'the command always exits 0 (it echoes 1 or 0)' },
  'mantl-consul-integration/distributive-checklist-consul.json': { exit: 2, failing: [1, 2, 3, 4, 5, 6, 7, 8], why: 'no Consul installed in the world' },
  // These two are Consul check definitions that *run* distributive, not checklists.
  'mantl-consul-integration/distributive-consul-check.json': { exit: 3, error: /no "Checklist"/, why: 'a Consul check definition' },
  'mantl-consul-integration/distributive-service-consul.json': { exit: 3, error: /no "Checklist"/, why: 'a Consul service definition' },
  'v0.2.1-json-Check-key/docker-fail.json': { exit: 2, failing: [1, 2, 3], why: 'designed to fail' },
  'v0.2.1-json-Check-key/docker.json': { exit: 0, why: 'the fake Docker API has ubuntu and a running siddharthist/router:latest' },
  'v0.2.1-json-Check-key/filesystem-fail.json': { exit: 2, failing: [1, 2, 3, 4, 5, 6, 7], why: 'designed to fail' },
  'v0.2.1-json-Check-key/filesystem.json': { exit: 2, failing: [1, 3, 4, 5, 7], why: 'no /swapfile, /home/lb or /dev/null in the world' },
  'v0.2.1-json-Check-key/misc-fail.json': { exit: 2, failing: [1, 2, 3, 4, 5, 6, 7, 8], why: 'designed to fail' },
  'v0.2.1-json-Check-key/misc.json': { exit: 2, failing: [3], why: 'urxvt is not installed' },
  'v0.2.1-json-Check-key/network-fail.json': { exit: 2, failing: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12], why: 'designed to fail' },
  'v0.2.1-json-Check-key/network.json': { exit: 2, failing: [1, 2, 3, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21], why: 'a laptop with wlp1s0 and docker0; only lo exists here, and nothing resolves' },
  'v0.2.1-json-Check-key/packages-fail.json': { exit: 2, failing: [1, 2, 3, 4, 5], why: 'designed to fail' },
  'v0.2.1-json-Check-key/packages.json': { exit: 2, failing: [1, 2, 3], why: 'urxvt and those yum repos are absent; pulseaudio is ignored' },
  'v0.2.1-json-Check-key/systemctl-fail.json': { exit: 2, failing: [1, 2, 3, 4, 5, 6, 7], why: 'designed to fail' },
  'v0.2.1-json-Check-key/systemctl.json': { exit: 2, failing: [1, 2, 3, 4, 5, 6], why: 'the fake systemd knows good.* units and shutdown.target only' },
  'v0.2.1-json-Check-key/usage-fail.json': { exit: 2, failing: [1, 2, 3, 4, 5], why: 'designed to fail' },
  'v0.2.1-json-Check-key/usage.json': { exit: 0, why: 'memory 60 %, swap 25 %, CPU 20 %' },
  'v0.2.1-json-Check-key/users-and-groups-fail.json': { exit: 2, failing: [1, 2, 3, 4, 5, 6, 7, 8], why: 'designed to fail' },
  'v0.2.1-json-Check-key/users-and-groups.json': { exit: 2, failing: [2, 7, 9], why: 'root is not in wheel; there is no user lb' },
  'v0.2.5-json-ID-key/filesystem.json': { exit: 0, why: '/tmp/test.txt and /fakeroot exist, as upstream CI made them' },
  'v0.2.5-json-ID-key/misc.json': { exit: 2, failing: [1], why: 'no ps process in the world' },
  'v0.2.5-json-ID-key/network.json': { exit: 0, why: 'eth0 is up and carries the default route' },
  'v0.2.5-json-ID-key/packages.json': { exit: 0, why: 'git is installed (fake dpkg-query)' },
  'v0.2.5-json-ID-key/usage.json': { exit: 0, why: 'all below their limits; tmpfs is mounted on /run' },
  'v0.2.5-json-ID-key/users-and-groups.json': { exit: 0, why: 'sudo and bin exist' },
  'v0.3.0-yaml-id-key/filesystem.yml': { exit: 0, why: 'as the v0.2.5 file' },
  // Upstream v0.3 found itself here; distributive does not count its own process.
  'v0.3.0-yaml-id-key/misc.yml': { exit: 2, failing: [1], why: 'no other distributive process is running' },
  'v0.3.0-yaml-id-key/network.yml': { exit: 0, why: 'as the v0.2.5 file' },
  'v0.3.0-yaml-id-key/packages.yml': { exit: 0, why: 'as the v0.2.5 file' },
  'v0.3.0-yaml-id-key/usage.yml': { exit: 0, why: 'as the v0.2.5 file' },
  'v0.3.0-yaml-id-key/users-and-groups.yml': { exit: 0, why: 'as the v0.2.5 file' },
}

async function sampleFiles(): Promise<string[]> {
  const out: string[] = []
  for (const dir of await readdir(FIXTURES)) {
    if (!(await stat(path.join(FIXTURES, dir))).isDirectory()) continue
    for (const f of await readdir(path.join(FIXTURES, dir))) if (/\.(json|ya?ml)$/.test(f)) out.push(`${dir}/${f}`)
  }
  return out.sort()
}

let world: World
before(async () => {
  world = await createWorld()
  const files = `${world.root}/gopath/src/github.com/CiscoCloud/distributive/samples/files`
  await mkdir(files, { recursive: true })
  for (const f of ['checksum_testfile.txt', 'filesystem_regex_test.txt']) {
    await copyFile(path.join(FIXTURES, 'v0.2.4-files', f), `${files}/${f}`)
    await chmod(`${files}/${f}`, 0o644) // as a git checkout leaves it (the shared copy is read-only)
  }
  await symlink('checksum_testfile.txt', `${files}/symlink_checksum_test.txt`)
})
after(async () => {
  await world.close()
})

test('the expectation table lists every sample checklist in the shared fixtures', async () => {
  assert.deepEqual(await sampleFiles(), Object.keys(EXPECTED).sort())
})

describe('upstream samples', () => {
  for (const [rel, want] of Object.entries(EXPECTED)) {
    test(`${rel} exits ${want.exit} (${want.why})`, async () => {
      const r = await runDistributive({ file: path.join(FIXTURES, rel), host: world.host, timeoutMs: 20_000 })
      assert.equal(r.exitCode, want.exit, r.stdout)
      if (want.error) {
        assert.match(r.configError ?? '', want.error)
        assert.ok(r.configError!.startsWith(path.join(FIXTURES, rel)), 'the message names the file')
        assert.match(r.stdout, /^DISTRIBUTIVE UNKNOWN - /)
        return
      }
      const failing = r.report!.outcomes.filter((o) => o.status !== 'passing').map((o) => `${o.check.position}:${o.status}`)
      assert.deepEqual(failing, (want.failing ?? []).map((p) => `${p}:critical`), r.stdout)
    })
  }
})

test('with --legacy-exit-codes a failing sample exits 1, a passing one 0 and a bad one 1 (upstream)', async () => {
  const run = (rel: string) => runDistributive({ file: path.join(FIXTURES, rel), host: world.host, legacyExitCodes: true })
  assert.equal((await run('v0.2.1-json-Check-key/users-and-groups-fail.json')).exitCode, 1)
  assert.equal((await run('v0.3.0-yaml-id-key/users-and-groups.yml')).exitCode, 0)
  assert.equal((await run('fixtures/checklists_test-invalid1.json')).exitCode, 1)
})

test('the v0.3 directory loads as a whole with -d, YAML files sorted by name', async () => {
  const r = await runDistributive({ directory: path.join(FIXTURES, 'v0.3.0-yaml-id-key'), host: world.host, format: 'json' })
  const doc = JSON.parse(r.stdout) as { checks: { source: string }[] }
  const sources = [...new Set(doc.checks.map((c) => path.basename(c.source)))]
  assert.deepEqual(sources, ['filesystem.yml', 'misc.yml', 'network.yml', 'packages.yml', 'usage.yml', 'users-and-groups.yml'])
  assert.equal(r.exitCode, 2)
})

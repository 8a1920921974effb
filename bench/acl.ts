/**
 * `npm run bench -- acl` (issue 15): what ACLs cost. Two agents of ours, started the same way
 * (-dev: in-memory raft, so the figures are the request path's, not the disk's), one with ACLs off
 * and one with default-deny ACLs; against the second, every request carries a token holding 50
 * policies of 20 rules each. KV GET and PUT at 64 clients (wrk), and a recursive read of 10,000
 * keys that prefix rules filter. Target: ACLs on at most 10% slower, judged for the loads on CPU
 * per request over interleaved rounds (lib/ab.ts: two identical agents differ by up to 9% in
 * req/s on this machine), and for the recursive read on interleaved medians.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { cpus, loadavg } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { cleanupAll, firstLine, freePort, installSignalHandlers, startServer, tempDir, which } from './lib/procs.js'
import type { LuaRequest } from './lib/wrk.js'
import { compare, compareLatency, type AbSide } from './lib/ab.js'
import { textTable } from './lib/table.js'

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
const BIN = join(ROOT, 'bin', 'consul.js')
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10)
const CONNECTIONS = 64
const KEYS = 1000
const TREE = 10_000
const POLICIES = 50
const RULES = 20
/** At most this much slower with ACLs on (throughput ratio at least 1 - this). */
const TARGET_SLOWDOWN = 0.1
const MASTER = 'b3a1c2d4-0000-4000-8000-00000000beef'
/** The scripts that decide ACLs: the profile's samples through them are what ACLs cost directly. */
const ACL_CODE = /\/src\/(acl\/|server\/acl-|agent\/acl|http\/route-acl|http\/acl)/

type Side = AbSide & {
  name: 'off' | 'on'
  /** The token requests carry ('' with ACLs off). */
  token: string
}

interface Cell {
  metric: string
  off: number
  on: number
  unit: string
  /** off/on CPU per request for loads, off/on for times: above 1 - TARGET_SLOWDOWN passes. */
  ratio: number
  /** on/off req/s, for loads (printed, not judged). */
  rpsRatio?: number
  cpuUsOff?: number
  cpuUsOn?: number
  /** Share of the ACL agent's busy CPU in ACL code (a profiled extra round). */
  aclShare?: number
  result: 'PASS' | 'FAIL'
}

async function startAgent(name: 'off' | 'on', dir: string): Promise<Side> {
  const port = await freePort()
  const args = [BIN, 'agent', '-dev', `-http-port=${port}`, '-dns-port=-1']
  if (name === 'on') {
    const file = join(dir, 'acl.json')
    writeFileSync(file, JSON.stringify({ acl: { enabled: true, default_policy: 'deny', tokens: { initial_management: MASTER, agent: MASTER } } }))
    args.push(`-config-file=${file}`)
  }
  const server = await startServer({ name: `agent (ACLs ${name})`, cmd: process.execPath, args, ready: (out) => /agent: started/.test(out) })
  return { name, server, url: `http://127.0.0.1:${port}`, token: '' }
}

async function call(side: Side, method: string, path: string, body?: string, token = side.token): Promise<string> {
  const res = await fetch(side.url + path, { method, body, headers: token ? { 'X-Consul-Token': token } : {} })
  const text = await res.text()
  if (res.status !== 200) throw new Error(`${method} ${path} (ACLs ${side.name}): ${res.status} ${text}`)
  return text
}

/** 50 policies of 20 rules each; one of them grants the benchmark's keys, the others name other prefixes. */
async function heavyToken(side: Side): Promise<string> {
  const ids: string[] = []
  for (let p = 0; p < POLICIES; p++) {
    const rules: string[] = []
    for (let r = 0; r < RULES; r++) rules.push(`key_prefix "team-${p}/app-${r}/" { policy = "${r % 3 === 0 ? 'read' : 'write'}" }`)
    if (p === 0) {
      rules[0] = 'key_prefix "bench/" { policy = "write" }'
      // The tree: readable, except one branch in ten.
      rules[1] = 'key_prefix "tree/" { policy = "read" }'
      rules[2] = 'key_prefix "tree/b-0" { policy = "deny" }'
    }
    const policy = JSON.parse(await call(side, 'PUT', '/v1/acl/policy', JSON.stringify({ Name: `bench-${p}`, Rules: rules.join('\n') }), MASTER)) as { ID: string }
    ids.push(policy.ID)
  }
  const token = JSON.parse(await call(side, 'PUT', '/v1/acl/token', JSON.stringify({ Description: 'bench', Policies: ids.map((ID) => ({ ID })) }), MASTER)) as { SecretID: string }
  return token.SecretID
}

async function preload(side: Side): Promise<void> {
  const token = side.token || MASTER
  for (let i = 0; i < KEYS; i += 50) {
    await Promise.all(Array.from({ length: 50 }, (_, j) => call(side, 'PUT', `/v1/kv/bench/k${i + j}`, 'x'.repeat(100), side.name === 'on' ? token : '')))
  }
  // The tree through a few large transactions (64 operations each, Consul's txn limit).
  for (let i = 0; i < TREE; i += 64) {
    const ops = Array.from({ length: Math.min(64, TREE - i) }, (_, j) => ({ KV: { Verb: 'set', Key: `tree/b-${(i + j) % 10}/k${i + j}`, Value: Buffer.from('v').toString('base64') } }))
    await call(side, 'PUT', '/v1/txn', JSON.stringify(ops), side.name === 'on' ? MASTER : '')
  }
}

/** One recursive read of the whole tree, checked: the denied branch is filtered out. */
async function treeRead(side: Side): Promise<void> {
  const n = (JSON.parse(await call(side, 'GET', '/v1/kv/tree/?recurse', undefined, side.token)) as unknown[]).length
  const want = side.name === 'on' ? TREE - TREE / 10 : TREE
  if (n !== want) throw new Error(`recursive read (ACLs ${side.name}): ${n} entries, want ${want}`)
}

export async function runAclBench(args: readonly string[]): Promise<number> {
  installSignalHandlers()
  if (!which('wrk')) {
    process.stderr.write('bench acl: needs wrk (apt-get install -y wrk)\n')
    return 2
  }
  const quick = args.includes('--quick')
  const dir = tempDir('consul-bench-acl-')
  const scratch = join(dir, 'scratch')
  mkdirSync(scratch, { recursive: true })
  const load0 = loadavg()[0]
  try {
    const off = await startAgent('off', dir)
    const on = await startAgent('on', dir)
    on.token = await heavyToken(on)
    process.stdout.write(`ACL benchmark: two -dev agents of ours, ACLs off and default-deny ACLs with a token of ${POLICIES} policies x ${RULES} rules; wrk ${firstLine('wrk', ['--version']) ?? ''}, ${CONNECTIONS} connections, ${SECONDS}s per cell; a recursive read of ${TREE.toLocaleString()} keys (one branch in ten denied).\n`)
    for (const side of [off, on]) await preload(side)
    const cells: Cell[] = []
    const verdict = (ratio: number): Cell['result'] => (ratio >= 1 - TARGET_SLOWDOWN ? 'PASS' : 'FAIL')
    for (const method of ['GET', 'PUT'] as const) {
      const requests = (side: AbSide): LuaRequest[] => {
        const headers = (side as Side).token ? { 'X-Consul-Token': (side as Side).token } : undefined
        return Array.from({ length: KEYS }, (_, i) => ({ method, path: `/v1/kv/bench/k${i}`, ...(headers ? { headers } : {}), ...(method === 'PUT' ? { body: 'y'.repeat(100) } : {}) }))
      }
      const r = await compare(off, on, { requests, tag: `acl-${method}`, scratch, connections: CONNECTIONS, seconds: SECONDS, rounds: quick ? 2 : 6, profile: { code: ACL_CODE, headers: { 'X-Consul-Token': MASTER } } })
      cells.push({ metric: `KV ${method} c=${CONNECTIONS}`, off: r.rps[0], on: r.rps[1], unit: 'req/s', ratio: r.cpuRatio, rpsRatio: r.rpsRatio, cpuUsOff: r.cpuUs[0], cpuUsOn: r.cpuUs[1], aclShare: r.featureShare, result: verdict(r.cpuRatio) })
    }
    const rounds = quick ? 5 : 21
    const [tOff, tOn] = await compareLatency(off, on, rounds, (side) => treeRead(side as Side))
    cells.push({ metric: `recursive read of ${TREE.toLocaleString()} keys (median of ${rounds})`, off: tOff, on: tOn, unit: 'ms', ratio: tOff / tOn, result: verdict(tOff / tOn) })
    const fmt = (c: Cell, v: number): string => (c.unit === 'ms' ? `${v.toFixed(1)} ms` : `${Math.round(v).toLocaleString()} req/s`)
    const rows = cells.map((c) => [c.metric, fmt(c, c.off), fmt(c, c.on), c.rpsRatio === undefined ? `${c.ratio.toFixed(2)}x` : `${c.rpsRatio.toFixed(2)}x / ${c.ratio.toFixed(2)}x`, c.cpuUsOff === undefined ? '' : `${c.cpuUsOff.toFixed(1)} / ${(c.cpuUsOn ?? 0).toFixed(1)} us`, c.aclShare === undefined ? '' : `${(c.aclShare * 100).toFixed(1)}%`, c.result])
    process.stdout.write(`\n${textTable(['cell', 'ACLs off', 'ACLs on', 'on vs off (req/s / CPU, or time)', 'CPU/req off / on', 'CPU in ACL code', `target >= ${(1 - TARGET_SLOWDOWN).toFixed(2)}x`], rows, new Set([0]))}\n`)
    const results = join(ROOT, 'bench', 'results')
    mkdirSync(results, { recursive: true })
    const out = join(results, `acl-${new Date().toISOString().slice(0, 10)}.json`)
    writeFileSync(
      out,
      `${JSON.stringify({ benchmark: 'acl', date: new Date().toISOString(), quick, secondsPerCell: SECONDS, machine: { cores: cpus().length, cpu: cpus()[0]?.model, node: process.version, loadAverageBefore: load0, loadAverageAfter: loadavg()[0] }, token: { policies: POLICIES, rulesEach: RULES }, target: `ACLs on at least ${1 - TARGET_SLOWDOWN}x ACLs off`, cells }, null, 2)}\n`,
    )
    process.stdout.write(`results: ${out}\n`)
    return cells.every((c) => c.result === 'PASS') ? 0 : 1
  } finally {
    await cleanupAll()
  }
}

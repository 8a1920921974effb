/**
 * The reference side of `npm run bench -- cluster`: a 3-member etcd cluster on loopback (member N
 * on 127.0.0.N, default fsync, default 100 ms heartbeat / 1 s election), and the gRPC load
 * generator bench/cluster/go/etcdload.go built against Debian's etcd client sources.
 */
import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { join } from 'node:path'
import { freePort, removeTempDir, startServer, tempDir, type Server } from '../lib/procs.js'
import type { Roles } from './ours.js'

export interface EtcdMember {
  name: string
  url: string
  server: Server
}

export interface EtcdCluster {
  members: EtcdMember[]
  root: string
}

const b64 = (s: string): string => Buffer.from(s).toString('base64')

async function postJson(url: string, body: unknown, timeoutMs = 1000): Promise<unknown> {
  try {
    const res = await fetch(url, { method: 'POST', body: JSON.stringify(body), headers: { 'Content-Type': 'application/json' }, signal: AbortSignal.timeout(timeoutMs) })
    return res.status === 200 ? await res.json() : undefined
  } catch {
    return undefined
  }
}

export async function startEtcdCluster(bin: string, size = 3): Promise<EtcdCluster> {
  const root = tempDir('consul-bench-etcd-cluster-')
  const [client, peer] = [await freePort(), await freePort()]
  const names = Array.from({ length: size }, (_, i) => ({ name: `e${i + 1}`, ip: `127.0.0.${i + 1}` }))
  const initial = names.map((n) => `${n.name}=http://${n.ip}:${peer}`).join(',')
  // All at once: a member is healthy only once a quorum has started.
  const members = await Promise.all(
    names.map(async ({ name, ip }) => {
      const url = `http://${ip}:${client}`
      const peerUrl = `http://${ip}:${peer}`
      const args = [
        '--name', name, '--data-dir', join(root, name),
        '--listen-client-urls', url, '--advertise-client-urls', url,
        '--listen-peer-urls', peerUrl, '--initial-advertise-peer-urls', peerUrl,
        '--initial-cluster', initial, '--initial-cluster-state', 'new', '--initial-cluster-token', `bench-${process.pid}`,
        // zap at warn, as in the kv bench: info logging would cost etcd CPU ours does not spend.
        '--logger', 'zap', '--log-level', 'warn',
      ]
      const ready = async (): Promise<boolean> => {
        try {
          const res = await fetch(`${url}/health`, { signal: AbortSignal.timeout(1000) })
          return ((await res.json()) as { health?: string }).health === 'true'
        } catch {
          return false
        }
      }
      const server = await startServer({ name: `etcd ${name}`, cmd: bin, args, ready })
      return { name, url, server }
    }),
  )
  return { members, root }
}

/** The leader by /v3/maintenance/status (each member's id against the leader id it reports). */
export async function etcdRoles(cluster: EtcdCluster, timeoutMs = 10_000): Promise<Roles<EtcdMember>> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const status = await Promise.all(cluster.members.map((m) => postJson(`${m.url}/v3/maintenance/status`, {}) as Promise<{ header?: { member_id?: string }; leader?: string } | undefined>))
    const leaderId = status[0]?.leader
    if (leaderId && leaderId !== '0' && status.every((s) => s?.leader === leaderId)) {
      const i = status.findIndex((s) => s?.header?.member_id === leaderId)
      if (i >= 0) return { leader: cluster.members[i]!, followers: cluster.members.filter((_, j) => j !== i) }
    }
    if (Date.now() > deadline) throw new Error(`etcd: no agreed leader after ${timeoutMs} ms`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

export async function stopEtcdCluster(cluster: EtcdCluster): Promise<void> {
  await Promise.all(cluster.members.map((m) => m.server.stop()))
  removeTempDir(cluster.root)
}

export async function etcdPut(url: string, key: string, value: string): Promise<void> {
  const r = await postJson(`${url}/v3/kv/put`, { key: b64(key), value: b64(value) }, 5000)
  if (!r) throw new Error(`etcd put ${key} via ${url} failed`)
}

export async function etcdGet(url: string, key: string, serializable: boolean): Promise<string | undefined> {
  const r = (await postJson(`${url}/v3/kv/range`, { key: b64(key), serializable }, 5000)) as { kvs?: Array<{ value: string }> } | undefined
  const v = r?.kvs?.[0]?.value
  return v === undefined ? undefined : Buffer.from(v, 'base64').toString()
}

// ---- the gRPC load generator --------------------------------------------------------------

export const GO_DEB_PACKAGES = ['golang-go', 'golang-etcd-server-dev'] as const
const GOPATH_SYSTEM = '/usr/share/gocode'

export function debVersion(pkg: string): string | undefined {
  const r = spawnSync('dpkg-query', ['-W', '-f=${Version}', pkg], { encoding: 'utf8' })
  return r.status === 0 && r.stdout.trim() ? r.stdout.trim() : undefined
}

/** Builds etcdload.go offline in GOPATH mode; the binary's path, or why it could not. */
export async function buildEtcdLoad(goMain: string): Promise<string | { reason: string }> {
  if (spawnSync('go', ['version']).status !== 0) return { reason: 'go is not installed' }
  const missing = GO_DEB_PACKAGES.filter((p) => debVersion(p) === undefined)
  if (missing.length > 0) return { reason: `missing Debian packages: ${missing.join(' ')}` }
  const dir = tempDir('consul-bench-etcdload-')
  // The temp dir first in GOPATH and as GOCACHE: nothing is written under the system tree.
  const env: NodeJS.ProcessEnv = { ...process.env, GO111MODULE: 'off', GOFLAGS: '-mod=mod', GOTOOLCHAIN: 'local', GOPROXY: 'off', GOPATH: `${dir}:${GOPATH_SYSTEM}` }
  if (!env.GOCACHE) env.GOCACHE = join(dir, 'gocache')
  const bin = join(dir, 'etcdload')
  return new Promise((resolve) => {
    execFile('go', ['build', '-o', bin, goMain], { env, encoding: 'utf8', timeout: 300_000 }, (err, _stdout, stderr) => {
      resolve(err ? { reason: `go build failed: ${stderr.trim().split('\n').slice(-5).join(' | ') || err.message}` } : bin)
    })
  })
}

export interface GrpcResult {
  clients: number
  conns: number
  requests: number
  errors: number
  seconds: number
  opsPerSec: number
  p50Ms: number
  p99Ms: number
  firstError?: string
  go: string
}

let running: ChildProcess | undefined
/** For the signal handler: a ctrl-c mid-cell must not leave the load generator running. */
export function killEtcdLoad(): void {
  running?.kill('SIGKILL')
}

export function runEtcdLoad(bin: string, endpoint: string, clients: number, conns: number, warmupS: number, seconds: number): Promise<GrpcResult> {
  const args = ['-endpoints', endpoint, '-clients', String(clients), '-conns', String(conns), '-warmup', `${warmupS}s`, '-duration', `${seconds}s`]
  return new Promise((resolve, reject) => {
    const proc = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] })
    running = proc
    let out = ''
    let err = ''
    proc.stdout.on('data', (d: Buffer) => (out += d.toString()))
    proc.stderr.on('data', (d: Buffer) => (err += d.toString()))
    const timer = setTimeout(() => proc.kill('SIGKILL'), (warmupS + seconds + 60) * 1000)
    proc.once('error', reject)
    proc.once('exit', (code) => {
      clearTimeout(timer)
      running = undefined
      if (code !== 0) return reject(new Error(`etcdload ${args.join(' ')} exited with ${code}:\n${err.slice(-2000)}`))
      resolve(JSON.parse(out) as GrpcResult)
    })
  })
}

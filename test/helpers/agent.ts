import { spawn, type ChildProcess } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, dirname } from 'node:path'
import { fileURLToPath } from 'node:url'

/** Repository root (tests run from dist/test/...). */
export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..')
export const CONSUL_BIN = join(ROOT, 'bin', 'consul.js')
export const CONSULKV_BIN = join(ROOT, 'bin', 'consulkv.js')

export interface RunningAgent {
  proc: ChildProcess
  /** `http://127.0.0.1:PORT` of the first HTTP listener. */
  httpAddr: string
  /** `https://...` when an HTTPS listener was opened. */
  httpsAddr: string | undefined
  /** `ip:port` of server RPC (what /v1/status/leader names), and of LAN membership (what -join dials). */
  serverAddr: string
  lanAddr: string
  /** The DNS port (UDP and TCP) when started with `dns: true`. */
  dnsPort: number | undefined
  dataDir: string
  /** Everything the agent logged so far. */
  output: () => string
  /** SIGTERM and wait for exit. */
  stop: () => Promise<number | null>
  /** SIGKILL and wait for exit: nothing gets flushed. */
  kill9: () => Promise<void>
}

export function tempDir(prefix = 'consul-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix))
}

/** Server RPC and LAN ports picked by the system, unless the args set them: agents of other tests never contend for 8300/8301. */
function clusterPorts(args: readonly string[]): string[] {
  const has = (flag: string): boolean => args.some((a) => new RegExp(`^--?${flag}(=|$)`).test(a))
  return [...(has('server-port') ? [] : ['-server-port=0']), ...(has('serf-lan-port') ? [] : ['-serf-lan-port=0']), ...(has('serf-wan-port') ? [] : ['-serf-wan-port=0'])]
}

const STARTED = /agent: started|"@message":"started /
const running = new Set<ChildProcess>()
process.on('exit', () => {
  for (const p of running) p.kill('SIGKILL')
})

/** Runs one of our bins as a real process, its stdout and stderr kept together; killed if the test process exits first. */
export function spawnBin(bin: string, args: readonly string[], env: NodeJS.ProcessEnv = {}): { proc: ChildProcess; output: () => string; exited: Promise<number | null> } {
  const proc = spawn(process.execPath, [bin, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
  running.add(proc)
  let out = ''
  proc.stdout!.on('data', (d: Buffer) => (out += d.toString()))
  proc.stderr!.on('data', (d: Buffer) => (out += d.toString()))
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => {
    running.delete(proc)
    resolve(code)
  }))
  return { proc, output: () => out, exited }
}

/**
 * Starts `consul agent` as a real process on loopback with ephemeral ports (port 0) unless the
 * args say otherwise, and waits until it logs its HTTP listener. Default: a durable single
 * server in a fresh data dir; `client: true` starts a client agent (its servers come from a join in `args`).
 */
export async function startAgent(opts: { args?: string[]; dataDir?: string; env?: NodeJS.ProcessEnv; dev?: boolean; dns?: boolean; bootstrapExpect?: number; node?: string; client?: boolean; bootstrap?: boolean; connLimit?: number } = {}): Promise<RunningAgent> {
  const dataDir = opts.dataDir ?? tempDir()
  // limits.http_max_conns_per_client (Consul's 200 by default): tests holding thousands of watchers lift it.
  if (opts.connLimit !== undefined) {
    mkdirSync(dataDir, { recursive: true })
    const file = join(dataDir, 'conn-limit.json')
    writeFileSync(file, JSON.stringify({ limits: { http_max_conns_per_client: opts.connLimit } }))
    opts = { ...opts, args: [...(opts.args ?? []), `-config-file=${file}`] }
  }
  // DNS stays off unless asked for (`dns: true`, or a -dns-port in args), so other tests never
  // contend for port 8600; the flag may be given only once.
  const dnsInArgs = (opts.args ?? []).some((a) => /^--?dns-port(=|$)/.test(a))
  const dnsFlag = dnsInArgs ? [] : [opts.dns ? '-dns-port=0' : '-dns-port=-1']
  const bind = opts.args?.some((a) => /^--?bind(=|$)/.test(a)) ? [] : ['-bind=127.0.0.1']
  const httpPort = opts.args?.some((a) => /^--?http-port(=|$)/.test(a)) ? [] : ['-http-port=0']
  const base = opts.dev
    ? ['agent', '-dev', ...httpPort, ...dnsFlag]
    : opts.client
    ? ['agent', `-data-dir=${dataDir}`, `-node=${opts.node ?? 'test-client'}`, ...bind, ...httpPort, ...dnsFlag, ...clusterPorts(opts.args ?? []).filter((a) => a.startsWith('-serf-lan-port'))]
    : ['agent', '-server', opts.bootstrap ? '-bootstrap' : `-bootstrap-expect=${opts.bootstrapExpect ?? 1}`, `-data-dir=${dataDir}`, `-node=${opts.node ?? 'test-node'}`, ...bind, ...httpPort, ...dnsFlag, ...clusterPorts(opts.args ?? [])]
  const { proc, output, exited } = spawnBin(CONSUL_BIN, [...base, ...(opts.args ?? [])], opts.env)
  const deadline = Date.now() + 20_000
  let httpAddr: string | undefined
  let httpsAddr: string | undefined
  let dnsPort: number | undefined
  while (Date.now() < deadline) {
    // Text lines, or log_json's (where a quote ends the message).
    const http = /HTTP API listening on (http:\/\/[^\s"]+)/.exec(output())
    const https = /HTTPS API listening on (https:\/\/[^\s"]+)/.exec(output())
    if (http) httpAddr = http[1]
    if (https) httpsAddr = https[1]
    const dns = /DNS server listening on udp:\/\/\S+:(\d+) and tcp/.exec(output())
    if (dns) dnsPort = Number(dns[1])
    if (STARTED.test(output())) break
    if (proc.exitCode !== null) throw new Error(`agent exited with ${proc.exitCode}:\n${output()}`)
    await new Promise((r) => setTimeout(r, 25))
  }
  if (!STARTED.test(output())) {
    proc.kill('SIGKILL')
    throw new Error(`agent did not start in time:\n${output()}`)
  }
  return {
    proc,
    httpAddr: httpAddr ?? '',
    httpsAddr,
    serverAddr: /server RPC listening on (\S+);/.exec(output())?.[1] ?? '',
    lanAddr: /LAN membership on ([^;\s]+)/.exec(output())?.[1] ?? '',
    dnsPort,
    dataDir,
    output,
    stop: async () => {
      if (proc.exitCode === null) proc.kill('SIGTERM')
      return exited
    },
    kill9: async () => {
      if (proc.exitCode === null) proc.kill('SIGKILL')
      await exited
    },
  }
}

/** A dev agent started with `config` written to a file of its own; `dir` holds the file (remove it after). */
export async function startAgentWithConfig(config: object, opts: { dns?: boolean; args?: string[]; prefix?: string } = {}): Promise<{ agent: RunningAgent; dir: string }> {
  const dir = tempDir(opts.prefix ?? 'agent-config-')
  const file = join(dir, 'agent.json')
  writeFileSync(file, JSON.stringify(config))
  return { agent: await startAgent({ dev: true, dns: opts.dns, args: [`-config-file=${file}`, ...(opts.args ?? [])] }), dir }
}

/** Runs one of our CLIs to completion. */
export function runCli(bin: string, args: string[], opts: { env?: NodeJS.ProcessEnv; input?: string; cwd?: string } = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const proc = spawn(process.execPath, [bin, ...args], { cwd: opts.cwd, env: { ...process.env, ...opts.env }, stdio: ['pipe', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    proc.stdout.on('data', (d: Buffer) => (stdout += d.toString()))
    proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
    proc.stdin.end(opts.input ?? '')
    proc.on('exit', (code) => resolve({ code, stdout, stderr }))
  })
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true })
}

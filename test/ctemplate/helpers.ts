import { spawn, type ChildProcess } from 'node:child_process'
import { join } from 'node:path'
import { ROOT } from '../helpers/agent.js'

export const CT_BIN = join(ROOT, 'bin', 'consul-template.js')

export interface RunningCt {
  proc: ChildProcess
  stdout: () => string
  stderr: () => string
  exited: Promise<number | null>
  /** SIGINT (the kill signal), SIGKILL if still alive after a while; resolves with the exit code. */
  stop: () => Promise<number | null>
}

const running = new Set<ChildProcess>()
process.on('exit', () => {
  for (const p of running) p.kill('SIGKILL')
})

/** Starts consul-template as a real process. */
export function startCt(args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): RunningCt {
  const proc = spawn(process.execPath, [CT_BIN, ...args], { cwd: opts.cwd, env: { ...process.env, ...opts.env }, stdio: ['ignore', 'pipe', 'pipe'] })
  running.add(proc)
  let out = ''
  let err = ''
  proc.stdout!.on('data', (d: Buffer) => (out += d.toString()))
  proc.stderr!.on('data', (d: Buffer) => (err += d.toString()))
  const exited = new Promise<number | null>((resolve) =>
    proc.once('exit', (code) => {
      running.delete(proc)
      resolve(code)
    }),
  )
  return {
    proc,
    stdout: () => out,
    stderr: () => err,
    exited,
    stop: async () => {
      if (proc.exitCode === null && proc.signalCode === null) {
        proc.kill('SIGINT')
        const t = setTimeout(() => proc.kill('SIGKILL'), 10_000)
        const code = await exited
        clearTimeout(t)
        return code
      }
      return exited
    },
  }
}

/** Runs consul-template to completion (bounded: killed after timeoutMs). */
export async function runCt(args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const ct = startCt(args, opts)
  const t = setTimeout(() => ct.proc.kill('SIGKILL'), opts.timeoutMs ?? 30_000)
  const code = await ct.exited
  clearTimeout(t)
  return { code, stdout: ct.stdout(), stderr: ct.stderr() }
}

/** Registers a service with a TTL check in the given state. */
export async function register(agent: string, svc: { Name: string; ID: string; Port?: number; Address?: string; Meta?: Record<string, string>; Tags?: string[] }, status = 'passing'): Promise<void> {
  const res = await fetch(`${agent}/v1/agent/service/register`, { method: 'PUT', body: JSON.stringify({ ...svc, Check: { TTL: '10m', Status: status } }) })
  if (!res.ok) throw new Error(`register ${svc.ID}: ${res.status} ${await res.text()}`)
}

export async function setCheck(agent: string, serviceId: string, state: 'pass' | 'warn' | 'fail'): Promise<void> {
  const res = await fetch(`${agent}/v1/agent/check/${state}/service:${encodeURIComponent(serviceId)}`, { method: 'PUT' })
  if (!res.ok) throw new Error(`check ${state} ${serviceId}: ${res.status} ${await res.text()}`)
}

export async function deregister(agent: string, id: string): Promise<void> {
  const res = await fetch(`${agent}/v1/agent/service/deregister/${encodeURIComponent(id)}`, { method: 'PUT' })
  if (!res.ok) throw new Error(`deregister ${id}: ${res.status} ${await res.text()}`)
}

export async function kvPut(agent: string, key: string, value: string): Promise<void> {
  const res = await fetch(`${agent}/v1/kv/${key}`, { method: 'PUT', body: value })
  if (!res.ok) throw new Error(`kv put ${key}: ${res.status}`)
}

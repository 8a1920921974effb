import { readdir, readFile } from 'node:fs/promises'
import path from 'node:path'
import type { Host } from '../host.js'
import { DISTRIBUTIVE_LIMITS } from '../limits.js'
import { parseRegex } from '../params.js'
import { CannotRunError, fail, pass, ParamError, unknown, type CheckDef } from '../types.js'

/** The kernel truncates /proc/<pid>/comm to 15 bytes (TASK_COMM_LEN − 1). */
const COMM_LEN_MAX = 15

function clip(s: string): string {
  const t = s.trim()
  return t.length > DISTRIBUTIVE_LIMITS.messageBytesMax / 2 ? t.slice(0, DISTRIBUTIVE_LIMITS.messageBytesMax / 2) + '…' : t
}

/** Names a process answers to: its comm, its argv[0] and argv[0]'s base name. Read once per run, in parallel. */
function processNames(host: Host): Promise<string[][]> {
  return host.memo('processes', async () => {
    const pids = (await readdir(host.procRoot)).filter((e) => /^\d+$/.test(e) && Number(e) !== process.pid) // not distributive itself (upstream v0.3 counted itself)
    const read = (pid: string, file: string): Promise<string | undefined> => readFile(path.join(host.procRoot, pid, file), 'utf8').catch(() => undefined)
    const all = await Promise.all(
      pids.map(async (pid) => {
        const [comm, cmdline] = await Promise.all([read(pid, 'comm'), read(pid, 'cmdline')])
        if (comm === undefined) return undefined // exited between readdir and read
        // Kernel threads and zombies have an empty cmdline.
        const argv0 = (cmdline ?? '').split('\0')[0]!.split(' ')[0]!
        return argv0 ? [comm.trim(), argv0, path.basename(argv0)] : [comm.trim()]
      }),
    )
    return all.filter((n): n is string[] => n !== undefined)
  })
}

/** `sensors` temperatures worth comparing: per-core and package/die readings. */
export function parseSensors(text: string): number[] {
  const temps: number[] = []
  for (const m of text.matchAll(/^(?:Core \d+|Package id \d+|Tdie|Tctl|Tccd\d+|CPU|temp\d+):\s*\+?(-?\d+(?:\.\d+)?)\s*°?C/gm)) temps.push(Number(m[1]))
  return temps
}

function parseCelsius(s: string): number {
  const m = /^\s*(-?\d+(?:\.\d+)?)\s*(?:°\s*C|℃|C)?\s*$/i.exec(s)
  if (!m) throw new ParamError(`bad temperature ${JSON.stringify(s)} (e.g. 80, 80C, 80°C)`)
  return Number(m[1])
}

export const miscChecks: CheckDef[] = [
  {
    names: ['command'],
    params: 1,
    summary: 'bash -c "<command>" exits 0 (killed at the check timeout)',
    parse: ([cmd]) => {
      if (!cmd) throw new ParamError('empty command')
      return async (host, signal) => {
        const r = await host.exec('bash', ['-c', cmd], signal)
        if (r.code === 0) return pass()
        const how = r.code === null ? `killed by ${r.signal}` : `exit code ${r.code}`
        return fail(`Command failed (${how}):\n\tCommand: ${cmd}\n\tOutput: ${clip(r.output)}`)
      }
    },
  },
  {
    names: ['commandOutputMatches'],
    params: 2,
    summary: 'the output (stdout and stderr) of bash -c "<command>" matches the regex',
    parse: ([cmd, pattern]) => {
      if (!cmd) throw new ParamError('empty command')
      const re = parseRegex(pattern!)
      return async (host, signal) => {
        // A non-zero exit fails this check only; upstream stopped the whole run.
        const r = await host.exec('bash', ['-c', cmd], signal)
        if (re.test(r.output)) return pass()
        return fail(`Command output does not match regexp:\n\tCommand: ${cmd}\n\tRegexp: ${pattern}\n\tExit code: ${r.code}\n\tOutput: ${clip(r.output)}`)
      }
    },
  },
  {
    names: ['running'],
    params: 1,
    summary: 'a process with this name (comm, argv[0] or its base name) is running',
    parse: ([name]) => {
      if (!name) throw new ParamError('empty process name')
      return async (host) => {
        let procs: string[][]
        try {
          procs = await processNames(host)
        } catch (err) {
          return unknown(`cannot list processes: ${(err as Error).message}`)
        }
        const short = name.slice(0, COMM_LEN_MAX)
        for (const names of procs) if (names.includes(name) || names[0] === short) return pass()
        return fail(`Process not running: ${name}`)
      }
    },
  },
  {
    names: ['temp'],
    params: 1,
    summary: 'the hottest CPU temperature reported by `sensors` is below the limit (°C)',
    parse: ([max]) => {
      const limit = parseCelsius(max!)
      return async (host, signal) => {
        const r = await host.exec('sensors', [], signal)
        const temps = parseSensors(r.stdout)
        if (temps.length === 0) return unknown('sensors reported no CPU temperature')
        const hottest = Math.max(...temps)
        return hottest < limit ? pass() : fail(`CPU temperature above maximum:\n\tMaximum: ${limit}°C\n\tActual: ${hottest}°C`)
      }
    },
  },
  {
    names: ['module'],
    params: 1,
    summary: 'the kernel module is loaded (/proc/modules)',
    parse: ([name]) => {
      if (!name) throw new ParamError('empty module name')
      return async (host) => {
        let text: string
        try {
          text = await readFile(host.proc('modules'), 'utf8')
        } catch {
          return unknown('this kernel has no /proc/modules (no loadable modules, or a sandbox)')
        }
        const loaded = text.split('\n').map((l) => l.split(' ')[0]!).filter(Boolean)
        // lsmod prints dashes as underscores; accept either spelling.
        const want = name.replace(/-/g, '_')
        return loaded.includes(want) ? pass() : fail(`Module not loaded: ${name}`)
      }
    },
  },
  {
    names: ['kernelParameter'],
    params: [1, 2],
    summary: 'the sysctl key exists (/proc/sys), and has the value if one is given',
    parse: ([key, expected]) => {
      if (!key || !/^[\w.\-/]+$/.test(key) || key.includes('..')) throw new ParamError(`bad sysctl key ${JSON.stringify(key)}`)
      return async (host) => {
        let value: string
        try {
          value = await readFile(host.proc(`sys/${key.replace(/\./g, '/')}`), 'utf8')
        } catch (err) {
          const code = (err as NodeJS.ErrnoException).code
          if (code === 'EACCES' || code === 'EPERM') return unknown(`Permission denied reading kernel parameter ${key}`)
          return fail(`Kernel parameter not set: ${key}`)
        }
        if (expected === undefined) return pass()
        // Multi-value keys (net.ipv4.ip_local_port_range) are tab-separated; compare words.
        const norm = (s: string): string => s.trim().split(/\s+/).join(' ')
        return norm(value) === norm(expected) ? pass() : fail(`Kernel parameter has the wrong value:\n\tKey: ${key}\n\tSpecified: ${norm(expected)}\n\tActual: ${norm(value)}`)
      }
    },
  },
  {
    names: ['phpConfig'],
    params: 2,
    summary: 'php’s get_cfg_var(variable) equals the value',
    parse: ([variable, value]) => {
      if (!variable || !/^[\w.]+$/.test(variable)) throw new ParamError(`bad PHP configuration variable ${JSON.stringify(variable)}`)
      return async (host, signal) => {
        const r = await host.exec('php', ['-r', `echo get_cfg_var("${variable}");`], signal)
        if (r.code !== 0) throw new CannotRunError(`php exited ${r.code}: ${clip(r.output)}`)
        return r.stdout.trim() === value ? pass() : fail(`PHP configuration variable does not match:\n\tVariable: ${variable}\n\tSpecified: ${value}\n\tActual: ${r.stdout.trim()}`)
      }
    },
  },
]

/**
 * Driving Debian's `wrk` and reading its report. Both servers in a comparison go through this
 * same code path, so any overhead of the load generator is shared equally.
 *
 * wrk 4.x corrects its latency histogram for coordinated omission (stats_correct): a request
 * that took n x the mean interval between a connection's requests is recorded once plus n-1
 * synthetic samples. A handful of slow first requests while 256 connections open therefore
 * weigh as thousands (measured: 20 first answers held 1.5 s out of 88k requests, on a server that
 * accepts at once, move wrk's p99 from 29 ms to 1,062 ms). Node accepts one connection per event
 * loop iteration (libuv >= 1.45, libuv PR #3696) and each iteration serves every connection
 * already open, so when 256 connections open under load the last ones wait ~1 s for their first
 * answer; Go's accept goroutine does not. `openS` gives the connections that long to open, with
 * no requests, before the measured window, so the latency figures are the steady state's.
 */
import { spawn } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'

export interface LoadResult {
  requests: number
  durationS: number
  rps: number
  p50Ms: number
  p99Ms: number
  /** Responses with status >= 400 (wrk's "Non-2xx or 3xx responses"). */
  non2xx: number
  socketErrors: { connect: number; read: number; write: number; timeout: number }
}

export interface WrkRun {
  wrk: string
  url: string
  /** Lua script text; written to `dir`. */
  script: string
  scriptName: string
  dir: string
  connections: number
  seconds: number
  /** Per-request timeout: generous, so a slow fsync shows up as latency rather than as errors. */
  timeoutS?: number
  /**
   * Seconds at the start in which connections open but send nothing (the script must come from
   * randomRequestScript with the same openS); wrk runs that much longer and req/s is over the rest.
   */
  openS?: number
}

/** One wrk thread per core at most: the machine is small and wrk shares it with both servers. */
export function wrkThreads(connections: number): number {
  return Math.min(2, connections)
}

let current: import('node:child_process').ChildProcess | undefined
/** Used by the signal handler so a ctrl-c mid-cell does not leave wrk hammering a dead port. */
export function killWrk(): void {
  current?.kill('SIGKILL')
}

export async function runWrk(run: WrkRun): Promise<LoadResult> {
  const scriptPath = join(run.dir, run.scriptName)
  writeFileSync(scriptPath, run.script)
  const args = [
    `-t${wrkThreads(run.connections)}`,
    `-c${run.connections}`,
    `-d${run.seconds + (run.openS ?? 0)}s`,
    `--timeout`,
    `${run.timeoutS ?? 10}s`,
    '--latency',
    '-s',
    scriptPath,
    run.url,
  ]
  const { code, stdout, stderr } = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
    const proc = spawn(run.wrk, args, { stdio: ['ignore', 'pipe', 'pipe'] })
    current = proc
    let stdout = ''
    let stderr = ''
    proc.stdout.on('data', (d: Buffer) => (stdout += d.toString()))
    proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
    proc.once('error', reject)
    proc.once('exit', (code) => {
      current = undefined
      resolve({ code, stdout, stderr })
    })
  })
  if (code !== 0) throw new Error(`wrk ${args.join(' ')} exited with ${code}:\n${stdout}\n${stderr}`)
  const r = parseWrk(stdout)
  if (!run.openS) return r
  const measuredS = Math.max(0.001, r.durationS - run.openS)
  return { ...r, durationS: measuredS, rps: r.requests / measuredS }
}

/** wrk prints durations as 812.00us, 1.23ms, 2.00s or 1.50m. */
export function parseDurationMs(text: string): number {
  const m = /^([\d.]+)(us|ms|s|m|h)$/.exec(text.trim())
  if (!m) throw new Error(`unparseable wrk duration ${JSON.stringify(text)}`)
  const n = Number(m[1])
  switch (m[2]) {
    case 'us':
      return n / 1000
    case 'ms':
      return n
    case 's':
      return n * 1000
    case 'm':
      return n * 60_000
    default:
      return n * 3_600_000
  }
}

/** Parses the `--latency` report: percentiles, totals, socket errors and non-2xx responses. */
export function parseWrk(out: string): LoadResult {
  const pct = (p: string): number => {
    const m = new RegExp(`^\\s*${p}%\\s+(\\S+)\\s*$`, 'm').exec(out)
    if (!m) throw new Error(`wrk output has no ${p}% latency line:\n${out}`)
    return parseDurationMs(m[1]!)
  }
  const total = /^\s*(\d+) requests in ([\d.]+\w+),/m.exec(out)
  const rps = /^Requests\/sec:\s+([\d.]+)/m.exec(out)
  if (!total || !rps) throw new Error(`wrk output has no summary:\n${out}`)
  const sock = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out)
  const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(out)
  return {
    requests: Number(total[1]),
    durationS: parseDurationMs(total[2]!) / 1000,
    rps: Number(rps[1]),
    p50Ms: pct('50'),
    p99Ms: pct('99'),
    non2xx: non2xx ? Number(non2xx[1]) : 0,
    socketErrors: sock
      ? { connect: Number(sock[1]), read: Number(sock[2]), write: Number(sock[3]), timeout: Number(sock[4]) }
      : { connect: 0, read: 0, write: 0, timeout: 0 },
  }
}

/** Lua string literal (wrk's LuaJIT): every byte outside printable ASCII escaped. */
export function luaString(s: string): string {
  let out = '"'
  for (const byte of Buffer.from(s, 'utf8')) {
    if (byte === 0x22 || byte === 0x5c) out += `\\${String.fromCharCode(byte)}`
    else if (byte >= 0x20 && byte < 0x7f) out += String.fromCharCode(byte)
    else out += `\\${byte}`
  }
  return `${out}"`
}

export interface LuaRequest {
  method: string
  path: string
  headers?: Record<string, string>
  body?: string
}

/**
 * A wrk script that sends one of the given requests, chosen at random, per call. The requests
 * are formatted once per thread in init() so that Lua string building is not what we measure.
 * Each thread gets its own seed via setup(), otherwise both threads walk the same key sequence.
 * With `openS`, a delay() holds every request until that long after the thread's first one was
 * due (see the file comment); after that it returns 0 for both servers alike.
 */
export function randomRequestScript(requests: readonly LuaRequest[], opts: { openS?: number } = {}): string {
  const rows = requests.map((r) => {
    const headers = Object.entries(r.headers ?? {})
      .map(([k, v]) => `[${luaString(k)}] = ${luaString(v)}`)
      .join(', ')
    return `  { ${luaString(r.method)}, ${luaString(r.path)}, { ${headers} }, ${r.body === undefined ? 'nil' : luaString(r.body)} },`
  })
  return `-- generated by bench/lib/wrk.ts
local specs = {
${rows.join('\n')}
}
local formatted = {}
local n = #specs
-- thread_id stays a global: setup() sets it in each thread's Lua state with thread:set.
local next_id = 1

function setup(thread)
  thread:set("thread_id", next_id)
  next_id = next_id + 1
end

function init(args)
  math.randomseed(os.time() * 1000 + (thread_id or 0) * 7919)
  for i = 1, n do
    local s = specs[i]
    formatted[i] = wrk.format(s[1], s[2], s[3], s[4])
  end
end

function request()
  return formatted[math.random(n)]
end
${opts.openS ? openPhaseLua(opts.openS) : ''}`
}

/** delay() for randomRequestScript's open phase; CLOCK_MONOTONIC through LuaJIT's ffi. */
function openPhaseLua(openS: number): string {
  return `
local ffi = require("ffi")
ffi.cdef[[ typedef struct { long tv_sec; long tv_nsec; } bench_timespec; int clock_gettime(int, bench_timespec *); ]]
local ts = ffi.new("bench_timespec")
local function now_ms()
  ffi.C.clock_gettime(1, ts)
  return tonumber(ts.tv_sec) * 1000 + tonumber(ts.tv_nsec) / 1e6
end
local open_until = nil

function delay()
  local t = now_ms()
  if open_until == nil then open_until = t + ${Math.round(openS * 1000)} end
  if t < open_until then return math.ceil(open_until - t) end
  return 0
end
`
}

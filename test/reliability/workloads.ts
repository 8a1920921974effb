/**
 * What the clients do while a nemesis runs, and how each history is judged. Every workload runs
 * one client per agent (servers and client agents), on keys under its own prefix, until `until`;
 * `settle` runs once the cluster is whole again (reads of the end state); `check` judges.
 *
 * A write that got no answer may have happened: it goes into the history with no return (the
 * checker lets it land anywhere after its call, or never), and its client carries on under a new
 * client id. A refused connection means the request never left: it is dropped.
 */
import {
  checkOperations,
  countStaleReads,
  kvModel,
  mutexModel,
  setModel,
  type KvOperation,
  type MutexOperation,
  type SetOperation,
} from '../../src/lib/linearizability/index.js'
import { execFile } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { CONSUL_BIN } from '../helpers/agent.js'
import type { Member } from './cluster.js'
import { until } from '../helpers/poll.js'
import { call, sleep, valueOf, type Outcome } from './http.js'

export interface Ctx {
  members: readonly Member[]
  /** Date.now() at which clients stop. */
  until: number
  prefix: string
  rng: () => number
}

export interface Verdict {
  ops: number
  /** Histories (parts) checked. */
  histories: number
  anomalies: number
  lost: number
  /** Default-mode and ?stale reads that returned an older value (not an anomaly: counted, reported). */
  stale: number
  /** Parts the checker gave up on (not proven either way). */
  undecided: number
  notes: string[]
}

export interface Running {
  done: Promise<void>
  settle(members: readonly Member[]): Promise<void>
  check(): Verdict
}

export interface Workload {
  name: string
  what: string
  start(ctx: Ctx): Running
}

const CHECK = { timeoutMs: 20_000 }
/** Keys rotate every EPOCH_MS (Jepsen's independent keys): few operations are open on one key at once, so each part stays cheap to check. */
const EPOCH_MS = 2000
const now = (): number => performance.now()
const b64 = (s: string): string => Buffer.from(s).toString('base64')
const pick = <T>(rng: () => number, xs: readonly T[]): T => xs[Math.floor(rng() * xs.length)]!

const verdict = (v: Partial<Verdict>): Verdict => ({ ops: 0, histories: 0, anomalies: 0, lost: 0, stale: 0, undecided: 0, notes: [], ...v })

/** Runs `client` once per member, each with its own client ids (a new one after every unanswered write). */
function perMember(ctx: Ctx, client: (m: Member, nextId: () => number) => Promise<void>): Promise<void> {
  let ids = 0
  return Promise.all(ctx.members.map((m) => client(m, () => ids++))).then(() => undefined)
}

/** A register per key: put, CAS and `?consistent` get must be linearizable; default and `?stale` gets are judged alone (stale is counted, impossible is an anomaly). */
export const register: Workload = {
  name: 'register',
  what: 'KV put / CAS / ?consistent get per key: linearizable; default and ?stale gets counted when stale',
  start(ctx) {
    const strict: KvOperation[] = []
    const relaxed: KvOperation[] = []
    const t0 = Date.now()
    let unique = 0
    const keyNow = (): string => `${ctx.prefix}e${Math.floor((Date.now() - t0) / EPOCH_MS)}k${Math.floor(ctx.rng() * 3)}`
    const get = async (m: Member, key: string, mode: string): Promise<{ value: string | null; index: number } | undefined> => {
      const o = await call(m, 'GET', `/v1/kv/${key}${mode}`)
      if (!o.sent || !o.answer || (o.answer.status !== 200 && o.answer.status !== 404)) return undefined
      return { value: valueOf(o.answer), index: o.answer.status === 404 ? 0 : o.answer.index }
    }
    const done = perMember(ctx, async (m, nextId) => {
      let clientId = nextId()
      while (Date.now() < ctx.until) {
        const key = keyNow()
        const r = ctx.rng()
        if (r < 0.3) {
          const callTime = now()
          const read = await get(m, key, '?consistent')
          if (read) strict.push({ clientId, input: { op: 'get', key }, output: { kind: 'value', value: read.value }, callTime, returnTime: now() })
          else await sleep(20)
          continue
        }
        const value = `v${unique++}`
        let input: KvOperation['input'] = { op: 'put', key, value }
        let path = `/v1/kv/${key}`
        if (r > 0.7) {
          const callTime = now()
          const read = await get(m, key, '?consistent')
          if (!read) continue
          strict.push({ clientId, input: { op: 'get', key }, output: { kind: 'value', value: read.value }, callTime, returnTime: now() })
          input = { op: 'cas', key, expected: read.value, value }
          path = `/v1/kv/${key}?cas=${read.index}`
        }
        const callTime = now()
        const o = await call(m, 'PUT', path, value)
        if (!o.sent) {
          await sleep(50)
          continue
        }
        if (o.answer?.status === 200) {
          strict.push({ clientId, input, output: { kind: 'ok', ok: o.answer.text.trim() === 'true' }, callTime, returnTime: now() })
        } else {
          strict.push({ clientId, input, output: { kind: 'unknown' }, callTime, returnTime: Infinity })
          clientId = nextId()
        }
      }
    })
    // A reader per agent that never writes, so that an agent cut off from the leader keeps answering
    // default and ?stale reads (a writer there spends its time waiting for a leader).
    let readerIds = 1_000_000
    const readers = Promise.all(ctx.members.map(async (m) => {
      const clientId = readerIds++
      while (Date.now() < ctx.until) {
        const key = keyNow()
        const callTime = now()
        const read = await get(m, key, ctx.rng() < 0.5 ? '' : '?stale')
        if (read) relaxed.push({ clientId, input: { op: 'get', key }, output: { kind: 'value', value: read.value }, callTime, returnTime: now() })
        else await sleep(20)
        await sleep(5)
      }
    }))
    return {
      done: Promise.all([done, readers]).then(() => undefined),
      settle: async () => {},
      check() {
        const ops = strict.length + relaxed.length
        const parts = kvModel.partition!(strict).length
        // A write with no answer whose value someone read (or CAS'd on) landed before that read returned:
        // an exact tightening that keeps the search from trying it everywhere after its call.
        const seenBy = new Map<string, number>()
        const saw = (v: string | null, t: number): void => {
          if (v !== null) seenBy.set(v, Math.min(seenBy.get(v) ?? Infinity, t))
        }
        for (const op of strict) {
          if (op.output.kind === 'value') saw(op.output.value, op.returnTime)
          if (op.input.op === 'cas' && op.output.kind === 'ok' && op.output.ok) saw(op.input.expected, op.returnTime)
        }
        const tightened = strict.map((op) => {
          if (op.output.kind !== 'unknown' || op.input.op === 'get' || op.input.op === 'delete' || op.input.value === null) return op
          const by = seenBy.get(op.input.value)
          return by === undefined ? op : { ...op, output: { kind: 'ok' as const, ok: true }, returnTime: Math.max(by, op.callTime) }
        })
        const lin = checkOperations(kvModel, tightened, CHECK)
        const notes: string[] = []
        if (lin.result === 'illegal') notes.push(lin.explanation?.text ?? 'not linearizable')
        const s = countStaleReads(kvModel, strict, relaxed, CHECK)
        if (s.impossible.length > 0) notes.push(`${s.impossible.length} default/stale reads returned a value no write ever made current`)
        return verdict({ ops, histories: parts, anomalies: (lin.result === 'illegal' ? 1 : 0) + s.impossible.length, stale: s.stale.length, undecided: (lin.result === 'unknown' ? 1 : 0) + s.undecided.length, notes })
      },
    }
  },
}

/** A grow-only set of keys: every acknowledged add is in the final read, none appears before its add; reads are `?consistent`. */
export const set: Workload = {
  name: 'set',
  what: 'KV keys added under one prefix, listed with ?keys&consistent: no acknowledged add lost, none early',
  start(ctx) {
    const history: SetOperation[] = []
    const acked = new Set<string>()
    let final: string[] | undefined
    let unique = 0
    const dir = `${ctx.prefix}set/`
    const list = async (m: Member): Promise<string[] | undefined> => {
      const o = await call(m, 'GET', `/v1/kv/${dir}?keys&consistent`)
      if (!o.sent || !o.answer) return undefined
      if (o.answer.status === 404) return []
      if (o.answer.status !== 200) return undefined
      return (JSON.parse(o.answer.text) as string[]).map((k) => k.slice(dir.length))
    }
    const done = perMember(ctx, async (m, nextId) => {
      let clientId = nextId()
      while (Date.now() < ctx.until) {
        const callTime = now()
        if (ctx.rng() < 0.1) {
          const values = await list(m)
          if (values) history.push({ clientId, input: { op: 'read' }, output: { kind: 'values', values }, callTime, returnTime: now() })
          else await sleep(20)
          continue
        }
        const value = `a${unique++}`
        const o = await call(m, 'PUT', `/v1/kv/${dir}${value}`, value)
        if (!o.sent) {
          await sleep(50)
          continue
        }
        if (o.answer?.status === 200 && o.answer.text.trim() === 'true') {
          history.push({ clientId, input: { op: 'add', value }, output: { kind: 'ok' }, callTime, returnTime: now() })
          acked.add(value)
        } else {
          history.push({ clientId, input: { op: 'add', value }, output: { kind: 'unknown' }, callTime, returnTime: Infinity })
          clientId = nextId()
        }
      }
    })
    return {
      done,
      async settle(members) {
        final = await within30s('a final ?consistent read', () => list(pick(ctx.rng, members.filter((m) => m.kind === 'server'))))
        if (final) history.push({ clientId: -1, input: { op: 'read' }, output: { kind: 'values', values: final }, callTime: now(), returnTime: now() })
      },
      check() {
        const notes: string[] = []
        if (!final) return verdict({ ops: history.length, histories: 1, anomalies: 1, notes: ['no final read: the cluster never answered ?consistent after healing'] })
        const seen = new Set(final)
        const lost = [...acked].filter((v) => !seen.has(v))
        if (lost.length > 0) notes.push(`acknowledged adds missing from the final read: ${lost.slice(0, 10).join(', ')}`)
        // An add with no answer either shows up in a read (it landed before the first such read
        // returned: give it that return) or never does (it may not have happened: drop it). Exact, and
        // it leaves the search no open-ended operations.
        const firstSeen = new Map<string, number>()
        for (const op of history) if (op.output.kind === 'values') for (const v of op.output.values) firstSeen.set(v, Math.min(firstSeen.get(v) ?? Infinity, op.returnTime))
        const tightened = history.flatMap((op): SetOperation[] => {
          if (op.output.kind !== 'unknown' || op.input.op !== 'add') return [op]
          const by = firstSeen.get(op.input.value)
          return by === undefined ? [] : [{ ...op, output: { kind: 'ok' }, returnTime: Math.max(by, op.callTime) }]
        })
        const lin = checkOperations(setModel, tightened, CHECK)
        if (lin.result === 'illegal') notes.push(lin.explanation?.text ?? 'not linearizable')
        return verdict({ ops: history.length, histories: 1, anomalies: lin.result === 'illegal' ? 1 : 0, lost: lost.length, undecided: lin.result === 'unknown' ? 1 : 0, notes })
      },
    }
  },
}

/** Sessions and KV locks: never two holders at once, and a fenced write (txn with check-session) by a non-holder never lands. */
export const lock: Workload = {
  name: 'lock',
  what: 'sessions acquire / release a KV lock and write through a check-session txn: never two holders, no stale holder writes',
  start(ctx) {
    const history: MutexOperation[] = []
    /** Whose each session is, for a failure's report. */
    const owners: string[] = []
    const t0 = Date.now()
    const keyNow = (): string => `${ctx.prefix}lock/e${Math.floor((Date.now() - t0) / (2 * EPOCH_MS))}`
    const done = perMember(ctx, async (m, nextId) => {
      let session: string | undefined
      while (!session && Date.now() < ctx.until) {
        // No checks and no TTL: only a release frees the lock, so the model needs no invalidation.
        const o = await call(m, 'PUT', '/v1/session/create', JSON.stringify({ Name: `rel-${m.name}`, NodeChecks: [], LockDelay: '0s' }))
        if (o.sent && o.answer?.status === 200) session = (JSON.parse(o.answer.text) as { ID: string }).ID
        else await sleep(100)
      }
      if (session) owners.push(`${session} is ${m.name}'s`)
      let clientId = nextId()
      const op = async (kind: MutexOperation['input']['op'], key: string): Promise<boolean | undefined> => {
        const input = { op: kind, key, session: session! }
        const callTime = now()
        const o: Outcome = kind === 'guarded'
          ? await call(m, 'PUT', '/v1/txn', JSON.stringify([{ KV: { Verb: 'check-session', Key: key, Session: session } }, { KV: { Verb: 'set', Key: `${key}-data`, Value: b64(`${m.name}@${callTime}`) } }]))
          : await call(m, 'PUT', `/v1/kv/${key}?${kind}=${session}`, m.name)
        if (!o.sent) return false
        const a = o.answer
        // A txn answers 409 when a check fails (rolled back); a lock answers true or false.
        const ok = a?.status === 200 ? (kind === 'guarded' ? true : a.text.trim() === 'true') : a?.status === 409 && kind === 'guarded' ? false : undefined
        if (ok === undefined) {
          history.push({ clientId, input, output: { kind: 'unknown' }, callTime, returnTime: Infinity })
          clientId = nextId()
          return undefined
        }
        history.push({ clientId, input, output: { kind: 'ok', ok }, callTime, returnTime: now() })
        return ok
      }
      while (session && Date.now() < ctx.until) {
        const key = keyNow()
        const got = await op('acquire', key)
        if (got === false) {
          await sleep(10 + ctx.rng() * 40)
          continue
        }
        // Held (or maybe held): write under the fence, then let go.
        if (got) for (let i = 0; i < 2; i++) await op('guarded', key)
        await op('release', key)
      }
    })
    return {
      done,
      settle: async () => {},
      check() {
        const lin = checkOperations(mutexModel, history, CHECK)
        const notes = lin.result === 'illegal' ? [lin.explanation?.text ?? 'two holders at once', `sessions: ${owners.join(', ')}`] : []
        return verdict({ ops: history.length, histories: mutexModel.partition!(history).length, anomalies: lin.result === 'illegal' ? 1 : 0, undecided: lin.result === 'unknown' ? 1 : 0, notes })
      },
    }
  },
}

/**
 * Blocking queries: one writer counts up on a key with CAS (so the stored value only ever rises);
 * a `?consistent` watcher per agent must never see the index or the value go backwards, and every
 * watcher must see the last value once the cluster is whole (Consul's #7939).
 */
export const watch: Workload = {
  name: 'watch',
  what: 'a CAS counter followed by a ?consistent blocking query on every agent: index and value never go back, the last change is seen',
  start(ctx) {
    const key = `${ctx.prefix}counter`
    const problems: string[] = []
    const lastSeen = new Map<string, number>()
    let ops = 0
    let lastAcked = 0
    let final: number | undefined
    let stop = false
    const writer = (async () => {
      while (Date.now() < ctx.until) {
        const m = pick(ctx.rng, ctx.members)
        const r = await call(m, 'GET', `/v1/kv/${key}?consistent`)
        if (!r.sent || !r.answer || (r.answer.status !== 200 && r.answer.status !== 404)) {
          await sleep(50)
          continue
        }
        const current = Number(valueOf(r.answer) ?? 0)
        const o = await call(m, 'PUT', `/v1/kv/${key}?cas=${r.answer.status === 404 ? 0 : r.answer.index}`, String(current + 1))
        ops += 2
        if (o.sent && o.answer?.status === 200 && o.answer.text.trim() === 'true') lastAcked = Math.max(lastAcked, current + 1)
      }
    })()
    const watchers = ctx.members.map(async (m) => {
      let index = 0
      let value = 0
      while (!stop) {
        const o = await call(m, 'GET', `/v1/kv/${key}?consistent&index=${index}&wait=1s`, undefined, 8000)
        if (!o.sent || !o.answer || (o.answer.status !== 200 && o.answer.status !== 404)) {
          await sleep(50)
          continue
        }
        ops++
        const a = o.answer
        if (a.index < index) problems.push(`${m.name}: index went back from ${index} to ${a.index}`)
        const v = a.status === 404 ? 0 : Number(valueOf(a))
        if (v < value) problems.push(`${m.name}: value went back from ${value} to ${v}`)
        index = Math.max(index, a.index)
        value = Math.max(value, v)
        lastSeen.set(m.name, value)
      }
    })
    return {
      done: writer,
      async settle(members) {
        const r = await within30s('the final counter', async () => {
          const o = await call(pick(ctx.rng, members.filter((x) => x.kind === 'server')), 'GET', `/v1/kv/${key}?consistent`)
          return o.sent && o.answer && (o.answer.status === 200 || o.answer.status === 404) ? Number(valueOf(o.answer) ?? 0) : undefined
        })
        final = r
        if (r !== undefined) {
          const deadline = Date.now() + 20_000
          while (Date.now() < deadline && ctx.members.some((m) => (lastSeen.get(m.name) ?? 0) < r)) await sleep(100)
        }
        stop = true
        await Promise.all(watchers)
      },
      check() {
        const anomalies = [...problems]
        if (final === undefined) anomalies.push('no final read: the cluster never answered ?consistent after healing')
        else for (const m of ctx.members) if ((lastSeen.get(m.name) ?? 0) < final) anomalies.push(`${m.name}'s watcher never saw the last value ${final} (stuck at ${lastSeen.get(m.name) ?? 0})`)
        const lost = final !== undefined && final < lastAcked ? lastAcked - final : 0
        const notes = lost > 0 ? [`the final value ${final} is below the last acknowledged ${lastAcked}`, ...anomalies] : anomalies
        return verdict({ ops, histories: ctx.members.length, anomalies: anomalies.length, lost, notes })
      },
    }
  },
}

/**
 * The catalog: every agent registers instances of one service with a TTL check, passes the check
 * and deregisters some again. Once the cluster is whole, `?passing` on every agent and DNS (SRV
 * over TCP) must list exactly the instances acknowledged as registered and passing and not
 * acknowledged as deregistered (an unanswered request may go either way), within 30 s: what anti-entropy promises.
 */
export const catalog: Workload = {
  name: 'catalog',
  what: 'agents register, pass and deregister service instances: ?passing and DNS list exactly the acknowledged ones once healed',
  start(ctx) {
    const service = `rel-${ctx.prefix.replace(/[^a-z0-9]+/gi, '-').replace(/-+$/, '')}`.toLowerCase()
    const present = new Set<number>()
    const maybe = new Set<number>()
    const problems: string[] = []
    let ops = 0
    let port = 20000
    let noDig = false
    const done = perMember(ctx, async (m) => {
      const mine: number[] = []
      while (Date.now() < ctx.until) {
        const p = port++
        const id = `${service}-${p}`
        if (mine.length >= 3) {
          const old = mine.shift()!
          const o = await call(m, 'PUT', `/v1/agent/service/deregister/${service}-${old}`)
          if (!o.sent) {
            mine.unshift(old)
            await sleep(100)
            continue
          }
          ops++
          // Acknowledged: gone for good. No answer: maybe gone, no longer required.
          if (o.answer?.status === 200) {
            present.delete(old)
            maybe.delete(old)
          } else if (present.delete(old)) maybe.add(old)
          continue
        }
        maybe.add(p)
        const reg = await call(m, 'PUT', '/v1/agent/service/register', JSON.stringify({ ID: id, Name: service, Port: p, Check: { CheckID: `service:${id}`, TTL: '10m' } }))
        if (!reg.sent) {
          maybe.delete(p)
          await sleep(100)
          continue
        }
        ops++
        mine.push(p)
        if (reg.answer?.status !== 200) continue
        const pass = await call(m, 'PUT', `/v1/agent/check/pass/service:${id}`)
        ops++
        if (pass.sent && pass.answer?.status === 200) {
          present.add(p)
          maybe.delete(p)
        }
        await sleep(50)
      }
    })
    const listed = async (m: Member): Promise<Set<number> | undefined> => {
      const o = await call(m, 'GET', `/v1/health/service/${service}?passing`)
      if (!o.sent || o.answer?.status !== 200) return undefined
      return new Set((JSON.parse(o.answer.text) as Array<{ Service: { Port: number } }>).map((e) => e.Service.Port))
    }
    const inDns = async (m: Member): Promise<Set<number> | undefined> => {
      const out = await new Promise<string | undefined>((resolve) => execFile('dig', ['+tcp', '+short', '+time=2', '+tries=1', `@${m.bind}`, '-p', String(m.dnsPort), `${service}.service.consul`, 'SRV'], (err, stdout) => {
        if ((err as NodeJS.ErrnoException | null)?.code === 'ENOENT') noDig = true
        resolve(err ? undefined : stdout)
      }))
      if (out === undefined) return undefined
      return new Set(out.split('\n').filter(Boolean).map((line) => Number(line.split(' ')[2])))
    }
    const matches = (got: Set<number>): string | undefined => {
      const missing = [...present].filter((p) => !got.has(p))
      const extra = [...got].filter((p) => !present.has(p) && !maybe.has(p))
      return missing.length + extra.length === 0 ? undefined : `missing ${missing.join(',') || '-'}, should be gone ${extra.join(',') || '-'}`
    }
    return {
      done,
      async settle(members) {
        await Promise.all(members.map(async (m) => {
          for (const [what, read] of [['?passing', listed], ['DNS', inDns]] as const) {
            const deadline = Date.now() + 30_000
            let last = 'no answer'
            for (;;) {
              const got = await read(m)
              const wrong = got ? matches(got) : 'no answer'
              if (wrong === undefined) break
              last = wrong
              if (Date.now() > deadline) {
                problems.push(`${what} on ${m.name} 30 s after healing: ${last}`)
                break
              }
              await sleep(250)
            }
          }
        }))
      },
      check: () => verdict({ ops, histories: 1, anomalies: problems.length, lost: 0, notes: noDig ? ['dig is not installed (apt-get install dnsutils): DNS could not be checked', ...problems] : problems }),
    }
  },
}

/**
 * `consul lock` as users run it: on three agents, the CLI runs a short child under one prefix again
 * and again. Each child claims a marker file (O_EXCL) as it starts and drops it as it exits (or on
 * the SIGTERM `consul lock` sends when it loses the lock), so two children holding at once is seen
 * by the children themselves, whatever the agents say.
 */
const LOCK_CHILD = `const fs = require('fs'); const [marker, overlaps, ran, who] = process.argv.slice(1); let fd
fs.appendFileSync(ran, who + '\\n')
try { fd = fs.openSync(marker, 'wx'); fs.writeSync(fd, who) } catch { let by = '?'; try { by = fs.readFileSync(marker, 'utf8') } catch {} fs.appendFileSync(overlaps, who + ' started while ' + by + ' held the lock\\n') }
const done = () => { if (fd !== undefined) try { fs.unlinkSync(marker) } catch {} process.exit(0) }
process.on('SIGTERM', done); setTimeout(done, 150)`

export const consulLock: Workload = {
  name: 'consul-lock',
  what: 'the consul lock CLI on three agents runs a short child under one prefix, again and again: never two children at once',
  start(ctx) {
    const dir = mkdtempSync(join(tmpdir(), 'rel-lock-'))
    const [marker, overlaps, ran] = ['held', 'overlaps', 'ran'].map((f) => join(dir, f)) as [string, string, string]
    writeFileSync(overlaps, '')
    writeFileSync(ran, '')
    let runs = 0
    // Three contenders (clients first): every run of the CLI is a process start, which costs a core.
    const runners = [...ctx.members.filter((m) => m.kind === 'client'), ...ctx.members.filter((m) => m.kind === 'server')].slice(0, 3)
    const done = Promise.all(runners.map(async (m) => {
      while (Date.now() < ctx.until) {
        runs++
        const code = await new Promise<number | null>((resolve) => {
          const p = execFile(process.execPath, [CONSUL_BIN, 'lock', `-http-addr=${m.httpAddr}`, '-timeout=3s', '-shell=false', `${ctx.prefix}consul-lock`, process.execPath, '-e', LOCK_CHILD, marker, overlaps, ran, m.name], { timeout: 60_000 }, () => resolve(p.exitCode))
        })
        if (code !== 0) await sleep(200)
      }
    })).then(() => undefined)
    return {
      done,
      settle: async () => {},
      check() {
        const seen = readFileSync(overlaps, 'utf8').split('\n').filter(Boolean)
        const children = readFileSync(ran, 'utf8').split('\n').filter(Boolean).length
        rmSync(dir, { recursive: true, force: true })
        return verdict({ ops: runs, histories: 1, anomalies: seen.length, notes: [...seen, ...(children === 0 ? ['no child ever ran: the lock was never taken'] : [])] })
      },
    }
  },
}

export const WORKLOADS: readonly Workload[] = [register, set, lock, consulLock, watch, catalog]

/** The value `fn` gives within 30 s, or undefined: the end-state reads after healing. */
const within30s = <T>(what: string, fn: () => Promise<T | undefined>): Promise<T | undefined> => until(what, fn, 30_000).catch(() => undefined)

/**
 * Faults, each a small piece: `inject` hurts the cluster and returns how to undo it. A nemesis
 * cycles one fault (inject, hold, undo, rest) on a schedule drawn from its seed, so a run prints
 * its schedule and the same seed gives the same one. Targets named by role ("the leader") are
 * resolved when the step runs; the log says who it was.
 */
import { appendFileSync, existsSync, rmSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { randomBytes } from 'node:crypto'
import type { Cluster, Member } from './cluster.js'
import type { Faults } from './faults.js'

export type Undo = () => Promise<void> | void

export interface Fault {
  name: string
  what: string
  /** Why this fault cannot run here (a missing tool, no permission), or undefined. */
  unavailable?(faults: Faults): string | undefined
  /** Hurts the cluster; `pick` draws from the schedule's seed; `say` logs what was done to whom. */
  inject(c: Cluster, pick: () => number, say: (s: string) => void, faults: Faults): Promise<Undo>
}

export interface Step {
  at: number
  hold: number
  /** A number from the seed for this step's random choices. */
  draw: number
}

/** The schedule: faults held 1.5-4 s with 1-2.5 s of calm between, from 0.5 s in until `durationMs`. */
export function schedule(rng: () => number, durationMs: number): Step[] {
  const steps: Step[] = []
  let t = 500 + rng() * 1000
  while (true) {
    const hold = 1500 + rng() * 2500
    if (t + hold > durationMs) break
    steps.push({ at: Math.round(t), hold: Math.round(hold), draw: rng() })
    t += hold + 1000 + rng() * 1500
  }
  return steps
}

const live = (c: Cluster): Member[] => c.servers.filter((m) => c.up(m) && !m.paused)
/** The leader, or (mid-election) any live server. */
async function leaderOr(c: Cluster, pick: () => number): Promise<Member> {
  const l = await c.leader()
  if (l) return l
  const xs = live(c)
  return xs[Math.floor(pick() * xs.length)] ?? c.servers[0]!
}
async function followerOr(c: Cluster, pick: () => number): Promise<Member> {
  const l = await c.leader()
  const xs = live(c).filter((m) => m !== l)
  return xs[Math.floor(pick() * xs.length)] ?? c.servers[0]!
}
const anyServer = (c: Cluster, pick: () => number): Member => c.servers[Math.floor(pick() * c.servers.length)]!
const shuffled = <T>(xs: readonly T[], pick: () => number): T[] => {
  const out = [...xs]
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(pick() * (i + 1))
    ;[out[i], out[j]] = [out[j]!, out[i]!]
  }
  return out
}

type Target = (c: Cluster, pick: () => number) => Promise<Member> | Member
const TARGETS: Record<string, Target> = { leader: leaderOr, follower: followerOr, random: anyServer }

const kill = (role: string): Fault => ({
  name: `kill-${role}`,
  what: `kill -9 the ${role === 'random' ? 'a random server' : role}, restart it on its data`,
  async inject(c, pick, say) {
    const m = await TARGETS[role]!(c, pick)
    await c.kill9(m)
    say(`kill -9 ${m.name}`)
    return async () => {
      await c.restart(m)
      say(`restarted ${m.name}`)
    }
  },
})

const pause = (role: string): Fault => ({
  name: `pause-${role}`,
  what: `SIGSTOP the ${role === 'random' ? 'a random server' : role}, SIGCONT after`,
  async inject(c, pick, say) {
    const m = await TARGETS[role]!(c, pick)
    c.pause(m)
    say(`SIGSTOP ${m.name}`)
    return () => {
      c.resume(m)
      say(`SIGCONT ${m.name}`)
    }
  },
})

const names = (xs: readonly Member[]): string => xs.map((m) => m.name).join(',')

/** A partition both ways between the two groups `split` draws; healed after. */
const partition = (name: string, what: string, split: (c: Cluster, pick: () => number) => Promise<{ a: Member[]; b: Member[]; text: string }>): Fault => ({
  name,
  what,
  async inject(c, pick, say) {
    const { a, b, text } = await split(c, pick)
    c.cut(a, b)
    say(text)
    return heal(c, say)
  },
})

const heal = (c: Cluster, say: (s: string) => void): Undo => () => {
  c.heal()
  say('healed')
}

const partitionHalves = partition('partition-halves', 'servers split into a minority and a majority, both ways', async (c, pick) => {
  const xs = shuffled(c.servers, pick)
  const a = xs.slice(0, Math.floor(xs.length / 2))
  const b = xs.slice(a.length)
  return { a, b, text: `cut ${names(a)} | ${names(b)}` }
})

const partitionLeader = partition('partition-leader', 'the leader cut off from every other server, both ways', async (c, pick) => {
  const l = await leaderOr(c, pick)
  return { a: [l], b: c.servers.filter((m) => m !== l), text: `isolated ${l.name}` }
})

const partitionBridge = partition('partition-bridge', 'two halves that only one bridge server sees both of', async (c, pick) => {
  const [bridge, ...rest] = shuffled(c.servers, pick)
  const a = rest.slice(0, Math.ceil(rest.length / 2))
  const b = rest.slice(a.length)
  return { a, b, text: `cut ${names(a)} | ${names(b)}, bridged by ${bridge!.name}` }
})

const partitionOneWay: Fault = {
  name: 'partition-oneway',
  what: 'the leader can no longer reach the others; they still reach it',
  async inject(c, pick, say) {
    const l = await leaderOr(c, pick)
    for (const m of c.servers) if (m !== l) c.block(l, m)
    say(`${l.name} cannot dial the other servers`)
    return heal(c, say)
  },
}

/** A fault that turns one server's knob (a control file a shim reads) to a drawn value, then back. */
const knob = (name: string, what: string, unavailable: (f: Faults) => string | undefined, turn: (f: Faults, m: Member, v: number) => void, draw: (pick: () => number) => number, describe: (v: number) => string): Fault => ({
  name,
  what,
  unavailable,
  async inject(c, pick, say, faults) {
    const m = anyServer(c, pick)
    const v = draw(pick)
    turn(faults, m, v)
    say(`${m.name}: ${describe(v)}`)
    return () => {
      turn(faults, m, 0)
      say(`${m.name}: back`)
    }
  },
})

const clockSkew = knob('clock-skew', 'one server\'s wall clock jumps by up to +-60 s (libfaketime), then back', (f) => f.clockUnavailable(), (f, m, v) => f.setClock(m, v), (pick) => Math.round((pick() * 2 - 1) * 60), (v) => `clock ${v >= 0 ? '+' : ''}${v}s`)
const slowFsync = knob('slow-fsync', 'fsync takes 50-300 ms on one server (an LD_PRELOAD shim)', (f) => f.fsyncUnavailable(), (f, m, v) => f.setFsyncDelay(m, v), (pick) => Math.round(50 + pick() * 250), (v) => `fsync +${v}ms`)

const fullDisk: Fault = {
  name: 'full-disk',
  what: 'one server\'s data_dir (a small tmpfs) filled up, then freed',
  unavailable: (f) => f.diskUnavailable(),
  async inject(c, pick, say, faults) {
    const m = await followerOr(c, pick)
    const filler = faults.fillDisk(m)
    say(`${m.name}'s disk full`)
    return () => {
      rmSync(filler, { force: true })
      say(`${m.name}'s disk freed`)
    }
  },
}

const tornWrite: Fault = {
  name: 'torn-write',
  what: 'kill -9 a server and leave half a frame at the end of its raft log (an unsynced write torn by the crash)',
  async inject(c, pick, say) {
    const m = anyServer(c, pick)
    await c.kill9(m)
    const wal = join(m.dataDir, 'raft', 'raft.db-wal')
    // A WAL frame is a 24-byte header and a page; a crash mid-write leaves part of one.
    const torn = randomBytes(24 + Math.floor(pick() * 2000))
    if (existsSync(wal)) appendFileSync(wal, torn)
    say(`kill -9 ${m.name}, ${torn.length} torn bytes after its log's ${existsSync(wal) ? statSync(wal).size - torn.length : 0}`)
    return async () => {
      await c.restart(m)
      say(`restarted ${m.name}`)
    }
  },
}

const none: Fault = {
  name: 'none',
  what: 'no fault: the workloads alone',
  async inject() {
    return () => {}
  },
}

export const FAULTS: readonly Fault[] = [
  none,
  kill('leader'),
  kill('follower'),
  kill('random'),
  pause('leader'),
  pause('random'),
  partitionHalves,
  partitionLeader,
  partitionBridge,
  partitionOneWay,
  clockSkew,
  slowFsync,
  fullDisk,
  tornWrite,
]

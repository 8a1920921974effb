/**
 * Failover of our 3-server cluster: a closed loop of PUTs through a surviving server, each with a
 * short timeout; once a few succeed, `kill -9` of the leader between two requests. Failover time
 * = from the kill to the first acknowledged write, as a client sees it. Then the killed server is
 * restarted on its data dir and the next round waits until it has caught up.
 */
import { alive, ourRoles, startNode, tryFetch, waitCaughtUp, type OurCluster, type OurNode } from './ours.js'

/** Per-PUT timeout: short, so a request stuck on the dead leader costs little of the figure. */
export const WRITE_TIMEOUT_MS = 300
/** Successful writes through the survivor before the kill: the loop is demonstrably running. */
const WRITES_BEFORE_KILL = 5
/** After an answer faster than this (a 500 "no leader"), wait so the loop does not spin a core. */
const MIN_ATTEMPT_MS = 5

export interface FailoverRound {
  round: number
  killed: string
  via: string
  /** Kill to the first acknowledged write; null if none within the round's deadline. */
  failoverMs: number | null
  /** Kill to the survivor first naming a new leader on /v1/status/leader (polled every 25 ms). */
  leaderKnownMs: number | null
  newLeader: string | null
  attempts: number
  failures: Record<string, number>
}

export interface FailoverSummary {
  multiplier: number
  rounds: FailoverRound[]
  medianMs: number | null
  minMs: number | null
  maxMs: number | null
  leaderKnownMedianMs: number | null
  failedRounds: number
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

/** 'ok', or what went wrong: the failure kinds show whether the survivor held, refused or failed writes. */
async function put(node: OurNode, key: string): Promise<string> {
  try {
    const res = await fetch(`${node.url}/v1/kv/${key}`, { method: 'PUT', body: 'x', signal: AbortSignal.timeout(WRITE_TIMEOUT_MS) })
    const text = await res.text()
    return res.status === 200 && text.trim() === 'true' ? 'ok' : `http ${res.status}`
  } catch (err) {
    return (err as Error).name === 'TimeoutError' ? 'timeout' : 'connection error'
  }
}

export function median(values: readonly number[]): number | null {
  if (values.length === 0) return null
  const s = [...values].sort((a, b) => a - b)
  const mid = s.length >> 1
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2
}

async function oneRound(cluster: OurCluster, round: number, deadlineMs: number): Promise<FailoverRound> {
  const { leader, followers } = await ourRoles(cluster, deadlineMs)
  const via = followers[0]!
  const oldAddr = `${leader.ip}:${cluster.serverPort}`
  const failures: Record<string, number> = {}
  let attempts = 0
  let seq = 0
  let okRun = 0
  // Warm the loop (and the survivor's connection to the leader) before the kill.
  while (okRun < WRITES_BEFORE_KILL) {
    const r = await put(via, `bench/failover/${round}/${seq++}`)
    okRun = r === 'ok' ? okRun + 1 : 0
    if (seq > 1000) throw new Error(`round ${round}: writes through ${via.name} do not succeed before the kill (${r})`)
  }
  const exited = new Promise<void>((resolve) => leader.server!.proc.once('exit', () => resolve()))
  const tKill = performance.now()
  leader.server!.proc.kill('SIGKILL')

  let leaderKnownMs: number | null = null
  let newLeader: string | null = null
  let done = false
  const poller = (async () => {
    while (!done && performance.now() - tKill < deadlineMs) {
      const r = await tryFetch(`${via.url}/v1/status/leader`, {}, 250)
      const addr = r?.status === 200 ? r.text.trim().replace(/^"|"$/g, '') : ''
      if (addr && addr !== oldAddr) {
        leaderKnownMs = performance.now() - tKill
        newLeader = cluster.nodes.find((n) => addr === `${n.ip}:${cluster.serverPort}`)?.name ?? addr
        return
      }
      await sleep(25)
    }
  })()

  let failoverMs: number | null = null
  while (performance.now() - tKill < deadlineMs) {
    const t0 = performance.now()
    attempts++
    const r = await put(via, `bench/failover/${round}/${seq++}`)
    if (r === 'ok') {
      failoverMs = performance.now() - tKill
      break
    }
    failures[r] = (failures[r] ?? 0) + 1
    const took = performance.now() - t0
    if (took < MIN_ATTEMPT_MS) await sleep(MIN_ATTEMPT_MS - took)
  }
  // Give the poller a moment to see the leader the write just went through, then stop it.
  await Promise.race([poller, sleep(500)])
  done = true
  await poller
  await exited
  return { round, killed: leader.name, via: via.name, failoverMs, leaderKnownMs, newLeader, attempts, failures }
}

export async function measureFailover(cluster: OurCluster, rounds: number, log: (line: string) => void): Promise<FailoverSummary> {
  // Generous: at raft_multiplier 5 an election alone takes several seconds.
  const deadlineMs = 20_000 * cluster.multiplier
  const results: FailoverRound[] = []
  for (let round = 1; round <= rounds; round++) {
    const r = await oneRound(cluster, round, deadlineMs)
    results.push(r)
    const fails = Object.entries(r.failures).map(([k, v]) => `${v} ${k}`).join(', ') || 'none'
    log(
      `  failover m=${cluster.multiplier} round ${String(round).padStart(2)}: killed ${r.killed} (leader), writes via ${r.via}: ` +
        `${r.failoverMs === null ? 'NO WRITE ACKNOWLEDGED' : `${Math.round(r.failoverMs)} ms`} to the first ack, ` +
        `new leader ${r.newLeader ?? '?'} known at ${r.leaderKnownMs === null ? '-' : `${Math.round(r.leaderKnownMs)} ms`}; failed attempts: ${fails}`,
    )
    const killed = cluster.nodes.find((n) => n.name === r.killed)!
    if (!alive(killed)) await startNode(killed)
    await waitCaughtUp(cluster, killed, deadlineMs)
  }
  const ok = results.flatMap((r) => (r.failoverMs === null ? [] : [r.failoverMs]))
  return {
    multiplier: cluster.multiplier,
    rounds: results,
    medianMs: median(ok),
    minMs: ok.length ? Math.min(...ok) : null,
    maxMs: ok.length ? Math.max(...ok) : null,
    leaderKnownMedianMs: median(results.flatMap((r) => (r.leaderKnownMs === null ? [] : [r.leaderKnownMs]))),
    failedRounds: results.length - ok.length,
  }
}

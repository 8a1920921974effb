/**
 * Identical blocking queries share one wait: thousands of agents and consul-template instances
 * watching one service send the same GET (same path, query and token) at the same ?index. The
 * first such request (the leader) runs its handler, and so its blocking query, as any other; the
 * ones that arrive while it waits (followers) only park here, without evaluating anything. When
 * the leader's query wakes with a newer result, its answer (status, headers, encoded body) is
 * written to every follower as is: one evaluation and one encode per write however many watch.
 *
 * Why the followers' answer is theirs too: a follower joins only while the leader waits, i.e.
 * while the leader's last evaluation of the same query was at or below the same index and nothing
 * it read has changed since (a change wakes it before any other request is read), so the
 * follower's own evaluation would have waited too; and the leader's answer is computed at the
 * moment they would all have been woken, from the same request parameters.
 *
 * Each follower keeps its own deadline (its own ?wait and jitter): when it runs out, or when the
 * leader stops waiting without a shareable answer (its wait ran out, its client left), the
 * follower runs its own handler: the leader's place passes to the oldest follower, with the
 * deadline it got on arrival. A group has one timer, for its earliest deadline (a heap orders
 * them), so a wake costs no timer work per follower.
 */
import type http from 'node:http'
import { blockingParams, type ApiRequest } from './request.js'
import type { HttpLimits } from './context.js'
import type { BlockingCounters } from '../server/blocking.js'
import type { Clock, Timer } from '../lib/clock.js'

/** What is written for one request: reusable as is for every identical waiter (the JSON is encoded once). */
export interface Answer {
  status: number
  /** Alternating names and values, as writeHead takes them. */
  headers: string[]
  body: Buffer | string | undefined
  /** Its body was streamed by its handler (GET /v1/agent/monitor): not to be written again. */
  streamed?: true
}

interface Follower {
  req: ApiRequest
  res: http.ServerResponse
  deadline: number
  /** Removes the disconnect listener. */
  forget: () => void
}

interface Group {
  key: string
  leader: ApiRequest
  /** In arrival order: the oldest becomes the next leader. */
  followers: Set<Follower>
  /** Min-heap by deadline; followers that left are skipped when they come up. */
  deadlines: Follower[]
  timer: Timer | undefined
  timerAt: number
}

/** Runs a request's handler and writes its answer; `key` says it leads the group of that key. */
export type Serve = (req: ApiRequest, res: http.ServerResponse, key: string | undefined) => void

export interface SharedWaitsOptions {
  limits: () => HttpLimits
  write: (res: http.ServerResponse, answer: Answer) => void
  serve: () => Serve
  counters: BlockingCounters
  /** The server's clock: deadlines are on it. */
  clock: Clock
  /** When a blocking read of `waitMs` that starts now gives up, jitter included (the server's rule). */
  deadline: (waitMs: number) => number
}

export class SharedWaits {
  readonly #groups = new Map<string, Group>()
  readonly limits: () => HttpLimits
  readonly write: (res: http.ServerResponse, answer: Answer) => void
  readonly serve: () => Serve
  readonly counters: BlockingCounters
  readonly #clock: Clock
  readonly #deadline: (waitMs: number) => number

  constructor(o: SharedWaitsOptions) {
    this.limits = o.limits
    this.write = o.write
    this.serve = o.serve
    this.counters = o.counters
    this.#clock = o.clock
    this.#deadline = o.deadline
  }

  /**
   * The group key of a blocking GET (?index above 0), or undefined for any other request. The
   * query string minus ?wait, its parameters in a stable order by name (handlers read them by
   * name; repeated ones keep their order), and the token: requests with the same key get the
   * same answer at the same state.
   */
  keyOf(req: ApiRequest): string | undefined {
    if (req.method !== 'GET') return undefined
    const index = req.param('index')
    if (index === undefined || index === '' || /^0+$/.test(index)) return undefined
    const params = [...req.query].filter(([name]) => name !== 'wait')
    params.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
    return `${req.path}?${new URLSearchParams(params).toString()}\n${req.token}`
  }

  /**
   * Parks `req` as a follower when an identical query is waiting, and says so; otherwise
   * `req` leads a new group (`leader`), or runs on its own when its parameters are invalid
   * (`alone`: its handler will answer the error).
   */
  join(key: string, req: ApiRequest, res: http.ServerResponse): 'leader' | 'follower' | 'alone' {
    const group = this.#groups.get(key)
    if (!group) {
      this.#groups.set(key, { key, leader: req, followers: new Set(), deadlines: [], timer: undefined, timerAt: Infinity })
      return 'leader'
    }
    let deadline: number
    try {
      deadline = this.#deadline(blockingParams(req, { defaultWaitMs: this.limits().defaultQueryTimeMs, maxWaitMs: this.limits().maxQueryTimeMs }).waitMs)
    } catch {
      return 'alone'
    }
    req.blockingDeadline = deadline
    const follower: Follower = { req, res, deadline, forget: () => undefined }
    follower.forget = req.onClientGone(() => {
      if (group.followers.delete(follower)) this.counters.parked--
    })
    group.followers.add(follower)
    push(group.deadlines, follower)
    this.counters.parked++
    this.#arm(group)
    return 'follower'
  }

  /**
   * The leader of `key` has its answer: a woken query's answer goes to every follower too;
   * otherwise the oldest follower takes over the wait, or, when the handler was not a blocking
   * query at all (or failed), every follower runs its own.
   */
  leaderDone(key: string, req: ApiRequest, answer: Answer): void {
    const group = this.#groups.get(key)
    if (!group || group.leader !== req) return
    const outcome = req.blockingOutcome
    if (outcome === 'changed' || outcome === 'immediate') {
      this.#close(group)
      for (const f of group.followers) {
        f.forget()
        this.counters.shared++
        this.write(f.res, answer)
      }
      return
    }
    if (outcome === 'timeout' || outcome === 'aborted') {
      const next = group.followers.values().next().value as Follower | undefined
      if (!next) {
        this.#close(group)
        return
      }
      this.#remove(group, next)
      group.leader = next.req
      this.serve()(next.req, next.res, key)
      return
    }
    this.#close(group)
    for (const f of group.followers) {
      f.forget()
      this.serve()(f.req, f.res, undefined)
    }
  }

  /** Ends the group: no new followers, no timer; its followers are the caller's to answer. */
  #close(group: Group): void {
    this.#groups.delete(group.key)
    group.timer?.cancel()
    group.timer = undefined
    this.counters.parked -= group.followers.size
  }

  #remove(group: Group, f: Follower): void {
    if (!group.followers.delete(f)) return
    f.forget()
    this.counters.parked--
  }

  /** One timer per group, at its earliest deadline still parked. */
  #arm(group: Group): void {
    const first = group.deadlines[0]
    if (!first || first.deadline >= group.timerAt) return
    group.timer?.cancel()
    group.timerAt = first.deadline
    group.timer = this.#clock.setTimeout(() => this.#expire(group), Math.max(0, first.deadline - this.#clock.now()))
  }

  /** Followers whose wait ran out answer on their own (current state, same index). */
  #expire(group: Group): void {
    group.timer = undefined
    group.timerAt = Infinity
    const now = this.#clock.now()
    while (group.deadlines.length > 0 && group.deadlines[0]!.deadline <= now) {
      const f = pop(group.deadlines)!
      if (!group.followers.has(f)) continue
      this.#remove(group, f)
      this.serve()(f.req, f.res, undefined)
    }
    while (group.deadlines.length > 0 && !group.followers.has(group.deadlines[0]!)) pop(group.deadlines)
    if (this.#groups.get(group.key) === group) this.#arm(group)
  }
}

function push(heap: Follower[], f: Follower): void {
  heap.push(f)
  for (let i = heap.length - 1; i > 0; ) {
    const parent = (i - 1) >> 1
    if (heap[parent]!.deadline <= heap[i]!.deadline) break
    ;[heap[parent], heap[i]] = [heap[i]!, heap[parent]!]
    i = parent
  }
}

function pop(heap: Follower[]): Follower | undefined {
  const top = heap[0]
  const last = heap.pop()
  if (heap.length === 0 || last === undefined) return top
  heap[0] = last
  for (let i = 0; ; ) {
    const l = 2 * i + 1
    const r = l + 1
    let m = i
    if (l < heap.length && heap[l]!.deadline < heap[m]!.deadline) m = l
    if (r < heap.length && heap[r]!.deadline < heap[m]!.deadline) m = r
    if (m === i) break
    ;[heap[m], heap[i]] = [heap[i]!, heap[m]!]
    i = m
  }
  return top
}

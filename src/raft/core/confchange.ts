import type { ConfChange, ConfState, Entry } from './types.js'
import { ConfChangeKind } from './types.js'

/**
 * Membership changes one server at a time (Raft dissertation §4.1): a change is a `config` log entry and,
 * as in hashicorp/raft, a server uses the latest configuration in its log, committed or not. Pure:
 * returns a new ConfState or the reason the change is refused.
 */
export function applyConfChange(conf: ConfState, cc: ConfChange): ConfState | string {
  if (cc.type === 'bootstrap') {
    if (conf.voters.length > 0) return 'bootstrap of a configured cluster'
    if (cc.conf.voters.length === 0) return 'bootstrap without voters'
    return cloneConf(cc.conf)
  }
  const isVoter = conf.voters.includes(cc.id)
  const isLearner = conf.learners.includes(cc.id)
  switch (cc.type) {
    case ConfChangeKind.AddLearner:
      if (isVoter || isLearner) return `${cc.id} is already a member`
      return withStaging([...conf.voters], [...conf.learners, cc.id], cc.promote === true ? [...staged(conf), cc.id] : staged(conf))
    case ConfChangeKind.Promote:
      if (!isLearner) return `${cc.id} is not a learner`
      return withStaging([...conf.voters, cc.id], conf.learners.filter((x) => x !== cc.id), staged(conf).filter((x) => x !== cc.id))
    case ConfChangeKind.Remove:
      if (!isVoter && !isLearner) return `${cc.id} is not a member`
      if (isVoter && conf.voters.length === 1) return `cannot remove the last voter ${cc.id}`
      return withStaging(conf.voters.filter((x) => x !== cc.id), conf.learners.filter((x) => x !== cc.id), staged(conf).filter((x) => x !== cc.id))
    default:
      return `unknown change type ${String((cc as { type: unknown }).type)}`
  }
}

function staged(c: ConfState): string[] {
  return c.staging ?? []
}

/** A ConfState with `staging` only when it is not empty, so configurations without staged learners keep their shape. */
function withStaging(voters: string[], learners: string[], staging: string[]): ConfState {
  return staging.length > 0 ? { voters, learners, staging } : { voters, learners }
}

export function encodeConfChange(cc: ConfChange): Uint8Array {
  const o = cc.type === 'bootstrap' ? { type: cc.type, conf: cloneConf(cc.conf) }
    : cc.promote === true ? { type: cc.type, id: cc.id, promote: true } : { type: cc.type, id: cc.id }
  return new TextEncoder().encode(JSON.stringify(o))
}

/** Undefined for bytes that are not a ConfChange (a corrupted entry: the caller logs and skips it). */
export function decodeConfChange(data: Uint8Array): ConfChange | undefined {
  try {
    const o = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(data)) as Record<string, unknown>
    if (typeof o !== 'object' || o === null) return undefined
    if (o.type === 'bootstrap') {
      const c = o.conf as Record<string, unknown> | null
      const ids = (v: unknown): v is string[] => Array.isArray(v) && v.every((x) => typeof x === 'string' && x !== '')
      if (typeof c !== 'object' || c === null || !ids(c.voters) || !ids(c.learners)) return undefined
      return { type: 'bootstrap', conf: { voters: c.voters, learners: c.learners } }
    }
    const kinds: readonly unknown[] = Object.values(ConfChangeKind)
    if (!kinds.includes(o.type) || typeof o.id !== 'string' || o.id === '') return undefined
    if (o.promote !== undefined && (o.promote !== true || o.type !== ConfChangeKind.AddLearner)) return undefined
    return o.promote === true ? { type: ConfChangeKind.AddLearner, id: o.id, promote: true } : { type: o.type as ConfChangeKind, id: o.id }
  } catch {
    return undefined
  }
}

export function cloneConf(c: ConfState): ConfState {
  return withStaging([...c.voters], [...c.learners], [...staged(c)])
}

/**
 * The configurations found in the log after a base (the snapshot's or the bootstrap one), so a
 * truncated suffix takes its configuration changes with it.
 */
export class ConfHistory {
  #base: ConfState
  #baseIndex: number
  #items: { index: number; conf: ConfState }[] = []

  constructor(base: ConfState, baseIndex: number) {
    this.#base = cloneConf(base)
    this.#baseIndex = baseIndex
  }

  current(): ConfState { return this.#items.at(-1)?.conf ?? this.#base }
  /** Index of the entry that set the current configuration (the base's index when none). */
  currentIndex(): number { return this.#items.at(-1)?.index ?? this.#baseIndex }

  /** The configuration in force at `index` (for a snapshot taken there). */
  at(index: number): ConfState {
    let c = this.#base
    for (const it of this.#items) if (it.index <= index) c = it.conf
    return c
  }

  reset(base: ConfState, baseIndex: number): void {
    this.#base = cloneConf(base)
    this.#baseIndex = baseIndex
    this.#items = []
  }

  /** Forgets history at or below `index` (compaction), folding it into the base. */
  compactTo(index: number): void {
    this.#base = this.at(index)
    this.#baseIndex = Math.max(this.#baseIndex, index)
    this.#items = this.#items.filter((it) => it.index > index)
  }

  /** The log changed from `firstChanged` on: drop what was there and read config entries in `entries`. */
  rescan(firstChanged: number, entries: readonly Entry[], log: (line: string) => void): void {
    this.#items = this.#items.filter((it) => it.index < firstChanged)
    for (const e of entries) {
      if (e.type !== 'config') continue
      const cc = decodeConfChange(e.data)
      const next = cc === undefined ? 'undecodable' : applyConfChange(this.current(), cc)
      if (typeof next === 'string') {
        log(`config entry ${e.index} ignored: ${next}`)
        continue
      }
      this.#items.push({ index: e.index, conf: next })
    }
  }
}

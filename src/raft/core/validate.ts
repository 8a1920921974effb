import { ENTRY_KINDS, type Entry, type Message, type SnapshotMeta } from './types.js'

/**
 * Shape checks for messages arriving at `step` (they come off the network, decoded by someone else):
 * returns a reason when the value is not a well-formed Message, or undefined when it is. A message that
 * passes may still be refused by the protocol rules (unknown sender, stale term).
 */
export function invalidMessage(m: unknown): string | undefined {
  if (typeof m !== 'object' || m === null) return 'not an object'
  const o = m as Record<string, unknown>
  if (!isId(o.from) || !isId(o.to)) return 'from/to must be non-empty strings'
  if (!isIndex(o.term)) return 'term must be a non-negative integer'
  switch (o.type) {
    case 'vote':
    case 'preVote':
      if (!isIndex(o.lastLogIndex) || !isIndex(o.lastLogTerm)) return 'bad lastLogIndex/lastLogTerm'
      if (typeof o.transfer !== 'boolean') return 'transfer must be a boolean'
      return undefined
    case 'voteResp':
    case 'preVoteResp':
      return typeof o.reject === 'boolean' ? undefined : 'reject must be a boolean'
    case 'append':
      return invalidAppend(o)
    case 'appendResp':
      if (typeof o.reject !== 'boolean') return 'reject must be a boolean'
      if (!isIndex(o.index) || !isIndex(o.hintIndex) || !isIndex(o.hintTerm)) return 'bad index/hint'
      return undefined
    case 'heartbeat':
      if (!isIndex(o.commit)) return 'bad commit'
      return typeof o.context === 'string' ? undefined : 'context must be a string'
    case 'heartbeatResp':
    case 'readIndex':
      return typeof o.context === 'string' ? undefined : 'context must be a string'
    case 'readIndexResp':
      if (typeof o.context !== 'string') return 'context must be a string'
      return Number.isSafeInteger(o.index) && (o.index as number) >= -1 ? undefined : 'bad index'
    case 'snapshot':
      if (!isIndex(o.offset) || !(o.data instanceof Uint8Array) || typeof o.done !== 'boolean') return 'bad chunk'
      return invalidMeta(o.meta, o.term as number)
    case 'snapshotResp':
      if (!isIndex(o.snapshotIndex) || !isIndex(o.offset) || typeof o.reject !== 'boolean') return 'bad snapshot response'
      return undefined
    case 'timeoutNow':
      return undefined
    default:
      return `unknown message type ${JSON.stringify(String(o.type)).slice(0, 40)}`
  }
}

function invalidAppend(o: Record<string, unknown>): string | undefined {
  if (!isIndex(o.prevIndex) || !isIndex(o.prevTerm) || !isIndex(o.commit)) return 'bad prevIndex/prevTerm/commit'
  if (!Array.isArray(o.entries)) return 'entries must be an array'
  let index = o.prevIndex as number
  let term = o.prevTerm as number
  for (const e of o.entries as unknown[]) {
    const bad = invalidEntry(e)
    if (bad) return bad
    const entry = e as Entry
    if (entry.index !== index + 1) return 'entries are not contiguous after prevIndex'
    if (entry.term < term) return 'entry terms go backwards'
    if (entry.term > (o.term as number)) return 'entry term above the message term'
    index = entry.index
    term = entry.term
  }
  return undefined
}

function invalidEntry(e: unknown): string | undefined {
  if (typeof e !== 'object' || e === null) return 'entry is not an object'
  const o = e as Record<string, unknown>
  if (!isIndex(o.index) || (o.index as number) < 1 || !isIndex(o.term)) return 'bad entry index/term'
  if (typeof o.type !== 'string' || !ENTRY_KINDS.includes(o.type)) return 'bad entry type'
  return o.data instanceof Uint8Array ? undefined : 'entry data must be bytes'
}

function invalidMeta(m: unknown, msgTerm: number): string | undefined {
  if (typeof m !== 'object' || m === null) return 'snapshot meta missing'
  const o = m as Record<string, unknown>
  if (!isIndex(o.index) || !isIndex(o.term) || !isIndex(o.size) || !isIndex(o.crc32)) return 'bad snapshot meta'
  const conf = o.conf as SnapshotMeta['conf'] | undefined
  if (typeof conf !== 'object' || conf === null) return 'snapshot meta has no conf'
  if ((o.term as number) > msgTerm) return 'snapshot term above the message term'
  if (!Array.isArray(conf.voters) || !conf.voters.every(isId) || conf.voters.length === 0) return 'bad snapshot voters'
  if (!Array.isArray(conf.learners) || !conf.learners.every(isId)) return 'bad snapshot learners'
  if (conf.staging !== undefined && (!Array.isArray(conf.staging) || !conf.staging.every((id) => conf.learners.includes(id)))) return 'bad snapshot staging'
  return undefined
}

function isId(v: unknown): v is string {
  return typeof v === 'string' && v.length > 0 && v.length <= 256
}

function isIndex(v: unknown): v is number {
  return Number.isSafeInteger(v) && (v as number) >= 0
}

/** Type guard form of invalidMessage. */
export function isMessage(m: unknown): m is Message {
  return invalidMessage(m) === undefined
}

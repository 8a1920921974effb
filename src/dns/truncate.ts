/**
 * Fitting an answer into a message size. Records come in groups (one SRV answer and the A/TXT
 * records of its target; one A answer per address): a group's answers go in whole or not at all,
 * and its additional records follow only when there is room left after every answer that fits.
 *
 * Consul trims UDP answers silently unless `enable_truncate` is set; we always set TC when an
 * answer record had to be left out, so a resolver knows to retry over TCP. Dropping additional
 * records alone does not set TC (RFC 2181 9: TC means the answer itself is incomplete).
 *
 * Records are encoded once, when their group is built (dns-packet does not compress names, so a
 * record's bytes do not depend on where it lands in the message); fitting is arithmetic on
 * their lengths and the answer is a concatenation.
 */
import dnsPacket, { type Answer } from 'dns-packet'

/** A group in wire form only: what assembling an answer needs (and what crosses to a UDP worker). */
export interface WireGroup {
  /** The answers' wire bytes, back to back. */
  answerWire: Uint8Array
  answerCount: number
  /** Each additional record's wire bytes, by position. */
  additionalWire: Uint8Array[]
  /** Each additional record's identity, so shared glue goes in once. */
  additionalKeys: string[]
}

export interface RecordGroup extends WireGroup {
  answers: Answer[]
  additionals: Answer[]
}

/** dns-packet's single-record codec (exported at runtime, missing from its type declarations). */
const rr = (dnsPacket as unknown as { answer: { encode(a: Answer): Buffer } }).answer

/** One resource record in wire form. */
export function encodeRecord(a: Answer): Buffer {
  return rr.encode(a)
}

export function makeGroup(answers: Answer[], additionals: Answer[]): RecordGroup {
  return {
    answers,
    additionals,
    answerWire: Buffer.concat(answers.map(encodeRecord)),
    answerCount: answers.length,
    additionalWire: additionals.map(encodeRecord),
    additionalKeys: additionals.map(recordKey),
  }
}

export interface Fitted {
  answers: Uint8Array[]
  answerCount: number
  additionals: Uint8Array[]
  truncated: boolean
  bytes: number
}

/**
 * Takes whole groups, in order, while their answers fit in `budget` bytes; then, in the same
 * order, each distinct additional record that still fits.
 */
export function fitGroups(groups: readonly RecordGroup[], budget: number): Fitted {
  const answers: Uint8Array[] = []
  let answerCount = 0
  let bytes = 0
  let kept = 0
  for (const g of groups) {
    if (bytes + g.answerWire.length > budget) break
    bytes += g.answerWire.length
    answers.push(g.answerWire)
    answerCount += g.answerCount
    kept++
  }
  const additionals: Uint8Array[] = []
  let seen: Set<string> | undefined
  for (let i = 0; i < kept; i++) {
    const g = groups[i]!
    for (let j = 0; j < g.additionalWire.length; j++) {
      const wire = g.additionalWire[j]!
      if (bytes + wire.length > budget) continue
      const key = g.additionalKeys[j]!
      seen ??= new Set()
      if (seen.has(key)) continue
      seen.add(key)
      bytes += wire.length
      additionals.push(wire)
    }
  }
  return { answers, answerCount, additionals, truncated: kept < groups.length, bytes }
}

function recordKey(rec: Answer): string {
  const data = (rec as { data?: unknown }).data
  return `${rec.name}|${rec.type}|${Array.isArray(data) ? data.map(String).join('\u0000') : typeof data === 'object' ? JSON.stringify(data) : String(data)}`
}

/**
 * Fitting an answer into a message size. Records come in groups (one SRV answer and the A/TXT
 * records of its target; one A answer per address): a group's answers go in whole or not at all,
 * and its additional records follow only when there is room left after every answer that fits.
 *
 * Consul trims UDP answers silently unless `enable_truncate` is set; we always set TC when an
 * answer record had to be left out, so a resolver knows to retry over TCP. Dropping additional
 * records alone does not set TC (RFC 2181 9: TC means the answer itself is incomplete).
 */
import dnsPacket, { type Answer, type Packet } from 'dns-packet'

export interface RecordGroup {
  answers: Answer[]
  additionals: Answer[]
  /** Wire bytes of `answers` together. */
  answerBytes: number
  /** Wire bytes of each additional record, by position. */
  additionalBytes: number[]
}

/**
 * Appends to `packet` (which already holds its question, fixed answers, authorities and OPT)
 * as many groups as fit in `maxSize` bytes, in order; then as many of their additional records
 * as still fit, each name/type/data once. Returns whether an answer group was left out.
 */
export function fitResponse(packet: Packet, groups: readonly RecordGroup[], maxSize: number): { truncated: boolean; size: number } {
  let size = dnsPacket.encodingLength(packet)
  const answers = packet.answers ?? (packet.answers = [])
  const additionals = packet.additionals ?? (packet.additionals = [])
  let kept = 0
  for (const g of groups) {
    if (size + g.answerBytes > maxSize) break
    size += g.answerBytes
    answers.push(...g.answers)
    kept++
  }
  const seen = new Set<string>()
  // The OPT record, if any, stays last, as resolvers expect it after the glue.
  const opt = additionals.length > 0 && additionals[additionals.length - 1]!.type === 'OPT' ? additionals.pop() : undefined
  for (let i = 0; i < kept; i++) {
    const g = groups[i]!
    for (let j = 0; j < g.additionals.length; j++) {
      const rec = g.additionals[j]!
      const key = recordKey(rec)
      if (seen.has(key)) continue
      const bytes = g.additionalBytes[j]!
      if (size + bytes > maxSize) continue
      seen.add(key)
      size += bytes
      additionals.push(rec)
    }
  }
  if (opt) additionals.push(opt)
  return { truncated: kept < groups.length, size }
}

function recordKey(rec: Answer): string {
  const data = (rec as { data?: unknown }).data
  return `${rec.name}|${rec.type}|${Array.isArray(data) ? data.map(String).join('\u0000') : String(data)}`
}

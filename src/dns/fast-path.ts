/**
 * The wire fast path: a repeated question answered without decoding the query.
 *
 * Under load most queries repeat a few questions. Once the full path (decode, route, fit) has
 * answered a question whose whole answer fits the client's size, that answer's parts are kept
 * under a key read straight off the query bytes; the next query with the same key is answered
 * by shuffling the cached record groups and copying bytes. Only the message ID differs between
 * such queries, so the result is what the full path would give (the same shuffle, limits and
 * records), minus ~1.5 µs of decoding and assembling per query.
 *
 * A query the key reader is not sure about (compression pointers, non-ASCII names, more than one
 * question, records other than one OPT, EDNS versions above 0, trailing bytes) has no key and
 * takes the full path, which judges it as before.
 */
import type { WireGroup } from './truncate.js'

const HEADER_BYTES = 12
const MAX_NAME_BYTES = 255
const MAX_LABEL_BYTES = 63
const OPT_TYPE = 41
/** An OPT record after the question: root name (1), type (2), class = size (2), TTL (4), RDLENGTH (2). */
const OPT_FIXED_BYTES = 11

/**
 * The cache key of a query's question as the full path would answer it: the lower-cased wire
 * name, type, class, RD bit, transport and EDNS payload size, or -1 without EDNS (our answer
 * echoes an OPT record with the size, over TCP too). The wire name is length-prefixed, so no two
 * questions share a key. Undefined for anything but one plain question with at most an OPT record.
 */
export function wireQuestionKey(buf: Buffer, transport: 'udp' | 'tcp'): string | undefined {
  if (buf.length < HEADER_BYTES + 5) return undefined
  // Opcode QUERY, one question, no answers or authorities, at most one additional (the OPT).
  if ((buf[2]! & 0x78) !== 0 || buf.readUInt16BE(4) !== 1 || buf.readUInt16BE(6) !== 0 || buf.readUInt16BE(8) !== 0) return undefined
  const additionals = buf.readUInt16BE(10)
  if (additionals > 1) return undefined
  let at = HEADER_BYTES
  let upper = false
  for (;;) {
    const len = buf[at]
    if (len === undefined || len > MAX_LABEL_BYTES) return undefined // past the end, or a pointer
    if (len === 0) break
    const end = at + 1 + len
    if (end > buf.length) return undefined
    for (let i = at + 1; i < end; i++) {
      const b = buf[i]!
      // Bytes above ASCII: lower-casing a latin1 string would fold some of them; leave them to the full path.
      if (b >= 0x80) return undefined
      if (b >= 0x41 && b <= 0x5a) upper = true
    }
    at = end
    if (at - HEADER_BYTES > MAX_NAME_BYTES) return undefined
  }
  const nameEnd = at + 1
  if (nameEnd + 4 > buf.length) return undefined
  const qtype = buf.readUInt16BE(nameEnd)
  const qclass = buf.readUInt16BE(nameEnd + 2)
  let end = nameEnd + 4
  let size = -1
  if (additionals === 1) {
    if (end + OPT_FIXED_BYTES > buf.length || buf[end] !== 0 || buf.readUInt16BE(end + 1) !== OPT_TYPE || buf[end + 6] !== 0) return undefined
    size = buf.readUInt16BE(end + 3)
    end += OPT_FIXED_BYTES + buf.readUInt16BE(end + 9)
  }
  if (end !== buf.length) return undefined
  // Label lengths are below 0x40, so lower-casing the latin1 text folds only the name's A-Z.
  let name = buf.toString('latin1', HEADER_BYTES, nameEnd)
  if (upper) name = name.toLowerCase()
  return `${name}|${qtype}|${qclass}|${buf[2]! & 1}|${transport}|${size}`
}

/** An answer whose every record fits: what varies per query is the ID and the order of its groups. */
export interface WholeAnswer {
  /** Header and question, flags set; ID and section counts are written per query. */
  head: Uint8Array
  groups: readonly WireGroup[]
  shuffle: boolean
  /** Groups kept per query (`a_record_limit`, `udp_answer_limit`); Infinity when unlimited. */
  limit: number
  /** Our OPT record when the query had one. */
  opt: Uint8Array | undefined
  /** The prepared-query generation the answer was computed at. */
  generation: number
  /** Some glue record belongs to several groups: additionals must be de-duplicated per query. */
  sharedGlue: boolean
}

/** The groups one query answers with: shuffled when the answer asks for it, then cut to `limit`. */
export function pickGroups<G extends WireGroup>(groups: readonly G[], shuffle: boolean, limit: number, random: () => number): readonly G[] {
  let out = groups
  if (shuffle && groups.length > 1) {
    const copy = groups.slice()
    for (let i = copy.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1))
      const t = copy[i]!
      copy[i] = copy[j]!
      copy[j] = t
    }
    out = copy
  }
  return out.length > limit ? out.slice(0, limit) : out
}

/**
 * Whether any `limit` of `groups`, with all their additional records, fit in `budget` bytes: then
 * every answer the full path could give for them is whole, and can be cached. Also says whether
 * glue is shared between groups. With a limit below the group count the test is on the `limit`
 * largest groups, glue counted per group (an upper bound), so a big service asked for without
 * EDNS (`udp_answer_limit`) still takes the fast path.
 */
export function fitsWhole(groups: readonly WireGroup[], budget: number, limit: number): { fits: boolean; sharedGlue: boolean } {
  let bytes = 0
  const seen = new Set<string>()
  let sharedGlue = false
  const sizes: number[] = []
  for (const g of groups) {
    bytes += g.answerWire.length
    let size = g.answerWire.length
    for (let j = 0; j < g.additionalWire.length; j++) {
      size += g.additionalWire[j]!.length
      const key = g.additionalKeys[j]!
      if (seen.has(key)) {
        sharedGlue = true
        continue
      }
      seen.add(key)
      bytes += g.additionalWire[j]!.length
    }
    sizes.push(size)
  }
  if (limit >= groups.length) return { fits: bytes <= budget, sharedGlue }
  sizes.sort((a, b) => b - a)
  let largest = 0
  for (let i = 0; i < limit; i++) largest += sizes[i]!
  return { fits: largest <= budget, sharedGlue }
}

/** The wire answer to query `id` from a cached whole answer. */
export function renderWhole(entry: WholeAnswer, id: number, random: () => number): Buffer {
  const groups = pickGroups(entry.groups, entry.shuffle, entry.limit, random)
  let seen: Set<string> | undefined
  let size = entry.head.length + (entry.opt?.length ?? 0)
  let answerCount = 0
  let additionalCount = entry.opt ? 1 : 0
  const glue: Uint8Array[] = []
  for (const g of groups) {
    size += g.answerWire.length
    answerCount += g.answerCount
    for (let j = 0; j < g.additionalWire.length; j++) {
      if (entry.sharedGlue) {
        seen ??= new Set()
        const key = g.additionalKeys[j]!
        if (seen.has(key)) continue
        seen.add(key)
      }
      const wire = g.additionalWire[j]!
      glue.push(wire)
      size += wire.length
    }
  }
  additionalCount += glue.length
  const out = Buffer.allocUnsafe(size)
  // TypedArray#set: small copies without a call into Node's C++ binding each (Buffer#copy).
  out.set(entry.head, 0)
  let at = entry.head.length
  for (const g of groups) {
    out.set(g.answerWire, at)
    at += g.answerWire.length
  }
  for (const wire of glue) {
    out.set(wire, at)
    at += wire.length
  }
  if (entry.opt) out.set(entry.opt, at)
  out.writeUInt16BE(id, 0)
  out.writeUInt16BE(answerCount, 6)
  out.writeUInt16BE(0, 8)
  out.writeUInt16BE(additionalCount, 10)
  return out
}

/** Whether the first question asks for PTR (Consul times those as dns.ptr_query), read off the wire. */
export function isPtrQuery(buf: Uint8Array): boolean {
  let at = 12
  while (at < buf.length) {
    const len = buf[at]!
    if (len === 0) return buf.length >= at + 3 && ((buf[at + 1]! << 8) | buf[at + 2]!) === 12
    if ((len & 0xc0) !== 0) return false
    at += len + 1
  }
  return false
}

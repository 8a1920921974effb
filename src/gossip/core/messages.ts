/**
 * The gossip wire format, pure: one packet is a type byte and a msgpack body, or a compound of
 * several such messages (type, count, big-endian u16 lengths, then the parts: memberlist's
 * layout), which lets broadcasts ride on probes up to a packet's room. Decoding never throws: bad
 * input is a value saying why, for the driver to drop and count.
 */
import { decode, encode } from '@msgpack/msgpack'
import type { AliveMessage, DeadMessage, MemberRecord, SuspectMessage } from './state.js'

/** Message types. WARNING: on the wire; only append. */
export const MessageType = {
  ping: 0,
  indirectPing: 1,
  ack: 2,
  suspect: 3,
  alive: 4,
  dead: 5,
  pushPull: 6,
  compound: 7,
  user: 8,
  nack: 9,
} as const
export type MessageType = (typeof MessageType)[keyof typeof MessageType]

export interface Ping {
  seq: number
  /** The member the ping is for (a member at a reused address does not answer for another). */
  node: string
}
export interface IndirectPing {
  seq: number
  /** The member to probe on the sender's behalf, and where. */
  target: string
  addr: string
  port: number
  /** Send a nack if the target does not answer (Lifeguard: tells the asker the prober itself is fine). */
  nack: boolean
}
export interface Ack {
  seq: number
  /** What the answering member attaches (serf: its network coordinate); only on a direct ack. */
  payload?: Uint8Array
}

/** An ack payload larger than this is refused (a coordinate is about 100 bytes). */
export const MAX_ACK_PAYLOAD = 512

export type Message =
  | { type: 'ping'; body: Ping }
  | { type: 'indirectPing'; body: IndirectPing }
  | { type: 'ack'; body: Ack }
  | { type: 'nack'; body: Ack }
  | { type: 'suspect'; body: SuspectMessage }
  | { type: 'alive'; body: AliveMessage }
  | { type: 'dead'; body: DeadMessage }
  | { type: 'user'; body: Uint8Array }

const NAMES = Object.fromEntries(Object.entries(MessageType).map(([k, v]) => [v, k])) as Record<number, keyof typeof MessageType>

export function encodeMessage(m: Message): Uint8Array {
  return typed(MessageType[m.type], m.body)
}

/** A type byte, then the msgpack body: every message, in a packet or on a stream. */
function typed(type: number, body: unknown): Uint8Array {
  const encoded = encode(body)
  const out = new Uint8Array(encoded.byteLength + 1)
  out[0] = type
  out.set(encoded, 1)
  return out
}

/** Several messages as one packet (at most 255, each under 64 KiB). */
export function encodeCompound(parts: readonly Uint8Array[]): Uint8Array {
  if (parts.length > 255) throw new RangeError('a compound message holds at most 255 parts')
  const total = 2 + parts.length * 2 + parts.reduce((n, p) => n + p.byteLength, 0)
  const out = new Uint8Array(total)
  const view = new DataView(out.buffer)
  out[0] = MessageType.compound
  out[1] = parts.length
  let at = 2
  for (const p of parts) {
    if (p.byteLength > 0xffff) throw new RangeError('a compound part is larger than 64 KiB')
    view.setUint16(at, p.byteLength)
    at += 2
  }
  for (const p of parts) {
    out.set(p, at)
    at += p.byteLength
  }
  return out
}

export type Decoded = { ok: true; messages: Message[]; truncated: number } | { ok: false; reason: string }

/** Every message in a packet (a compound's parts in order); the parts cut short are counted, not returned. */
export function decodePacket(packet: Uint8Array): Decoded {
  if (packet.byteLength === 0) return { ok: false, reason: 'an empty packet' }
  if (packet[0] !== MessageType.compound) {
    const one = decodeOne(packet)
    return typeof one === 'string' ? { ok: false, reason: one } : { ok: true, messages: [one], truncated: 0 }
  }
  if (packet.byteLength < 2) return { ok: false, reason: 'a compound without its count' }
  const count = packet[1]!
  if (packet.byteLength < 2 + count * 2) return { ok: false, reason: 'a compound cut short in its lengths' }
  const view = new DataView(packet.buffer, packet.byteOffset, packet.byteLength)
  const messages: Message[] = []
  let at = 2 + count * 2
  for (let i = 0; i < count; i++) {
    const len = view.getUint16(2 + i * 2)
    if (at + len > packet.byteLength) return { ok: true, messages, truncated: count - i }
    const part = packet.subarray(at, at + len)
    at += len
    // A compound inside a compound is not ours to unpack: refused like any other bad part.
    const one = part[0] === MessageType.compound ? 'a nested compound' : decodeOne(part)
    if (typeof one === 'string') return { ok: false, reason: `part ${i + 1}: ${one}` }
    messages.push(one)
  }
  return { ok: true, messages, truncated: 0 }
}

function decodeOne(buf: Uint8Array): Message | string {
  const name = NAMES[buf[0]!]
  if (name === undefined || name === 'compound') return `an unknown message type ${buf[0]}`
  // Full-state exchanges travel over TCP streams, never in a packet.
  if (name === 'pushPull') return 'a push-pull message in a packet'
  let body: unknown
  try {
    body = decode(buf.subarray(1))
  } catch (err) {
    return `a ${name} message that is not msgpack (${(err as Error).message})`
  }
  if (name === 'user') return body instanceof Uint8Array ? { type: 'user', body } : 'a user message without bytes'
  const ok = SHAPES[name](body)
  return ok ? ({ type: name, body } as Message) : `a malformed ${name} message`
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !(v instanceof Uint8Array) && !Array.isArray(v)
const isSeq = (v: unknown): boolean => Number.isSafeInteger(v) && (v as number) >= 0
const isName = (v: unknown): boolean => typeof v === 'string' && v.length > 0 && v.length <= 512
const isPort = (v: unknown): boolean => Number.isInteger(v) && (v as number) > 0 && (v as number) < 65536
const isMeta = (v: unknown): boolean => isObj(v) && Object.values(v).every((x) => typeof x === 'string')

const SHAPES: Record<Exclude<keyof typeof MessageType, 'compound' | 'pushPull' | 'user'>, (b: unknown) => boolean> = {
  ping: (b) => isObj(b) && isSeq(b.seq) && isName(b.node),
  indirectPing: (b) => isObj(b) && isSeq(b.seq) && isName(b.target) && typeof b.addr === 'string' && isPort(b.port) && typeof b.nack === 'boolean',
  ack: (b) => isObj(b) && isSeq(b.seq) && (b.payload === undefined || (b.payload instanceof Uint8Array && b.payload.byteLength <= MAX_ACK_PAYLOAD)),
  nack: (b) => isObj(b) && isSeq(b.seq),
  suspect: (b) => isObj(b) && isName(b.node) && isSeq(b.incarnation) && isName(b.from),
  dead: (b) => isObj(b) && isName(b.node) && isSeq(b.incarnation) && isName(b.from),
  alive: (b) => isObj(b) && isName(b.node) && isSeq(b.incarnation) && typeof b.addr === 'string' && isPort(b.port) && isMeta(b.meta),
}

/** A member as a full-state exchange carries it (its record less the local time of its last change). */
export type WireMember = Omit<MemberRecord, 'stateChange'>

/** One side of a push-pull exchange over TCP: who sends it, whether it is a join, its whole view. */
export interface PushPull {
  from: string
  join: boolean
  members: WireMember[]
}

/** What a TCP stream carries: a full-state exchange, or a ping (the TCP fallback probe). */
export type StreamMessage = { type: 'pushPull'; body: PushPull } | { type: 'ping'; body: Ping } | { type: 'ack'; body: Ack }

export function encodeStreamMessage(m: StreamMessage): Uint8Array {
  return typed(MessageType[m.type], m.body)
}

const STATES: ReadonlySet<unknown> = new Set(['alive', 'suspect', 'dead', 'left'])
const isWireMember = (m: unknown): boolean =>
  isObj(m) && isName(m.name) && typeof m.addr === 'string' && isPort(m.port) && isMeta(m.meta) && isSeq(m.incarnation) && STATES.has(m.state)

/** A stream's message, or why it is not one (never throws). */
export function decodeStreamMessage(buf: Uint8Array): { ok: true; message: StreamMessage } | { ok: false; reason: string } {
  if (buf.byteLength === 0) return { ok: false, reason: 'an empty stream message' }
  const type = buf[0]
  if (type !== MessageType.pushPull && type !== MessageType.ping && type !== MessageType.ack) return { ok: false, reason: `an unexpected stream message type ${type}` }
  let body: unknown
  try {
    body = decode(buf.subarray(1))
  } catch (err) {
    return { ok: false, reason: `a stream message that is not msgpack (${(err as Error).message})` }
  }
  if (type === MessageType.ping) return SHAPES.ping(body) ? { ok: true, message: { type: 'ping', body: body as Ping } } : { ok: false, reason: 'a malformed ping' }
  if (type === MessageType.ack) return SHAPES.ack(body) ? { ok: true, message: { type: 'ack', body: body as Ack } } : { ok: false, reason: 'a malformed ack' }
  const ok = isObj(body) && isName(body.from) && typeof body.join === 'boolean' && Array.isArray(body.members) && body.members.every(isWireMember)
  return ok ? { ok: true, message: { type: 'pushPull', body: body as unknown as PushPull } } : { ok: false, reason: 'a malformed push-pull message' }
}

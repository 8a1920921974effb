/**
 * The server RPC wire format, pure (no sockets, no timers): what the dialer sends first, how bytes are
 * cut into frames, and the messages frames carry.
 *
 *   connection := preamble frame*          preamble := "CSRP" version:u8   (dialer only)
 *   frame      := length:u32be kind:u8 body (length counts kind + body; 1..maxFrameBytes)
 *   body       := one msgpack value, an array whose layout the kind fixes (see WireCodec)
 *
 * The dialer's first frame is its Hello; the acceptor answers with its own Hello, or a Refuse and
 * closes. Binary values (raft entry data, snapshot chunks) travel as msgpack bin, unencoded.
 */
import { Decoder, Encoder, ExtensionCodec } from '@msgpack/msgpack'
import { RPC_LIMITS } from './limits.js'

export const RPC_MAGIC = Uint8Array.from([0x43, 0x53, 0x52, 0x50]) // "CSRP"
/** The one protocol version this build speaks; a peer with another is refused. */
export const RPC_PROTOCOL_VERSION = 1
export const PREAMBLE_BYTES = RPC_MAGIC.length + 1
export const FRAME_HEADER_BYTES = 4

/** Frame kinds. WARNING: on the wire; only append. */
export const FrameKind = { Hello: 1, Refuse: 2, Request: 3, Response: 4, OneWay: 5 } as const
export type FrameKind = (typeof FrameKind)[keyof typeof FrameKind]

/** An error as it travels: a value, never an Error object. */
export interface RpcError {
  code: string
  message: string
}

export interface Hello {
  kind: 'hello'
  version: number
  datacenter: string
  /** The cluster's identity (made by its first leader, replicated); "" for a server not in a cluster yet. */
  cluster: string
  /** The sender's server id. */
  id: string
}
export interface Refuse {
  kind: 'refuse'
  error: RpcError
}
export interface Request {
  kind: 'request'
  seq: number
  method: string
  /** What is left of the caller's deadline when it sent the request. */
  timeoutMs: number
  body: unknown
}
export interface Response {
  kind: 'response'
  seq: number
  error: RpcError | null
  body: unknown
}
export interface OneWay {
  kind: 'oneway'
  method: string
  body: unknown
}
export type WireMessage = Hello | Refuse | Request | Response | OneWay

export function encodePreamble(version = RPC_PROTOCOL_VERSION): Uint8Array {
  const out = new Uint8Array(PREAMBLE_BYTES)
  out.set(RPC_MAGIC)
  out[RPC_MAGIC.length] = version
  return out
}

/** One frame around an already encoded body. */
export function encodeFrame(kind: number, body: Uint8Array): Uint8Array {
  const out = new Uint8Array(FRAME_HEADER_BYTES + 1 + body.byteLength)
  new DataView(out.buffer).setUint32(0, 1 + body.byteLength)
  out[FRAME_HEADER_BYTES] = kind
  out.set(body, FRAME_HEADER_BYTES + 1)
  return out
}

export type ReadFailure = 'garbage' | 'oversized' | 'malformed'
export type ReadEvent =
  | { type: 'preamble'; version: number }
  | { type: 'frame'; kind: number; body: Uint8Array }
  | { type: 'error'; reason: ReadFailure; detail: string }

/**
 * Cuts a byte stream into the preamble (when `preamble` is set) and frames. Chunks are kept as they
 * arrive and joined once a frame is whole, so a large frame costs one copy. After an error event the
 * reader is dead: the connection must be closed, as nothing after bad bytes can be trusted.
 */
export class FrameReader {
  readonly #maxFrameBytes: number
  #chunks: Uint8Array[] = []
  #buffered = 0
  #wantPreamble: boolean
  #dead = false

  constructor(opts: { preamble: boolean; maxFrameBytes?: number }) {
    this.#wantPreamble = opts.preamble
    this.#maxFrameBytes = opts.maxFrameBytes ?? RPC_LIMITS.maxFrameBytes
  }

  /** Bytes received and not yet part of a whole frame: non-zero at the end of a stream means a truncated one. */
  get buffered(): number {
    return this.#buffered
  }

  push(chunk: Uint8Array): ReadEvent[] {
    if (this.#dead) return []
    if (chunk.byteLength > 0) {
      this.#chunks.push(chunk)
      this.#buffered += chunk.byteLength
    }
    const events: ReadEvent[] = []
    for (;;) {
      const e = this.#next()
      if (!e) break
      events.push(e)
      if (e.type === 'error') {
        this.#dead = true
        this.#chunks = []
        break
      }
    }
    return events
  }

  #next(): ReadEvent | undefined {
    if (this.#wantPreamble) {
      // Checked byte by byte, so a stray line of text is refused at once, not after a timeout.
      const head = this.#peek(Math.min(this.#buffered, RPC_MAGIC.length))
      for (let i = 0; i < head.byteLength; i++) {
        if (head[i] !== RPC_MAGIC[i]) return { type: 'error', reason: 'garbage', detail: `not an RPC preamble (byte ${i} is 0x${head[i]!.toString(16).padStart(2, '0')})` }
      }
      if (this.#buffered < PREAMBLE_BYTES) return undefined
      const version = this.#take(PREAMBLE_BYTES)[RPC_MAGIC.length]!
      this.#wantPreamble = false
      return { type: 'preamble', version }
    }
    if (this.#buffered < FRAME_HEADER_BYTES) return undefined
    const header = this.#peek(FRAME_HEADER_BYTES)
    const length = new DataView(header.buffer, header.byteOffset, FRAME_HEADER_BYTES).getUint32(0)
    if (length === 0) return { type: 'error', reason: 'malformed', detail: 'an empty frame' }
    if (length > this.#maxFrameBytes) return { type: 'error', reason: 'oversized', detail: `a frame of ${length} bytes (the limit is ${this.#maxFrameBytes})` }
    if (this.#buffered < FRAME_HEADER_BYTES + length) return undefined
    const frame = this.#take(FRAME_HEADER_BYTES + length)
    return { type: 'frame', kind: frame[FRAME_HEADER_BYTES]!, body: frame.subarray(FRAME_HEADER_BYTES + 1) }
  }

  #peek(n: number): Uint8Array {
    const first = this.#chunks[0]
    if (n === 0 || !first) return new Uint8Array(0)
    if (first.byteLength >= n) return first.subarray(0, n)
    // Join only the leading chunks that hold the n bytes: a header split across chunks costs a few bytes.
    let k = 0
    let bytes = 0
    while (bytes < n) bytes += this.#chunks[k++]!.byteLength
    this.#chunks.splice(0, k, concat(this.#chunks.slice(0, k), bytes))
    return this.#chunks[0]!.subarray(0, n)
  }

  #take(n: number): Uint8Array {
    const first = this.#chunks[0]!
    let out: Uint8Array
    if (first.byteLength >= n) {
      out = first.subarray(0, n)
      if (first.byteLength === n) this.#chunks.shift()
      else this.#chunks[0] = first.subarray(n)
    } else {
      const all = concat(this.#chunks, this.#buffered)
      out = all.subarray(0, n)
      this.#chunks = all.byteLength > n ? [all.subarray(n)] : []
    }
    this.#buffered -= n
    return out
  }
}

function concat(chunks: readonly Uint8Array[], total: number): Uint8Array {
  const out = new Uint8Array(total)
  let at = 0
  for (const c of chunks) {
    out.set(c, at)
    at += c.byteLength
  }
  return out
}

const isName = (v: unknown, max: number): v is string => typeof v === 'string' && v.length <= max
const isSeq = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0

/**
 * What endpoint answers hold besides JSON's types, so they arrive as they left: uint64 flags above
 * 2^53 (bigint, as a decimal string) and KV values (Node Buffers; plain Uint8Arrays stay msgpack bin).
 * WARNING: on the wire; only append type numbers.
 */
const EXTENSIONS = new ExtensionCodec()
EXTENSIONS.register({
  type: 1,
  encode: (v: unknown) => (typeof v === 'bigint' ? new TextEncoder().encode(v.toString()) : null),
  decode: (data: Uint8Array) => {
    const text = new TextDecoder().decode(data)
    if (!/^-?[0-9]{1,40}$/.test(text)) throw new Error('bad bigint extension')
    return BigInt(text)
  },
})
EXTENSIONS.register({
  type: 2,
  encode: (v: unknown) => (Buffer.isBuffer(v) ? v : null),
  decode: (data: Uint8Array) => Buffer.from(data.buffer, data.byteOffset, data.byteLength),
})

/**
 * Encodes and decodes the messages of frames with msgpack (one Encoder and Decoder per instance: no
 * shared state between servers). `decode` checks each layout and returns a reason string for anything
 * else; it never throws. `encode` throws only for a body msgpack cannot carry (a function, a symbol).
 */
export class WireCodec {
  readonly #encoder = new Encoder({ ignoreUndefined: true, extensionCodec: EXTENSIONS })
  readonly #decoder: Decoder
  readonly #maxName: number

  constructor(opts: { maxFrameBytes?: number; maxNameLength?: number } = {}) {
    const max = opts.maxFrameBytes ?? RPC_LIMITS.maxFrameBytes
    this.#maxName = opts.maxNameLength ?? RPC_LIMITS.maxNameLength
    this.#decoder = new Decoder({ extensionCodec: EXTENSIONS, maxStrLength: max, maxBinLength: max, maxArrayLength: max, maxMapLength: max, maxExtLength: max })
  }

  /** The whole frame of `m`. */
  encode(m: WireMessage): Uint8Array {
    switch (m.kind) {
      case 'hello':
        return this.#frame(FrameKind.Hello, [m.version, m.datacenter, m.cluster, m.id])
      case 'refuse':
        return this.#frame(FrameKind.Refuse, [m.error.code, m.error.message])
      case 'request':
        return this.#frame(FrameKind.Request, [m.seq, m.method, m.timeoutMs, m.body])
      case 'response':
        return this.#frame(FrameKind.Response, [m.seq, m.error?.code ?? null, m.error?.message ?? null, m.body])
      case 'oneway':
        return this.#frame(FrameKind.OneWay, [m.method, m.body])
    }
  }

  decode(kind: number, body: Uint8Array): WireMessage | string {
    let v: unknown
    try {
      v = this.#decoder.decode(body)
    } catch (err) {
      return `undecodable body (${(err as Error).message})`
    }
    if (!Array.isArray(v)) return 'the body is not an array'
    const n = this.#maxName
    switch (kind) {
      case FrameKind.Hello: {
        const [version, datacenter, cluster, id] = v
        if (v.length !== 4 || !Number.isInteger(version) || !isName(datacenter, n) || !isName(cluster, n) || !isName(id, n) || id === '') return 'a bad hello'
        return { kind: 'hello', version: version as number, datacenter, cluster, id }
      }
      case FrameKind.Refuse: {
        const [code, message] = v
        if (v.length !== 2 || !isName(code, n) || typeof message !== 'string') return 'a bad refusal'
        return { kind: 'refuse', error: { code, message: message.slice(0, 1024) } }
      }
      case FrameKind.Request: {
        const [seq, method, timeoutMs, body] = v
        if (v.length !== 4 || !isSeq(seq) || !isName(method, n) || typeof timeoutMs !== 'number' || !(timeoutMs >= 0)) return 'a bad request'
        return { kind: 'request', seq, method, timeoutMs, body }
      }
      case FrameKind.Response: {
        const [seq, code, message, body] = v
        if (v.length !== 4 || !isSeq(seq)) return 'a bad response'
        if (code === null && message === null) return { kind: 'response', seq, error: null, body }
        if (!isName(code, n) || typeof message !== 'string') return 'a bad response error'
        return { kind: 'response', seq, error: { code, message }, body }
      }
      case FrameKind.OneWay: {
        const [method, body] = v
        if (v.length !== 2 || !isName(method, n)) return 'a bad one-way message'
        return { kind: 'oneway', method, body }
      }
      default:
        return `an unknown frame kind ${kind}`
    }
  }

  #frame(kind: FrameKind, value: unknown[]): Uint8Array {
    return encodeFrame(kind, this.#encoder.encode(value))
  }
}

/** Splits `host:port` or `[v6]:port`; undefined when it is not one. */
export function parseAddress(address: string): { host: string; port: number } | undefined {
  const m = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(address)
  if (!m) return undefined
  const port = Number(m[3])
  if (port < 1 || port > 65_535) return undefined
  return { host: (m[1] ?? m[2])!, port }
}

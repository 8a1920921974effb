/**
 * Leading-master detection through ZooKeeper, as Mesos publishes it: every master holds an
 * ephemeral sequential znode `json.info_<seq>` under the `zk://` path with its MasterInfo as JSON;
 * the lowest sequence leads. A small reader of ZooKeeper's wire protocol (jute: big-endian,
 * length-prefixed frames) is all that takes: connect, getChildren, getData, close, one short session
 * per poll so there is no session state to lose. `create` exists for tests that play a master.
 */
import net from 'node:net'
import type { Logger } from '../../lib/line-log.js'
import type { MasterSource } from './bridge.js'
import { parsePid, type HostPort, type Master } from './state.js'

export interface ZkUrl {
  servers: HostPort[]
  path: string
}

/** `zk://host1:2181,host2:2181/mesos` (user:pass@ is accepted and unused: digest auth is not sent). */
export function parseZkUrl(text: string): ZkUrl {
  const m = /^zk:\/\/(?:[^@/]*@)?([^/]+)(\/.*)?$/.exec(text.trim())
  if (!m) throw new Error(`--zk=${text}: want zk://host:port[,host:port...]/path`)
  const servers = m[1]!.split(',').map((s) => {
    const hp = /^(?:\[([^\]]+)\]|([^:]+))(?::(\d+))?$/.exec(s.trim())
    const port = hp?.[3] === undefined ? 2181 : Number(hp[3])
    if (!hp || !(port > 0 && port < 65536)) throw new Error(`--zk=${text}: bad server ${JSON.stringify(s)}`)
    return { host: hp[1] ?? hp[2]!, port }
  })
  const path = (m[2] ?? '/mesos').replace(/\/+$/, '') || '/'
  return { servers, path }
}

const OP = { create: 1, getData: 4, getChildren: 8, ping: 11, close: -11 } as const
const ERR: Record<number, string> = { [-101]: 'no node', [-110]: 'node exists', [-102]: 'not authorised', [-4]: 'connection loss' }

class Writer {
  #parts: Buffer[] = []
  int(v: number): this {
    const b = Buffer.alloc(4)
    b.writeInt32BE(v)
    this.#parts.push(b)
    return this
  }
  long(v: bigint): this {
    const b = Buffer.alloc(8)
    b.writeBigInt64BE(v)
    this.#parts.push(b)
    return this
  }
  bool(v: boolean): this {
    this.#parts.push(Buffer.from([v ? 1 : 0]))
    return this
  }
  buffer(v: Buffer | null): this {
    if (v === null) return this.int(-1)
    this.int(v.length)
    this.#parts.push(v)
    return this
  }
  string(v: string): this {
    return this.buffer(Buffer.from(v, 'utf8'))
  }
  frame(): Buffer {
    const body = Buffer.concat(this.#parts)
    const len = Buffer.alloc(4)
    len.writeInt32BE(body.length)
    return Buffer.concat([len, body])
  }
}

class Reader {
  #o = 0
  constructor(readonly b: Buffer) {}
  int(): number {
    const v = this.b.readInt32BE(this.#o)
    this.#o += 4
    return v
  }
  long(): bigint {
    const v = this.b.readBigInt64BE(this.#o)
    this.#o += 8
    return v
  }
  buffer(): Buffer | null {
    const n = this.int()
    if (n < 0) return null
    if (this.#o + n > this.b.length) throw new Error('frame shorter than its field')
    const v = this.b.subarray(this.#o, this.#o + n)
    this.#o += n
    return v
  }
  string(): string {
    return (this.buffer() ?? Buffer.alloc(0)).toString('utf8')
  }
}

/** Most bytes one frame may claim: znode data is at most 1 MiB. */
const MAX_FRAME = 4 << 20

/** One ZooKeeper session over one TCP connection; requests answered in order. */
export class ZkSession {
  readonly #sock: net.Socket
  #buf: Buffer = Buffer.alloc(0)
  #xid = 1
  readonly #waiting = new Map<number, { resolve: (r: Reader) => void; reject: (e: Error) => void }>()
  #connected: { resolve: (r: Reader) => void; reject: (e: Error) => void } | undefined
  #closed: Error | undefined
  #pinger: NodeJS.Timeout | undefined
  readonly #timeoutMs: number

  private constructor(sock: net.Socket, timeoutMs: number) {
    this.#sock = sock
    this.#timeoutMs = timeoutMs
    sock.on('data', (d: Buffer) => this.#onData(d))
    sock.on('error', (e) => this.#fail(e))
    sock.on('close', () => this.#fail(new Error('connection closed')))
  }

  static async connect(server: HostPort, timeoutMs: number, sessionTimeoutMs = 10_000): Promise<ZkSession> {
    const sock = net.connect({ host: server.host, port: server.port })
    sock.setTimeout(timeoutMs, () => sock.destroy(new Error(`no answer from ZooKeeper ${server.host}:${server.port} within ${timeoutMs} ms`)))
    const s = new ZkSession(sock, timeoutMs)
    const answer = new Promise<Reader>((resolve, reject) => (s.#connected = { resolve, reject }))
    sock.write(new Writer().int(0).long(0n).int(sessionTimeoutMs).long(0n).buffer(Buffer.alloc(16)).bool(false).frame())
    const r = await answer
    r.int() // protocol version
    if (r.int() <= 0) throw new Error('ZooKeeper refused the session (expired)')
    // From here each call has its own deadline; an idle session is not a fault.
    sock.setTimeout(0)
    return s
  }

  #onData(d: Buffer): void {
    this.#buf = this.#buf.length ? Buffer.concat([this.#buf, d]) : d
    while (this.#buf.length >= 4) {
      const len = this.#buf.readInt32BE(0)
      if (len < 0 || len > MAX_FRAME) return void this.#sock.destroy(new Error(`ZooKeeper frame of ${len} bytes`))
      if (this.#buf.length < 4 + len) return
      const frame = this.#buf.subarray(4, 4 + len)
      this.#buf = this.#buf.subarray(4 + len)
      try {
        this.#frame(new Reader(frame))
      } catch (err) {
        this.#sock.destroy(err as Error)
      }
    }
  }

  #frame(r: Reader): void {
    if (this.#connected) {
      const c = this.#connected
      this.#connected = undefined
      return c.resolve(r)
    }
    const xid = r.int()
    r.long() // zxid
    const err = r.int()
    if (xid < 0) return // a ping's answer or a watch event (we set none)
    const w = this.#waiting.get(xid)
    if (!w) return
    this.#waiting.delete(xid)
    if (err !== 0) w.reject(new Error(`ZooKeeper error ${err} (${ERR[err] ?? 'see ZooKeeper KeeperException codes'})`))
    else w.resolve(r)
  }

  #fail(e: Error): void {
    if (this.#closed) return
    this.#closed = e
    this.#connected?.reject(e)
    for (const w of this.#waiting.values()) w.reject(e)
    this.#waiting.clear()
  }

  #call(op: number, body: (w: Writer) => Writer): Promise<Reader> {
    if (this.#closed) return Promise.reject(this.#closed)
    const xid = this.#xid++
    const p = new Promise<Reader>((resolve, reject) => {
      const timer = setTimeout(() => this.#sock.destroy(new Error(`no answer from ZooKeeper within ${this.#timeoutMs} ms`)), this.#timeoutMs)
      const done = <T>(f: (v: T) => void) => (v: T): void => {
        clearTimeout(timer)
        f(v)
      }
      this.#waiting.set(xid, { resolve: done(resolve), reject: done(reject) })
    })
    this.#sock.write(body(new Writer().int(xid).int(op)).frame())
    return p
  }

  /** Pings every few seconds so the session (and its ephemeral znodes) outlives its timeout. */
  keepAlive(everyMs = 2000): void {
    this.#pinger = setInterval(() => {
      if (!this.#closed) this.#sock.write(new Writer().int(-2).int(OP.ping).frame())
    }, everyMs)
    this.#pinger.unref()
  }

  async children(path: string): Promise<string[]> {
    const r = await this.#call(OP.getChildren, (w) => w.string(path).bool(false))
    const n = r.int()
    return Array.from({ length: Math.max(0, n) }, () => r.string())
  }

  async data(path: string): Promise<Buffer> {
    return (await this.#call(OP.getData, (w) => w.string(path).bool(false))).buffer() ?? Buffer.alloc(0)
  }

  /** Creates a znode open to all (world:anyone); `mode` 0 persistent, 1 ephemeral, 2 sequential, 3 both. Returns its path. */
  async create(path: string, data: Buffer, mode: 0 | 1 | 2 | 3): Promise<string> {
    const r = await this.#call(OP.create, (w) => w.string(path).buffer(data).int(1).int(31).string('world').string('anyone').int(mode))
    return r.string()
  }

  async close(): Promise<void> {
    clearInterval(this.#pinger)
    if (!this.#closed) await this.#call(OP.close, (w) => w).catch(() => undefined)
    this.#sock.destroy()
  }
}

/** A MasterInfo's address: `address.ip`, else the pid's host, else the packed `ip`. */
export function masterFromInfo(info: unknown): HostPort | undefined {
  if (typeof info !== 'object' || info === null) return undefined
  const i = info as Record<string, unknown>
  const addr = i.address as Record<string, unknown> | undefined
  if (addr && typeof addr.ip === 'string' && Number(addr.port) > 0) return { host: addr.ip, port: Number(addr.port) }
  const pid = parsePid(i.pid)
  if (pid) return pid
  if (typeof i.ip === 'number' && Number(i.port) > 0) {
    // Packed in network order, read as a little-endian integer by Mesos.
    const n = i.ip >>> 0
    return { host: [n & 255, (n >>> 8) & 255, (n >>> 16) & 255, n >>> 24].join('.'), port: Number(i.port) }
  }
  return undefined
}

export class ZkMasters implements MasterSource {
  constructor(readonly url: ZkUrl, readonly log: Logger, readonly timeoutMs = 10_000) {}

  describe(): string {
    return `zk://${this.url.servers.map((s) => `${s.host}:${s.port}`).join(',')}${this.url.path}`
  }

  async masters(): Promise<Master[]> {
    const errors: string[] = []
    for (const server of this.url.servers) {
      let s: ZkSession | undefined
      try {
        s = await ZkSession.connect(server, this.timeoutMs)
        const names = (await s.children(this.url.path)).filter((n) => /^json\.info_\d+$/.test(n)).sort((a, b) => Number(a.slice(10)) - Number(b.slice(10)))
        const out: Master[] = []
        for (const name of names) {
          let info: unknown
          try {
            info = JSON.parse((await s.data(`${this.url.path}/${name}`)).toString('utf8'))
          } catch (err) {
            // A master that went away between the two calls, or data that is not MasterInfo.
            this.log.warn('zk', `skipping ${this.url.path}/${name}: ${(err as Error).message}`)
            continue
          }
          const m = masterFromInfo(info)
          if (m) out.push({ ...m, leader: out.length === 0 })
          else this.log.warn('zk', `skipping ${this.url.path}/${name}: no address in its MasterInfo`)
        }
        return out
      } catch (err) {
        errors.push(`${server.host}:${server.port}: ${(err as Error).message}`)
      } finally {
        await s?.close()
      }
    }
    throw new Error(`no ZooKeeper server answered (${errors.join('; ')})`)
  }
}

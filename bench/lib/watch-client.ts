/**
 * One watcher process for `npm run bench -- watch`: holds one TCP connection per blocking GET,
 * as Consul clients do, and reports when each full answer arrived. Raw sockets with a tiny
 * response parser keep the client's own cost per answer low and identical for both servers.
 * Driven over IPC by bench/watch.ts: open -> opened, collect -> collected, close -> exit.
 */
import net from 'node:net'

export type ToClient =
  | { type: 'open'; port: number; paths: string[] }
  | { type: 'collect'; expect: string; minIndex: number }
  | { type: 'close' }

export type FromClient =
  | { type: 'opened'; count: number }
  | { type: 'collected'; count: number; firstMs: number; lastMs: number; bad: number; sample: string }

interface Watch {
  socket: net.Socket
  buf: Buffer
  done: boolean
  atMs: number
  /** The whole answer, read only in collect(): the clock stops before any decoding. */
  answer: Buffer | undefined
}

const now = (): number => performance.timeOrigin + performance.now()
const HEAD_END = Buffer.from('\r\n\r\n')
const LENGTH = Buffer.from('\r\nContent-Length: ')
let watches: Watch[] = []
let answered = 0
let onAnswer: (() => void) | undefined

/** Byte search and digits by hand (both servers send the header in this case): the client's cost per answer stays small. */
function contentLength(buf: Buffer, headEnd: number): number {
  let at = buf.indexOf(LENGTH)
  if (at < 0 || at > headEnd) {
    const m = /\r\ncontent-length: *(\d+)/i.exec(buf.subarray(0, headEnd).toString('latin1'))
    return m ? Number(m[1]) : 0
  }
  let n = 0
  for (at += LENGTH.length; buf[at]! >= 0x30 && buf[at]! <= 0x39; at++) n = n * 10 + buf[at]! - 0x30
  return n
}

function parse(w: Watch): void {
  const end = w.buf.indexOf(HEAD_END)
  if (end < 0) return
  if (w.buf.length < end + 4 + contentLength(w.buf, end)) return
  w.atMs = now()
  w.done = true
  w.answer = w.buf
  w.buf = Buffer.alloc(0)
  answered++
  onAnswer?.()
}

function check(w: Watch, expect: string, minIndex: number): boolean {
  if (!w.answer) return false
  const end = w.answer.indexOf(HEAD_END)
  const head = w.answer.subarray(0, end).toString('latin1')
  const index = Number(/\r\nx-consul-index: *(\d+)/i.exec(head)?.[1] ?? 0)
  const body = w.answer.subarray(end + 4, end + 4 + contentLength(w.answer, end)).toString()
  return head.startsWith('HTTP/1.1 200') && index > minIndex && body.includes(expect)
}

function open(port: number, paths: readonly string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    let connected = 0
    for (const path of paths) {
      const w: Watch = { socket: net.connect({ port, host: '127.0.0.1' }), buf: Buffer.alloc(0), done: false, atMs: 0, answer: undefined }
      w.socket.setNoDelay(true)
      w.socket.once('connect', () => {
        w.socket.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\n`)
        if (++connected === paths.length) resolve()
      })
      w.socket.on('data', (d: Buffer) => {
        if (w.done) return
        w.buf = w.buf.length === 0 ? d : Buffer.concat([w.buf, d])
        parse(w)
      })
      w.socket.once('error', reject)
      watches.push(w)
    }
  })
}

async function collect(expect: string, minIndex: number): Promise<FromClient> {
  if (answered < watches.length) await new Promise<void>((r) => (onAnswer = () => answered === watches.length && r()))
  onAnswer = undefined
  let first = Infinity
  let last = 0
  let bad = 0
  for (const w of watches) {
    first = Math.min(first, w.atMs)
    last = Math.max(last, w.atMs)
    if (!check(w, expect, minIndex)) bad++
  }
  return { type: 'collected', count: watches.length, firstMs: first, lastMs: last, bad, sample: watches[0]?.answer?.toString().slice(0, 400) ?? '' }
}

process.on('message', (msg: ToClient) => {
  const reply = (m: FromClient): void => void process.send!(m)
  if (msg.type === 'open') {
    watches = []
    answered = 0
    open(msg.port, msg.paths).then(
      () => reply({ type: 'opened', count: watches.length }),
      (err: Error) => {
        process.stderr.write(`watch client: ${err.message}\n`)
        process.exit(1)
      },
    )
  } else if (msg.type === 'collect') {
    void collect(msg.expect, msg.minIndex).then(reply)
  } else {
    for (const w of watches) w.socket.destroy()
    process.exit(0)
  }
})

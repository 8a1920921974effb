/**
 * A TCP proxy a test puts in front of a server's port: it forwards every connection to the
 * server, except from source addresses the test blocks, whose connections it cuts at once and
 * refuses after (one side of a network partition; with servers dialing from their bind address,
 * blocking by source address cuts one direction of one pair).
 */
import { createConnection, createServer, type Server, type Socket } from 'node:net'

export class FaultProxy {
  readonly #blocked = new Set<string>()
  readonly #pairs = new Set<{ from: Socket; to: Socket }>()

  private constructor(readonly server: Server, readonly target: { host: string; port: number }) {}

  static async start(listen: { host: string; port: number }, target: { host: string; port: number }): Promise<FaultProxy> {
    let proxy: FaultProxy | undefined
    const server = createServer((from) => proxy!.accept(from))
    proxy = new FaultProxy(server, target)
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(listen.port, listen.host, () => resolve())
    })
    return proxy
  }

  /** Cuts every connection from `ip` and refuses new ones until unblocked. */
  block(ip: string): void {
    this.#blocked.add(ip)
    for (const p of this.#pairs) if (normalize(p.from.remoteAddress) === ip) this.#cut(p)
  }

  unblock(ip: string): void {
    this.#blocked.delete(ip)
  }

  async close(): Promise<void> {
    for (const p of this.#pairs) this.#cut(p)
    await new Promise<void>((resolve) => this.server.close(() => resolve()))
  }

  accept(from: Socket): void {
    if (this.#blocked.has(normalize(from.remoteAddress))) {
      from.destroy()
      return
    }
    const to = createConnection(this.target)
    const pair = { from, to }
    this.#pairs.add(pair)
    from.pipe(to)
    to.pipe(from)
    const end = (): void => this.#cut(pair)
    from.on('error', end).on('close', end)
    to.on('error', end).on('close', end)
  }

  #cut(p: { from: Socket; to: Socket }): void {
    this.#pairs.delete(p)
    p.from.destroy()
    p.to.destroy()
  }
}

const normalize = (ip: string | undefined): string => (ip ?? '').replace(/^::ffff:/, '')

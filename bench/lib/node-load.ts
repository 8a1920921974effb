/**
 * Fallback load generator for machines without wrk: N keep-alive connections, each sending
 * its next request as soon as the previous answer arrives (wrk's closed-loop model). It is
 * much slower per request than wrk, so its figures are only comparable with each other, never
 * with a wrk run, and on a small machine it can be the bottleneck itself.
 */
import http from 'node:http'
import type { LoadResult, LuaRequest } from './wrk.js'

export async function runNodeLoad(opts: {
  url: string
  requests: readonly LuaRequest[]
  connections: number
  seconds: number
}): Promise<LoadResult> {
  const base = new URL(opts.url)
  const agent = new http.Agent({ keepAlive: true, maxSockets: opts.connections })
  const bodies = opts.requests.map((r) => (r.body === undefined ? undefined : Buffer.from(r.body)))
  const latencies: number[] = []
  let non2xx = 0
  const errors = { connect: 0, read: 0, write: 0, timeout: 0 }
  const start = performance.now()
  const end = start + opts.seconds * 1000

  const one = (i: number): Promise<void> =>
    new Promise((resolve) => {
      const r = opts.requests[i]!
      const t0 = performance.now()
      const req = http.request(
        { host: base.hostname, port: base.port, method: r.method, path: r.path, headers: r.headers, agent, timeout: 10_000 },
        (res) => {
          res.resume()
          res.once('end', () => {
            if ((res.statusCode ?? 0) >= 400) non2xx++
            latencies.push(performance.now() - t0)
            resolve()
          })
        },
      )
      req.once('timeout', () => {
        errors.timeout++
        req.destroy()
      })
      req.once('error', () => {
        errors.read++
        resolve()
      })
      req.end(bodies[i])
    })

  const loop = async (): Promise<void> => {
    while (performance.now() < end) await one(Math.floor(Math.random() * opts.requests.length))
  }
  await Promise.all(Array.from({ length: opts.connections }, loop))
  agent.destroy()
  const durationS = (performance.now() - start) / 1000
  latencies.sort((a, b) => a - b)
  const pct = (p: number): number => (latencies.length ? latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))]! : 0)
  return {
    requests: latencies.length,
    durationS,
    rps: latencies.length / durationS,
    p50Ms: pct(50),
    p99Ms: pct(99),
    non2xx,
    socketErrors: errors,
  }
}

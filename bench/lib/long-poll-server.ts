/**
 * The reference for `npm run bench -- watch`: a minimal Node long-poll server on the agent's KV
 * paths. A GET with ?index at or above the key's index is held; a PUT bumps the index and answers
 * every held GET of that key with one JSON body. No durability, no routing, no per-request work
 * beyond node:http's own: the floor a Node server can reach for a fan-out.
 * Run as `node long-poll-server.js <port>`; GET /waiting reports how many GETs are held.
 */
import http from 'node:http'

const held = new Map<string, Set<http.ServerResponse>>()
const indexes = new Map<string, number>()
const bodies = new Map<string, Buffer>()
let index = 1
let waiting = 0

function answer(res: http.ServerResponse, key: string): void {
  const body = bodies.get(key) ?? Buffer.from('[]')
  res.writeHead(bodies.has(key) ? 200 : 404, { 'Content-Type': 'application/json', 'X-Consul-Index': String(indexes.get(key) ?? 1), 'Content-Length': body.length })
  res.end(body)
}

const server = http.createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://x')
  if (url.pathname === '/waiting') return void res.end(String(waiting))
  const key = url.pathname
  if (req.method === 'PUT') {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      indexes.set(key, ++index)
      const Key = key.replace(/^\/v1\/kv\//, '')
      bodies.set(key, Buffer.from(JSON.stringify([{ LockIndex: 0, Key, Flags: 0, Value: Buffer.concat(chunks).toString('base64'), CreateIndex: index, ModifyIndex: index }])))
      const list = held.get(key)
      held.delete(key)
      res.end('true')
      if (list) for (const r of list) answer(r, key)
      if (list) waiting -= list.size
    })
    return
  }
  if (Number(url.searchParams.get('index') ?? 0) < (indexes.get(key) ?? 1)) return answer(res, key)
  let set = held.get(key)
  if (!set) held.set(key, (set = new Set()))
  set.add(res)
  waiting++
  res.once('close', () => {
    if (held.get(key)?.delete(res)) waiting--
  })
})
server.keepAliveTimeout = 120_000
server.listen({ port: Number(process.argv[2]), host: '127.0.0.1', backlog: 4096 }, () => process.stdout.write('listening\n'))
// Exit normally on SIGTERM (the benchmark's stop), so exit hooks such as --cpu-prof run.
process.once('SIGTERM', () => server.close(() => process.exit(0)).closeAllConnections())

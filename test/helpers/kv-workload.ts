/** A KV workload for linearizability checks against real agents (cluster tests). */
import type { KvOperation } from '../../src/lib/linearizability/index.js'

/** An agent to send requests through; read per request, so a restarted agent is used as soon as it is back. */
export interface Via {
  agent: { httpAddr: string }
}

const get = async (n: Via, path: string): Promise<Response> => fetch(`${n.agent.httpAddr}${path}`, { signal: AbortSignal.timeout(15_000) })
const put = async (n: Via, path: string, body: string): Promise<Response> => fetch(`${n.agent.httpAddr}${path}`, { method: 'PUT', body, signal: AbortSignal.timeout(15_000) })

/**
 * Clients on every agent given putting unique values and compare-and-setting on a few keys (a CAS
 * names the value it read: values are unique, so that is the ModifyIndex it saw) and reading at
 * the default consistency, each operation timed; a write without an answer may have happened.
 */
export async function kvWorkload(vias: ReadonlyArray<Via>, until: number, prefix = 'lin/'): Promise<KvOperation[]> {
  const history: KvOperation[] = []
  let unique = 0
  const readValue = async (via: Via, key: string): Promise<{ value: string | null; index: number } | undefined> => {
    const res = await get(via, `/v1/kv/${key}`)
    if (res.status === 404) return (await res.arrayBuffer(), { value: null, index: 0 })
    if (res.status !== 200) return (await res.arrayBuffer(), undefined)
    const [entry] = (await res.json()) as Array<{ Value: string; ModifyIndex: number }>
    return { value: Buffer.from(entry!.Value, 'base64').toString(), index: entry!.ModifyIndex }
  }
  const client = async (clientId: number, via: Via): Promise<void> => {
    while (Date.now() < until) {
      const key = `${prefix}k${Math.floor(Math.random() * 3)}`
      const r = Math.random()
      let write: { input: KvOperation['input']; path: string; body: string; callTime: number } | undefined
      try {
        if (r < 0.4) {
          const callTime = performance.now()
          const read = await readValue(via, key)
          if (read) history.push({ clientId, input: { op: 'get', key }, output: { kind: 'value', value: read.value }, callTime, returnTime: performance.now() })
          continue
        }
        const value = `c${clientId}-${unique++}`
        if (r < 0.7) {
          write = { input: { op: 'put', key, value }, path: `/v1/kv/${key}`, body: value, callTime: performance.now() }
        } else {
          const read = await readValue(via, key)
          if (!read) continue
          write = { input: { op: 'cas', key, expected: read.value, value }, path: `/v1/kv/${key}?cas=${read.index}`, body: value, callTime: performance.now() }
        }
        const res = await put(via, write.path, write.body)
        const text = await res.text()
        const answered = res.status === 200
        history.push({ clientId, input: write.input, output: answered ? { kind: 'ok', ok: text === 'true' } : { kind: 'unknown' }, callTime: write.callTime, returnTime: answered ? performance.now() : Infinity })
      } catch {
        // No answer at all (the server died under the request): the write may or may not have happened.
        if (write) history.push({ clientId, input: write.input, output: { kind: 'unknown' }, callTime: write.callTime, returnTime: Infinity })
        return
      }
    }
  }
  await Promise.all(vias.flatMap((n, i) => [client(2 * i, n), client(2 * i + 1, n)]))
  return history
}


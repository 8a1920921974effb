/** The one HTTP call the workloads make, telling "never sent" apart from "no answer". */
import type { Member } from './cluster.js'

export interface Answer {
  status: number
  text: string
  index: number
}

/**
 * `sent: false` when the connection was refused (the agent is down: the request never left, so it
 * did not happen); `sent: true` with no answer when it timed out or the connection broke after the
 * request went out (it may have happened).
 */
export type Outcome = { sent: false } | { sent: true; answer: Answer | undefined }

export async function call(m: Member, method: 'GET' | 'PUT' | 'DELETE', path: string, body?: string, timeoutMs = 5000): Promise<Outcome> {
  try {
    const res = await fetch(`${m.httpAddr}${path}`, { method, body, signal: AbortSignal.timeout(timeoutMs) })
    const text = await res.text()
    return { sent: true, answer: { status: res.status, text, index: Number(res.headers.get('x-consul-index') ?? 0) } }
  } catch (err) {
    const code = (err as { cause?: { code?: string } })?.cause?.code
    if (code === 'ECONNREFUSED') return { sent: false }
    return { sent: true, answer: undefined }
  }
}

/** The decoded value of a single-key GET answer (200), or null for 404. */
export function valueOf(a: Answer): string | null {
  if (a.status === 404) return null
  const [entry] = JSON.parse(a.text) as Array<{ Value: string | null }>
  return entry?.Value == null ? '' : Buffer.from(entry.Value, 'base64').toString()
}

export { setTimeout as sleep } from 'node:timers/promises'

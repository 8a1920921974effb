/**
 * Keyring operations across a pool (Consul's `consul keyring`, serf's key manager): list,
 * install, use and remove go to every member as a gossip query; each applies it to its own ring,
 * keeps the ring in data_dir, and answers with its keys, so the asker reports how many members hold
 * each key and which failed.
 */
import { decode, encode } from '@msgpack/msgpack'
import { parseKey, type Keyring } from './keyring.js'
import type { QueryResponse } from './members.js'

export type KeyringOp = 'list' | 'install' | 'use' | 'remove'

/** One pool's answer, in the shape of Consul's /v1/operator/keyring entries. */
export interface KeyringReport {
  /** Members that answered. */
  numNodes: number
  /** Each key and how many members hold it; the primary keys likewise. */
  keys: Record<string, number>
  primaryKeys: Record<string, number>
  /** Members that could not carry out the operation, and why. */
  errors: Record<string, string>
}

/** A member's side: applies one operation to its ring (keeping it with `save`) and says what it holds. */
export function keyringQueryHandler(ring: Keyring | undefined, save: () => void): (body: Uint8Array) => Uint8Array {
  return (body) => {
    let error = ''
    try {
      const { op, key } = decode(body) as { op?: unknown; key?: unknown }
      if (!ring) throw new Error('Gossip encryption is not enabled on this agent (no encrypt key)')
      switch (op) {
        case 'list':
          break
        case 'install':
          ring.install(parseKey(String(key)))
          save()
          break
        case 'use':
          if (!ring.use(parseKey(String(key)))) throw new Error('Requested key is not in the keyring')
          save()
          break
        case 'remove': {
          const why = ring.remove(parseKey(String(key)))
          if (why) throw new Error(why)
          save()
          break
        }
        default:
          throw new Error(`unknown keyring operation ${String(op)}`)
      }
    } catch (err) {
      error = (err as Error).message
    }
    return encode({ error, keys: ring?.list() ?? [], primary: ring?.primary ?? '' })
  }
}

export function encodeKeyringOp(op: KeyringOp, key?: string): Uint8Array {
  return encode({ op, key: key ?? '' })
}

/** The members' answers, counted. */
export function keyringReport(responses: readonly QueryResponse[]): KeyringReport {
  const report: KeyringReport = { numNodes: responses.length, keys: {}, primaryKeys: {}, errors: {} }
  for (const r of responses) {
    let a: { error?: unknown; keys?: unknown; primary?: unknown }
    try {
      a = decode(r.body) as typeof a
    } catch {
      report.errors[r.node] = 'a malformed answer'
      continue
    }
    if (typeof a.error === 'string' && a.error) report.errors[r.node] = a.error
    if (Array.isArray(a.keys)) for (const k of a.keys) if (typeof k === 'string') report.keys[k] = (report.keys[k] ?? 0) + 1
    if (typeof a.primary === 'string' && a.primary) report.primaryKeys[a.primary] = (report.primaryKeys[a.primary] ?? 0) + 1
  }
  return report
}

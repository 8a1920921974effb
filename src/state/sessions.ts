import btree from 'sorted-btree'

const BTree = btree.default

export type SessionBehavior = 'release' | 'delete'

/** A session as Consul returns it (LockDelay in nanoseconds, TTL as a Go duration string). */
export interface SessionRecord {
  ID: string
  Name: string
  Node: string
  LockDelay: number
  Behavior: SessionBehavior
  TTL: string
  NodeChecks: string[]
  ServiceChecks: Array<{ ID: string; Namespace?: string }>
  CreateIndex: number
  ModifyIndex: number
}

/** The sessions table plus the derived map of the keys each session holds. */
export class SessionTables {
  sessions = new BTree<string, SessionRecord>()
  /** Keys locked by each session. Derived from the KV table; rebuilt on restore. */
  held = new Map<string, Set<string>>()
  index = 0

  get(id: string): SessionRecord | undefined {
    return this.sessions.get(id)
  }

  list(): SessionRecord[] {
    return this.sessions.valuesArray()
  }

  byNode(node: string): SessionRecord[] {
    return this.list().filter((s) => s.Node === node)
  }

  /** Sessions that a change of this check can invalidate (listed as a node or a service check: the legacy `Checks` field mixes both). */
  linkedTo(node: string, checkId: string): SessionRecord[] {
    return this.list().filter((s) => s.Node === node && (s.NodeChecks.includes(checkId) || s.ServiceChecks.some((c) => c.ID === checkId)))
  }

  hold(session: string, key: string): void {
    let set = this.held.get(session)
    if (!set) this.held.set(session, (set = new Set()))
    set.add(key)
  }

  release(session: string, key: string): void {
    this.held.get(session)?.delete(key)
  }
}

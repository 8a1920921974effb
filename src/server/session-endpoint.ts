/**
 * Session.* (Consul's agent/consul/session_endpoint.go). The leader picks a new session's ID
 * and runs the TTL timers (session-timers.ts, a leader duty).
 */
import type { SessionRecord } from '../state/sessions.js'
import type { EndpointCore } from './core.js'
import type { SessionTimers } from './session-timers.js'
import type { CallContext, QueryOptions, QueryReply, WriteOptions, WriteReply } from './types.js'

export type SessionInput = Omit<SessionRecord, 'ID' | 'CreateIndex' | 'ModifyIndex'>

export type SessionApplyRequest = WriteOptions & ({ op: 'create'; session: SessionInput } | { op: 'destroy'; id: string })

export interface SessionIdRequest extends QueryOptions {
  id: string
}

export interface NodeSessionsRequest extends QueryOptions {
  node: string
}

export class SessionEndpoint {
  constructor(
    readonly core: EndpointCore,
    readonly timers: SessionTimers,
  ) {}

  /** Creates (answering the new ID) or destroys a session; a refused create is a RejectedError. */
  async apply(req: SessionApplyRequest): Promise<WriteReply<string>> {
    const { core } = this
    core.checkDatacenter(req.datacenter)
    const forwarded = core.forwardUnlessLeader<WriteReply<string>>('Session.Apply', req)
    if (forwarded) return forwarded
    // session:write on the session's node (Consul's Session.Apply).
    const node = req.op === 'create' ? req.session.Node : core.state.sessions.get(req.id)?.Node
    if (node !== undefined) core.acl.authorize(req.token, 'session', node, 'write')
    if (req.op === 'destroy') {
      this.timers.clear(req.id)
      const { index } = await core.apply({ Type: 'session', Op: 'destroy', ID: req.id })
      return { index, value: req.id }
    }
    const id = core.newId()
    const { index } = await core.apply({ Type: 'session', Op: 'create', Session: { ID: id, ...req.session } })
    this.timers.reset(id)
    return { index, value: id }
  }

  /** Restarts a session's TTL on the leader; the session as it is, or an empty list when there is none. */
  async renew(req: SessionIdRequest): Promise<WriteReply<SessionRecord[]>> {
    const { core } = this
    core.checkDatacenter(req.datacenter)
    const forwarded = core.forwardUnlessLeader<WriteReply<SessionRecord[]>>('Session.Renew', req)
    if (forwarded) return forwarded
    const session = core.state.sessions.get(req.id)
    if (!session) return { index: core.state.sessions.index, value: [] }
    core.acl.authorize(req.token, 'session', session.Node, 'write')
    this.timers.reset(req.id)
    return { index: core.state.sessions.index, value: [session] }
  }

  get(req: SessionIdRequest, call?: CallContext): Promise<QueryReply<SessionRecord[]>> {
    return this.#read(req, call, (s) => s.ID === req.id)
  }

  list(req: QueryOptions, call?: CallContext): Promise<QueryReply<SessionRecord[]>> {
    return this.#read(req, call, () => true)
  }

  nodeSessions(req: NodeSessionsRequest, call?: CallContext): Promise<QueryReply<SessionRecord[]>> {
    return this.#read(req, call, (s) => s.Node === req.node)
  }

  #read(req: QueryOptions, call: CallContext | undefined, keep: (s: SessionRecord) => boolean): Promise<QueryReply<SessionRecord[]>> {
    const { state, acl } = this.core
    return this.core.readAs(req, call, (ws, who) => {
      state.watchCatalog(ws, 'sessions')
      const rows = state.sessions.list().filter(keep)
      if (!who) return { index: state.sessions.index, value: rows }
      const { items, filtered } = acl.filter(who, 'session', rows, (s) => s.Node)
      return { index: state.sessions.index, value: items, filtered }
    })
  }
}

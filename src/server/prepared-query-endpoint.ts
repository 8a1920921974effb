/**
 * PreparedQuery.* (Consul's agent/consul/prepared_query_endpoint.go): Apply (create, update,
 * delete), Get, List, Explain, Execute (sorted by `Near`, failing over to other datacenters when
 * no instance here is healthy) and ExecuteRemote (a query another datacenter's server sends).
 */
import { denied } from './acl-gate.js'
import type { Identity } from '../acl/resolver.js'
import { executeQuery, type PreparedQuery, type PreparedQueryInput, type QueryResultEntry } from '../state/queries.js'
import { failoverOrder } from '../state/prepared-query.js'
import type { EndpointCore } from './core.js'
import { NotFoundError } from './errors.js'
import type { QuerySource } from './rtt.js'
import type { CallContext, QueryOptions, QueryReply, WriteOptions, WriteReply } from './types.js'

export type PreparedQueryApplyRequest = WriteOptions &
  (
    | { op: 'create'; query: Omit<PreparedQueryInput, 'ID'> }
    | { op: 'update'; query: PreparedQueryInput }
    | { op: 'delete'; id: string }
  )

export interface PreparedQueryRequest extends QueryOptions {
  id: string
}

export interface PreparedQueryExecuteRequest extends QueryOptions {
  /** An ID, a name, or a name a template query matches. */
  idOrName: string
  /** At most this many instances (0 or absent: all). */
  limit?: number
  /** `?near=`: sort by round trip from this node (over the query's own `Near`). */
  source?: QuerySource
  /** The asking agent: the node a query's `Near: "_agent"` means. */
  agent?: QuerySource
}

/** Another datacenter's server runs this query definition as it is (Consul's ExecuteRemote). */
export interface PreparedQueryExecuteRemoteRequest extends QueryOptions {
  query: PreparedQuery
  limit?: number
}

export interface PreparedQueryExecuteReply {
  query: PreparedQuery
  /** Healthy instances, shuffled (then sorted by distance when a source is known). */
  entries: QueryResultEntry[]
  /** The datacenter that answered, and how many other datacenters were tried. */
  datacenter: string
  failovers: number
}

/** How a server reaches the other datacenters (the agent's federation); none: no failover. */
export interface QueryFailover {
  /** Every known datacenter, nearest first. */
  datacenters(): string[]
  executeRemote(req: PreparedQueryExecuteRemoteRequest): Promise<QueryReply<PreparedQueryExecuteReply>>
}

const notFound = (): NotFoundError => new NotFoundError('Query not found')

export class PreparedQueryEndpoint {
  /** Set by the agent once its federation exists. */
  failover: QueryFailover | undefined

  constructor(readonly core: EndpointCore) {}

  /**
   * Create answers the new query's ID (picked here, on the leader); update of an unknown query is
   * a NotFoundError; delete of an unknown one does nothing. Refusals are RejectedErrors.
   */
  async apply(req: PreparedQueryApplyRequest): Promise<WriteReply<string>> {
    const { core } = this
    core.checkDatacenter(req.datacenter)
    const forwarded = core.forwardUnlessLeader<WriteReply<string>>('PreparedQuery.Apply', req)
    if (forwarded) return forwarded
    const queries = core.state.queries
    this.#authorizeApply(req)
    switch (req.op) {
      case 'create': {
        const query: PreparedQueryInput = { ID: core.newId(), ...req.query }
        const { index } = await core.apply({ Type: 'query', Op: 'set', Query: query })
        return { index, value: query.ID }
      }
      case 'update': {
        if (!queries.get(req.query.ID)) throw notFound()
        const { index } = await core.apply({ Type: 'query', Op: 'set', Query: req.query })
        return { index, value: req.query.ID }
      }
      case 'delete': {
        const existing = queries.get(req.id)
        if (!existing) return { index: queries.index, value: req.id }
        const { index } = await core.apply({ Type: 'query', Op: 'delete', Query: { ...existing } })
        return { index, value: req.id }
      }
    }
  }

  /**
   * Consul's prepared-query ACLs: a named query needs query:write on its name (and on the name it
   * replaces); an unnamed one may be made by anyone, and changed only by management or the token
   * it captured.
   */
  #authorizeApply(req: PreparedQueryApplyRequest): void {
    const { acl, state } = this.core
    if (!acl.enabled) return
    const who = acl.identity(req.token)
    if (who.authorizer.isManagement) return
    const existing = req.op === 'create' ? undefined : state.queries.get(req.op === 'delete' ? req.id : req.query.ID)
    const names = [req.op === 'delete' ? undefined : req.query.Name, existing?.Name]
    for (const name of names) if (name) acl.require(who, 'query', name, 'write')
    if (existing && !existing.Name && existing.Token !== req.token) throw denied(who, 'query', '', 'write')
  }

  get(req: PreparedQueryRequest, call?: CallContext): Promise<QueryReply<PreparedQuery[]>> {
    const { state, acl } = this.core
    return this.core.readAs(req, call, (ws, who) => {
      state.watchCatalog(ws, 'queries')
      const q = state.queries.get(req.id)
      if (!q) throw notFound()
      if (who && !queryReadable(who, q, req.token)) throw denied(who, 'query', q.Name, 'read')
      return { index: q.ModifyIndex, value: [redactToken(q, who)] }
    })
  }

  list(req: QueryOptions, call?: CallContext): Promise<QueryReply<PreparedQuery[]>> {
    const { state, acl } = this.core
    return this.core.readAs(req, call, (ws, who) => {
      state.watchCatalog(ws, 'queries')
      const rows = state.queries.list()
      if (!who) return { index: state.queries.index, value: rows }
      const { items, filtered } = acl.keep(who, rows, (_a, q) => queryReadable(who, q, req.token))
      return { index: state.queries.index, value: items.map((q) => redactToken(q, who)), filtered }
    })
  }

  /** The query an ID or name resolves to, a template rendered for the name. */
  explain(req: PreparedQueryExecuteRequest): Promise<QueryReply<PreparedQuery>> {
    const { state } = this.core
    const { acl } = this.core
    return this.core.readOnce(req, () => {
      const q = state.queries.resolve(req.idOrName)
      if (!q) throw notFound()
      if (!acl.enabled) return { index: state.queries.index, value: q }
      // Explaining shows the whole definition: it takes what reading the query takes.
      const who = acl.identity(req.token)
      if (!who.authorizer.isManagement && !queryReadable(who, q, req.token)) throw denied(who, 'query', q.Name, 'read')
      return { index: state.queries.index, value: redactToken(q, who.authorizer.isManagement ? undefined : who) }
    })
  }

  /**
   * Runs the query's service part against the catalog (the index is the service's), sorted by
   * distance from the source (the node itself first); with no healthy instance here, the
   * failover datacenters in turn until one has some.
   */
  async execute(req: PreparedQueryExecuteRequest): Promise<QueryReply<PreparedQueryExecuteReply>> {
    const { state, random, datacenter } = this.core
    const reply = await this.core.readOnce(req, () => {
      const query = state.queries.resolve(req.idOrName)
      if (!query) throw notFound()
      let entries = this.#visible(executeQuery(state.catalog, query, random), query.Token || req.token)
      const source = this.#source(req, query)
      if (source) {
        entries = this.core.near(source, entries, (e) => e.node.Node)
        const at = entries.findIndex((e) => e.node.Node.toLowerCase() === source.node.toLowerCase())
        if (at > 0) entries.unshift(...entries.splice(at, 1))
      }
      if (req.limit !== undefined && req.limit > 0) entries = entries.slice(0, req.limit)
      return { index: state.catalog.serviceIndexOf(query.Service.Service), value: { query, entries, datacenter, failovers: 0 } }
    })
    const { query } = reply.value
    const { NearestN, Datacenters } = query.Service.Failover
    if (reply.value.entries.length > 0 || !this.failover || (NearestN <= 0 && Datacenters.length === 0)) return reply
    return this.#failover(req, reply)
  }

  /** A query definition another datacenter sent: run here as it is, shuffled, cut to the limit. */
  executeRemote(req: PreparedQueryExecuteRemoteRequest): Promise<QueryReply<PreparedQueryExecuteReply>> {
    const { state, random, datacenter } = this.core
    return this.core.readOnce(req, () => {
      let entries = this.#visible(executeQuery(state.catalog, req.query, random), req.query.Token || req.token)
      if (req.limit !== undefined && req.limit > 0) entries = entries.slice(0, req.limit)
      return { index: state.catalog.serviceIndexOf(req.query.Service.Service), value: { query: req.query, entries, datacenter, failovers: 0 } }
    })
  }

  /** The instances the query's captured token (else the caller's) may read: node and service. */
  #visible<T extends { node: { Node: string }; service: { Service: string } }>(entries: T[], token: string | undefined): T[] {
    const { acl } = this.core
    if (!acl.enabled) return entries
    return acl.keep(acl.identity(token), entries, (a, e) => a.allowed('node', e.node.Node, 'read') && a.allowed('service', e.service.Service, 'read')).items
  }

  /** `?near` first, then the query's `Near` (`_agent`: the asking agent). */
  #source(req: PreparedQueryExecuteRequest, query: PreparedQuery): QuerySource | undefined {
    if (req.source) return req.source
    const near = query.Service.Near
    if (!near) return undefined
    const here = req.agent?.datacenter ?? this.core.datacenter
    if (near === '_agent') return req.agent
    return { node: near, datacenter: here }
  }

  /** Consul's queryFailover: the nearest N other datacenters, then the listed ones not yet tried (unknown ones skipped). */
  async #failover(req: PreparedQueryExecuteRequest, local: QueryReply<PreparedQueryExecuteReply>): Promise<QueryReply<PreparedQueryExecuteReply>> {
    const failover = this.failover!
    const { query } = local.value
    const { order, unknown } = failoverOrder(query.Service.Failover, this.core.datacenter, failover.datacenters())
    for (const dc of unknown) this.core.log('warn', `prepared_query: skipping unknown datacenter "${dc}" in the failover list of query ${query.ID}`)
    let failovers = 0
    for (const dc of order) {
      failovers++
      try {
        const remote = await failover.executeRemote({ datacenter: dc, query, limit: req.limit, consistency: req.consistency, token: req.token })
        if (remote.value.entries.length > 0) return { meta: remote.meta, value: { ...remote.value, failovers } }
      } catch (err) {
        this.core.log('warn', `prepared_query: failover to datacenter ${dc} failed: ${(err as Error).message}`)
      }
    }
    return { meta: local.meta, value: { ...local.value, failovers } }
  }
}

/** A named query is readable with query:read on its name; an unnamed one by the token it captured. */
function queryReadable(who: Identity, q: PreparedQuery, token: string | undefined): boolean {
  return q.Name ? who.authorizer.allowed('query', q.Name, 'read') : q.Token !== '' && q.Token === token
}

/** The captured token is shown to management only (Consul redacts it). */
function redactToken(q: PreparedQuery, who: Identity | undefined): PreparedQuery {
  return who && q.Token ? { ...q, Token: '<hidden>' } : q
}

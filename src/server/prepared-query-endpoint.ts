/**
 * PreparedQuery.* (Consul's agent/consul/prepared_query_endpoint.go), as far as the HTTP API has
 * them: Apply (create, update, delete), Get, List, Explain and Execute in the local datacenter.
 */
import { executeQuery, type PreparedQuery, type PreparedQueryInput, type QueryResultEntry } from '../state/queries.js'
import type { EndpointCore } from './core.js'
import { NotFoundError } from './errors.js'
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
}

export interface PreparedQueryExecuteReply {
  query: PreparedQuery
  /** Healthy instances, shuffled. */
  entries: QueryResultEntry[]
}

const notFound = (): NotFoundError => new NotFoundError('Query not found')

export class PreparedQueryEndpoint {
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

  get(req: PreparedQueryRequest, call?: CallContext): Promise<QueryReply<PreparedQuery[]>> {
    const { state } = this.core
    return this.core.read(req, call, (ws) => {
      state.watchCatalog(ws, 'queries')
      const q = state.queries.get(req.id)
      if (!q) throw notFound()
      return { index: q.ModifyIndex, value: [q] }
    })
  }

  list(req: QueryOptions, call?: CallContext): Promise<QueryReply<PreparedQuery[]>> {
    const { state } = this.core
    return this.core.read(req, call, (ws) => {
      state.watchCatalog(ws, 'queries')
      return { index: state.queries.index, value: state.queries.list() }
    })
  }

  /** The query an ID or name resolves to, a template rendered for the name. */
  explain(req: PreparedQueryExecuteRequest): Promise<QueryReply<PreparedQuery>> {
    const { state } = this.core
    return this.core.readOnce(req, () => {
      const q = state.queries.resolve(req.idOrName)
      if (!q) throw notFound()
      return { index: state.queries.index, value: q }
    })
  }

  /** Runs the query's service part against the catalog; the index is the service's. */
  execute(req: PreparedQueryExecuteRequest): Promise<QueryReply<PreparedQueryExecuteReply>> {
    const { state, random } = this.core
    return this.core.readOnce(req, () => {
      const query = state.queries.resolve(req.idOrName)
      if (!query) throw notFound()
      let entries = executeQuery(state.catalog, query, random)
      if (req.limit !== undefined && req.limit > 0) entries = entries.slice(0, req.limit)
      return { index: state.catalog.serviceIndexOf(query.Service.Service), value: { query, entries } }
    })
  }
}

import type { Router } from './router.js'
import type { ApiContext } from './context.js'
import { checkDatacenter } from './blocking.js'
import { Reply } from './reply.js'
import { formatDurationMs } from '../lib/duration.js'
import { badRequest } from '../lib/errors.js'
import { field } from '../lib/json.js'
import { readJsonBody } from './body.js'
import type { ApiRequest } from './request.js'

export function registerOperatorRoutes(router: Router, ctx: ApiContext): void {
  // The gossip keyring of every member of this agent's pools (LAN, and WAN on a server).
  const keyOp = (op: 'install' | 'use' | 'remove') => async (req: ApiRequest): Promise<undefined> => {
    const key = field(await readJsonBody(req), 'Key')
    if (typeof key !== 'string' || !key) throw badRequest('Request decode failed: a Key is required')
    await ctx.keyring(op, key, req.token)
    return undefined
  }
  router.exact('/v1/operator/keyring', {
    GET: (req) => ctx.keyring('list', undefined, req.token),
    POST: keyOp('install'),
    PUT: keyOp('use'),
    DELETE: keyOp('remove'),
  })
  router.exact('/v1/operator/raft/configuration', {
    GET: async (req) => {
      const { servers, index } = await ctx.server.operator.raftGetConfiguration({ datacenter: checkDatacenter(req, ctx), token: req.token })
      return {
        Servers: servers.map((s) => ({ ID: s.id, Node: s.node, Address: s.address, Leader: s.leader, Voter: s.voter, ProtocolVersion: '3' })),
        Index: index,
      }
    },
  })
  // Consul answers remove-peer with an empty body.
  router.exact('/v1/operator/raft/peer', {
    DELETE: async (req) => {
      await ctx.server.operator.raftRemovePeer({ datacenter: checkDatacenter(req, ctx), token: req.token, id: req.query.get('id') ?? undefined, address: req.query.get('address') ?? undefined })
      return undefined
    },
  })
  router.exact('/v1/operator/raft/transfer-leader', {
    POST: async (req) => {
      await ctx.server.operator.raftTransferLeader({ datacenter: checkDatacenter(req, ctx), token: req.token, id: req.query.get('id') ?? undefined })
      return { Success: true }
    },
  })
  // Consul answers 429 when the cluster is not healthy, so the endpoint serves as a health check.
  router.exact('/v1/operator/autopilot/health', {
    GET: async (req) => {
      const h = await ctx.server.operator.autopilotHealth({ datacenter: checkDatacenter(req, ctx), token: req.token })
      const body = {
        Healthy: h.healthy,
        FailureTolerance: h.failureTolerance,
        Servers: h.servers.map((s) => ({
          ID: s.id,
          Name: s.name,
          Address: s.address,
          SerfStatus: s.serfStatus,
          Version: s.version,
          Leader: s.leader,
          LastContact: formatDurationMs(s.lastContactMs),
          LastTerm: s.lastTerm,
          LastIndex: s.lastIndex,
          Healthy: s.healthy,
          Voter: s.voter,
          StableSince: new Date(s.stableSince).toISOString(),
        })),
      }
      return h.healthy ? body : new Reply(429, JSON.stringify(body))
    },
  })
}

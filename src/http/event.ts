import type { Router } from './router.js'
import type { ApiContext } from './context.js'
import type { ApiRequest } from './request.js'
import { checkDatacenter, serverRead } from './blocking.js'
import { badRequest } from '../lib/errors.js'

/** User event payloads are small: Consul caps them (with the name) near 512 bytes. */
export const EVENT_PAYLOAD_MAX = 100 * 1024

export function registerEventRoutes(router: Router, ctx: ApiContext): void {
  router.prefix('/v1/event/fire/', { PUT: (req) => fire(req, ctx) })
  router.exact('/v1/event/list', { GET: (req) => list(req, ctx) })
}

async function fire(req: ApiRequest, ctx: ApiContext): Promise<unknown> {
  // Another datacenter's event goes to its servers, which gossip it there (Consul's Internal.EventFire).
  const datacenter = checkDatacenter(req, ctx)
  const name = req.path.slice('/v1/event/fire/'.length)
  if (!name) throw badRequest('Missing name')
  if (name.startsWith('_')) throw badRequest(`Event names starting with '_' are reserved`)
  const payload = await req.body(EVENT_PAYLOAD_MAX, (size) => `Request body(${size} bytes) too large, max size: ${EVENT_PAYLOAD_MAX} bytes`)
  const filters = { node: req.param('node'), service: req.param('service'), tag: req.param('tag') }
  for (const [k, v] of Object.entries(filters)) {
    if (!v) continue
    try {
      new RegExp(v)
    } catch {
      throw badRequest(`Invalid ${k} filter: ${JSON.stringify(v)} is not a regular expression`)
    }
  }
  return datacenter ? ctx.events.fireIn(datacenter, name, payload, filters, req.token) : ctx.events.fire(name, payload, filters)
}

async function list(req: ApiRequest, ctx: ApiContext): Promise<unknown> {
  const name = req.param('name') ?? ''
  // Events are this agent's, not the replicated state's: a local read, through the same blocking loop.
  return serverRead(req, ctx, (opts, call) =>
    ctx.server.localRead(opts, call, (ws) => {
      const { index, events } = ctx.events.list(ws, name)
      const who = req.identity
      // With ACLs on, the events the caller may read (event:read on their name).
      return { index, value: who ? events.filter((e) => who.authorizer.allowed('event', e.Name, 'read')) : events }
    }),
  )
}

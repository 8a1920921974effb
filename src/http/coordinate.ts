/**
 * /v1/coordinate/* (Consul's coordinate_endpoint.go): the servers' WAN coordinates by datacenter,
 * the nodes' LAN coordinates (blocking), one node's, and a coordinate reported by hand.
 */
import type { Router } from './router.js'
import type { ApiContext } from './context.js'
import type { ApiRequest } from './request.js'
import { nodeWriteBody, serverRead, withOptions } from './blocking.js'
import { badRequest, notFound } from '../lib/errors.js'
import { field } from '../lib/json.js'
import { isValidCoordinate } from '../lib/coordinate.js'
import type { CoordinateEntry } from '../state/coordinates.js'

export function registerCoordinateRoutes(router: Router, ctx: ApiContext): void {
  router.exact('/v1/coordinate/datacenters', { GET: () => datacenters(ctx) })
  router.exact('/v1/coordinate/nodes', { GET: (req) => nodes(req, ctx) })
  router.prefix('/v1/coordinate/node/', { GET: (req) => node(req, ctx) })
  router.exact('/v1/coordinate/update', { PUT: (req) => update(req, ctx) })
}

async function datacenters(ctx: ApiContext): Promise<unknown> {
  const maps = await ctx.server.coordinate.listDatacenters({})
  return [...maps]
    .sort((a, b) => (a.Datacenter < b.Datacenter ? -1 : a.Datacenter > b.Datacenter ? 1 : 0))
    .map((m) => ({ ...m, Coordinates: [...m.Coordinates].sort((a, b) => (a.Node < b.Node ? -1 : a.Node > b.Node ? 1 : 0)) }))
}

/** Segments are Consul Enterprise's: `?segment=` other than "" matches nothing. */
const inSegment = (req: ApiRequest, e: CoordinateEntry): boolean => !req.has('segment') || (req.param('segment') ?? '') === e.Segment

async function nodes(req: ApiRequest, ctx: ApiContext): Promise<unknown> {
  const list = await serverRead(req, ctx, (opts, call) => ctx.server.coordinate.listNodes(opts, call))
  return list.filter((e) => inSegment(req, e))
}

async function node(req: ApiRequest, ctx: ApiContext): Promise<unknown> {
  const name = req.pathArg('/v1/coordinate/node/', 'node name')
  const list = (await serverRead(req, ctx, (opts, call) => ctx.server.coordinate.node(withOptions({ node: name }, opts), call))).filter((e) => inSegment(req, e))
  // Consul answers an unknown node with a bare 404.
  if (list.length === 0) throw notFound('')
  return list
}

async function update(req: ApiRequest, ctx: ApiContext): Promise<unknown> {
  const { body, datacenter, node: nodeName } = await nodeWriteBody(req, ctx)
  const coord = field(body, 'Coord')
  if (!isValidCoordinate(coord)) throw badRequest('Must provide a valid Coord (Vec of 8 numbers, Error, Adjustment, Height)')
  const segment = field(body, 'Segment')
  await ctx.server.coordinate.update({ node: nodeName, coord, segment: typeof segment === 'string' ? segment : '', datacenter, token: req.token })
  return true
}

/**
 * What `consul debug` reads beyond the usual endpoints: GET /v1/agent/host, and the profiles under
 * /debug/pprof (V8's CPU profile and allocation sampling here, where Consul serves Go's pprof), which
 * Consul serves with `enable_debug`, or with ACLs on to a token with operator:read.
 */
import type { Router } from './router.js'
import type { ApiContext } from './context.js'
import type { ApiRequest } from './request.js'
import { Reply } from './reply.js'
import { badRequest, HttpError } from '../lib/errors.js'

/** Longest CPU profile one request may take. */
const MAX_PROFILE_SECONDS = 300

export function registerDebugRoutes(router: Router, ctx: ApiContext): void {
  router.exact('/v1/agent/host', { GET: () => ctx.debug.host() })
  router.exact('/debug/pprof/profile', { GET: (req) => profile(req, ctx, 'cpu') })
  router.exact('/debug/pprof/heap', { GET: (req) => profile(req, ctx, 'heap') })
}

function gate(ctx: ApiContext): void {
  if (!ctx.acl.enabled && !ctx.debug.enabled()) throw new HttpError(403, 'Profiling is off: set enable_debug = true on this agent (or turn ACLs on and use a token with operator:read)')
}

/** A CPU profile (`seconds`, default 30) or an allocation sampling (default 5), as JSON DevTools opens. */
async function profile(req: ApiRequest, ctx: ApiContext, kind: 'cpu' | 'heap'): Promise<Reply> {
  gate(ctx)
  const text = req.param('seconds') ?? (kind === 'cpu' ? '30' : '5')
  const seconds = Number(text)
  if (!/^\d+$/.test(text) || seconds < 1 || seconds > MAX_PROFILE_SECONDS) throw badRequest(`seconds must be a whole number from 1 to ${MAX_PROFILE_SECONDS}, not "${text}"`)
  try {
    const file = kind === 'cpu' ? 'profile.cpuprofile' : 'heap.heapprofile'
    const data = kind === 'cpu' ? await ctx.debug.cpu(seconds) : await ctx.debug.heap(seconds)
    return new Reply(200, JSON.stringify(data), 'application/json', { 'Content-Disposition': `attachment; filename="${file}"` })
  } catch (err) {
    throw new HttpError(409, (err as Error).message)
  }
}

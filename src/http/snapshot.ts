import type { Router } from './router.js'
import type { ApiContext } from './context.js'
import { checkDatacenter, serverRead } from './blocking.js'
import { Reply } from './reply.js'
import { LIMITS } from '../lib/limits.js'

/** GET and PUT /v1/snapshot: the server state as Consul's archive (application/x-gzip), and a restore of one. */
export function registerSnapshotRoutes(router: Router, ctx: ApiContext): void {
  router.exact('/v1/snapshot', {
    GET: async (req) => {
      const archive = await serverRead(req, ctx, (opts) => ctx.server.snapshot.save(opts))
      return new Reply(200, Buffer.from(archive.buffer, archive.byteOffset, archive.byteLength), 'application/x-gzip')
    },
    PUT: async (req) => {
      const datacenter = checkDatacenter(req, ctx)
      const archive = await req.body(LIMITS.snapshotRestoreMaxBytes, (size) => `Request body(${size} bytes) too large, max size: ${LIMITS.snapshotRestoreMaxBytes} bytes`)
      await ctx.server.snapshot.restore({ datacenter, archive, token: req.token })
      return Reply.empty(200)
    },
  })
}

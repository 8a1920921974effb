import { createRequire } from 'node:module'

const pkg = createRequire(import.meta.url)('../../package.json') as { version: string }

/** This toolkit's own version. */
export const VERSION = pkg.version
/** The Consul release whose HTTP API, DNS and CLI this build follows (what clients see as Version). */
export const CONSUL_COMPAT_VERSION = '1.20.0'
/** Consul's raft protocol version, as reported in member tags and `consul version`. */
export const RAFT_PROTOCOL = 3

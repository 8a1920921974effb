import type { StateStore } from '../state/store.js'
import type { Consensus } from '../raft/single-server.js'

/** Limits the HTTP layer enforces; reloadable, so read through the context each time. */
export interface HttpLimits {
  kvMaxValueSize: number
  txnMaxReqLen: number
  defaultQueryTimeMs: number
  maxQueryTimeMs: number
}

export interface ReloadReport {
  /** Keys whose new values took effect. */
  applied: string[]
  /** Keys that changed but need a restart to take effect. */
  restartRequired: string[]
}

/** What HTTP handlers need from the agent they serve. */
export interface ApiContext {
  readonly state: StateStore
  readonly raft: Consensus
  readonly datacenter: string
  readonly limits: HttpLimits
  /** Pretty-print JSON by default (dev mode), not only with ?pretty. */
  readonly prettyByDefault: boolean
  agentSelf(): Record<string, unknown>
  reload(): Promise<ReloadReport>
}

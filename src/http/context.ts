import type { Metrics } from '../lib/metrics.js'
import type { LogLevel } from '../lib/log-level.js'
import type { AgentEndpoints } from '../server/endpoints.js'
import type { LocalState } from '../agent/local-state.js'
import type { Readiness } from '../agent/self-view.js'
import type { EventBuffer } from '../agent/events.js'
import type { CheckSpec, ServiceDefinition } from '../agent/definitions.js'
import type { CheckStatus } from '../checks/types.js'
import type { BlockingCounters } from '../server/blocking.js'
import type { Identity } from '../acl/resolver.js'
import type { AgentTokenKind } from '../acl/agent-tokens.js'

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

/** The agent's ACL side as HTTP sees it (agent/acl.ts). */
export interface HttpAcl {
  readonly enabled: boolean
  readonly defaultPolicy: 'allow' | 'deny'
  defaultToken(): string
  /** Who `token` is; throws AclNotFoundError for an unknown secret. */
  identity(token: string): Promise<Identity>
  setToken(kind: AgentTokenKind, token: string): void
}

/** What HTTP handlers need from the agent they serve. */
export interface ApiContext {
  readonly acl: HttpAcl
  /** The server endpoint layer: every read and write of the replicated state goes through it. */
  readonly server: AgentEndpoints
  readonly datacenter: string
  readonly limits: HttpLimits
  /** Pretty-print JSON by default (dev mode), not only with ?pretty. */
  readonly prettyByDefault: boolean
  readonly nodeName: string
  readonly nodeId: string
  readonly local: LocalState
  readonly events: EventBuffer
  readonly agentOps: AgentOps
  /** Blocking-query counters of this agent. */
  readonly blocking: BlockingCounters
  /** This agent's telemetry registry (GET /v1/agent/metrics, and what every request records). */
  readonly metrics: Metrics
  /** Follows the agent's log at `level`; returns the unsubscribe. */
  subscribeLog(level: LogLevel, json: boolean, write: (line: string) => void): () => void
  /** consul debug's sources: host facts, and the profiles `enable_debug` (or an operator:read token) opens. */
  readonly debug: {
    enabled(): boolean
    host(): Record<string, unknown>
    cpu(seconds: number): Promise<unknown>
    heap(seconds: number): Promise<unknown>
  }
  /** GET /v1/agent/health: whether this agent is ready for traffic, by role. */
  readiness(): Promise<Readiness>
  /** Whether a debug line would be read by anyone (the console or a monitor). */
  debugLogged(): boolean
  agentSelf(): Record<string, unknown>
  /** LAN members as this agent sees them; `wan` (not yet) throws an HttpError. */
  members(wan: boolean): Array<Record<string, unknown>>
  /**
   * A keyring operation on every member of this agent's gossip pools: each pool's counts in
   * Consul's shape; throws an HttpError (500) naming the members that failed.
   */
  keyring(op: 'list' | 'install' | 'use' | 'remove', key?: string, token?: string): Promise<Array<Record<string, unknown>>>
  /** Whether `?dc=` may name this datacenter (a server knows the WAN pool; a client agent asks its servers). */
  knowsDatacenter(datacenter: string): boolean
  /** Joins the LAN pool through `address` (`host[:port]`); throws with the reason when it cannot. */
  join(address: string, wan: boolean): Promise<void>
  /** Marks a member left (`prune`: forgets it); throws an HttpError for an unknown member. */
  forceLeave(node: string, prune: boolean, wan: boolean): void
  reload(): Promise<ReloadReport>
  /** Graceful leave: answer first, then shut down (PUT /v1/agent/leave). */
  leave(): void
}

/** The agent's own registrations (its local state), as the /v1/agent endpoints change them. */
export interface AgentOps {
  /** Validates and registers; throws an HttpError (400) naming the bad field. */
  registerService(def: ServiceDefinition, opts: { replaceExistingChecks: boolean }): void
  deregisterService(id: string): boolean
  registerCheck(spec: CheckSpec): void
  deregisterCheck(id: string): boolean
  /** TTL checks only; throws HttpError otherwise. */
  ttlUpdate(id: string, status: CheckStatus, output: string): void
  nodeMaintenance(enable: boolean, reason: string): void
  serviceMaintenance(id: string, enable: boolean, reason: string): boolean
}

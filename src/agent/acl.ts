/**
 * The agent's side of ACLs: its tokens (default, agent, recovery, settable through
 * /v1/agent/token and kept with enable_token_persistence), and who a request is for the agent's
 * own endpoints. A server agent asks its own endpoint layer every time; a client agent asks the
 * servers (ACL.ResolveToken) and keeps the answer for acl.token_ttl, falling back on
 * acl.down_policy when no server answers, as Consul's clients do.
 */
import { existsSync, readFileSync, writeFileSync, renameSync } from 'node:fs'
import { join } from 'node:path'
import { Authorizer } from '../acl/authorizer.js'
import { AclNotFoundError } from '../acl/errors.js'
import { sameSecret, type Identity } from '../acl/resolver.js'
import { parseRules, rulesFromWire } from '../acl/rules.js'
import type { Clock } from '../lib/clock.js'
import type { ResolvedToken } from '../server/acl-endpoint.js'
import type { AclConfig, AclTokens } from './config-acl.js'
import type { AgentTokenKind } from '../acl/agent-tokens.js'

const KIND_FIELD: Record<AgentTokenKind, keyof AclTokens> = { default: 'default', agent: 'agent', agent_recovery: 'agentRecovery', replication: 'replication', dns: 'dns' }

export const TOKENS_FILE = 'acl-tokens.json'

/** The recovery token may use the agent's endpoints and read nodes, nothing else (Consul's agent recovery token). */
const RECOVERY_RULES = parseRules('agent_prefix "" { policy = "write" }\nnode_prefix "" { policy = "read" }')

export interface AgentAclOptions {
  config: AclConfig
  /** A server agent: its endpoint layer's answer, always current. */
  local?: (token: string) => Identity
  /** A client agent: the servers' answer. */
  remote?: (token: string) => Promise<ResolvedToken>
  clock: Clock
  dataDir: string | undefined
  log: (level: 'debug' | 'info' | 'warn' | 'error', message: string) => void
}

interface Cached {
  identity: Identity
  expires: number
}

export class AgentAcl {
  readonly #o: AgentAclOptions
  readonly tokens: AclTokens
  readonly #cache = new Map<string, Cached>()
  readonly #refreshing = new Set<string>()
  readonly #changed = new Set<() => void>()

  constructor(o: AgentAclOptions) {
    this.#o = o
    this.tokens = { ...o.config.tokens, ...this.#persisted() }
  }

  get enabled(): boolean {
    return this.#o.config.enabled
  }

  get defaultPolicy(): 'allow' | 'deny' {
    return this.#o.config.defaultPolicy
  }

  /** The token a request without one runs as (""): the anonymous token then. */
  defaultToken(): string {
    return this.tokens.default ?? ''
  }

  /** What DNS answers under (Consul 1.17's acl.tokens.dns), else the default token. */
  dnsToken(): string {
    return this.tokens.dns ?? this.tokens.default ?? ''
  }

  /** The token the agent's own writes (anti-entropy, coordinates) carry: the agent token, else the default one. */
  agentToken(): string {
    return this.tokens.agent ?? this.tokens.default ?? ''
  }

  setToken(kind: AgentTokenKind, token: string): void {
    const field = KIND_FIELD[kind]
    if (token === '') delete this.tokens[field]
    else this.tokens[field] = token
    this.#cache.clear()
    if (this.#o.config.enableTokenPersistence) this.#persist()
    for (const fn of this.#changed) fn()
  }

  /** Calls `fn` after any of the agent's tokens changed (DNS answers under the default one). */
  onTokensChanged(fn: () => void): void {
    this.#changed.add(fn)
  }

  /** Who `token` is (the default token when empty). Throws AclNotFoundError for an unknown one. */
  async identity(token: string): Promise<Identity> {
    if (!this.enabled) return { accessor: '', authorizer: Authorizer.manage() }
    const secret = token || this.defaultToken()
    const recovery = this.tokens.agentRecovery
    if (secret && recovery && sameSecret(secret, recovery)) return { accessor: 'agent-recovery', authorizer: new Authorizer(RECOVERY_RULES, 'deny') }
    if (this.#o.local) return this.#o.local(secret)
    return this.#remote(secret)
  }

  async #remote(secret: string): Promise<Identity> {
    const key = secret
    const now = this.#o.clock.now()
    const hit = this.#cache.get(key)
    if (hit && hit.expires > now) return hit.identity
    if (hit && this.#o.config.downPolicy === 'async-cache') {
      this.#refresh(secret, key)
      return hit.identity
    }
    try {
      return await this.#fetch(secret, key)
    } catch (err) {
      if (err instanceof AclNotFoundError) throw err
      return this.#down(hit, err as Error)
    }
  }

  #refresh(secret: string, key: string): void {
    if (this.#refreshing.has(key)) return
    this.#refreshing.add(key)
    this.#fetch(secret, key)
      .catch(() => undefined)
      .finally(() => this.#refreshing.delete(key))
  }

  async #fetch(secret: string, key: string): Promise<Identity> {
    try {
      const r = await this.#o.remote!(secret)
      const authorizer = r.management ? Authorizer.manage() : new Authorizer(r.rules ? rulesFromWire(r.rules) : undefined, r.defaultPolicy)
      const identity: Identity = { accessor: r.accessor, authorizer }
      this.#cache.set(key, { identity, expires: this.#o.clock.now() + this.#o.config.tokenTtlMs })
      return identity
    } catch (err) {
      if (err instanceof AclNotFoundError) this.#cache.delete(key)
      throw err
    }
  }

  /** No server could say (acl.down_policy): the last answer, or allow or deny everything. */
  #down(hit: Cached | undefined, err: Error): Identity {
    const policy = this.#o.config.downPolicy
    this.#o.log('warn', `acl: cannot resolve a token (${err.message}); down_policy ${policy}`)
    if ((policy === 'extend-cache' || policy === 'async-cache') && hit) return hit.identity
    return { accessor: '', authorizer: policy === 'allow' ? Authorizer.allowAll() : Authorizer.denyAll() }
  }

  #file(): string | undefined {
    return this.#o.dataDir ? join(this.#o.dataDir, TOKENS_FILE) : undefined
  }

  #persisted(): Partial<AclTokens> {
    const file = this.#file()
    if (!this.#o.config.enableTokenPersistence || !file || !existsSync(file)) return {}
    try {
      const doc = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>
      const out: Partial<AclTokens> = {}
      for (const [kind, field] of Object.entries(KIND_FIELD)) if (typeof doc[kind] === 'string' && doc[kind] !== '') out[field] = doc[kind] as string
      return out
    } catch (err) {
      this.#o.log('warn', `acl: ignoring ${file}: ${(err as Error).message}`)
      return {}
    }
  }

  #persist(): void {
    const file = this.#file()
    if (!file) return
    const doc: Record<string, string> = {}
    for (const [kind, field] of Object.entries(KIND_FIELD)) {
      const v = this.tokens[field]
      if (v) doc[kind] = v
    }
    const tmp = `${file}.tmp`
    writeFileSync(tmp, JSON.stringify(doc), { mode: 0o600 })
    renameSync(tmp, file)
  }
}

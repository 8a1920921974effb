/**
 * The `acl` block of the agent config, with the older keys users still have mapped onto it
 * (each with a deprecation warning), as Consul maps them: `acl_datacenter` turns ACLs on,
 * `acl_master_token` is the initial management token, `acl_token` the default token, and so on.
 */
import { ConfigError } from '../lib/errors.js'
import { parseDurationMs } from '../lib/duration.js'

type Doc = Record<string, unknown>

export type AclDownPolicy = 'allow' | 'deny' | 'extend-cache' | 'async-cache'

export interface AclConfig {
  enabled: boolean
  defaultPolicy: 'allow' | 'deny'
  downPolicy: AclDownPolicy
  /**
   * How long a client agent keeps a resolved token before asking the servers again. The servers
   * answer with the token's policies and roles resolved, so the answer is kept for the shortest of
   * token_ttl, policy_ttl and role_ttl: a change to any of them is seen within its own TTL.
   */
  tokenTtlMs: number
  enableKeyListPolicy: boolean
  /** Tokens set through /v1/agent/token are kept in data_dir/acl-tokens.json across restarts. */
  enableTokenPersistence: boolean
  tokens: AclTokens
}

export interface AclTokens {
  initialManagement?: string
  /** What a request without a token runs as (and DNS). */
  default?: string
  /** The agent's own token: anti-entropy and its checks' updates. */
  agent?: string
  /** Agent endpoints only, even when the servers cannot be reached. */
  agentRecovery?: string
  replication?: string
  /** DNS queries (and a client agent's catalog replica that answers them); the default token when unset. */
  dns?: string
  /** What services and checks from config files are synced with when their definition has no token. */
  configFileServiceRegistration?: string
}

/** Older keys and where they now live. */
const LEGACY: ReadonlyArray<readonly [string, string]> = [
  ['acl_datacenter', 'primary_datacenter (and acl.enabled = true)'],
  ['acl_default_policy', 'acl.default_policy'],
  ['acl_down_policy', 'acl.down_policy'],
  ['acl_ttl', 'acl.token_ttl'],
  ['acl_master_token', 'acl.tokens.initial_management'],
  ['acl_token', 'acl.tokens.default'],
  ['acl_agent_token', 'acl.tokens.agent'],
  ['acl_agent_master_token', 'acl.tokens.agent_recovery'],
  ['acl_replication_token', 'acl.tokens.replication'],
  ['acl_enable_key_list_policy', 'acl.enable_key_list_policy'],
]
const LEGACY_TOKENS: ReadonlyArray<readonly [string, string]> = [
  ['master', 'initial_management'],
  ['agent_master', 'agent_recovery'],
]

const isObject = (v: unknown): v is Doc => typeof v === 'object' && v !== null && !Array.isArray(v)

/** One warning per deprecated ACL key a config source sets. */
export function warnDeprecatedAcl(source: string, doc: Doc, warnings: string[]): void {
  for (const [old, now] of LEGACY) if (doc[old] !== undefined) warnings.push(`${source}: config key "${old}" is deprecated; use ${now}`)
  const tokens = isObject(doc.acl) && isObject(doc.acl.tokens) ? doc.acl.tokens : {}
  for (const [old, now] of LEGACY_TOKENS) if (tokens[old] !== undefined) warnings.push(`${source}: config key "acl.tokens.${old}" is deprecated; use acl.tokens.${now}`)
}

export function aclConfig(doc: Doc): AclConfig {
  const acl = isObject(doc.acl) ? doc.acl : {}
  const tokens = isObject(acl.tokens) ? acl.tokens : {}
  const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined)
  const pick = <T>(...vs: unknown[]): T | undefined => vs.find((v) => v !== undefined && v !== '') as T | undefined
  const ttl = pick<string>(acl.token_ttl, doc.acl_ttl)
  const t: AclTokens = {}
  const set = (k: keyof AclTokens, ...vs: unknown[]): void => {
    const v = str(pick(...vs))
    if (v !== undefined) t[k] = v
  }
  set('initialManagement', tokens.initial_management, tokens.master, doc.acl_master_token)
  set('default', tokens.default, doc.acl_token)
  set('agent', tokens.agent, doc.acl_agent_token)
  set('agentRecovery', tokens.agent_recovery, tokens.agent_master, doc.acl_agent_master_token)
  set('replication', tokens.replication, doc.acl_replication_token)
  set('dns', tokens.dns)
  set('configFileServiceRegistration', tokens.config_file_service_registration)
  const config: AclConfig = {
    enabled: acl.enabled === true || str(doc.acl_datacenter) !== undefined,
    defaultPolicy: pick<'allow' | 'deny'>(acl.default_policy, doc.acl_default_policy) ?? 'allow',
    downPolicy: pick<AclDownPolicy>(acl.down_policy, doc.acl_down_policy) ?? 'extend-cache',
    tokenTtlMs: Math.min(...[ttl, acl.policy_ttl, acl.role_ttl].map((v) => (typeof v === 'string' ? parseDurationMs(v) : 30_000))),
    enableKeyListPolicy: pick<boolean>(acl.enable_key_list_policy, doc.acl_enable_key_list_policy) === true,
    enableTokenPersistence: acl.enable_token_persistence === true,
    tokens: t,
  }
  if (!['allow', 'deny', 'extend-cache', 'async-cache'].includes(config.downPolicy)) {
    throw new ConfigError('config', acl.down_policy !== undefined ? 'acl.down_policy' : 'acl_down_policy', `down_policy must be allow, deny, extend-cache or async-cache, not ${JSON.stringify(config.downPolicy)}`)
  }
  return config
}

/** The agent's own tokens, as /v1/agent/token/<name> names them (agent/acl.ts keeps them). */

export type AgentTokenKind = 'default' | 'agent' | 'agent_recovery' | 'replication' | 'dns'
/** Consul's older names for the same tokens (PUT /v1/agent/token/acl_token ...). */
export const AGENT_TOKEN_ALIASES: Record<string, AgentTokenKind> = {
  default: 'default',
  acl_token: 'default',
  agent: 'agent',
  acl_agent_token: 'agent',
  agent_recovery: 'agent_recovery',
  agent_master: 'agent_recovery',
  acl_agent_master_token: 'agent_recovery',
  replication: 'replication',
  acl_replication_token: 'replication',
  dns: 'dns',
}


/**
 * A member as GET /v1/agent/members answers it (Consul's serf member), shared by the CLI and the
 * web UI (which bundles this file: it must stay free of Node imports).
 */
export interface AgentMember {
  Name: string
  Addr: string
  Port: number
  Status: number
  Tags: Record<string, string>
}

/** Serf member status codes as Consul names them. */
export const MEMBER_STATUS = ['none', 'alive', 'leaving', 'left', 'failed'] as const

export function memberStatus(m: Pick<AgentMember, 'Status'>): string {
  return MEMBER_STATUS[m.Status] ?? 'unknown'
}

/**
 * What the `consul acl ...` commands share: Consul's text layout of tokens, policies and roles
 * (or `-format=json`), and the flags that name policies, roles and identities.
 */
import { readFileSync } from 'node:fs'
import { Flags } from '@oclif/core'

export interface AclLinkJson {
  ID: string
  Name?: string
}
export interface AclTokenJson {
  AccessorID: string
  SecretID: string
  Description: string
  Policies?: AclLinkJson[] | null
  Roles?: AclLinkJson[] | null
  ServiceIdentities?: Array<{ ServiceName: string; Datacenters?: string[] }> | null
  NodeIdentities?: Array<{ NodeName: string; Datacenter: string }> | null
  Local: boolean
  CreateTime: string
  ExpirationTime?: string
}
export interface AclPolicyJson {
  ID: string
  Name: string
  Description: string
  Rules?: string
  Datacenters?: string[] | null
}
export interface AclRoleJson {
  ID: string
  Name: string
  Description: string
  Policies?: AclLinkJson[] | null
  ServiceIdentities?: AclTokenJson['ServiceIdentities']
  NodeIdentities?: AclTokenJson['NodeIdentities']
}

export const formatFlag = {
  format: Flags.string({ description: 'Output format: pretty or json.', options: ['pretty', 'json'], default: 'pretty' }),
}

/** Flags naming what a token or role is given (repeatable, as Consul's). */
export const linkFlags = {
  'policy-id': Flags.string({ description: 'ID of a policy to link (repeatable).', multiple: true }),
  'policy-name': Flags.string({ description: 'Name of a policy to link (repeatable).', multiple: true }),
  'service-identity': Flags.string({ description: 'A service identity, NAME[:DC1,DC2] (repeatable).', multiple: true }),
  'node-identity': Flags.string({ description: 'A node identity, NAME:DATACENTER (repeatable).', multiple: true }),
}

export const roleLinkFlags = {
  'role-id': Flags.string({ description: 'ID of a role to link (repeatable).', multiple: true }),
  'role-name': Flags.string({ description: 'Name of a role to link (repeatable).', multiple: true }),
}

type LinkFlagValues = { 'policy-id'?: string[]; 'policy-name'?: string[]; 'service-identity'?: string[]; 'node-identity'?: string[]; 'role-id'?: string[]; 'role-name'?: string[] }

/** The request body fields the link flags give (only those set, so an update keeps the rest). */
export function linksBody(f: LinkFlagValues): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  const policies = [...(f['policy-id'] ?? []).map((ID) => ({ ID })), ...(f['policy-name'] ?? []).map((Name) => ({ Name }))]
  if (policies.length) out.Policies = policies
  const roles = [...(f['role-id'] ?? []).map((ID) => ({ ID })), ...(f['role-name'] ?? []).map((Name) => ({ Name }))]
  if (roles.length) out.Roles = roles
  if (f['service-identity']?.length) {
    out.ServiceIdentities = f['service-identity'].map((s) => {
      const [name, dcs] = s.split(':', 2)
      return { ServiceName: name, ...(dcs ? { Datacenters: dcs.split(',').filter(Boolean) } : {}) }
    })
  }
  if (f['node-identity']?.length) {
    out.NodeIdentities = f['node-identity'].map((s) => {
      const [NodeName, Datacenter] = s.split(':', 2)
      if (!Datacenter) throw new Error(`Malformed -node-identity argument: ${JSON.stringify(s)} (want NAME:DATACENTER)`)
      return { NodeName, Datacenter }
    })
  }
  return out
}

/** `-rules`: the text itself, `@file`, or `-` for stdin, as Consul reads it. */
export function readRules(value: string): string {
  if (value === '-') return readFileSync(0, 'utf8')
  if (value.startsWith('@')) return readFileSync(value.slice(1), 'utf8')
  return value
}

const pad = (label: string, width: number): string => `${label}:`.padEnd(width)

export function tokenText(t: AclTokenJson): string {
  const lines = [
    `${pad('AccessorID', 18)}${t.AccessorID}`,
    `${pad('SecretID', 18)}${t.SecretID}`,
    `${pad('Description', 18)}${t.Description}`,
    `${pad('Local', 18)}${t.Local}`,
    `${pad('Create Time', 18)}${t.CreateTime}`,
  ]
  if (t.ExpirationTime) lines.push(`${pad('Expiration Time', 18)}${t.ExpirationTime}`)
  lines.push(...linkLines('Policies', t.Policies), ...linkLines('Roles', t.Roles), ...identityLines(t))
  return lines.join('\n')
}

export function policyText(p: AclPolicyJson): string {
  const lines = [
    `${pad('ID', 14)}${p.ID}`,
    `${pad('Name', 14)}${p.Name}`,
    `${pad('Description', 14)}${p.Description}`,
    `${pad('Datacenters', 14)}${(p.Datacenters ?? []).join(', ')}`,
  ]
  if (p.Rules !== undefined) lines.push('Rules:', p.Rules)
  return lines.join('\n')
}

/** One policy of a list, under its name, as `consul acl policy list` prints it. */
export function policyListText(p: AclPolicyJson): string {
  return [`${p.Name}:`, `   ${pad('ID', 14)}${p.ID}`, `   ${pad('Description', 14)}${p.Description}`, `   ${pad('Datacenters', 14)}${(p.Datacenters ?? []).join(', ')}`].join('\n')
}

export function roleText(r: AclRoleJson): string {
  return [`${pad('ID', 14)}${r.ID}`, `${pad('Name', 14)}${r.Name}`, `${pad('Description', 14)}${r.Description}`, ...linkLines('Policies', r.Policies), ...identityLines(r)].join('\n')
}

function linkLines(title: string, links: AclLinkJson[] | null | undefined): string[] {
  if (!links?.length) return []
  return [`${title}:`, ...links.map((l) => `   ${l.ID} - ${l.Name ?? ''}`)]
}

function identityLines(x: Pick<AclTokenJson, 'ServiceIdentities' | 'NodeIdentities'>): string[] {
  const out: string[] = []
  if (x.ServiceIdentities?.length) {
    out.push('Service Identities:', ...x.ServiceIdentities.map((s) => `   ${s.ServiceName} (Datacenters: ${s.Datacenters?.length ? s.Datacenters.join(', ') : 'all'})`))
  }
  if (x.NodeIdentities?.length) out.push('Node Identities:', ...x.NodeIdentities.map((n) => `   ${n.NodeName} (Datacenter: ${n.Datacenter})`))
  return out
}

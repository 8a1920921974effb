import type { CheckRecord, NodeRecord, ServiceRecord } from '../state/catalog.js'
import type { SessionRecord } from '../state/sessions.js'

/** JSON shapes of Consul's API, built from state records. One place, so every endpoint agrees. */

export function nodeJson(n: NodeRecord): Record<string, unknown> {
  return {
    ID: n.ID,
    Node: n.Node,
    Address: n.Address,
    Datacenter: n.Datacenter,
    TaggedAddresses: n.TaggedAddresses,
    Meta: n.Meta,
    CreateIndex: n.CreateIndex,
    ModifyIndex: n.ModifyIndex,
  }
}

/** The service as /v1/agent/services, /v1/catalog/node and /v1/health/service show it. */
export function agentServiceJson(s: Omit<ServiceRecord, 'Node' | 'CreateIndex' | 'ModifyIndex'> & Partial<Pick<ServiceRecord, 'CreateIndex' | 'ModifyIndex'>>, datacenter?: string): Record<string, unknown> {
  return {
    ...(s.Kind ? { Kind: s.Kind } : {}),
    ID: s.ID,
    Service: s.Service,
    Tags: s.Tags,
    Meta: s.Meta,
    Port: s.Port,
    Address: s.Address,
    TaggedAddresses: s.TaggedAddresses,
    Weights: s.Weights,
    EnableTagOverride: s.EnableTagOverride,
    ...(s.CreateIndex !== undefined ? { CreateIndex: s.CreateIndex, ModifyIndex: s.ModifyIndex } : {}),
    ...(datacenter ? { Datacenter: datacenter } : {}),
  }
}

/** A row of /v1/catalog/service/:name. */
export function catalogServiceJson(n: NodeRecord, s: ServiceRecord): Record<string, unknown> {
  return {
    ID: n.ID,
    Node: n.Node,
    Address: n.Address,
    Datacenter: n.Datacenter,
    TaggedAddresses: n.TaggedAddresses,
    NodeMeta: n.Meta,
    ServiceKind: s.Kind,
    ServiceID: s.ID,
    ServiceName: s.Service,
    ServiceTags: s.Tags,
    ServiceAddress: s.Address,
    ServiceTaggedAddresses: s.TaggedAddresses,
    ServiceWeights: s.Weights,
    ServiceMeta: s.Meta,
    ServicePort: s.Port,
    ServiceSocketPath: '',
    ServiceEnableTagOverride: s.EnableTagOverride,
    ServiceProxy: { MeshGateway: {}, Expose: {} },
    ServiceConnect: {},
    CreateIndex: s.CreateIndex,
    ModifyIndex: s.ModifyIndex,
  }
}

export function checkJson(c: CheckRecord): Record<string, unknown> {
  return {
    Node: c.Node,
    CheckID: c.CheckID,
    Name: c.Name,
    Status: c.Status,
    Notes: c.Notes,
    Output: c.Output,
    ServiceID: c.ServiceID,
    ServiceName: c.ServiceName,
    ServiceTags: c.ServiceTags,
    Type: c.Type,
    Interval: c.Interval,
    Timeout: c.Timeout,
    ExposedPort: c.ExposedPort,
    Definition: c.Definition,
    CreateIndex: c.CreateIndex,
    ModifyIndex: c.ModifyIndex,
  }
}

export function sessionJson(s: SessionRecord): Record<string, unknown> {
  return {
    ID: s.ID,
    Name: s.Name,
    Node: s.Node,
    LockDelay: s.LockDelay,
    Behavior: s.Behavior,
    TTL: s.TTL,
    NodeChecks: s.NodeChecks,
    ServiceChecks: s.ServiceChecks.length ? s.ServiceChecks : null,
    CreateIndex: s.CreateIndex,
    ModifyIndex: s.ModifyIndex,
  }
}

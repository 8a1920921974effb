import type { ApiRequest } from './request.js'
import { compileFilter, isFilterError, type FilterSchema } from './filter.js'
import { badRequest } from '../lib/errors.js'

/** The selectable fields of each endpoint's elements (Consul documents one table per endpoint). */
const tagged = { map: 'string' } as const
const weights = { fields: { Passing: 'int', Warning: 'int' } } as const
const serviceTagged = { map: { fields: { Address: 'string', Port: 'int' } } } as const

const NODE: FilterSchema = { ID: 'string', Node: 'string', Address: 'string', Datacenter: 'string', TaggedAddresses: tagged, Meta: 'map[string]string' }
const AGENT_SERVICE: FilterSchema = {
  Kind: 'string', ID: 'string', Service: 'string', Tags: 'string[]', Meta: 'map[string]string', Port: 'int', Address: 'string',
  TaggedAddresses: serviceTagged, Weights: weights, EnableTagOverride: 'bool', Datacenter: 'string', Proxy: 'any', Connect: 'any',
}
const CHECK: FilterSchema = {
  Node: 'string', CheckID: 'string', Name: 'string', Status: 'string', Notes: 'string', Output: 'string', ServiceID: 'string',
  ServiceName: 'string', ServiceTags: 'string[]', Type: 'string', Interval: 'string', Timeout: 'string', ExposedPort: 'int', Definition: 'any',
}
export const FILTER_SCHEMAS = {
  node: NODE,
  agentService: AGENT_SERVICE,
  check: CHECK,
  catalogService: {
    ID: 'string', Node: 'string', Address: 'string', Datacenter: 'string', TaggedAddresses: tagged, NodeMeta: 'map[string]string',
    ServiceKind: 'string', ServiceID: 'string', ServiceName: 'string', ServiceTags: 'string[]', ServiceAddress: 'string',
    ServiceTaggedAddresses: serviceTagged, ServiceWeights: weights, ServiceMeta: 'map[string]string', ServicePort: 'int',
    ServiceSocketPath: 'string', ServiceEnableTagOverride: 'bool', ServiceProxy: 'any', ServiceConnect: 'any',
  },
  serviceSummary: {
    Kind: 'string', Name: 'string', Datacenter: 'string', Tags: 'string[]', Nodes: 'string[]', ExternalSources: 'string[]',
    InstanceCount: 'int', ChecksPassing: 'int', ChecksWarning: 'int', ChecksCritical: 'int',
  },
  nodeDump: { ...NODE, Services: { list: { fields: AGENT_SERVICE } }, Checks: { list: { fields: CHECK } } },
  serviceEntry: { Node: { fields: NODE }, Service: { fields: AGENT_SERVICE }, Checks: { list: { fields: CHECK } } },
} satisfies Record<string, FilterSchema>

export type FilterKind = keyof typeof FILTER_SCHEMAS

/** Applies `?filter=` to a list of results; a bad expression is Consul's 400. */
export function applyFilter<T>(req: ApiRequest, items: readonly T[], kind: FilterKind): T[] {
  const expression = req.param('filter')
  if (!expression) return items as T[]
  try {
    const filter = compileFilter(expression, { schema: FILTER_SCHEMAS[kind] })
    return items.filter((item) => filter.match(item))
  } catch (err) {
    if (isFilterError(err)) throw badRequest(err.message)
    throw err
  }
}

/** Applies `?filter=` to the values of a map result (Consul filters maps by value). */
export function applyFilterToMap<T>(req: ApiRequest, record: Record<string, T>, kind: FilterKind): Record<string, T> {
  const kept = new Set(applyFilter(req, Object.values(record), kind))
  return Object.fromEntries(Object.entries(record).filter(([, v]) => kept.has(v)))
}

/** Validates `?filter=` before a blocking wait, so a bad expression fails at once. */
export function checkFilter(req: ApiRequest, kind: FilterKind): void {
  applyFilter(req, [], kind)
}

/**
 * Consul's CLI commands and subcommands (Consul 1.20's `consul` and `consul <cmd> -h` listings), so that one we do
 * not have yet is answered as such rather than as a typo. Grouped command paths, space-separated.
 */
const CONSUL_COMMANDS = `
acl; acl bootstrap; acl set-agent-token; acl translate-rules
acl auth-method; acl auth-method create; acl auth-method delete; acl auth-method list; acl auth-method read; acl auth-method update
acl binding-rule; acl binding-rule create; acl binding-rule delete; acl binding-rule list; acl binding-rule read; acl binding-rule update
acl policy; acl policy create; acl policy delete; acl policy list; acl policy read; acl policy update
acl role; acl role create; acl role delete; acl role list; acl role read; acl role update
acl templated-policy; acl templated-policy list; acl templated-policy preview; acl templated-policy read
acl token; acl token clone; acl token create; acl token delete; acl token list; acl token read; acl token update
agent
catalog; catalog datacenters; catalog nodes; catalog services
config; config delete; config list; config read; config write
connect; connect ca; connect ca get-config; connect ca set-config; connect envoy; connect expose; connect proxy; connect redirect-traffic
debug; event; exec; force-leave; info
intention; intention check; intention create; intention delete; intention get; intention list; intention match
join; keygen
keyring; kv; kv delete; kv export; kv get; kv import; kv put
leave; lock; login; logout; maint; members; monitor
operator; operator area; operator area create; operator area delete; operator area join; operator area list; operator area members; operator area update
operator autopilot; operator autopilot get-config; operator autopilot set-config; operator autopilot state
operator raft; operator raft list-peers; operator raft remove-peer; operator raft transfer-leader
operator usage; operator usage instances; operator utilization
peering; peering delete; peering establish; peering exported-services; peering generate-token; peering list; peering read
reload; resource; resource apply; resource delete; resource list; resource read
rtt
services; services deregister; services export; services exported-services; services register
snapshot; snapshot inspect; snapshot restore; snapshot save
tls; tls ca; tls ca create; tls cert; tls cert create
troubleshoot; troubleshoot ports; troubleshoot proxy; troubleshoot upstreams
validate; version; watch
`

const KNOWN = new Set(CONSUL_COMMANDS.split(/[;\n]/).map((s) => s.trim()).filter(Boolean))

/** Whether `path` (words, e.g. `['snapshot', 'save']`) names a command or group of HashiCorp's `consul`. */
export function isConsulCommand(path: readonly string[]): boolean {
  return KNOWN.has(path.join(' '))
}

/**
 * What the agent does with each config key of the schema (config-schema.ts): implemented, or
 * accepted but not supported yet, in which case setting it draws a warning instead of being
 * silently ignored. test/agent/config-keys.test.ts walks the schema and fails for a key in
 * neither list, and checks that each implemented key is read by the loader and its runtime
 * field used outside it, so this list cannot claim more than the code does.
 */
import { ConfigError } from '../lib/errors.js'
import { RAFT_PROTOCOL } from '../version.js'
import type { SchemaNode } from './config-schema.js'

type Doc = Record<string, unknown>

/** Implemented keys (dotted paths, Consul's names) and the RuntimeConfig field each one sets. */
export const IMPLEMENTED_KEYS: Readonly<Record<string, string>> = {
  server: 'server',
  bootstrap: 'bootstrap',
  bootstrap_expect: 'bootstrapExpect',
  datacenter: 'datacenter',
  primary_datacenter: 'primaryDatacenter',
  data_dir: 'dataDir',
  node_name: 'nodeName',
  node_id: 'nodeId',
  node_meta: 'nodeMeta',
  bind_addr: 'bindAddr',
  advertise_addr: 'advertiseAddr',
  client_addr: 'clientAddrs',
  'ports.http': 'ports.http',
  'ports.https': 'ports.https',
  'ports.dns': 'ports.dns',
  'ports.server': 'ports.server',
  // LAN gossip: UDP and TCP on one port; joins dial it.
  'ports.serf_lan': 'ports.serfLan',
  'gossip_lan.gossip_nodes': 'gossipLan',
  'gossip_lan.gossip_interval': 'gossipLan',
  'gossip_lan.probe_interval': 'gossipLan',
  'gossip_lan.probe_timeout': 'gossipLan',
  'gossip_lan.retransmit_mult': 'gossipLan',
  'gossip_lan.suspicion_mult': 'gossipLan',
  rejoin_after_leave: 'rejoinAfterLeave',
  // Network coordinates: every agent reports its LAN coordinate; the leader writes them in batches.
  disable_coordinates: 'disableCoordinates',
  sync_coordinate_rate_target: 'syncCoordinateRateTarget',
  sync_coordinate_interval_min: 'syncCoordinateIntervalMinMs',
  'consul.coordinate.update_period': 'coordinateBatching',
  'consul.coordinate.update_batch_size': 'coordinateBatching',
  'consul.coordinate.update_max_batches': 'coordinateBatching',
  encrypt: 'encrypt',
  encrypt_verify_incoming: 'encryptVerifyIncoming',
  encrypt_verify_outgoing: 'encryptVerifyOutgoing',
  'ports.serf_wan': 'ports.serfWan',
  start_join_wan: 'startJoinWan',
  retry_join_wan: 'retryJoinWan',
  retry_interval_wan: 'retryIntervalWanMs',
  retry_max_wan: 'retryMaxWan',
  reconnect_timeout_wan: 'reconnectTimeoutWanMs',
  'gossip_wan.gossip_nodes': 'gossipWan',
  'gossip_wan.gossip_interval': 'gossipWan',
  'gossip_wan.probe_interval': 'gossipWan',
  'gossip_wan.probe_timeout': 'gossipWan',
  'gossip_wan.retransmit_mult': 'gossipWan',
  'gossip_wan.suspicion_mult': 'gossipWan',
  reconnect_timeout: 'reconnectTimeoutMs',
  leave_on_terminate: 'leaveOnTerminate',
  skip_leave_on_interrupt: 'skipLeaveOnInterrupt',
  start_join: 'startJoin',
  retry_join: 'retryJoin',
  retry_interval: 'retryIntervalMs',
  retry_max: 'retryMax',
  // Logging (log.ts, log-file.ts).
  log_json: 'logJson',
  enable_debug: 'enableDebug',
  log_file: 'logFile',
  enable_syslog: 'syslog',
  ui: 'ui.enabled',
  ui_dir: 'ui.dir',
  ui_content_path: 'ui.contentPath',
  'ui_config.enabled': 'ui.enabled',
  'ui_config.dir': 'ui.dir',
  'ui_config.content_path': 'ui.contentPath',
  syslog_facility: 'syslog',
  log_rotate_bytes: 'logFile',
  log_rotate_duration: 'logFile',
  log_rotate_max_files: 'logFile',
  // Telemetry (telemetry.ts): the in-memory registry behind /v1/agent/metrics, and push sinks.
  'telemetry.disable_hostname': 'telemetry',
  'telemetry.prometheus_retention_time': 'telemetry',
  'telemetry.statsd_address': 'telemetry',
  'telemetry.dogstatsd_addr': 'telemetry',
  'telemetry.dogstatsd_tags': 'telemetry',
  'telemetry.metrics_prefix': 'telemetry',
  'telemetry.filter_default': 'telemetry',
  'telemetry.prefix_filter': 'telemetry',
  'addresses.http': 'httpAddrs',
  'addresses.https': 'httpsAddrs',
  'addresses.dns': 'dnsAddrs',
  log_level: 'logLevel',
  pid_file: 'pidFile',
  'limits.kv_max_value_size': 'limits.kvMaxValueSize',
  'limits.txn_max_req_len': 'limits.txnMaxReqLen',
  'limits.http_max_conns_per_client': 'limits.httpMaxConnsPerClient',
  'limits.rpc_rate': 'limits.rpcRate',
  'limits.rpc_max_burst': 'limits.rpcMaxBurst',
  default_query_time: 'defaultQueryTimeMs',
  max_query_time: 'maxQueryTimeMs',
  raft_snapshot_threshold: 'raftSnapshotThreshold',
  'performance.raft_multiplier': 'raftMultiplier',
  raft_trailing_logs: 'raftTrailingLogs',
  raft_snapshot_interval: 'raftSnapshotIntervalMs',
  check_update_interval: 'checkUpdateIntervalMs',
  'tls.defaults.ca_file': 'tls.caFile',
  'tls.defaults.cert_file': 'tls.certFile',
  'tls.defaults.key_file': 'tls.keyFile',
  'tls.defaults.verify_incoming': 'tls.verifyIncoming',
  'tls.https.ca_file': 'tls.caFile',
  'tls.https.cert_file': 'tls.certFile',
  'tls.https.key_file': 'tls.keyFile',
  'tls.https.verify_incoming': 'tls.verifyIncoming',
  'tls.internal_rpc.ca_file': 'rpcTls.caFile',
  'tls.internal_rpc.cert_file': 'rpcTls.certFile',
  'tls.internal_rpc.key_file': 'rpcTls.keyFile',
  'tls.internal_rpc.verify_incoming': 'rpcTls.verifyIncoming',
  'tls.internal_rpc.verify_outgoing': 'rpcTls.verifyOutgoing',
  'tls.internal_rpc.verify_server_hostname': 'rpcTls.verifyServerHostname',
  'tls.defaults.verify_outgoing': 'rpcTls.verifyOutgoing',
  'tls.defaults.verify_server_hostname': 'rpcTls.verifyServerHostname',
  verify_outgoing: 'rpcTls.verifyOutgoing',
  verify_server_hostname: 'rpcTls.verifyServerHostname',
  verify_incoming_rpc: 'rpcTls.verifyIncoming',
  ca_file: 'tls.caFile',
  cert_file: 'tls.certFile',
  key_file: 'tls.keyFile',
  verify_incoming: 'tls.verifyIncoming',
  verify_incoming_https: 'tls.verifyIncoming',
  enable_script_checks: 'enableScriptChecks',
  enable_local_script_checks: 'enableLocalScriptChecks',
  service: 'services',
  services: 'services',
  check: 'checks',
  checks: 'checks',
  domain: 'dns.domain',
  alt_domain: 'dns.altDomain',
  recursors: 'dns.recursors',
  'dns_config.node_ttl': 'dns.nodeTtlMs',
  'dns_config.service_ttl': 'dns.serviceTtlMs',
  'dns_config.only_passing': 'dns.onlyPassing',
  'dns_config.recursor_timeout': 'dns.recursorTimeoutMs',
  'dns_config.recursor_strategy': 'dns.recursorStrategy',
  'dns_config.udp_answer_limit': 'dns.udpAnswerLimit',
  'dns_config.a_record_limit': 'dns.aRecordLimit',
  'dns_config.enable_additional_node_meta_txt': 'dns.enableAdditionalNodeMetaTxt',
  'dns_config.soa.expire': 'dns.soa',
  'dns_config.soa.min_ttl': 'dns.soa',
  'dns_config.soa.refresh': 'dns.soa',
  'dns_config.soa.retry': 'dns.soa',
  'dns_config.udp_workers': 'dns.udpWorkers',
  // ACLs (config-acl.ts), the older keys mapped onto the acl block.
  'acl.enabled': 'acl',
  'acl.default_policy': 'acl',
  'acl.enable_key_list_policy': 'acl',
  'acl.tokens.initial_management': 'acl',
  'acl.tokens.master': 'acl',
  'acl.tokens.default': 'acl',
  'acl.tokens.agent': 'acl',
  'acl.tokens.agent_recovery': 'acl',
  'acl.tokens.agent_master': 'acl',
  'acl.tokens.dns': 'acl',
  'acl.policy_ttl': 'acl',
  'acl.role_ttl': 'acl',
  'acl.tokens.config_file_service_registration': 'acl',
  // A client agent keeps resolved tokens for token_ttl and falls back on down_policy (agent/acl.ts).
  'acl.token_ttl': 'acl',
  'acl.down_policy': 'acl',
  'acl.enable_token_persistence': 'acl',
  acl_ttl: 'acl',
  acl_down_policy: 'acl',
  acl_datacenter: 'acl',
  acl_default_policy: 'acl',
  acl_master_token: 'acl',
  acl_token: 'acl',
  acl_agent_token: 'acl',
  acl_agent_master_token: 'acl',
  acl_enable_key_list_policy: 'acl',
}

/** A key accepted but not supported yet. `ours`: the value that says what this build does anyway (set to it, no warning). */
export interface Unsupported {
  ours?: unknown
}

const warn: Unsupported = {}
const ours = (value: unknown): Unsupported => ({ ours: value })

/** A tls block's keys not supported yet; `outgoing`: its verify_outgoing and verify_server_hostname are implemented. */
const tlsKeys = (block: string, implemented: boolean, outgoing: boolean): Record<string, Unsupported> => ({
  ...(implemented ? {} : { [`${block}.ca_file`]: warn, [`${block}.cert_file`]: warn, [`${block}.key_file`]: warn, [`${block}.verify_incoming`]: ours(false) }),
  ...(outgoing ? {} : { [`${block}.verify_outgoing`]: ours(false), [`${block}.verify_server_hostname`]: ours(false) }),
  [`${block}.ca_path`]: warn,
  // Node's own minimum, which is Consul's default too.
  [`${block}.tls_min_version`]: ours('TLSv1_2'),
  [`${block}.tls_cipher_suites`]: warn,
})

/** Keys accepted but not supported yet, with Consul's names. */
export const UNSUPPORTED_KEYS: Readonly<Record<string, Unsupported>> = {
  // WAN federation beyond one WAN pool: not yet.
  advertise_addr_ipv4: warn,
  advertise_addr_ipv6: warn,
  advertise_addr_wan: warn,
  advertise_addr_wan_ipv4: warn,
  advertise_addr_wan_ipv6: warn,
  serf_lan: warn,
  serf_wan: warn,
  serf_lan_allowed_cidrs: warn,
  serf_wan_allowed_cidrs: warn,
  translate_wan_addrs: ours(false),
  tagged_addresses: warn,
  advertise_reconnect_timeout: warn,
  primary_gateways: warn,
  primary_gateways_interval: warn,
  segment: warn,
  segments: warn,
  partition: warn,
  protocol: ours(2),
  raft_protocol: ours(RAFT_PROTOCOL),
  raft_logstore: warn,
  read_replica: ours(false),
  non_voting_server: ours(false),
  server_name: warn,
  autopilot: warn,
  'performance.leave_drain_time': warn,
  'performance.rpc_hold_timeout': warn,
  // TLS beyond HTTPS and server RPC. HTTPS makes no outgoing connections; gRPC is not served.
  ...tlsKeys('tls.defaults', true, true),
  ...tlsKeys('tls.https', true, false),
  ...tlsKeys('tls.internal_rpc', true, true),
  ...tlsKeys('tls.grpc', false, false),
  ca_path: warn,
  tls_min_version: ours('TLSv1_2'),
  tls_cipher_suites: warn,
  tls_prefer_server_cipher_suites: warn,
  auto_encrypt: warn,
  auto_config: warn,
  enable_agent_tls_for_checks: ours(false),
  // ACLs: what client agents and replication would need beyond the servers' own enforcement.
  'acl.enable_token_replication': warn,
  'acl.tokens.replication': warn,
  acl_replication_token: warn,
  acl_enforce_version_8: warn,
  enable_acl_replication: warn,
  // Service mesh, gRPC and the other APIs and listeners this build does not have.
  connect: warn,
  config_entries: warn,
  peering: warn,
  'ports.grpc': ours(-1),
  'ports.grpc_tls': ours(-1),
  'ports.sidecar_min_port': warn,
  'ports.sidecar_max_port': warn,
  'ports.expose_min_port': warn,
  'ports.expose_max_port': warn,
  'addresses.grpc': warn,
  unix_sockets: warn,
  http_config: warn,
  'ui_config.metrics_provider': warn,
  'ui_config.metrics_proxy': warn,
  'ui_config.dashboard_url_templates': warn,
  // Logging, telemetry and housekeeping.
  'telemetry.statsite_address': warn,
  'telemetry.circonus_api_token': warn,
  'telemetry.circonus_api_app': warn,
  'telemetry.circonus_api_url': warn,
  'telemetry.circonus_submission_interval': warn,
  'telemetry.circonus_submission_url': warn,
  'telemetry.circonus_check_id': warn,
  'telemetry.circonus_check_force_metric_activation': warn,
  'telemetry.circonus_check_instance_id': warn,
  'telemetry.circonus_check_search_tag': warn,
  'telemetry.circonus_check_display_name': warn,
  'telemetry.circonus_check_tags': warn,
  'telemetry.circonus_broker_id': warn,
  'telemetry.circonus_broker_select_tag': warn,
  'telemetry.enable_host_metrics': warn,
  // There are no pre-1.9 duplicate metric names to turn off here: accepted, nothing to do.
  'telemetry.disable_compat_1.9': ours(true),
  'telemetry.retry_failed_connection': ours(true),
  audit: warn,
  snapshot_agent: warn,
  watches: warn,
  cache: warn,
  rpc: warn,
  auto_reload_config: ours(false),
  // This build never checks for updates.
  disable_update_check: ours(true),
  disable_remote_exec: ours(true),
  disable_host_node_id: ours(true),
  disable_keyring_file: warn,
  disable_anonymous_signature: ours(true),
  disable_http_unprintable_char_filter: warn,
  discard_check_output: ours(false),
  check_output_max_size: warn,
  enable_central_service_config: warn,
  discovery_max_stale: warn,
  session_ttl_min: ours('10s'),
  'limits.rpc_max_conns_per_client': warn,
  'limits.https_handshake_timeout': warn,
  'limits.rpc_handshake_timeout': warn,
  'limits.request_limits': warn,
  // DNS: reads are always served from this server's state (UDP workers from a copy a moment old).
  'dns_config.allow_stale': ours(true),
  'dns_config.max_stale': warn,
  // TC is always set on a trimmed UDP answer, and names are never compressed (dns-packet).
  'dns_config.enable_truncate': ours(true),
  'dns_config.disable_compression': ours(true),
  'dns_config.use_cache': ours(false),
  'dns_config.cache_max_age': warn,
}

/** Whether a top-level key has no implemented part: changing it needs no restart, since nothing reads it. */
export function isInert(top: string): boolean {
  const under = (k: string): boolean => k === top || k.startsWith(`${top}.`)
  return !Object.keys(IMPLEMENTED_KEYS).some(under) && Object.keys(UNSUPPORTED_KEYS).some(under)
}

function isObject(v: unknown): v is Doc {
  return v !== null && typeof v === 'object' && !Array.isArray(v)
}

/** Warns, per source, about each unsupported key set (to anything but what this build does anyway). */
export function warnUnsupported(source: string, doc: Doc, schema: SchemaNode, warnings: string[], prefix = ''): void {
  for (const [key, value] of Object.entries(doc)) {
    const path = prefix ? `${prefix}.${key}` : key
    const sub = schema.properties?.[key]
    if (sub?.properties && isObject(value)) {
      warnUnsupported(source, value, sub, warnings, path)
      continue
    }
    const entry = UNSUPPORTED_KEYS[path]
    if (!entry || ('ours' in entry && JSON.stringify(entry.ours) === JSON.stringify(value))) continue
    warnings.push(`${source}: config key "${path}" is accepted but not supported yet; it has no effect`)
  }
}


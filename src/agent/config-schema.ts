/**
 * JSON Schema of the agent's config files (Consul's snake_case keys). Keys not listed here
 * are unknown: the loader warns about them and ignores them, since old harnesses still
 * write keys such as `ports.rpc`. Durations are Go duration strings.
 */
import { DNS_LIMITS } from '../dns/limits.js'

const str = { type: 'string' } as const
const bool = { type: 'boolean' } as const
const port = { type: 'integer', minimum: -1, maximum: 65535 } as const
const duration = { type: 'string', pattern: '^[-+]?([0-9]*(\\.[0-9]*)?(ns|us|µs|μs|ms|s|m|h))+$|^0$' } as const
const obj = (properties: Record<string, unknown>): Record<string, unknown> => ({ type: 'object', properties, additionalProperties: false })

const tlsBlock = obj({
  ca_file: str,
  ca_path: str,
  cert_file: str,
  key_file: str,
  verify_incoming: bool,
  verify_outgoing: bool,
  verify_server_hostname: bool,
  tls_min_version: str,
})

export const CONFIG_SCHEMA = obj({
  server: bool,
  bootstrap: bool,
  bootstrap_expect: { type: 'integer', minimum: 0, maximum: 7 },
  datacenter: { type: 'string', pattern: '^[a-zA-Z0-9_-]+$' },
  primary_datacenter: str,
  data_dir: str,
  node_name: str,
  node_id: str,
  node_meta: { type: 'object', additionalProperties: str },
  bind_addr: str,
  advertise_addr: str,
  client_addr: str,
  ports: obj({ http: port, https: port, dns: port, grpc: port, grpc_tls: port, serf_lan: port, serf_wan: port, server: port }),
  addresses: obj({ http: str, https: str, dns: str, grpc: str }),
  log_level: { type: 'string', enum: ['trace', 'debug', 'info', 'warn', 'warning', 'err', 'error', 'TRACE', 'DEBUG', 'INFO', 'WARN', 'ERR', 'ERROR'] },
  log_json: bool,
  pid_file: str,
  limits: obj({
    kv_max_value_size: { type: 'integer', minimum: 1 },
    txn_max_req_len: { type: 'integer', minimum: 1 },
    http_max_conns_per_client: { type: 'integer', minimum: 0 },
  }),
  default_query_time: duration,
  max_query_time: duration,
  raft_snapshot_threshold: { type: 'integer', minimum: 1 },
  raft_trailing_logs: { type: 'integer', minimum: 0 },
  raft_snapshot_interval: duration,
  performance: obj({ raft_multiplier: { type: 'integer', minimum: 1, maximum: 10 } }),
  tls: obj({ defaults: tlsBlock, https: tlsBlock, internal_rpc: tlsBlock }),
  ca_file: str,
  cert_file: str,
  key_file: str,
  verify_incoming: bool,
  verify_incoming_https: bool,
  verify_outgoing: bool,
  disable_update_check: bool,
  ui: bool,
  ui_config: obj({ enabled: bool, dir: str, content_path: str }),
  acl: { type: 'object', properties: { enabled: bool, default_policy: { enum: ['allow', 'deny'] } } },
  enable_script_checks: bool,
  enable_local_script_checks: bool,
  // Service and check definitions are validated by their own parser, which names the field.
  service: { type: 'object' },
  services: { type: 'array', items: { type: 'object' } },
  check: { type: 'object' },
  checks: { type: 'array', items: { type: 'object' } },
  session_ttl_min: duration,
  domain: str,
  alt_domain: str,
  recursors: { type: 'array', items: str },
  dns_config: obj({
    allow_stale: bool,
    max_stale: duration,
    node_ttl: duration,
    service_ttl: { type: 'object', additionalProperties: duration },
    enable_truncate: bool,
    only_passing: bool,
    recursor_timeout: duration,
    recursor_strategy: { enum: ['sequential', 'random'] },
    disable_compression: bool,
    udp_answer_limit: { type: 'integer', minimum: 0 },
    a_record_limit: { type: 'integer', minimum: 0 },
    enable_additional_node_meta_txt: bool,
    soa: obj({ expire: { type: 'integer', minimum: 0 }, min_ttl: { type: 'integer', minimum: 0 }, refresh: { type: 'integer', minimum: 0 }, retry: { type: 'integer', minimum: 0 } }),
    use_cache: bool,
    cache_max_age: duration,
    // Ours, not Consul's: extra processes answering UDP queries (src/dns/udp-workers.ts).
    udp_workers: { type: 'integer', minimum: 0, maximum: DNS_LIMITS.udpWorkersMax },
  }),
  check_update_interval: duration,
}) as Record<string, unknown>

import { readFileSync, readdirSync, statSync } from 'node:fs'
import { hostname, networkInterfaces } from 'node:os'
import { join } from 'node:path'
import { Ajv, type ErrorObject } from 'ajv'
import { parseTree, printParseErrorCode, type ParseError } from 'jsonc-parser'
import { parseHcl } from '../lib/hcl.js'
import { CONFIG_SCHEMA, type SchemaNode } from './config-schema.js'
import { warnUnsupported } from './config-keys.js'
import { aclConfig, warnDeprecatedAcl, type AclConfig } from './config-acl.js'
import { uiConfig, type UiConfig } from './config-ui.js'
import { httpsTlsConfig, rpcTlsConfig, type HttpsTlsConfig, type RpcTlsConfig } from './config-tls.js'
import { SYSLOG_FACILITIES } from './syslog.js'
import { ConfigError } from '../lib/errors.js'
import { RAFT_MULTIPLIER_DEFAULT } from '../raft/core/config.js'
import { LAN_CONFIG, WAN_CONFIG, type GossipConfig } from '../gossip/core/config.js'
import { parseKey } from '../gossip/keyring.js'
import { parseDurationMs } from '../lib/duration.js'
import { LIMITS } from '../lib/limits.js'
import { parseLogLevel, type LogLevel } from './log.js'
import { DefinitionError, parseCheck, parseService, type CheckSpec, type ServiceDefinition } from './definitions.js'

/** A config document as written in a file: Consul's snake_case keys. */
export type ConfigDoc = Record<string, unknown>

/** The `consul agent` flags that map onto config keys (flags win over files). */
export interface AgentFlags {
  dev?: boolean
  server?: boolean
  bootstrap?: boolean
  bootstrapExpect?: number
  dataDir?: string
  node?: string
  datacenter?: string
  bind?: string
  advertise?: string
  client?: string
  configFile?: string[]
  configDir?: string[]
  httpPort?: number
  httpsPort?: number
  dnsPort?: number
  serverPort?: number
  serfLanPort?: number
  join?: string[]
  retryJoin?: string[]
  retryInterval?: string
  retryMax?: number
  rejoin?: boolean
  encrypt?: string
  serfWanPort?: number
  joinWan?: string[]
  retryJoinWan?: string[]
  retryIntervalWan?: string
  retryMaxWan?: number
  pidFile?: string
  ui?: boolean
  uiDir?: string
  uiContentPath?: string
  logLevel?: string
  logJson?: boolean
  logFile?: string
  syslog?: boolean
  logRotateBytes?: number
  logRotateDuration?: string
  logRotateMaxFiles?: number
  nodeMeta?: string[]
  nodeId?: string
  domain?: string
  altDomain?: string
  recursor?: string[]
  defaultQueryTime?: string
  maxQueryTime?: string
  enableScriptChecks?: boolean
  enableLocalScriptChecks?: boolean
}

/** The telemetry block (Consul's names): the registry's naming and filter, and where metrics are pushed. */
export interface TelemetryConfig {
  disableHostname: boolean
  /** 0: the Prometheus format is off (Consul's default). */
  prometheusRetentionMs: number
  metricsPrefix: string
  filterDefault: boolean
  prefixFilter: string[]
  /** host:port of a statsd / dogstatsd listener (UDP). */
  statsdAddress: string | undefined
  dogstatsdAddr: string | undefined
  dogstatsdTags: string[]
}

/** The agent's effective configuration, after defaults, files and flags. */
export interface RuntimeConfig {
  telemetry: TelemetryConfig
  dev: boolean
  server: boolean
  bootstrap: boolean
  bootstrapExpect: number
  datacenter: string
  primaryDatacenter: string
  dataDir: string | undefined
  nodeName: string
  nodeId: string | undefined
  nodeMeta: Record<string, string>
  bindAddr: string
  advertiseAddr: string
  clientAddrs: string[]
  httpAddrs: string[]
  httpsAddrs: string[]
  ports: { http: number; https: number; dns: number; server: number; serfLan: number; serfWan: number }
  /** Joined once at start (-join, start_join); start-up fails when none answers. */
  startJoin: string[]
  /** Joined at start and retried every retryIntervalMs until one answers (-retry-join, retry_join). */
  retryJoin: string[]
  retryIntervalMs: number
  /** Attempts before giving up; 0 retries forever. */
  retryMax: number
  /** memberlist's LAN preset with the gossip_lan overrides. */
  gossipLan: GossipConfig
  /** A server's WAN pool: joins (as the LAN ones), memberlist's WAN preset with gossip_wan, its reconnect_timeout_wan. */
  startJoinWan: string[]
  retryJoinWan: string[]
  retryIntervalWanMs: number
  retryMaxWan: number
  gossipWan: GossipConfig
  reconnectTimeoutWanMs: number
  /** The gossip key (base64, 16/24/32 bytes) a new keyring starts with; a keyring in data_dir wins. */
  encrypt: string | undefined
  encryptVerifyIncoming: boolean
  encryptVerifyOutgoing: boolean
  /** A restarted agent rejoins its snapshot's members even after a graceful leave. */
  rejoinAfterLeave: boolean
  acl: AclConfig
  /** How long a failed member is kept before it is reaped (Consul: 72h, at least 8h). */
  reconnectTimeoutMs: number
  /** Network coordinates off (no Vivaldi on the probes, nothing reported, ?near does not sort). */
  disableCoordinates: boolean
  /** How often this agent reports its coordinate: the cluster's total rate, and the floor per agent. */
  syncCoordinateRateTarget: number
  syncCoordinateIntervalMinMs: number
  /** consul.coordinate: how a leader batches the reports (period, entries per raft write, writes per period). */
  coordinateBatching: { updatePeriodMs: number; batchSize: number; maxBatches: number }
  /** SIGTERM leaves the cluster first (Consul: on for client agents); SIGINT leaves unless skipLeaveOnInterrupt (on for servers). */
  leaveOnTerminate: boolean
  skipLeaveOnInterrupt: boolean
  logLevel: LogLevel
  /** log_json: hclog's JSON lines instead of text. */
  logJson: boolean
  /** enable_debug: /debug/pprof answers without ACLs. */
  enableDebug: boolean
  /** ui_config: the web UI this agent serves, if any. */
  ui: UiConfig
  /** enable_syslog: the facility (syslog_facility, Consul's LOCAL0 by default); undefined when off. */
  syslog: { facility: number } | undefined
  /** log_file and its rotation; undefined when the log goes to the console only. */
  logFile: { path: string; rotateBytes: number; rotateDurationMs: number; maxFiles: number } | undefined
  pidFile: string | undefined
  limits: { kvMaxValueSize: number; txnMaxReqLen: number; httpMaxConnsPerClient: number; rpcRate: number; rpcMaxBurst: number }
  defaultQueryTimeMs: number
  maxQueryTimeMs: number
  raftSnapshotThreshold: number
  /** performance.raft_multiplier: scales raft's timeouts (1 fastest, 10 slowest; Consul's dev mode uses 1). */
  raftMultiplier: number
  raftTrailingLogs: number
  raftSnapshotIntervalMs: number
  /** check_update_interval: how often an output-only change of a check reaches the catalog. */
  checkUpdateIntervalMs: number
  /** The HTTPS listener's TLS. */
  tls: HttpsTlsConfig
  /** Server RPC's TLS (tls.internal_rpc). */
  rpcTls: RpcTlsConfig
  enableScriptChecks: boolean
  enableLocalScriptChecks: boolean
  /** Addresses the DNS server listens on (addresses.dns, else client_addr). */
  dnsAddrs: string[]
  dns: DnsConfig
  /** Config-file services and checks, parsed (names the bad field on error). */
  services: ServiceDefinition[]
  checks: CheckSpec[]
  /** The merged document, for reload diffs and /v1/agent/self DebugConfig. */
  doc: ConfigDoc
}

/** The DNS interface's settings (Consul's domain, alt_domain, recursors and dns_config keys). Durations in ms. */
export interface DnsConfig {
  domain: string
  altDomain: string | undefined
  recursors: string[]
  recursorTimeoutMs: number
  recursorStrategy: 'sequential' | 'random'
  nodeTtlMs: number
  /** Service name (or `prefix*`) → TTL in ms. */
  serviceTtlMs: Record<string, number>
  onlyPassing: boolean
  aRecordLimit: number
  udpAnswerLimit: number
  enableAdditionalNodeMetaTxt: boolean
  soa: { refresh: number; retry: number; expire: number; minTtl: number }
  /** Processes besides the agent's that answer UDP queries (our `dns_config.udp_workers`); read at start. */
  udpWorkers: number
}

export interface LoadedConfig {
  config: RuntimeConfig
  warnings: string[]
  /** Files read, in merge order. */
  files: string[]
}

const ajv = new Ajv({ allErrors: true, strict: false })
const validate = ajv.compile(CONFIG_SCHEMA)

/** Dotted key of an ajv error, e.g. `ports.http`, including the offending property when unknown. */
function errorKey(err: ErrorObject): string {
  const base = err.instancePath.split('/').filter(Boolean).join('.')
  if (err.keyword === 'additionalProperties') {
    const extra = (err.params as { additionalProperty: string }).additionalProperty
    return base ? `${base}.${extra}` : extra
  }
  return base
}

function deleteKey(doc: ConfigDoc, dotted: string): void {
  const parts = dotted.split('.')
  let cur: Record<string, unknown> | undefined = doc
  for (const p of parts.slice(0, -1)) cur = cur?.[p] as Record<string, unknown> | undefined
  if (cur) delete cur[parts.at(-1)!]
}

/**
 * Validates one document. Invalid values throw a ConfigError naming the source, key and
 * reason; unknown keys are removed and reported as warnings, and so are keys accepted but not
 * supported yet (config-keys.ts).
 */
export function checkDoc(source: string, doc: unknown, warnings: string[]): ConfigDoc {
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) throw new ConfigError(source, '', 'a config file must hold a JSON object')
  if (!validate(doc)) dropUnknown(source, doc as ConfigDoc, validate.errors ?? [], warnings)
  warnUnsupported(source, doc as ConfigDoc, CONFIG_SCHEMA, warnings)
  warnDeprecatedAcl(source, doc as ConfigDoc, warnings)
  return doc as ConfigDoc
}

/** Throws for the first invalid value; removes each unknown key with a warning. */
function dropUnknown(source: string, doc: ConfigDoc, errors: ErrorObject[], warnings: string[]): void {
  const hard = errors.find((e) => e.keyword !== 'additionalProperties')
  if (hard) throw new ConfigError(source, errorKey(hard), hard.message ?? 'invalid value')
  for (const e of errors) {
    const key = errorKey(e)
    warnings.push(`${source}: unknown config key "${key}" ignored`)
    deleteKey(doc, key)
  }
}

/** Consul's merge: objects merge key by key, lists append, anything else is replaced. */
export function mergeDocs(base: ConfigDoc, over: ConfigDoc): ConfigDoc {
  const out: ConfigDoc = { ...base }
  for (const [k, v] of Object.entries(over)) {
    const prev = out[k]
    if (Array.isArray(prev) && Array.isArray(v)) out[k] = [...prev, ...v]
    else if (isPlainObject(prev) && isPlainObject(v)) out[k] = mergeDocs(prev, v)
    else out[k] = v
  }
  return out
}

function isPlainObject(v: unknown): v is ConfigDoc {
  return v !== null && typeof v === 'object' && !Array.isArray(v)
}

/** Reads one config file, JSON or (by its `.hcl` name) HCL; a syntax error names the file and the line. */
export function readConfigFile(path: string, warnings: string[]): ConfigDoc {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (err) {
    throw new ConfigError(path, '', `cannot read: ${(err as Error).message}`)
  }
  return parseConfigText(text, path, path.endsWith('.hcl') ? 'hcl' : 'json', warnings)
}

/** One config source's text, checked against the schema; anything wrong is a ConfigError naming `source`. */
export function parseConfigText(text: string, source: string, format: 'json' | 'hcl', warnings: string[]): ConfigDoc {
  if (format === 'hcl') {
    let hcl: unknown
    try {
      hcl = parseHcl(text)
    } catch (err) {
      throw new ConfigError(source, '', `invalid HCL: ${(err as Error).message}`)
    }
    return checkDoc(source, fromHcl(hcl, CONFIG_SCHEMA), warnings)
  }
  let doc: unknown
  try {
    doc = JSON.parse(text)
  } catch {
    throw new ConfigError(source, '', describeJsonError(text))
  }
  return checkDoc(source, doc, warnings)
}

/** Where and what is wrong in invalid JSON (JSON.parse does not always say where). */
function describeJsonError(text: string): string {
  const errors: ParseError[] = []
  parseTree(text, errors, { allowTrailingComma: false, disallowComments: true })
  const first = errors[0]
  if (!first) return 'invalid JSON'
  const before = text.slice(0, first.offset)
  const line = before.split('\n').length
  const column = first.offset - before.lastIndexOf('\n')
  return `invalid JSON at line ${line}, column ${column}: ${printParseErrorCode(first.error)}`
}

/**
 * HCL decodes every block as a list of objects (`ports { http = 1 }` is `ports: [{http: 1}]`).
 * Where the schema wants an object, the blocks are merged into one, as Consul does; a repeated
 * `service` or `check` block becomes the `services` / `checks` list.
 */
export function fromHcl(value: unknown, schema: SchemaNode): ConfigDoc {
  const doc = shape(value, schema) as ConfigDoc
  for (const [one, many] of [['service', 'services'], ['check', 'checks']] as const) {
    const raw = (value as Record<string, unknown>)[one]
    if (Array.isArray(raw) && raw.length > 1) {
      delete doc[one]
      doc[many] = [...((doc[many] as unknown[] | undefined) ?? []), ...raw]
    }
  }
  return doc
}

function shape(value: unknown, schema: SchemaNode | undefined): unknown {
  if (schema?.type === 'object' && Array.isArray(value) && value.every(isPlainObject)) value = Object.assign({}, ...value)
  if (isPlainObject(value)) {
    const out: ConfigDoc = {}
    for (const [k, v] of Object.entries(value)) {
      const sub = schema?.properties?.[k] ?? (typeof schema?.additionalProperties === 'object' ? schema.additionalProperties : undefined)
      out[k] = shape(v, sub)
    }
    return out
  }
  if (Array.isArray(value) && schema?.type === 'array') return value.map((v) => shape(v, schema.items))
  return value
}

/** The files a -config-dir contributes: `*.json` and `*.hcl` in lexical order. */
export function configDirFiles(dir: string, warnings: string[]): string[] {
  let names: string[]
  try {
    names = readdirSync(dir).sort()
  } catch (err) {
    throw new ConfigError(dir, '', `cannot read config directory: ${(err as Error).message}`)
  }
  const files: string[] = []
  for (const name of names) {
    const path = join(dir, name)
    if (!statSync(path).isFile()) continue
    if (name.endsWith('.json') || name.endsWith('.hcl')) files.push(path)
  }
  return files
}

function flagsDoc(flags: AgentFlags): ConfigDoc {
  const doc: ConfigDoc = {}
  const ports: ConfigDoc = {}
  if (flags.server !== undefined) doc.server = flags.server
  if (flags.bootstrap !== undefined) doc.bootstrap = flags.bootstrap
  if (flags.bootstrapExpect !== undefined) doc.bootstrap_expect = flags.bootstrapExpect
  if (flags.dataDir !== undefined) doc.data_dir = flags.dataDir
  if (flags.node !== undefined) doc.node_name = flags.node
  if (flags.datacenter !== undefined) doc.datacenter = flags.datacenter
  if (flags.bind !== undefined) doc.bind_addr = flags.bind
  if (flags.advertise !== undefined) doc.advertise_addr = flags.advertise
  if (flags.client !== undefined) doc.client_addr = flags.client
  if (flags.pidFile !== undefined) doc.pid_file = flags.pidFile
  if (flags.logLevel !== undefined) doc.log_level = flags.logLevel
  if (flags.logJson !== undefined) doc.log_json = flags.logJson
  if (flags.logFile !== undefined) doc.log_file = flags.logFile
  if (flags.syslog !== undefined) doc.enable_syslog = flags.syslog
  // Consul's flags set the ui_config block, so they win over a file's block as flags do.
  const ui: ConfigDoc = {}
  if (flags.ui !== undefined) ui.enabled = flags.ui
  if (flags.uiDir !== undefined) ui.dir = flags.uiDir
  if (flags.uiContentPath !== undefined) ui.content_path = flags.uiContentPath
  if (Object.keys(ui).length > 0) doc.ui_config = ui
  if (flags.logRotateBytes !== undefined) doc.log_rotate_bytes = flags.logRotateBytes
  if (flags.logRotateDuration !== undefined) doc.log_rotate_duration = flags.logRotateDuration
  if (flags.logRotateMaxFiles !== undefined) doc.log_rotate_max_files = flags.logRotateMaxFiles
  if (flags.nodeId !== undefined) doc.node_id = flags.nodeId
  if (flags.domain !== undefined) doc.domain = flags.domain
  if (flags.altDomain !== undefined) doc.alt_domain = flags.altDomain
  if (flags.recursor?.length) doc.recursors = flags.recursor
  if (flags.defaultQueryTime !== undefined) doc.default_query_time = flags.defaultQueryTime
  if (flags.maxQueryTime !== undefined) doc.max_query_time = flags.maxQueryTime
  if (flags.enableScriptChecks !== undefined) doc.enable_script_checks = flags.enableScriptChecks
  if (flags.enableLocalScriptChecks !== undefined) doc.enable_local_script_checks = flags.enableLocalScriptChecks
  if (flags.nodeMeta?.length) {
    doc.node_meta = Object.fromEntries(
      flags.nodeMeta.map((kv) => {
        const at = kv.indexOf(':')
        if (at <= 0) throw new ConfigError('command line', 'node-meta', `"${kv}" is not key:value`)
        return [kv.slice(0, at), kv.slice(at + 1)]
      }),
    )
  }
  if (flags.httpPort !== undefined) ports.http = flags.httpPort
  if (flags.httpsPort !== undefined) ports.https = flags.httpsPort
  if (flags.dnsPort !== undefined) ports.dns = flags.dnsPort
  if (flags.serverPort !== undefined) ports.server = flags.serverPort
  if (flags.serfLanPort !== undefined) ports.serf_lan = flags.serfLanPort
  if (flags.join?.length) doc.start_join = flags.join
  if (flags.retryJoin?.length) doc.retry_join = flags.retryJoin
  if (flags.retryInterval !== undefined) doc.retry_interval = flags.retryInterval
  if (flags.retryMax !== undefined) doc.retry_max = flags.retryMax
  if (flags.rejoin) doc.rejoin_after_leave = true
  if (flags.encrypt !== undefined) doc.encrypt = flags.encrypt
  if (flags.serfWanPort !== undefined) ports.serf_wan = flags.serfWanPort
  if (flags.joinWan?.length) doc.start_join_wan = flags.joinWan
  if (flags.retryJoinWan?.length) doc.retry_join_wan = flags.retryJoinWan
  if (flags.retryIntervalWan !== undefined) doc.retry_interval_wan = flags.retryIntervalWan
  if (flags.retryMaxWan !== undefined) doc.retry_max_wan = flags.retryMaxWan
  if (Object.keys(ports).length > 0) doc.ports = ports
  return doc
}

/** The first private, non-loopback IPv4 address, as Consul advertises for bind_addr 0.0.0.0. */
function defaultAdvertise(): string {
  for (const addrs of Object.values(networkInterfaces())) {
    for (const a of addrs ?? []) if (a.family === 'IPv4' && !a.internal) return a.address
  }
  return '127.0.0.1'
}

/** Loads defaults, then every config file and directory, then the flags, and builds the runtime config. */
export function loadConfig(flags: AgentFlags): LoadedConfig {
  const warnings: string[] = []
  const files = [...(flags.configFile ?? [])]
  for (const dir of flags.configDir ?? []) files.push(...configDirFiles(dir, warnings))
  let doc: ConfigDoc = {}
  for (const file of files) doc = mergeDocs(doc, readConfigFile(file, warnings))
  doc = mergeDocs(doc, checkDoc('command line', flagsDoc(flags), warnings))
  return { config: buildRuntime(doc, Boolean(flags.dev)), warnings, files }
}

function ms(doc: ConfigDoc, key: string, fallback: number): number {
  return dur(doc[key], fallback)
}

/** A duration value in milliseconds, or `fallback` when it is not set. */
function dur(v: unknown, fallback: number): number {
  return typeof v === 'string' ? parseDurationMs(v) : fallback
}

/** Applies defaults and the cross-key rules to a merged document. */
export function buildRuntime(doc: ConfigDoc, dev: boolean): RuntimeConfig {
  const get = <T>(obj: unknown, key: string): T | undefined => (isPlainObject(obj) ? (obj[key] as T | undefined) : undefined)
  const ports = doc.ports

  const server = dev || doc.server === true
  const bootstrap = dev || doc.bootstrap === true
  const bootstrapExpect = (doc.bootstrap_expect as number | undefined) ?? 0
  const dataDir = doc.data_dir as string | undefined
  if (!dev && !dataDir) throw new ConfigError('config', 'data_dir', 'data_dir cannot be empty (set -data-dir, or run with -dev)')
  if (bootstrapExpect > 0 && !server) throw new ConfigError('config', 'bootstrap_expect', 'bootstrap_expect is only allowed on servers (set server or -server)')
  if (bootstrapExpect > 0 && bootstrap) throw new ConfigError('config', 'bootstrap_expect', 'bootstrap and bootstrap_expect are mutually exclusive')

  const bindAddr = (doc.bind_addr as string | undefined) ?? (dev ? '127.0.0.1' : '0.0.0.0')
  const advertiseAddr = (doc.advertise_addr as string | undefined) ?? (bindAddr === '0.0.0.0' ? defaultAdvertise() : bindAddr)
  const clientAddrs = ((doc.client_addr as string | undefined) ?? '127.0.0.1').split(/\s+/).filter(Boolean)
  const addrList = (key: string): string[] => {
    const v = get<string>(doc.addresses, key)
    return v ? v.split(/\s+/).filter(Boolean) : clientAddrs
  }
  const logLevel = parseLogLevel((doc.log_level as string | undefined) ?? 'info') ?? 'info'
  const nodeName = (doc.node_name as string | undefined) ?? hostname()
  if (!/^[A-Za-z0-9_.-]+$/.test(nodeName)) throw new ConfigError('config', 'node_name', `node name "${nodeName}" may only hold letters, digits, '-', '_' and '.'`)

  return {
    dev,
    server,
    bootstrap,
    bootstrapExpect,
    datacenter: ((doc.datacenter as string | undefined) ?? 'dc1').toLowerCase(),
    primaryDatacenter: (doc.primary_datacenter as string | undefined) ?? ((doc.datacenter as string | undefined) ?? 'dc1').toLowerCase(),
    dataDir,
    nodeName,
    nodeId: doc.node_id as string | undefined,
    nodeMeta: (doc.node_meta as Record<string, string> | undefined) ?? {},
    bindAddr,
    advertiseAddr,
    clientAddrs,
    httpAddrs: addrList('http'),
    httpsAddrs: addrList('https'),
    ports: {
      http: get<number>(ports, 'http') ?? 8500,
      https: get<number>(ports, 'https') ?? -1,
      dns: get<number>(ports, 'dns') ?? 8600,
      server: get<number>(ports, 'server') ?? 8300,
      serfLan: get<number>(ports, 'serf_lan') ?? 8301,
      serfWan: get<number>(ports, 'serf_wan') ?? 8302,
    },
    startJoin: (doc.start_join as string[] | undefined) ?? [],
    retryJoin: (doc.retry_join as string[] | undefined) ?? [],
    retryIntervalMs: typeof doc.retry_interval === 'string' ? parseDurationMs(doc.retry_interval) : 30_000,
    retryMax: (doc.retry_max as number | undefined) ?? 0,
    gossipLan: gossipConfig(LAN_CONFIG, doc.gossip_lan, 'gossip_lan'),
    startJoinWan: (doc.start_join_wan as string[] | undefined) ?? [],
    retryJoinWan: (doc.retry_join_wan as string[] | undefined) ?? [],
    retryIntervalWanMs: ms(doc, 'retry_interval_wan', 30_000),
    retryMaxWan: (doc.retry_max_wan as number | undefined) ?? 0,
    gossipWan: gossipConfig(WAN_CONFIG, doc.gossip_wan, 'gossip_wan'),
    reconnectTimeoutWanMs: reconnectTimeout(doc, 'reconnect_timeout_wan'),
    encrypt: encryptKey(doc),
    encryptVerifyIncoming: doc.encrypt_verify_incoming !== false,
    encryptVerifyOutgoing: doc.encrypt_verify_outgoing !== false,
    rejoinAfterLeave: doc.rejoin_after_leave === true,
    acl: aclConfig(doc),
    reconnectTimeoutMs: reconnectTimeout(doc, 'reconnect_timeout'),
    disableCoordinates: doc.disable_coordinates === true,
    syncCoordinateRateTarget: (doc.sync_coordinate_rate_target as number | undefined) ?? 64,
    syncCoordinateIntervalMinMs: ms(doc, 'sync_coordinate_interval_min', 15_000),
    coordinateBatching: {
      // Consul's dev mode writes them every 100ms.
      updatePeriodMs: dur(get<string>(get<ConfigDoc>(doc.consul, 'coordinate'), 'update_period'), dev ? 100 : 5000),
      batchSize: get<number>(get<ConfigDoc>(doc.consul, 'coordinate'), 'update_batch_size') ?? 128,
      maxBatches: get<number>(get<ConfigDoc>(doc.consul, 'coordinate'), 'update_max_batches') ?? 5,
    },
    leaveOnTerminate: (doc.leave_on_terminate as boolean | undefined) ?? !server,
    skipLeaveOnInterrupt: (doc.skip_leave_on_interrupt as boolean | undefined) ?? server,
    logLevel,
    logJson: doc.log_json === true,
    enableDebug: doc.enable_debug === true || (dev && doc.enable_debug !== false),
    logFile: logFileConfig(doc),
    syslog: syslogConfig(doc),
    ui: uiConfig(doc, dev),
    pidFile: doc.pid_file as string | undefined,
    limits: {
      kvMaxValueSize: get<number>(doc.limits, 'kv_max_value_size') ?? LIMITS.kvMaxValueSize,
      txnMaxReqLen: get<number>(doc.limits, 'txn_max_req_len') ?? LIMITS.txnMaxReqLen,
      // Consul's default; 0 lifts the limit (a benchmark or a proxy fronting many clients).
      httpMaxConnsPerClient: get<number>(doc.limits, 'http_max_conns_per_client') ?? 200,
      ...rpcRate(doc.limits),
    },
    defaultQueryTimeMs: ms(doc, 'default_query_time', LIMITS.blockingDefaultWaitMs),
    maxQueryTimeMs: ms(doc, 'max_query_time', LIMITS.blockingMaxWaitMs),
    raftMultiplier: get<number>(doc.performance, 'raft_multiplier') ?? (dev ? 1 : RAFT_MULTIPLIER_DEFAULT),
    raftSnapshotThreshold: (doc.raft_snapshot_threshold as number | undefined) ?? LIMITS.raftSnapshotThreshold,
    raftTrailingLogs: (doc.raft_trailing_logs as number | undefined) ?? LIMITS.raftTrailingLogs,
    raftSnapshotIntervalMs: ms(doc, 'raft_snapshot_interval', LIMITS.raftSnapshotIntervalMs),
    // Consul's default is 5m; its dev mode sets 0s so every output shows at once.
    checkUpdateIntervalMs: ms(doc, 'check_update_interval', dev ? 0 : 5 * 60_000),
    tls: httpsTlsConfig(doc),
    rpcTls: rpcTlsConfig(doc),
    dnsAddrs: addrList('dns'),
    dns: dnsConfig(doc),
    telemetry: telemetryConfig(doc.telemetry),
    enableScriptChecks: doc.enable_script_checks === true,
    enableLocalScriptChecks: doc.enable_local_script_checks === true,
    ...configRegistrations(doc),
    doc,
  }
}

function syslogConfig(doc: ConfigDoc): RuntimeConfig['syslog'] {
  if (doc.enable_syslog !== true) return undefined
  const name = (doc.syslog_facility as string | undefined) ?? 'LOCAL0'
  const facility = SYSLOG_FACILITIES[name.toUpperCase()]
  if (facility === undefined) throw new ConfigError('config', 'syslog_facility', `unknown syslog facility "${name}": one of ${Object.keys(SYSLOG_FACILITIES).join(', ')}`)
  return { facility }
}

/** log_file with Consul's rotation defaults: every 24h, no size limit, every archive kept. */
function logFileConfig(doc: ConfigDoc): RuntimeConfig['logFile'] {
  const path = doc.log_file as string | undefined
  if (!path) return undefined
  const rotateBytes = (doc.log_rotate_bytes as number | undefined) ?? 0
  if (rotateBytes < 0) throw new ConfigError('config', 'log_rotate_bytes', 'log_rotate_bytes cannot be negative (0: no size limit)')
  const maxFiles = (doc.log_rotate_max_files as number | undefined) ?? 0
  if (maxFiles < -1) throw new ConfigError('config', 'log_rotate_max_files', 'log_rotate_max_files is a count of files, 0 to keep all, or -1 to keep none')
  return { path, rotateBytes, rotateDurationMs: ms(doc, 'log_rotate_duration', 24 * 3600_000), maxFiles }
}

function telemetryConfig(block: unknown): TelemetryConfig {
  const t = (isPlainObject(block) ? block : {}) as ConfigDoc
  const prefixFilter = (t.prefix_filter as string[] | undefined) ?? []
  for (const f of prefixFilter) {
    if (!/^[+-]./.test(f)) throw new ConfigError('config', 'telemetry.prefix_filter', `filter rule "${f}" must start with + (allow) or - (block), then a metric name prefix`)
  }
  const address = (key: string): string | undefined => {
    const v = t[key] as string | undefined
    if (v === undefined || v === '') return undefined
    if (!/^[^\s]+:\d+$/.test(v)) throw new ConfigError('config', `telemetry.${key}`, `"${v}" is not a host:port address`)
    return v
  }
  const retention = dur(t.prometheus_retention_time, 0)
  if (retention < 0) throw new ConfigError('config', 'telemetry.prometheus_retention_time', 'prometheus_retention_time cannot be negative')
  return {
    disableHostname: t.disable_hostname === true,
    prometheusRetentionMs: retention,
    metricsPrefix: (t.metrics_prefix as string | undefined) ?? 'consul',
    filterDefault: t.filter_default !== false,
    prefixFilter,
    statsdAddress: address('statsd_address'),
    dogstatsdAddr: address('dogstatsd_addr'),
    dogstatsdTags: (t.dogstatsd_tags as string[] | undefined) ?? [],
  }
}

/** limits.rpc_rate (per second; unset: no limit, Consul's "infinite") and rpc_max_burst (1000). */
function rpcRate(limits: unknown): { rpcRate: number; rpcMaxBurst: number } {
  const l = isPlainObject(limits) ? limits : {}
  const rate = l.rpc_rate as number | undefined
  const burst = (l.rpc_max_burst as number | undefined) ?? 1000
  if (rate !== undefined && !(rate > 0)) throw new ConfigError('config', 'limits.rpc_rate', 'rpc_rate must be a positive number of calls a second (leave it unset for no limit)')
  if (!(burst >= 1)) throw new ConfigError('config', 'limits.rpc_max_burst', 'rpc_max_burst must be at least 1')
  return { rpcRate: rate ?? Infinity, rpcMaxBurst: burst }
}

/** A timing preset with a gossip_lan / gossip_wan block's overrides (Consul's names). */
function gossipConfig(preset: Readonly<GossipConfig>, block: unknown, name: string): GossipConfig {
  const b = (isPlainObject(block) ? block : {}) as ConfigDoc
  const c: GossipConfig = {
    ...preset,
    gossipNodes: (b.gossip_nodes as number | undefined) ?? preset.gossipNodes,
    gossipIntervalMs: dur(b.gossip_interval, preset.gossipIntervalMs),
    probeIntervalMs: dur(b.probe_interval, preset.probeIntervalMs),
    probeTimeoutMs: dur(b.probe_timeout, preset.probeTimeoutMs),
    retransmitMult: (b.retransmit_mult as number | undefined) ?? preset.retransmitMult,
    suspicionMult: (b.suspicion_mult as number | undefined) ?? preset.suspicionMult,
  }
  for (const [key, v] of [['gossip_interval', c.gossipIntervalMs], ['probe_interval', c.probeIntervalMs], ['probe_timeout', c.probeTimeoutMs]] as const) {
    if (v <= 0) throw new ConfigError('config', `${name}.${key}`, `${key} must be positive`)
  }
  if (c.probeTimeoutMs > c.probeIntervalMs) throw new ConfigError('config', `${name}.probe_timeout`, 'probe_timeout cannot be longer than probe_interval')
  return c
}

function encryptKey(doc: ConfigDoc): string | undefined {
  const key = doc.encrypt as string | undefined
  if (key === undefined || key === '') return undefined
  try {
    parseKey(key)
  } catch (err) {
    throw new ConfigError('config', 'encrypt', (err as Error).message)
  }
  return key
}

/** Consul refuses a reconnect_timeout under 8h (a member that flaps would be reaped and lose its checks). */
function reconnectTimeout(doc: ConfigDoc, key: string): number {
  const v = ms(doc, key, 72 * 3_600_000)
  if (v < 8 * 3_600_000) throw new ConfigError('config', key, `${key} must be at least 8h`)
  return v
}

function dnsConfig(doc: ConfigDoc): DnsConfig {
  const d = (isPlainObject(doc.dns_config) ? doc.dns_config : {}) as ConfigDoc
  const soa = (isPlainObject(d.soa) ? d.soa : {}) as ConfigDoc
  const withDot = (name: string): string => (name.endsWith('.') ? name : `${name}.`).toLowerCase()
  return {
    domain: withDot((doc.domain as string | undefined) ?? 'consul'),
    altDomain: doc.alt_domain ? withDot(doc.alt_domain as string) : undefined,
    recursors: (doc.recursors as string[] | undefined) ?? [],
    recursorTimeoutMs: dur(d.recursor_timeout, 2000),
    recursorStrategy: (d.recursor_strategy as 'sequential' | 'random' | undefined) ?? 'sequential',
    nodeTtlMs: dur(d.node_ttl, 0),
    serviceTtlMs: Object.fromEntries(Object.entries((d.service_ttl as Record<string, string> | undefined) ?? {}).map(([k, v]) => [k, parseDurationMs(v)])),
    onlyPassing: d.only_passing === true,
    aRecordLimit: (d.a_record_limit as number | undefined) ?? 0,
    udpAnswerLimit: (d.udp_answer_limit as number | undefined) ?? 3,
    enableAdditionalNodeMetaTxt: d.enable_additional_node_meta_txt !== false,
    soa: {
      refresh: (soa.refresh as number | undefined) ?? 3600,
      retry: (soa.retry as number | undefined) ?? 600,
      expire: (soa.expire as number | undefined) ?? 86400,
      minTtl: (soa.min_ttl as number | undefined) ?? 0,
    },
    // Off unless asked for: a worker lifts the ceiling of one process (~100k queries/s) when cores
    // are free, but measured on 2 shared cores it halved the rate seen by a local single-threaded
    // client (bench/dns.ts), so it is a choice for machines with cores to spare.
    udpWorkers: (d.udp_workers as number | undefined) ?? 0,
  }
}

/** Services and checks of the config files (`service`, `services`, `check`, `checks`). */
function configRegistrations(doc: ConfigDoc): { services: ServiceDefinition[]; checks: CheckSpec[] } {
  const list = (one: unknown, many: unknown): unknown[] => [...(one === undefined ? [] : [one]), ...((many as unknown[] | undefined) ?? [])]
  const wrap = <T>(where: string, parse: () => T): T => {
    try {
      return parse()
    } catch (err) {
      if (err instanceof DefinitionError) throw new ConfigError('config', where, err.message)
      throw err
    }
  }
  const services = list(doc.service, doc.services).map((s, i) => wrap(`services[${i}]`, () => parseService(s, `services[${i}]`)))
  const checks = list(doc.check, doc.checks).map((c, i) => wrap(`checks[${i}]`, () => parseCheck(c, { where: `checks[${i}]` })))
  return { services, checks }
}

/** Keys whose change takes effect on reload without a restart. */
export const RELOADABLE_KEYS: ReadonlySet<string> = new Set([
  'log_level',
  'log_json',
  'enable_debug',
  'limits',
  'node_meta',
  'check_update_interval',
  'raft_snapshot_threshold',
  'raft_trailing_logs',
  'raft_snapshot_interval',
  'default_query_time',
  'max_query_time',
  'service',
  'services',
  'check',
  'checks',
  'enable_script_checks',
  'enable_local_script_checks',
  'dns_config',
  'recursors',
])

/** Keys inside a reloadable block that are still read only at start: reported on their own. */
const START_ONLY_NESTED: ReadonlyArray<readonly [string, string]> = [['dns_config', 'udp_workers']]

/**
 * The document the agent runs with after a reload: the new one, except that the keys needing a
 * restart keep their running values, so the next reload compares against what really runs (a
 * change reverted before a restart needs no restart).
 */
export function runningDoc(running: ConfigDoc, loaded: ConfigDoc, restartKeys: readonly string[]): ConfigDoc {
  const out = structuredClone(loaded)
  for (const key of restartKeys) {
    const [head, inner] = key.split('.') as [string, string | undefined]
    if (inner === undefined) {
      if (running[head] === undefined) delete out[head]
      else out[head] = structuredClone(running[head])
      continue
    }
    const was = isPlainObject(running[head]) ? (running[head] as ConfigDoc)[inner] : undefined
    const block: ConfigDoc = isPlainObject(out[head]) ? (out[head] as ConfigDoc) : {}
    if (was === undefined) delete block[inner]
    else block[inner] = structuredClone(was)
    // An emptied block the running document did not have is no block at all.
    if (Object.keys(block).length === 0 && running[head] === undefined) delete out[head]
    else out[head] = block
  }
  return out
}

/** Top-level keys whose value differs between two merged documents (and the start-only nested ones, dotted). */
export function changedKeys(before: ConfigDoc, after: ConfigDoc): string[] {
  const keys = new Set([...Object.keys(before), ...Object.keys(after)])
  const without = (doc: ConfigDoc, block: string, key: string): unknown => {
    const value = doc[block] ?? {}
    if (!isPlainObject(value)) return value
    const { [key]: _omitted, ...rest } = value as ConfigDoc
    return rest
  }
  const changed = [...keys].filter((k) => JSON.stringify(before[k]) !== JSON.stringify(after[k]))
  for (const [block, key] of START_ONLY_NESTED) {
    const inner = (doc: ConfigDoc): unknown => (isPlainObject(doc[block]) ? (doc[block] as ConfigDoc)[key] : undefined)
    if (JSON.stringify(inner(before)) === JSON.stringify(inner(after))) continue
    changed.push(`${block}.${key}`)
    // Only the start-only key changed: the block itself has nothing to apply.
    if (JSON.stringify(without(before, block, key)) === JSON.stringify(without(after, block, key))) changed.splice(changed.indexOf(block), 1)
  }
  return changed.sort()
}

/**
 * Configuration: consul-template's flags (Go `flag` semantics), config files (HCL v1 or JSON, merged
 * left to right, CLI wins) and the CONSUL_* environment defaults.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { parseDurationMs } from '../lib/duration.js'
import { parseHcl } from '../lib/hcl.js'
import { parseLogLevel, type LogLevel } from '../lib/line-log.js'
import type { RetryConfig } from './view.js'

/** Defaults, as upstream's config.Finalize sets them. */
export const DEFAULTS = {
  retryAttempts: 12,
  retryBackoffMs: 250,
  retryMaxBackoffMs: 60_000,
  blockQueryWaitMs: 60_000,
  maxStaleMs: 2_000,
  commandTimeoutMs: 30_000,
  execKillTimeoutMs: 30_000,
  killSignal: 'SIGINT',
  reloadSignal: 'SIGHUP',
  execKillSignal: 'SIGINT',
} as const

export const EXIT = { ok: 0, error: 11, interrupt: 12, parseFlags: 13, runner: 14, config: 15 } as const

/** A flag or config error, with the exit code it leads to. */
export class ConfigError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = EXIT.config,
  ) {
    super(message)
  }
}

export interface WaitConfig {
  minMs: number
  maxMs: number
}

export interface TemplateConfig {
  source: string
  contents: string | undefined
  destination: string
  /** A string runs through `sh -c`; a list runs directly. */
  command: string | string[] | undefined
  commandTimeoutMs: number
  perms: number | undefined
  backup: boolean
  createDestDirs: boolean
  leftDelim: string
  rightDelim: string
  wait: WaitConfig | undefined
  errorOnMissingKey: boolean
  errorFatal: boolean | undefined
  functionDenylist: string[]
  sandboxPath: string
  user: string
  group: string
}

export interface ExecConfig {
  command: string | string[]
  reloadSignal: string
  killSignal: string
  killTimeoutMs: number
  splayMs: number
  envPristine: boolean
  envCustom: string[]
  envAllowlist: string[]
  envDenylist: string[]
}

export interface ConsulConfig {
  address: string | undefined
  token: string | undefined
  auth: string | undefined
  ssl: { enabled: boolean | undefined; verify: boolean; cert?: string; key?: string; caCert?: string; serverName?: string }
  retry: RetryConfig
}

export interface Config {
  consul: ConsulConfig
  templates: TemplateConfig[]
  exec: ExecConfig | undefined
  wait: WaitConfig | undefined
  once: boolean
  dry: boolean
  parseOnly: boolean
  maxStaleMs: number
  blockQueryWaitMs: number
  killSignal: string
  reloadSignal: string
  logLevel: LogLevel
  pidFile: string
  /** -log-file: log lines also go to this file. */
  logFile: string
  /** Flags and keys accepted for compatibility but not acted on (a warning names them). */
  unsupported: string[]
  templateErrorFatal: boolean
  errOnFailedLookup: boolean
  defaultLeftDelim: string
  defaultRightDelim: string
}

export function defaultConfig(env: NodeJS.ProcessEnv = process.env): Config {
  let token = env.CONSUL_TOKEN || env.CONSUL_HTTP_TOKEN || undefined
  const tokenFile = env.CONSUL_TOKEN_FILE || env.CONSUL_HTTP_TOKEN_FILE
  if (!token && tokenFile) token = readFileSync(tokenFile, 'utf8').trim()
  const sslEnv = env.CONSUL_HTTP_SSL
  const verifyEnv = env.CONSUL_HTTP_SSL_VERIFY
  const level = env.CT_LOG || env.CONSUL_TEMPLATE_LOG || env.CONSUL_TEMPLATE_LOG_LEVEL
  return {
    consul: {
      address: env.CONSUL_HTTP_ADDR || undefined,
      token,
      auth: env.CONSUL_HTTP_AUTH || undefined,
      ssl: {
        enabled: sslEnv ? /^(1|t|true)$/i.test(sslEnv) : undefined,
        verify: verifyEnv ? /^(1|t|true)$/i.test(verifyEnv) : true,
        caCert: env.CONSUL_CACERT || undefined,
        cert: env.CONSUL_CLIENT_CERT || undefined,
        key: env.CONSUL_CLIENT_KEY || undefined,
        serverName: env.CONSUL_TLS_SERVER_NAME || undefined,
      },
      retry: { enabled: true, attempts: DEFAULTS.retryAttempts, backoffMs: DEFAULTS.retryBackoffMs, maxBackoffMs: DEFAULTS.retryMaxBackoffMs },
    },
    templates: [],
    exec: undefined,
    wait: undefined,
    once: false,
    dry: false,
    parseOnly: false,
    maxStaleMs: DEFAULTS.maxStaleMs,
    blockQueryWaitMs: DEFAULTS.blockQueryWaitMs,
    killSignal: DEFAULTS.killSignal,
    reloadSignal: DEFAULTS.reloadSignal,
    logLevel: level ? parseLogLevel(level) : 'warn',
    pidFile: '',
    logFile: '',
    unsupported: [],
    templateErrorFatal: true,
    errOnFailedLookup: false,
    defaultLeftDelim: '',
    defaultRightDelim: '',
  }
}

export function newTemplateConfig(): TemplateConfig {
  return {
    source: '',
    contents: undefined,
    destination: '',
    command: undefined,
    commandTimeoutMs: DEFAULTS.commandTimeoutMs,
    perms: undefined,
    backup: false,
    createDestDirs: true,
    leftDelim: '',
    rightDelim: '',
    wait: undefined,
    errorOnMissingKey: false,
    errorFatal: undefined,
    functionDenylist: [],
    sandboxPath: '',
    user: '',
    group: '',
  }
}

function newExecConfig(): ExecConfig {
  return {
    command: '',
    reloadSignal: '',
    killSignal: DEFAULTS.execKillSignal,
    killTimeoutMs: DEFAULTS.execKillTimeoutMs,
    splayMs: 0,
    envPristine: false,
    envCustom: [],
    envAllowlist: [],
    envDenylist: [],
  }
}

// ---- value parsers -------------------------------------------------------------------------------

/** `in:out[:command]` split as upstream's `([a-zA-Z]:)?([^:]+)`; parts after the 3rd rejoin into the command. */
export function parseTemplateSpec(s: string): TemplateConfig {
  if (s.trim().length < 1) throw new Error('template: cannot be empty')
  const parts = s.match(/([a-zA-Z]:)?([^:]+)/g) ?? []
  if (parts.length === 0) throw new Error('template: cannot be empty')
  const t = newTemplateConfig()
  t.source = parts[0] ?? ''
  if (parts.length >= 2) t.destination = parts[1]
  if (parts.length >= 3) t.command = parts.slice(2).join(':')
  return t
}

/** `min[:max]`: max defaults to 4×min; negative values and max < min are errors. */
export function parseWait(s: string): WaitConfig {
  if (s.trim().length < 1) throw new Error('wait: cannot be empty')
  const parts = s.split(':', 2)
  let min: number
  let max: number
  try {
    min = parseDurationMs(parts[0].trim())
    max = parts.length === 2 ? parseDurationMs(parts[1].trim()) : min * 4
  } catch (err) {
    throw new Error((err as Error).message)
  }
  if (min < 0 || max < 0) throw new Error('wait: cannot be negative')
  if (max < min) throw new Error('wait: min must be less than max')
  return { minMs: min, maxMs: max }
}

export function parseDuration(s: string): number {
  return parseDurationMs(s.trim())
}

/** Go's strconv.ParseBool. */
export function parseBool(s: string): boolean {
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(s)) return true
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(s)) return false
  throw new Error(`parse error`)
}

const SIGNALS = new Set(['SIGABRT', 'SIGALRM', 'SIGBUS', 'SIGCHLD', 'SIGCONT', 'SIGFPE', 'SIGHUP', 'SIGILL', 'SIGINT', 'SIGIO', 'SIGIOT', 'SIGKILL', 'SIGPIPE', 'SIGPROF', 'SIGQUIT', 'SIGSEGV', 'SIGSTOP', 'SIGSYS', 'SIGTERM', 'SIGTRAP', 'SIGTSTP', 'SIGTTIN', 'SIGTTOU', 'SIGURG', 'SIGUSR1', 'SIGUSR2', 'SIGVTALRM', 'SIGWINCH', 'SIGXCPU', 'SIGXFSZ', 'SIGNULL'])

/** A signal name (`SIGHUP`, `HUP`); `SIGNULL` means none. Returns '' for none. */
export function parseSignal(s: string): string {
  if (s === '') return ''
  const name = s.toUpperCase().startsWith('SIG') ? s.toUpperCase() : `SIG${s.toUpperCase()}`
  if (!SIGNALS.has(name)) throw new Error(`invalid signal ${JSON.stringify(s)} - valid signals are [${[...SIGNALS].sort().map((x) => JSON.stringify(x)).join(' ')}]`)
  return name === 'SIGNULL' ? '' : name
}

/** A file mode: a number (HCL `0600` is already 384) or an octal string. */
function parseMode(v: unknown): number {
  if (typeof v === 'number') return v
  if (typeof v === 'string' && /^0?[0-7]{1,4}$/.test(v)) return parseInt(v, 8)
  throw new Error(`invalid file mode ${JSON.stringify(v)}`)
}

// ---- CLI -----------------------------------------------------------------------------------------

type FlagKind = 'string' | 'bool' | 'int' | 'duration'
interface FlagSpec {
  kind: FlagKind
  set: (cfg: Config, v: string, ctx: CliContext) => void
}
interface CliContext {
  configPaths: string[]
  version: boolean
  execSet: boolean
}

function execOf(cfg: Config, ctx: CliContext): ExecConfig {
  ctx.execSet = true
  return (cfg.exec ??= newExecConfig())
}

const num = (v: string): number => {
  if (!/^-?\d+$/.test(v)) throw new Error('parse error')
  return Number(v)
}

const FLAGS: Record<string, FlagSpec> = {
  config: { kind: 'string', set: (_c, v, x) => x.configPaths.push(v) },
  'consul-addr': { kind: 'string', set: (c, v) => (c.consul.address = v) },
  'consul-auth': { kind: 'string', set: (c, v) => (c.consul.auth = v) },
  'consul-token': { kind: 'string', set: (c, v) => (c.consul.token = v) },
  'consul-token-file': { kind: 'string', set: (c, v) => (c.consul.token = readFileSync(v, 'utf8').trim()) },
  'consul-retry': { kind: 'bool', set: (c, v) => (c.consul.retry.enabled = parseBool(v)) },
  'consul-retry-attempts': { kind: 'int', set: (c, v) => (c.consul.retry.attempts = num(v)) },
  'consul-retry-backoff': { kind: 'duration', set: (c, v) => (c.consul.retry.backoffMs = parseDuration(v)) },
  'consul-retry-max-backoff': { kind: 'duration', set: (c, v) => (c.consul.retry.maxBackoffMs = parseDuration(v)) },
  'consul-ssl': { kind: 'bool', set: (c, v) => (c.consul.ssl.enabled = parseBool(v)) },
  'consul-ssl-ca-cert': { kind: 'string', set: (c, v) => (c.consul.ssl.caCert = v) },
  'consul-ssl-ca-path': { kind: 'string', set: () => undefined },
  'consul-ssl-cert': { kind: 'string', set: (c, v) => (c.consul.ssl.cert = v) },
  'consul-ssl-key': { kind: 'string', set: (c, v) => (c.consul.ssl.key = v) },
  'consul-ssl-server-name': { kind: 'string', set: (c, v) => (c.consul.ssl.serverName = v) },
  'consul-ssl-verify': { kind: 'bool', set: (c, v) => (c.consul.ssl.verify = parseBool(v)) },
  'consul-transport-dial-keep-alive': { kind: 'duration', set: () => undefined },
  'consul-transport-dial-timeout': { kind: 'duration', set: () => undefined },
  'consul-transport-disable-keep-alives': { kind: 'bool', set: () => undefined },
  'consul-transport-max-idle-conns-per-host': { kind: 'int', set: () => undefined },
  'consul-transport-tls-handshake-timeout': { kind: 'duration', set: () => undefined },
  'default-left-delimiter': { kind: 'string', set: (c, v) => (c.defaultLeftDelim = v) },
  'default-right-delimiter': { kind: 'string', set: (c, v) => (c.defaultRightDelim = v) },
  dry: { kind: 'bool', set: (c, v) => (c.dry = parseBool(v)) },
  exec: { kind: 'string', set: (c, v, x) => (execOf(c, x).command = v) },
  'exec-kill-signal': { kind: 'string', set: (c, v, x) => (execOf(c, x).killSignal = parseSignal(v)) },
  'exec-kill-timeout': { kind: 'duration', set: (c, v, x) => (execOf(c, x).killTimeoutMs = parseDuration(v)) },
  'exec-reload-signal': { kind: 'string', set: (c, v, x) => (execOf(c, x).reloadSignal = parseSignal(v)) },
  'exec-splay': { kind: 'duration', set: (c, v, x) => (execOf(c, x).splayMs = parseDuration(v)) },
  'exec-env-pristine': { kind: 'bool', set: (c, v, x) => (execOf(c, x).envPristine = parseBool(v)) },
  'exec-env-custom': { kind: 'string', set: (c, v, x) => execOf(c, x).envCustom.push(v) },
  'exec-env-allowlist': { kind: 'string', set: (c, v, x) => execOf(c, x).envAllowlist.push(v) },
  'exec-env-denylist': { kind: 'string', set: (c, v, x) => execOf(c, x).envDenylist.push(v) },
  'kill-signal': { kind: 'string', set: (c, v) => (c.killSignal = parseSignal(v)) },
  'reload-signal': { kind: 'string', set: (c, v) => (c.reloadSignal = parseSignal(v)) },
  'log-level': { kind: 'string', set: (c, v) => (c.logLevel = parseLogLevel(v)) },
  'max-stale': { kind: 'duration', set: (c, v) => (c.maxStaleMs = parseDuration(v)) },
  once: { kind: 'bool', set: (c, v) => (c.once = parseBool(v)) },
  'parse-only': { kind: 'bool', set: (c, v) => (c.parseOnly = parseBool(v)) },
  'pid-file': { kind: 'string', set: (c, v) => (c.pidFile = v) },
  template: { kind: 'string', set: (c, v) => c.templates.push(parseTemplateSpec(v)) },
  'log-file': { kind: 'string', set: (c, v) => (c.logFile = v) },
  'log-rotate-bytes': { kind: 'int', set: (c) => c.unsupported.push('-log-rotate-bytes') },
  'log-rotate-duration': { kind: 'duration', set: (c) => c.unsupported.push('-log-rotate-duration') },
  'log-rotate-max-files': { kind: 'int', set: (c) => c.unsupported.push('-log-rotate-max-files') },
  dedup: { kind: 'bool', set: (c) => c.unsupported.push('-dedup') },
  syslog: { kind: 'bool', set: (c) => c.unsupported.push('-syslog') },
  'syslog-facility': { kind: 'string', set: (c) => c.unsupported.push('-syslog-facility') },
  'syslog-name': { kind: 'string', set: (c) => c.unsupported.push('-syslog-name') },
  'template-error-fatal': { kind: 'bool', set: (c, v) => (c.templateErrorFatal = parseBool(v)) },
  wait: { kind: 'string', set: (c, v) => (c.wait = parseWait(v)) },
  v: { kind: 'bool', set: (_c, v, x) => (x.version = parseBool(v)) },
  version: { kind: 'bool', set: (_c, v, x) => (x.version = parseBool(v)) },
}

export interface CliResult {
  config: Config
  configPaths: string[]
  version: boolean
  help: boolean
}

/**
 * Go's flag.Parse: `-f`, `--f`, `-f=v`, `-f v`; bool flags take no separate value; parsing stops at
 * the first non-flag or `--`; leftovers are an error (`cli: extra args`). Errors exit 13.
 */
export function parseCli(args: readonly string[], env: NodeJS.ProcessEnv = process.env): CliResult {
  const cfg = defaultConfig(env)
  const ctx: CliContext = { configPaths: [], version: false, execSet: false }
  let i = 0
  let help = false
  for (; i < args.length; i++) {
    const a = args[i]
    if (a === '--') {
      i++
      break
    }
    if (!a.startsWith('-') || a === '-') break
    let name = a.replace(/^--?/, '')
    let value: string | undefined
    const eq = name.indexOf('=')
    if (eq >= 0) {
      value = name.slice(eq + 1)
      name = name.slice(0, eq)
    }
    if (name === 'h' || name === 'help') {
      help = true
      continue
    }
    const spec = FLAGS[name]
    if (!spec) throw new ConfigError(`flag provided but not defined: -${name}`, EXIT.parseFlags)
    if (value === undefined) {
      if (spec.kind === 'bool') value = 'true'
      else {
        if (i + 1 >= args.length) throw new ConfigError(`flag needs an argument: -${name}`, EXIT.parseFlags)
        value = args[++i]
      }
    }
    try {
      spec.set(cfg, value, ctx)
    } catch (err) {
      // Go's flag package words bool flag errors differently.
      const what = spec.kind === 'bool' ? `invalid boolean value ${JSON.stringify(value)} for -${name}` : `invalid value ${JSON.stringify(value)} for flag -${name}`
      throw new ConfigError(`${what}: ${(err as Error).message}`, EXIT.parseFlags)
    }
  }
  const rest = args.slice(i)
  if (rest.length > 0) throw new ConfigError(`cli: extra args: [${rest.map((r) => JSON.stringify(r)).join(' ')}]`, EXIT.parseFlags)
  return { config: cfg, configPaths: ctx.configPaths, version: ctx.version, help }
}

// ---- config files --------------------------------------------------------------------------------

/** Every config file named by -config: files as given, folders walked recursively in name order. */
export function configFiles(paths: readonly string[]): string[] {
  const out: string[] = []
  const walk = (p: string): void => {
    let st
    try {
      st = statSync(p)
    } catch {
      throw new ConfigError(`missing file/folder: ${p}`)
    }
    if (st.isDirectory()) {
      for (const name of readdirSync(p).sort()) walk(join(p, name))
    } else if (st.isFile()) out.push(p)
    else throw new ConfigError(`unknown filetype: ${JSON.stringify(p)}`)
  }
  for (const p of paths) walk(p)
  return out
}

/** Parses one config file's text (JSON when it looks like JSON, else HCL v1) into a plain object. */
export function parseConfigText(text: string, name: string): Record<string, unknown> {
  const trimmed = text.trim()
  try {
    if (trimmed.startsWith('{')) return JSON.parse(trimmed) as Record<string, unknown>
    return parseHcl(text)
  } catch (err) {
    throw new ConfigError(`error decoding config at ${name}: ${(err as Error).message}`)
  }
}

/** Blocks decode to lists (HCL) or objects (JSON): both become a list of objects. */
function blocks(v: unknown, what: string): Record<string, unknown>[] {
  if (v === undefined || v === null) return []
  const list = Array.isArray(v) ? v : [v]
  for (const b of list) if (b === null || typeof b !== 'object' || Array.isArray(b)) throw new Error(`${what}: expected a block`)
  return list as Record<string, unknown>[]
}

/** Merges every block of a list into one object (HCL `consul { } consul { }` and flattening). */
function oneBlock(v: unknown, what: string): Record<string, unknown> | undefined {
  const bs = blocks(v, what)
  return bs.length ? Object.assign({}, ...bs) : undefined
}

function str(v: unknown, what: string): string {
  if (typeof v === 'string') return v
  if (typeof v === 'number' || typeof v === 'boolean') return String(v)
  throw new Error(`${what}: expected a string, got ${JSON.stringify(v)}`)
}
function bool(v: unknown, what: string): boolean {
  if (typeof v === 'boolean') return v
  if (typeof v === 'string') return parseBool(v)
  throw new Error(`${what}: expected a bool, got ${JSON.stringify(v)}`)
}
function dur(v: unknown, what: string): number {
  // Go's mapstructure hook accepts duration strings; bare numbers are nanoseconds.
  if (typeof v === 'number') return v / 1e6
  return parseDuration(str(v, what))
}
function strList(v: unknown, what: string): string[] {
  if (typeof v === 'string') return v.split(',').map((s) => s.trim()).filter((s) => s !== '')
  if (Array.isArray(v)) return v.map((x) => str(x, what))
  throw new Error(`${what}: expected a list, got ${JSON.stringify(v)}`)
}
function command(v: unknown, what: string): string | string[] {
  if (typeof v === 'string') return v
  if (Array.isArray(v)) return v.map((x) => str(x, what))
  throw new Error(`${what}: expected a string or a list`)
}
function waitOf(v: unknown, what: string): WaitConfig | undefined {
  if (typeof v === 'string') return parseWait(v)
  const b = oneBlock(v, what)
  if (!b) return undefined
  checkKeys(b, ['min', 'max', 'enabled'], what)
  if (b.enabled === false) return undefined
  const min = b.min === undefined ? 0 : dur(b.min, `${what}.min`)
  const max = b.max === undefined ? min * 4 : dur(b.max, `${what}.max`)
  if (min < 0 || max < 0) throw new Error('wait: cannot be negative')
  if (max < min) throw new Error('wait: min must be less than max')
  return { minMs: min, maxMs: max }
}

function checkKeys(obj: Record<string, unknown>, allowed: readonly string[], where: string): void {
  const bad = Object.keys(obj).filter((k) => !allowed.includes(k))
  if (bad.length) throw new Error(`${where}: invalid keys: ${bad.sort().join(', ')}`)
}

const TOP_KEYS = ['consul', 'template', 'exec', 'wait', 'reload_signal', 'kill_signal', 'max_stale', 'block_query_wait', 'log_level', 'pid_file', 'template_error_fatal', 'err_on_failed_lookup', 'once', 'default_delimiters', 'syslog', 'log_file', 'vault', 'nomad', 'deduplicate']
const TEMPLATE_KEYS = ['source', 'contents', 'destination', 'command', 'command_timeout', 'perms', 'backup', 'create_dest_dirs', 'left_delimiter', 'right_delimiter', 'wait', 'error_on_missing_key', 'error_fatal', 'function_denylist', 'function_blacklist', 'sandbox_path', 'user', 'uid', 'group', 'gid', 'exec']

/** Applies one decoded config file onto cfg (later files win, lists append). */
export function applyConfigObject(cfg: Config, obj: Record<string, unknown>, name: string): void {
  try {
    checkKeys(obj, TOP_KEYS, name)
    const consul = oneBlock(obj.consul, 'consul')
    if (consul) {
      checkKeys(consul, ['address', 'namespace', 'token', 'token_file', 'auth', 'retry', 'ssl', 'transport'], 'consul')
      if (consul.address !== undefined) cfg.consul.address = str(consul.address, 'consul.address')
      if (consul.token !== undefined) cfg.consul.token = str(consul.token, 'consul.token')
      // An empty token_file (as in upstream's documented example) means none.
      if (consul.token_file !== undefined && consul.token_file !== '') cfg.consul.token = readFileSync(str(consul.token_file, 'consul.token_file'), 'utf8').trim()
      const auth = oneBlock(consul.auth, 'consul.auth')
      if (auth && auth.enabled !== false && auth.username !== undefined) cfg.consul.auth = `${str(auth.username, 'username')}${auth.password !== undefined ? ':' + str(auth.password, 'password') : ''}`
      const retry = oneBlock(consul.retry, 'consul.retry')
      if (retry) {
        checkKeys(retry, ['enabled', 'attempts', 'backoff', 'max_backoff'], 'consul.retry')
        if (retry.enabled !== undefined) cfg.consul.retry.enabled = bool(retry.enabled, 'consul.retry.enabled')
        if (retry.attempts !== undefined) cfg.consul.retry.attempts = Number(retry.attempts)
        if (retry.backoff !== undefined) cfg.consul.retry.backoffMs = dur(retry.backoff, 'consul.retry.backoff')
        if (retry.max_backoff !== undefined) cfg.consul.retry.maxBackoffMs = dur(retry.max_backoff, 'consul.retry.max_backoff')
      }
      const ssl = oneBlock(consul.ssl, 'consul.ssl')
      if (ssl) {
        checkKeys(ssl, ['enabled', 'verify', 'cert', 'key', 'ca_cert', 'ca_path', 'server_name'], 'consul.ssl')
        if (ssl.enabled !== undefined) cfg.consul.ssl.enabled = bool(ssl.enabled, 'consul.ssl.enabled')
        if (ssl.verify !== undefined) cfg.consul.ssl.verify = bool(ssl.verify, 'consul.ssl.verify')
        if (ssl.cert !== undefined) cfg.consul.ssl.cert = str(ssl.cert, 'consul.ssl.cert')
        if (ssl.key !== undefined) cfg.consul.ssl.key = str(ssl.key, 'consul.ssl.key')
        if (ssl.ca_cert !== undefined) cfg.consul.ssl.caCert = str(ssl.ca_cert, 'consul.ssl.ca_cert')
        if (ssl.server_name !== undefined) cfg.consul.ssl.serverName = str(ssl.server_name, 'consul.ssl.server_name')
      }
    }
    if (obj.reload_signal !== undefined) cfg.reloadSignal = parseSignal(str(obj.reload_signal, 'reload_signal'))
    if (obj.kill_signal !== undefined) cfg.killSignal = parseSignal(str(obj.kill_signal, 'kill_signal'))
    if (obj.max_stale !== undefined) cfg.maxStaleMs = dur(obj.max_stale, 'max_stale')
    if (obj.block_query_wait !== undefined) cfg.blockQueryWaitMs = dur(obj.block_query_wait, 'block_query_wait')
    if (obj.log_level !== undefined) cfg.logLevel = parseLogLevel(str(obj.log_level, 'log_level'))
    if (obj.pid_file !== undefined) cfg.pidFile = str(obj.pid_file, 'pid_file')
    const logFile = oneBlock(obj.log_file, 'log_file')
    if (logFile?.path !== undefined) cfg.logFile = str(logFile.path, 'log_file.path')
    for (const k of ['syslog', 'deduplicate', 'vault', 'nomad']) {
      const b = oneBlock(obj[k], k)
      if (b && b.enabled !== false && (k !== 'syslog' || b.enabled === true)) cfg.unsupported.push(`${k} {}`)
    }
    if (obj.template_error_fatal !== undefined) cfg.templateErrorFatal = bool(obj.template_error_fatal, 'template_error_fatal')
    if (obj.err_on_failed_lookup !== undefined) cfg.errOnFailedLookup = bool(obj.err_on_failed_lookup, 'err_on_failed_lookup')
    if (obj.once !== undefined) cfg.once = bool(obj.once, 'once')
    const wait = waitOf(obj.wait, 'wait')
    if (wait) cfg.wait = wait
    const delims = oneBlock(obj.default_delimiters, 'default_delimiters')
    if (delims) {
      checkKeys(delims, ['left', 'right'], 'default_delimiters')
      if (delims.left !== undefined) cfg.defaultLeftDelim = str(delims.left, 'default_delimiters.left')
      if (delims.right !== undefined) cfg.defaultRightDelim = str(delims.right, 'default_delimiters.right')
    }
    const exec = oneBlock(obj.exec, 'exec')
    if (exec) {
      checkKeys(exec, ['command', 'enabled', 'timeout', 'splay', 'reload_signal', 'kill_signal', 'kill_timeout', 'env'], 'exec')
      if (exec.enabled !== false) {
        const e = (cfg.exec ??= newExecConfig())
        if (exec.command !== undefined) e.command = command(exec.command, 'exec.command')
        if (exec.splay !== undefined) e.splayMs = dur(exec.splay, 'exec.splay')
        if (exec.reload_signal !== undefined) e.reloadSignal = parseSignal(str(exec.reload_signal, 'exec.reload_signal'))
        if (exec.kill_signal !== undefined) e.killSignal = parseSignal(str(exec.kill_signal, 'exec.kill_signal'))
        if (exec.kill_timeout !== undefined) e.killTimeoutMs = dur(exec.kill_timeout, 'exec.kill_timeout')
        const env = oneBlock(exec.env, 'exec.env')
        if (env) {
          checkKeys(env, ['pristine', 'custom', 'allowlist', 'denylist', 'whitelist', 'blacklist'], 'exec.env')
          if (env.pristine !== undefined) e.envPristine = bool(env.pristine, 'exec.env.pristine')
          if (env.custom !== undefined) e.envCustom.push(...strList(env.custom, 'exec.env.custom'))
          if (env.allowlist ?? env.whitelist) e.envAllowlist.push(...strList(env.allowlist ?? env.whitelist, 'exec.env.allowlist'))
          if (env.denylist ?? env.blacklist) e.envDenylist.push(...strList(env.denylist ?? env.blacklist, 'exec.env.denylist'))
        }
      }
    }
    for (const b of blocks(obj.template, 'template')) {
      checkKeys(b, TEMPLATE_KEYS, 'template')
      const t = newTemplateConfig()
      if (b.source !== undefined) t.source = str(b.source, 'template.source')
      if (b.contents !== undefined) t.contents = str(b.contents, 'template.contents')
      if (b.destination !== undefined) t.destination = str(b.destination, 'template.destination')
      if (b.command !== undefined) t.command = command(b.command, 'template.command')
      if (b.command_timeout !== undefined) t.commandTimeoutMs = dur(b.command_timeout, 'template.command_timeout')
      if (b.perms !== undefined) t.perms = parseMode(b.perms)
      if (b.backup !== undefined) t.backup = bool(b.backup, 'template.backup')
      if (b.create_dest_dirs !== undefined) t.createDestDirs = bool(b.create_dest_dirs, 'template.create_dest_dirs')
      if (b.left_delimiter !== undefined) t.leftDelim = str(b.left_delimiter, 'template.left_delimiter')
      if (b.right_delimiter !== undefined) t.rightDelim = str(b.right_delimiter, 'template.right_delimiter')
      if (b.wait !== undefined) t.wait = waitOf(b.wait, 'template.wait')
      if (b.error_on_missing_key !== undefined) t.errorOnMissingKey = bool(b.error_on_missing_key, 'template.error_on_missing_key')
      if (b.error_fatal !== undefined) t.errorFatal = bool(b.error_fatal, 'template.error_fatal')
      const deny = b.function_denylist ?? b.function_blacklist
      if (deny !== undefined) t.functionDenylist = strList(deny, 'template.function_denylist')
      if (b.sandbox_path !== undefined) t.sandboxPath = str(b.sandbox_path, 'template.sandbox_path')
      if ((b.user ?? b.uid) !== undefined) t.user = str(b.user ?? b.uid, 'template.user')
      if ((b.group ?? b.gid) !== undefined) t.group = str(b.group ?? b.gid, 'template.group')
      cfg.templates.push(t)
    }
  } catch (err) {
    if (err instanceof ConfigError) throw err
    throw new ConfigError(`${name}: ${(err as Error).message}`)
  }
}

/**
 * The final config: defaults and environment, then the config files in order, then the CLI flags
 * again so that they win (upstream merges the parsed CLI config last). Templates from files come first.
 */
export function loadConfig(args: readonly string[], env: NodeJS.ProcessEnv = process.env): CliResult {
  const cli = parseCli(args, env)
  if (cli.configPaths.length === 0 && !env.CT_LOCAL_CONFIG) return finalize(cli)
  const cfg = defaultConfig(env)
  if (env.CT_LOCAL_CONFIG) applyConfigObject(cfg, parseConfigText(env.CT_LOCAL_CONFIG, 'CT_LOCAL_CONFIG'), 'CT_LOCAL_CONFIG')
  for (const f of configFiles(cli.configPaths)) {
    let text: string
    try {
      text = readFileSync(f, 'utf8')
    } catch (err) {
      throw new ConfigError(`failed to read config at ${f}: ${(err as Error).message}`)
    }
    applyConfigObject(cfg, parseConfigText(text, f), f)
  }
  // Re-apply the flags on top.
  const again = parseCliOnto(cfg, args, env)
  return finalize({ ...cli, config: again })
}

function parseCliOnto(base: Config, args: readonly string[], env: NodeJS.ProcessEnv): Config {
  const fromCli = parseCli(args, env).config
  const defaults = defaultConfig(env)
  const out: Config = { ...base, consul: { ...base.consul, ssl: { ...base.consul.ssl }, retry: { ...base.consul.retry } } }
  // Only what the flags changed (compared with defaults) overrides the files.
  for (const k of Object.keys(fromCli) as (keyof Config)[]) {
    if (k === 'consul' || k === 'templates' || k === 'exec') continue
    if (JSON.stringify(fromCli[k]) !== JSON.stringify(defaults[k])) (out as unknown as Record<string, unknown>)[k] = fromCli[k]
  }
  for (const k of Object.keys(fromCli.consul) as (keyof ConsulConfig)[]) {
    if (k === 'ssl' || k === 'retry') continue
    if (fromCli.consul[k] !== defaults.consul[k]) (out.consul as unknown as Record<string, unknown>)[k] = fromCli.consul[k]
  }
  for (const k of Object.keys(fromCli.consul.ssl) as (keyof ConsulConfig['ssl'])[]) {
    if (fromCli.consul.ssl[k] !== defaults.consul.ssl[k]) (out.consul.ssl as Record<string, unknown>)[k] = fromCli.consul.ssl[k]
  }
  for (const k of Object.keys(fromCli.consul.retry) as (keyof RetryConfig)[]) {
    if (fromCli.consul.retry[k] !== defaults.consul.retry[k]) (out.consul.retry as unknown as Record<string, unknown>)[k] = fromCli.consul.retry[k]
  }
  out.templates = [...base.templates, ...fromCli.templates]
  out.unsupported = [...base.unsupported, ...fromCli.unsupported]
  if (fromCli.exec) out.exec = { ...(base.exec ?? newExecConfig()), ...Object.fromEntries(Object.entries(fromCli.exec).filter(([k, v]) => JSON.stringify(v) !== JSON.stringify((newExecConfig() as unknown as Record<string, unknown>)[k]))) }
  return out
}

function finalize(r: CliResult): CliResult {
  const cfg = r.config
  for (const t of cfg.templates) {
    if (!t.leftDelim) t.leftDelim = cfg.defaultLeftDelim
    if (!t.rightDelim) t.rightDelim = cfg.defaultRightDelim
    if (t.errorFatal === undefined) t.errorFatal = cfg.templateErrorFatal
    if (t.source && t.contents !== undefined) throw new ConfigError(`template: cannot specify both "source" and "contents"`)
    if (!t.source && t.contents === undefined) throw new ConfigError('template: must specify exactly one of "source" or "contents"')
    if (!t.destination && !cfg.dry) {
      // Upstream renders to stdout-less nowhere; we require a destination outside -dry.
      throw new ConfigError(`template: missing destination for ${JSON.stringify(t.source || 'contents')}`)
    }
  }
  if (cfg.exec && (cfg.exec.command === '' || (Array.isArray(cfg.exec.command) && cfg.exec.command.length === 0))) {
    throw new ConfigError('exec: command is required')
  }
  return r
}

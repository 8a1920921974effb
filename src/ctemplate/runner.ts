/**
 * The runner (upstream's manager/runner.go): executes every template on each pass against the
 * brain, starts one view per distinct dependency the templates used (and stops the ones no longer
 * used), writes the templates whose data is complete, runs their commands, and drives the exec
 * child. Template execution is synchronous: functions only read the brain and record what is missing.
 */
import { readFileSync } from 'node:fs'
import { ConsulClient } from '../client/client.js'
import { Template } from '../template/index.js'
import { Child, commandText, runCommand } from './child.js'
import { EXIT, type Config, type TemplateConfig, type WaitConfig } from './config.js'
import type { Dependency } from './deps.js'
import { funcMap, type Brain, type Recorder } from './funcs.js'
import type { Logger } from '../lib/line-log.js'
import { render } from './render.js'
import { View } from './view.js'

/** A template still waiting for data after this long is named in the log with what it waits for. */
export const BLOCKED_WARN_AFTER_MS = 5_000
/** How often blocked templates are checked for that warning. */
export const BLOCKED_CHECK_MS = 1_000
/**
 * A request silent for longer than the blocking wait, Consul's wait/16 jitter and this margin is
 * treated as a dead connection (retried like any error) instead of hanging its view forever.
 */
export const REQUEST_GRACE_MS = 15_000

export interface RunnerResult {
  code: number
  /** The error that ended the run, for the `[ERR] (cli)` line. */
  error?: string
}

interface Quiescence {
  timer: NodeJS.Timeout | undefined
  deadline: number
  fired: boolean
}

class TemplateState {
  readonly name: string
  readonly contents: string
  lastOutput: string | undefined
  renderedOnce = false
  blockedSince: number | undefined
  blockedOn: string[] = []
  warnedFor = ''
  used = new Map<string, Dependency>()
  q: Quiescence | undefined

  constructor(readonly cfg: TemplateConfig) {
    this.name = cfg.source || cfg.destination || '(contents)'
    this.contents = cfg.contents ?? readFileSync(cfg.source, 'utf8')
  }

  get display(): string {
    return `${JSON.stringify(this.cfg.source || '(dynamic)')} => ${JSON.stringify(this.cfg.destination)}`
  }
}

export interface RunnerOptions {
  config: Config
  log: Logger
  stdout: (s: string) => void
  client?: ConsulClient
  env?: NodeJS.ProcessEnv
}

export class Runner {
  readonly brain: Brain = new Map()
  readonly views = new Map<string, View>()
  readonly templates: TemplateState[]
  readonly client: ConsulClient
  readonly #cfg: Config
  readonly #log: Logger
  #child: Child | undefined
  #running = false
  #rerun = false
  #stopped = false
  #blockTimer: NodeJS.Timeout | undefined
  #resolve!: (r: RunnerResult) => void
  readonly done: Promise<RunnerResult>
  /** Passes run so far (tests and the benchmark read it). */
  passes = 0

  constructor(readonly opts: RunnerOptions) {
    this.#cfg = opts.config
    this.#log = opts.log
    this.done = new Promise((r) => (this.#resolve = r))
    this.templates = this.#cfg.templates.map((t) => {
      try {
        return new TemplateState(t)
      } catch (err) {
        throw new Error(`failed to read template: ${(err as Error).message}`)
      }
    })
    const c = this.#cfg.consul
    this.client =
      opts.client ??
      new ConsulClient({
        address: c.address,
        token: c.token,
        auth: c.auth,
        ssl: c.ssl.enabled,
        sslVerify: c.ssl.verify,
        caFile: c.ssl.caCert,
        certFile: c.ssl.cert,
        keyFile: c.ssl.key,
        timeoutMs: this.#cfg.blockQueryWaitMs + this.#cfg.blockQueryWaitMs / 16 + REQUEST_GRACE_MS,
      })
  }

  /** Parses every template once (for -parse-only); throws the first error. */
  parseOnly(): void {
    for (const t of this.templates) {
      const tmpl = new Template(t.name)
      const fm = funcMap({ brain: this.brain, rec: { used: new Map(), missing: new Map() }, tmpl: () => tmpl, env: {}, sandboxPath: '', denylist: [] })
      try {
        tmpl.funcs(fm).delims(t.cfg.leftDelim, t.cfg.rightDelim).parse(t.contents)
      } catch (err) {
        throw new Error(`${t.name}: parse: ${(err as Error).message}`)
      }
    }
  }

  start(): void {
    this.#blockTimer = setInterval(() => this.#warnBlocked(), BLOCKED_CHECK_MS)
    this.#blockTimer.unref()
    this.#schedule()
  }

  /** Stops views, timers and the child (kill signal, then SIGKILL). */
  async stop(): Promise<void> {
    this.#stopped = true
    clearInterval(this.#blockTimer)
    for (const v of this.views.values()) v.stop()
    this.views.clear()
    for (const t of this.templates) clearTimeout(t.q?.timer)
    await this.#child?.stop()
  }

  /** A signal for the child (forwarded as is). */
  signal(sig: string): void {
    this.#child?.signal(sig)
  }

  get hasChild(): boolean {
    return this.#child !== undefined
  }

  #finish(r: RunnerResult): void {
    if (this.#stopped) return
    void this.stop().then(() => this.#resolve(r))
  }

  #schedule(): void {
    if (this.#stopped) return
    if (this.#running) {
      this.#rerun = true
      return
    }
    this.#running = true
    // setImmediate lets every view update that arrived together land before one pass.
    setImmediate(() => {
      void this.#run()
        .catch((err: Error) => this.#finish({ code: EXIT.runner, error: err.message }))
        .finally(() => {
          this.#running = false
          if (this.#rerun && !this.#stopped) {
            this.#rerun = false
            this.#schedule()
          }
        })
    })
  }

  #childEnv(): NodeJS.ProcessEnv {
    const e = this.#cfg.exec
    const base: NodeJS.ProcessEnv = e?.envPristine ? {} : { ...(this.opts.env ?? process.env) }
    const glob = (g: string): RegExp => new RegExp('^' + g.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.') + '$')
    if (e?.envAllowlist.length) for (const k of Object.keys(base)) if (!e.envAllowlist.some((g) => glob(g).test(k))) delete base[k]
    if (e?.envDenylist.length) for (const k of Object.keys(base)) if (e.envDenylist.some((g) => glob(g).test(k))) delete base[k]
    const c = this.#cfg.consul
    if (c.address) base.CONSUL_HTTP_ADDR = c.address
    if (c.token) base.CONSUL_HTTP_TOKEN = c.token
    for (const kv of e?.envCustom ?? []) {
      const eq = kv.indexOf('=')
      if (eq > 0) base[kv.slice(0, eq)] = kv.slice(eq + 1)
    }
    return base
  }

  #execute(t: TemplateState): { output?: string; rec: Recorder; error?: string } {
    const rec: Recorder = { used: new Map(), missing: new Map() }
    const tmpl = new Template(t.name)
    const env: Record<string, string> = {}
    for (const kv of this.#cfg.exec?.envCustom ?? []) {
      const eq = kv.indexOf('=')
      if (eq > 0) env[kv.slice(0, eq)] = kv.slice(eq + 1)
    }
    const fm = funcMap({ brain: this.brain, rec, tmpl: () => tmpl, env, sandboxPath: t.cfg.sandboxPath, denylist: t.cfg.functionDenylist })
    try {
      tmpl.funcs(fm).option(t.cfg.errorOnMissingKey ? 'missingkey=error' : 'missingkey=zero').delims(t.cfg.leftDelim, t.cfg.rightDelim).parse(t.contents)
    } catch (err) {
      return { rec, error: `${t.name}: parse: ${(err as Error).message}` }
    }
    try {
      return { output: tmpl.execute(undefined), rec }
    } catch (err) {
      return { rec, error: `${t.name}: execute: ${(err as Error).message}` }
    }
  }

  #waitFor(t: TemplateState): WaitConfig | undefined {
    if (this.#cfg.once) return undefined
    const w = t.cfg.wait ?? this.#cfg.wait
    return w && w.minMs > 0 ? w : undefined
  }

  /** Quiescence: returns true when the template may render now. */
  #quiet(t: TemplateState, w: WaitConfig): boolean {
    const q = (t.q ??= { timer: undefined, deadline: 0, fired: false })
    if (q.fired) {
      t.q = undefined
      return true
    }
    const now = Date.now()
    if (q.timer === undefined) q.deadline = now + w.maxMs
    clearTimeout(q.timer)
    const delay = Math.max(0, Math.min(w.minMs, q.deadline - now))
    q.timer = setTimeout(() => {
      q.timer = undefined
      q.fired = true
      this.#schedule()
    }, delay)
    return false
  }

  async #run(): Promise<void> {
    if (this.#stopped) return
    this.passes++
    const cfg = this.#cfg
    const allRenderedBefore = this.templates.every((t) => t.renderedOnce)
    const commands: { cmd: string | string[]; timeoutMs: number; t: TemplateState }[] = []
    let renderedAny = false
    const usedAll = new Map<string, Dependency>()

    for (const t of this.templates) {
      if (cfg.once && t.renderedOnce) {
        for (const [id, d] of t.used) usedAll.set(id, d)
        continue
      }
      const r = this.#execute(t)
      if (r.error !== undefined) {
        if (t.cfg.errorFatal !== false) throw new Error(r.error)
        this.#log.err('runner', r.error)
        // Keep watching what it used last time, so that new data retries it.
        for (const [id, d] of t.used) usedAll.set(id, d)
        for (const [id, d] of r.rec.used) usedAll.set(id, d)
        continue
      }
      t.used = r.rec.used
      for (const [id, d] of r.rec.used) usedAll.set(id, d)
      if (r.rec.missing.size > 0) {
        const missing = [...r.rec.missing.keys()]
        if (t.blockedSince === undefined || missing.join() !== t.blockedOn.join()) t.blockedSince = Date.now()
        t.blockedOn = missing
        this.#log.debug('runner', `missing data for ${missing.length} dependencies: ${t.display}`)
        continue
      }
      t.blockedSince = undefined
      t.blockedOn = []
      t.warnedFor = ''
      const output = r.output ?? ''
      const w = this.#waitFor(t)
      if (w && allRenderedBefore && output !== t.lastOutput) {
        if (!this.#quiet(t, w)) continue
      } else if (t.q) {
        clearTimeout(t.q.timer)
        t.q = undefined
      }
      let res
      try {
        res = render({
          path: t.cfg.destination,
          contents: output,
          perms: t.cfg.perms,
          backup: t.cfg.backup,
          createDestDirs: t.cfg.createDestDirs,
          dry: cfg.dry,
          dryWrite: this.opts.stdout,
          user: t.cfg.user,
          group: t.cfg.group,
        })
      } catch (err) {
        const msg = `error rendering ${t.display}: ${(err as Error).message}`
        if (t.cfg.errorFatal !== false) throw new Error(msg)
        this.#log.err('runner', msg)
        continue
      }
      t.lastOutput = output
      t.renderedOnce = true
      if (res.didRender) {
        renderedAny = true
        this.#log.info('runner', `rendered ${t.display}`)
        if (t.cfg.command !== undefined && !cfg.dry) commands.push({ cmd: t.cfg.command, timeoutMs: t.cfg.commandTimeoutMs, t })
      }
    }

    this.#syncViews(usedAll)

    // Commands run after the pass, in template order, each distinct command once.
    const seen = new Set<string>()
    for (const c of commands) {
      const key = JSON.stringify(c.cmd)
      if (seen.has(key)) continue
      seen.add(key)
      this.#log.info('runner', `executing command ${JSON.stringify(commandText(c.cmd))} from ${c.t.display}`)
      try {
        await runCommand(c.cmd, c.timeoutMs, this.#childEnv())
      } catch (err) {
        throw new Error(`failed to execute command ${JSON.stringify(commandText(c.cmd))} from ${c.t.display}: ${(err as Error).message}`)
      }
    }
    if (this.#stopped) return

    if (this.templates.every((t) => t.renderedOnce)) {
      const e = cfg.exec
      if (e) {
        if (!this.#child) {
          this.#child = new Child({
            command: e.command,
            env: this.#childEnv(),
            reloadSignal: e.reloadSignal,
            killSignal: e.killSignal,
            killTimeoutMs: e.killTimeoutMs,
            splayMs: e.splayMs,
            log: this.#log,
            onExit: (code) => this.#finish({ code, error: code === 0 ? undefined : `child process died with exit code ${code}` }),
          })
          this.#child.start()
        } else if (renderedAny && !cfg.once) {
          await this.#child.reload()
        }
      } else if (cfg.once) {
        this.#finish({ code: EXIT.ok })
      }
    }
  }

  #syncViews(used: Map<string, Dependency>): void {
    for (const [id, d] of used) {
      if (this.views.has(id)) continue
      const v = new View(d, {
        client: this.client,
        retry: this.#cfg.consul.retry,
        waitMs: this.#cfg.blockQueryWaitMs,
        maxStaleMs: this.#cfg.maxStaleMs,
        once: this.#cfg.once,
        errOnFailedLookup: this.#cfg.errOnFailedLookup,
        log: this.#log,
        onData: (view) => {
          if (this.views.get(id) !== view) return
          this.brain.set(id, view.data)
          this.#schedule()
        },
        onError: (_view, err) => this.#finish({ code: EXIT.runner, error: `watcher: ${err.message}` }),
      })
      this.views.set(id, v)
      this.#log.debug('watcher', `adding ${id}`)
      v.start()
    }
    for (const [id, v] of this.views) {
      if (used.has(id)) continue
      this.#log.debug('watcher', `removing ${id}`)
      v.stop()
      this.views.delete(id)
      this.brain.delete(id)
    }
  }

  /** Names what a template has been waiting for, instead of waiting silently (upstream #870, #1492). */
  #warnBlocked(): void {
    const now = Date.now()
    for (const t of this.templates) {
      if (t.blockedSince === undefined || now - t.blockedSince < BLOCKED_WARN_AFTER_MS) continue
      const key = t.blockedOn.join(', ')
      if (t.warnedFor === key) continue
      t.warnedFor = key
      this.#log.warn('runner', `template ${t.display} is waiting for data from: ${key}`)
    }
  }
}

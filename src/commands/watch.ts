import { spawn, type ChildProcess } from 'node:child_process'
import { Flags } from '@oclif/core'
import { ApiCommand, datacenterFlag } from '../client/api-command.js'
import { encodeKey, type KvPair, type ReadOptions } from '../client/client.js'
import { goJsonEscape } from '../client/format.js'
import { originalTail, shapesOf, splitGoArgs } from '../client/go-args.js'
import { toJson } from '../lib/json.js'

const TYPES = ['key', 'keyprefix', 'services', 'nodes', 'service', 'checks', 'event'] as const
type WatchType = (typeof TYPES)[number]

/** Which parameters each watch type accepts (Consul's watch.Parse refuses the others). */
const ALLOWED: Record<WatchType, string[]> = {
  key: ['key'],
  keyprefix: ['prefix'],
  services: [],
  nodes: [],
  service: ['service', 'tag', 'passingonly'],
  checks: ['service', 'state'],
  event: ['name'],
}

/** Consul's watch retry: 5s × failures², at most 180s. */
const RETRY_BASE_MS = 5_000
const RETRY_MAX_MS = 180_000

/** Go's api.KVPair field order, so printed values look like HashiCorp's CLI's. */
function kvJson(p: KvPair): Record<string, unknown> {
  return { Key: p.Key, CreateIndex: p.CreateIndex, ModifyIndex: p.ModifyIndex, LockIndex: p.LockIndex, Flags: p.Flags, Value: p.Value, Session: p.Session ?? '' }
}

export default class Watch extends ApiCommand<typeof Watch> {
  static override summary = 'Watch a view of Consul for changes.'
  static override description = `Runs a blocking-query loop on one view of the catalog, health, KV store or events. Without a handler, each new result is printed as indented JSON (the first one at start). With a handler, the handler runs on each change through $SHELL -c (default /bin/sh; -shell=false: the words are run directly), with the result as JSON on its standard input and CONSUL_INDEX in its environment; a failing handler stops the watch with exit 1.

Types and their parameters: key (-key), keyprefix (-prefix), services, nodes, service (-service, -tag, -passingonly), checks (-service or -state), event (-name).

Unlike HashiCorp's CLI, which prints the first result and exits when no handler is given, this one keeps printing each change until interrupted (SIGINT/SIGTERM exit 0); use -once for HashiCorp's behaviour.`
  static override usage = 'watch -type=TYPE [options] [HANDLER...]'
  static override examples = [
    '<%= config.bin %> watch -type=key -key=config/app',
    '<%= config.bin %> watch -type=keyprefix -prefix=config/ ./reload.sh',
    '<%= config.bin %> watch -type=service -service=web -passingonly=true "jq -r .[].Service.Address"',
    '<%= config.bin %> watch -type=checks -state=critical',
    '<%= config.bin %> watch -type=event -name=deploy ./deploy.sh',
  ]
  static override strict = false
  static override flags = {
    ...datacenterFlag,
    type: Flags.string({ description: `Watch type: ${TYPES.join(', ')}.` }),
    key: Flags.string({ description: 'Key to watch (type key).' }),
    prefix: Flags.string({ description: 'Key prefix to watch (type keyprefix).' }),
    service: Flags.string({ description: 'Service to watch (type service; optional for checks).' }),
    tag: Flags.string({ description: 'Only instances with this tag (type service).' }),
    passingonly: Flags.string({ description: 'true: only instances passing all checks (type service).' }),
    state: Flags.string({ description: 'Check state to watch: any, passing, warning, critical (type checks).' }),
    name: Flags.string({ description: 'Event name to watch (type event).' }),
    shell: Flags.boolean({ description: 'Run the handler through $SHELL -c (-shell=false: run the words directly).', default: true, allowNo: true }),
    stale: Flags.boolean({ description: 'Let any server answer (faster, possibly stale).' }),
    once: Flags.boolean({ description: 'Extension: print the first result and exit, as HashiCorp\'s CLI does without a handler.' }),
  }

  #rest: string[] = []
  #handler: ChildProcess | undefined

  override async init(): Promise<void> {
    // Go's flag rule: our flags end at the first handler word, which is kept exactly as typed.
    const { flags, rest } = splitGoArgs(this.argv, shapesOf(ApiCommand.baseFlags, Watch.flags))
    this.#rest = originalTail(this.argv, rest.length)
    this.argv = flags
    await super.init()
  }

  async run(): Promise<void> {
    const f = this.flags
    if (!f.type) this.error('Watch type must be specified', { exit: 1 })
    const type = f.type as WatchType
    if (!TYPES.includes(type)) this.error(`Unsupported watch type: ${f.type}`, { exit: 1 })
    const given = (['key', 'prefix', 'service', 'tag', 'passingonly', 'state', 'name'] as const).filter((p) => f[p] !== undefined && f[p] !== '')
    const invalid = given.filter((p) => !ALLOWED[type].includes(p))
    if (invalid.length) this.error(`Invalid parameters: [${invalid.join(' ')}]`, { exit: 1 })
    if (type === 'key' && !f.key) this.error('Must specify a single key to watch', { exit: 1 })
    if (type === 'keyprefix' && f.prefix === undefined) this.error('Must specify a single prefix to watch', { exit: 1 })
    if (type === 'service' && !f.service) this.error('Must specify a single service to watch', { exit: 1 })
    if (type === 'checks' && f.service && f.state) this.error('Cannot specify service and state', { exit: 1 })
    let passing = false
    if (f.passingonly !== undefined) {
      if (/^(1|t|true)$/i.test(f.passingonly)) passing = true
      else if (!/^(0|f|false)$/i.test(f.passingonly)) this.error(`Failed to parse passingonly flag: strconv.ParseBool: parsing "${f.passingonly}": invalid syntax`, { exit: 1 })
    }

    try {
      await this.client.agentNodeName()
    } catch (err) {
      this.error(`Error querying Consul agent: ${(err as Error).message}`, { exit: 1 })
    }

    // Like Consul: on SIGINT/SIGTERM the running handler gets the signal too, and we exit 0.
    const onSignal = (sig: NodeJS.Signals): void => {
      if (this.#handler?.pid && this.#handler.exitCode === null) this.#handler.kill(sig)
      this.exitNow(0)
    }
    process.on('SIGINT', onSignal)
    process.on('SIGTERM', onSignal)

    const base: ReadOptions = { dc: f.datacenter, query: { stale: f.stale || undefined } }
    let lastEventId: string | undefined
    const fetch = async (index: number): Promise<{ index: number; data: unknown }> => {
      const opts: ReadOptions = { ...base, index }
      switch (type) {
        case 'key': {
          const r = await this.client.read<KvPair[]>(`/v1/kv/${encodeKey(f.key!)}`, { ...opts, allow404: true })
          return { index: r.index ?? 0, data: r.value?.[0] ? kvJson(r.value[0]) : null }
        }
        case 'keyprefix': {
          const r = await this.client.read<KvPair[]>(`/v1/kv/${encodeKey(f.prefix!)}`, { ...opts, allow404: true, query: { ...opts.query, recurse: true } })
          return { index: r.index ?? 0, data: r.value ? r.value.map(kvJson) : null }
        }
        case 'services': {
          const r = await this.client.read<unknown>('/v1/catalog/services', opts)
          return { index: r.index ?? 0, data: r.value ?? null }
        }
        case 'nodes': {
          const r = await this.client.read<unknown>('/v1/catalog/nodes', opts)
          return { index: r.index ?? 0, data: r.value ?? null }
        }
        case 'service': {
          const r = await this.client.read<unknown>(`/v1/health/service/${encodeURIComponent(f.service!)}`, {
            ...opts,
            tags: f.tag ? [f.tag] : undefined,
            query: { ...opts.query, passing: passing || undefined },
          })
          return { index: r.index ?? 0, data: r.value ?? null }
        }
        case 'checks': {
          const path = f.service ? `/v1/health/checks/${encodeURIComponent(f.service)}` : `/v1/health/state/${encodeURIComponent(f.state || 'any')}`
          const r = await this.client.read<unknown>(path, opts)
          return { index: r.index ?? 0, data: r.value ?? null }
        }
        case 'event': {
          const r = await this.client.read<Array<{ ID: string }>>('/v1/event/list', { ...opts, query: { ...opts.query, name: f.name || undefined } })
          let events = r.value ?? []
          // Only the events after the last one handed out, as Consul's event watch prunes.
          const seen = lastEventId === undefined ? -1 : events.findIndex((e) => e.ID === lastEventId)
          if (seen >= 0) events = events.slice(seen + 1)
          return { index: r.index ?? 0, data: events }
        }
      }
    }

    let lastIndex: number | undefined
    let lastResult: string | undefined
    let failures = 0
    for (;;) {
      let got: { index: number; data: unknown }
      try {
        got = await fetch(lastIndex ?? 0)
      } catch (err) {
        failures++
        const retry = Math.min(RETRY_BASE_MS * failures * failures, RETRY_MAX_MS)
        this.logToStderr(`[ERR] consul.watch: Watch (type: ${type}) errored: ${(err as Error).message}, retry in ${retry / 1000}s`)
        await new Promise((r) => setTimeout(r, retry))
        continue
      }
      failures = 0
      if (lastIndex !== undefined && got.index === lastIndex) {
        // Index 0 would make every query return at once; pause rather than spin.
        if (got.index === 0) await new Promise((r) => setTimeout(r, 1_000))
        continue
      }
      const first = lastIndex === undefined
      // An index that went backwards (agent restored from a snapshot) restarts from 0.
      lastIndex = !first && got.index < lastIndex! ? 0 : got.index
      const serialized = toJson(got.data)
      if (!first && serialized === lastResult) continue
      if (type === 'event') {
        const events = got.data as Array<{ ID: string }>
        if (events.length) lastEventId = events[events.length - 1]!.ID
      }
      lastResult = serialized

      if (this.#rest.length === 0) {
        this.log(goJsonEscape(toJson(got.data, true)))
        if (f.once) break
        continue
      }
      const ok = await this.runHandler(got.index, goJsonEscape(serialized) + '\n', f.shell)
      if (!ok) this.exitNow(1)
    }
    process.off('SIGINT', onSignal)
    process.off('SIGTERM', onSignal)
  }

  /** Runs the handler once with the result on stdin; false (after saying why) when it failed. */
  private runHandler(index: number, input: string, shell: boolean): Promise<boolean> {
    const words = this.#rest
    const [cmd, args] = shell ? [process.env.SHELL || '/bin/sh', ['-c', words.join(' ')]] : [words[0]!, words.slice(1)]
    return new Promise((resolve) => {
      const child = spawn(cmd, args, { stdio: ['pipe', 'inherit', 'inherit'], env: { ...process.env, CONSUL_INDEX: String(index) } })
      this.#handler = child
      child.stdin.on('error', () => undefined) // a handler that ignores its input may close it early
      child.stdin.end(input)
      child.once('error', (err) => {
        this.logToStderr(`Error starting handler: ${err.message}`)
        resolve(false)
      })
      child.once('exit', (code, signal) => {
        this.#handler = undefined
        if (code === 0) return resolve(true)
        this.logToStderr(`Error executing handler: ${signal ? `signal: ${signal}` : `exit status ${code}`}`)
        resolve(false)
      })
    })
  }

  /** Leaves at once, in-flight blocking query and all (Consul's watch calls os.Exit too). */
  private exitNow(code: number): never {
    this.client.close()
    process.exit(code)
  }
}

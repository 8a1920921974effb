/**
 * marathon-consul's KV tree (`--kv`), as CiscoCloud's version wrote it for consul-template:
 * `<prefix>/<app path>/config` holds the app's definition (without its tasks) and
 * `<prefix>/<app path>/tasks/<task id>` each registered task (`host`, `ports`, `services`). Written
 * through the bridge's local agent; a full sync rewrites only what changed, in transactions of 64
 * operations (Consul's limit), and deletes what no app has any more.
 */
import type { ConsulClient } from '../../client/client.js'
import type { Logger } from '../../lib/line-log.js'
import type { AppInfo, TaskRegistrations } from './apps.js'

type Op = { KV: { Verb: 'set' | 'delete' | 'delete-tree'; Key: string; Value?: string } }

const TXN_MAX = 64

export class KvMirror {
  constructor(readonly client: ConsulClient, readonly prefix: string, readonly log: Logger) {}

  #appKey(appId: string): string {
    return `${this.prefix}/${appId.replace(/^\/+/, '')}`
  }

  #config(app: unknown): string {
    const { tasks: _tasks, ...def } = app as Record<string, unknown>
    return JSON.stringify(def)
  }

  #task(t: TaskRegistrations): string | undefined {
    const first = t.services[0]
    if (!first) return undefined
    return JSON.stringify({ id: t.taskId, appId: t.appId, host: first.Address, ports: t.services.map((s) => s.Port), services: [...new Set(t.services.map((s) => s.Name))] })
  }

  async #run(ops: Op[]): Promise<void> {
    for (let i = 0; i < ops.length; i += TXN_MAX) {
      const res = await this.client.txn(ops.slice(i, i + TXN_MAX))
      if (res.status !== 200) throw new Error(`KV transaction failed: ${JSON.stringify(res.body).slice(0, 200)}`)
    }
  }

  async #safely(what: string, fn: () => Promise<void>): Promise<void> {
    try {
      await fn()
    } catch (err) {
      this.log.err('kv', `${what}: ${(err as Error).message}`)
    }
  }

  writeApp(app: unknown, info: AppInfo, tasks: readonly TaskRegistrations[]): Promise<void> {
    return this.#safely(`writing ${this.#appKey(info.id)}`, async () => {
      const base = this.#appKey(info.id)
      const ops: Op[] = [{ KV: { Verb: 'set', Key: `${base}/config`, Value: Buffer.from(this.#config(app)).toString('base64') } }]
      for (const t of tasks) {
        const v = this.#task(t)
        if (v) ops.push({ KV: { Verb: 'set', Key: `${base}/tasks/${t.taskId}`, Value: Buffer.from(v).toString('base64') } })
      }
      await this.#run(ops)
    })
  }

  writeTask(info: AppInfo, t: TaskRegistrations): Promise<void> {
    const v = this.#task(t)
    if (!v) return Promise.resolve()
    const key = `${this.#appKey(info.id)}/tasks/${t.taskId}`
    return this.#safely(`writing ${key}`, async () => void (await this.client.kvPut(key, v)))
  }

  dropTask(appId: string, taskId: string): Promise<void> {
    const key = `${this.#appKey(appId)}/tasks/${taskId}`
    return this.#safely(`deleting ${key}`, async () => void (await this.client.kvDelete(key)))
  }

  dropApp(appId: string): Promise<void> {
    const base = this.#appKey(appId)
    return this.#safely(`deleting ${base}/`, async () => {
      await this.#run([{ KV: { Verb: 'delete', Key: `${base}/config` } }, { KV: { Verb: 'delete-tree', Key: `${base}/tasks/` } }])
    })
  }

  /** The whole tree from a full sync: changed keys written, stale keys deleted. */
  syncAll(apps: ReadonlyMap<string, { app: unknown; info: AppInfo; tasks: readonly TaskRegistrations[] }>): Promise<void> {
    return this.#safely(`syncing ${this.prefix}/`, async () => {
      const want = new Map<string, string>()
      for (const { app, info, tasks } of apps.values()) {
        const base = this.#appKey(info.id)
        want.set(`${base}/config`, this.#config(app))
        for (const t of tasks) {
          const v = this.#task(t)
          if (v) want.set(`${base}/tasks/${t.taskId}`, v)
        }
      }
      const have = new Map<string, string>()
      for (const p of await this.client.kvList(`${this.prefix}/`)) have.set(p.Key, p.Value === null ? '' : Buffer.from(p.Value, 'base64').toString('utf8'))
      const ops: Op[] = []
      for (const [k, v] of want) if (have.get(k) !== v) ops.push({ KV: { Verb: 'set', Key: k, Value: Buffer.from(v).toString('base64') } })
      // Only keys of the bridge's own shape go: anything else a user keeps under the prefix stays.
      for (const k of have.keys()) if (!want.has(k) && /\/(config|tasks\/[^/]+)$/.test(k)) ops.push({ KV: { Verb: 'delete', Key: k } })
      await this.#run(ops)
      if (ops.length) this.log.info('kv', `${this.prefix}/: ${ops.length} keys written or deleted`)
    })
  }
}

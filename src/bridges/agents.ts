/**
 * The bridges' way to the Consul agent on each host: one keep-alive ConsulClient per agent address
 * (`host:port`), the `--consul-*` flags applied to all, and a timeout so a hung agent cannot stall a
 * sync. Also a template of the connection options for the one agent the bridge reads the catalog from.
 */
import { ConsulClient, type ClientOptions } from '../client/client.js'
import type { AgentApi, AgentServiceView, BridgeService } from './registrar.js'

export interface ConsulFlags {
  ssl?: boolean
  sslVerify?: boolean
  sslCert?: string
  sslKey?: string
  sslCaCert?: string
  token?: string
  auth?: string
  /** The HTTP port every host's agent listens on. */
  port: number
  timeoutMs?: number
}

/** The bridges' `--consul-*` flags, as both commands declare them. */
export interface ConsulAgentFlags {
  'consul-port': number
  'consul-ssl': boolean
  'consul-ssl-verify': boolean
  'consul-ssl-cert'?: string
  'consul-ssl-cacert'?: string
  'consul-token'?: string
  'consul-auth'?: string
}

/** The pool for those flags (the token falls back to CONSUL_HTTP_TOKEN). */
export function agentPoolFrom(f: ConsulAgentFlags, timeoutMs?: number): AgentPool {
  return new AgentPool({
    port: f['consul-port'],
    ssl: f['consul-ssl'],
    sslVerify: f['consul-ssl-verify'],
    sslCert: f['consul-ssl-cert'],
    sslCaCert: f['consul-ssl-cacert'],
    token: f['consul-token'] ?? process.env.CONSUL_HTTP_TOKEN,
    auth: f['consul-auth'],
    ...(timeoutMs ? { timeoutMs } : {}),
  })
}

/** `host` with the agents' port, bracketed for IPv6. */
export function agentAddress(host: string, port: number): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]:${port}` : `${host}:${port}`
}

export class AgentPool implements AgentApi {
  readonly #clients = new Map<string, ConsulClient>()
  readonly #flags: ConsulFlags

  constructor(flags: ConsulFlags) {
    this.#flags = flags
  }

  options(address: string): ClientOptions {
    const f = this.#flags
    return {
      address,
      ssl: f.ssl,
      sslVerify: f.sslVerify,
      certFile: f.sslCert,
      keyFile: f.sslKey,
      caFile: f.sslCaCert,
      token: f.token,
      auth: f.auth,
      timeoutMs: f.timeoutMs ?? 10_000,
    }
  }

  client(agent: string): ConsulClient {
    let c = this.#clients.get(agent)
    if (!c) {
      c = new ConsulClient(this.options(agent))
      this.#clients.set(agent, c)
    }
    return c
  }

  async services(agent: string): Promise<Record<string, AgentServiceView>> {
    // Every sync reads every agent's whole list: the native parser (nothing here needs uint64 precision).
    const res = await this.client(agent).call('GET', '/v1/agent/services')
    return res.body.length ? (JSON.parse(res.body.toString('utf8')) as Record<string, AgentServiceView>) : {}
  }

  async register(agent: string, svc: BridgeService): Promise<void> {
    await this.client(agent).agentServiceRegister(svc as unknown as Record<string, unknown>)
  }

  async deregister(agent: string, id: string): Promise<void> {
    const res = await this.client(agent).request('PUT', `/v1/agent/service/deregister/${encodeURIComponent(id)}`)
    // Already gone is what we wanted.
    if (res.status !== 200 && res.status !== 404) throw new Error(`Unexpected response code: ${res.status} (${res.body.toString('utf8').trim()})`)
  }

  close(): void {
    for (const c of this.#clients.values()) c.close()
    this.#clients.clear()
  }
}

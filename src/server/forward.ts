/**
 * Forwarding (Consul's Server.forward and rpc_hold_timeout): a write that reaches a server which is
 * not the leader goes to the leader as the same typed request, over server RPC. Without a leader,
 * or when the leader it tried is gone, it waits for the next one and retries until the hold time
 * is spent; a request whose fate is unknown (the connection dropped after it was sent, no answer in
 * time) is not retried, since it may have been applied.
 */
import type { Clock } from '../lib/clock.js'
import type { Consensus } from '../raft/types.js'
import { fromWireError, NotLeaderError, toWireError, type WireError } from './errors.js'

/** The RPC method every forwarded endpoint call travels as. WARNING: on the wire. */
export const ENDPOINT_CALL_METHOD = 'Endpoint.Call'

/** Endpoint methods that may be forwarded (Consul's RPC names). WARNING: on the wire. */
export const FORWARDED_METHODS = [
  'KVS.Apply', 'Txn.Apply', 'Catalog.Register', 'Catalog.Deregister', 'Session.Apply', 'Session.Renew', 'PreparedQuery.Apply',
  'Operator.RaftRemovePeer', 'Operator.RaftTransferLeader', 'Operator.AutopilotHealth', 'Snapshot.Restore', 'Coordinate.Update',
  'ACL.BootstrapTokens', 'ACL.TokenSet', 'ACL.TokenClone', 'ACL.TokenDelete', 'ACL.PolicySet', 'ACL.PolicyDelete', 'ACL.RoleSet',
  'ACL.RoleDelete', 'ACL.Apply',
] as const
export type ForwardedMethod = (typeof FORWARDED_METHODS)[number]

/** What the server RPC layer answers: its value, or why there is none (RpcResult's shape). */
export type RemoteResult = { ok: true; value: unknown } | { ok: false; error: { code: string; message: string } }
export type RemoteCall = (address: string, method: string, body: unknown, timeoutMs: number) => Promise<RemoteResult>

/** A forwarded call's answer inside the RPC answer: the endpoint's value, or its error as data. */
export type EndpointAnswer = { ok: true; value: unknown } | { ok: false; error: WireError }

/** RPC failures after which the request was certainly not carried out. */
const NOT_SENT = new Set(['unreachable', 'overloaded', 'shutdown'])

export interface ForwarderOptions {
  raft: Pick<Consensus, 'isLeader' | 'leaderAddress'>
  call: RemoteCall
  clock: Clock
  /** Runs the call here once this server is the leader. */
  local: (method: ForwardedMethod, req: unknown) => Promise<unknown>
  /** Consul's rpc_hold_timeout. */
  holdMs?: number
  /** How often a server waiting for a leader looks again. */
  pollMs?: number
}

export class Forwarder {
  readonly #o: Required<ForwarderOptions>

  constructor(o: ForwarderOptions) {
    this.#o = { ...o, holdMs: o.holdMs ?? 7000, pollMs: o.pollMs ?? 50 }
  }

  async forward<T>(method: ForwardedMethod, req: unknown): Promise<T> {
    const { raft, clock } = this.#o
    const deadline = clock.now() + this.#o.holdMs
    let lastError: Error = new NotLeaderError('')
    for (;;) {
      if (raft.isLeader()) return (await this.#o.local(method, req)) as T
      const leader = raft.leaderAddress()
      const remaining = deadline - clock.now()
      if (remaining <= 0) throw lastError
      if (leader !== '') {
        const r = await this.#o.call(leader, ENDPOINT_CALL_METHOD, { method, req }, remaining)
        if (r.ok) {
          const answer = r.value as EndpointAnswer
          if (answer?.ok === true) return answer.value as T
          const err = answer?.ok === false ? fromWireError(answer.error) : new Error('rpc: malformed endpoint answer')
          // The server it reached was no longer the leader: nothing was done there.
          if (!(err instanceof NotLeaderError)) throw err
          lastError = new NotLeaderError('')
        } else if (NOT_SENT.has(r.error.code)) {
          lastError = new NotLeaderError('')
        } else {
          throw new Error(`rpc error making call: ${r.error.message}`)
        }
      }
      await new Promise<void>((resolve) => clock.setTimeout(resolve, Math.min(this.#o.pollMs, Math.max(1, deadline - clock.now()))))
    }
  }
}

/**
 * The leader's side: runs a forwarded call and answers with its value or its error as data. A
 * server that is not the leader (any more) says so, and the caller tries the new one.
 */
export async function answerEndpointCall(
  raft: Pick<Consensus, 'isLeader' | 'leaderAddress'>,
  run: (method: ForwardedMethod, req: unknown) => Promise<unknown>,
  body: unknown,
): Promise<EndpointAnswer> {
  const { method, req } = (body ?? {}) as { method?: unknown; req?: unknown }
  if (typeof method !== 'string' || !(FORWARDED_METHODS as readonly string[]).includes(method) || typeof req !== 'object' || req === null) {
    return { ok: false, error: { kind: 'internal', message: 'malformed forwarded call' } }
  }
  if (!raft.isLeader()) return { ok: false, error: toWireError(new NotLeaderError(raft.leaderAddress())) }
  try {
    return { ok: true, value: await run(method as ForwardedMethod, req) }
  } catch (err) {
    return { ok: false, error: toWireError(err) }
  }
}

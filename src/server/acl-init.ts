/**
 * A leader duty when ACLs are on (Consul's initializeACLs): the built-in global-management policy,
 * the anonymous token and the configured initial management token exist in the tables. The
 * command only adds what is missing, so every new leader can propose it safely.
 */
import type { Clock, Timer } from '../lib/clock.js'
import type { AclEndpoint } from './acl-endpoint.js'
import type { LeaderDuty } from './leader.js'

export class AclInitDuty implements LeaderDuty {
  readonly name = 'acl built-ins'
  #leading = false
  #retry: Timer | undefined

  constructor(
    readonly acl: AclEndpoint,
    readonly clock: Clock,
    readonly initialManagement: string | undefined,
  ) {}

  establish(): void {
    this.#leading = true
    void this.#ensure()
  }

  revoke(): void {
    this.#leading = false
    this.#retry?.cancel()
  }

  #missing(): boolean {
    const { acl } = this.acl.core.state
    const want = this.acl.builtins(this.initialManagement)
    return want.Policies.some((p) => !acl.policy(p.ID)) || want.Tokens.some((t) => !acl.tokenBySecret(t.SecretID))
  }

  async #ensure(): Promise<void> {
    if (!this.#leading) return
    const { core } = this.acl
    try {
      if (!this.#missing()) return
      await core.apply({ Type: 'acl', ...this.acl.builtins(this.initialManagement) })
      core.log('info', 'acl: created the built-in policy and tokens')
    } catch (err) {
      core.log('warn', `acl: could not create the built-in policy and tokens yet: ${(err as Error).message}`)
      this.#retry = this.clock.setTimeout(() => void this.#ensure(), 1000)
    }
  }
}

/**
 * A leader duty when ACLs are on (Consul's initializeACLs): the built-in global-management policy,
 * the anonymous token and the configured initial management token exist in the tables. The
 * command only adds what is missing, so every new leader can propose it safely.
 */
import type { Clock } from '../lib/clock.js'
import type { AclEndpoint } from './acl-endpoint.js'
import { EnsureDuty } from './leader.js'

export class AclInitDuty extends EnsureDuty {
  readonly name = 'acl built-ins'
  protected readonly notYet = 'acl: could not create the built-in policy and tokens yet'

  constructor(
    readonly acl: AclEndpoint,
    clock: Clock,
    readonly initialManagement: string | undefined,
  ) {
    super(clock, acl.core.log)
  }

  protected missing(): boolean {
    const { acl } = this.acl.core.state
    const want = this.acl.builtins(this.initialManagement)
    return want.Policies.some((p) => !acl.policy(p.ID)) || want.Tokens.some((t) => !acl.tokenBySecret(t.SecretID))
  }

  protected async create(): Promise<void> {
    await this.acl.core.apply({ Type: 'acl', ...this.acl.builtins(this.initialManagement) })
    this.acl.core.log('info', 'acl: created the built-in policy and tokens')
  }
}

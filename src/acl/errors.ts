/**
 * The ACL domain's errors, typed once; the HTTP edge maps them to Consul's statuses and texts
 * (400 for rules, 401 when ACLs are off, 403 for a denial or an unknown token).
 */

/** Policy rules that cannot be used: names the line where it can and the reason. */
export class AclRulesError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'AclRulesError'
  }
}

/** A token may not do this. The message is Consul's (1.12 and later). */
export class PermissionDeniedError extends Error {
  constructor(
    readonly accessor: string,
    readonly permission: string,
    readonly resource: string | undefined,
  ) {
    super(
      `Permission denied: token with AccessorID '${accessor}' lacks permission '${permission}'${resource === undefined ? '' : ` on ${JSON.stringify(resource)}`}`,
    )
    this.name = 'PermissionDeniedError'
  }
}

/** A secret no token has (or an expired one): Consul answers 403 `ACL not found`. */
export class AclNotFoundError extends Error {
  constructor() {
    super('ACL not found')
    this.name = 'AclNotFoundError'
  }
}

/** An ACL endpoint on an agent whose ACLs are off: 401, as python-consul's ACLDisabled expects. */
export class AclDisabledError extends Error {
  constructor() {
    super('ACL support disabled')
    this.name = 'AclDisabledError'
  }
}

const FLAT = new Set(['acl', 'keyring', 'mesh', 'operator', 'peering'])

/** The denial of `need` on `resource` `name` to `who` (flat resources name nothing). */
export function denied(who: { accessor: string }, resource: string, name: string, need: string): PermissionDeniedError {
  return new PermissionDeniedError(who.accessor, `${resource}:${need}`, FLAT.has(resource) ? undefined : name)
}

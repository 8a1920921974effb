import { Flags } from '@oclif/core'
import { ApiCommand } from '../../../client/api-command.js'
import { formatFlag, linkFlags, linksBody, roleLinkFlags, tokenText, type AclTokenJson } from '../../../client/acl-cli.js'

export default class AclTokenUpdate extends ApiCommand<typeof AclTokenUpdate> {
  static override summary = 'Change a token\'s description, policies, roles or identities.'
  static override description = 'What is not given is kept; with -merge-policies (and -merge-roles, -merge-service-identities, -merge-node-identities) the given links are added to the token\'s instead of replacing them.'
  static override examples = ['<%= config.bin %> acl token update -id 986193a1-7c36-45e7-9d5c-3e6f2b0d4e35 -policy-name web -merge-policies']
  static override flags = {
    ...formatFlag,
    ...linkFlags,
    ...roleLinkFlags,
    id: Flags.string({ description: 'The token\'s AccessorID.', required: true }),
    description: Flags.string({ description: 'A new description.' }),
    'merge-policies': Flags.boolean({ description: 'Add the given policies to the token\'s.' }),
    'merge-roles': Flags.boolean({ description: 'Add the given roles to the token\'s.' }),
    'merge-service-identities': Flags.boolean({ description: 'Add the given service identities to the token\'s.' }),
    'merge-node-identities': Flags.boolean({ description: 'Add the given node identities to the token\'s.' }),
  }

  async run(): Promise<void> {
    const f = this.flags
    const path = `/v1/acl/token/${encodeURIComponent(f.id)}`
    const current = await this.attempt('Error reading token: ', () => this.client.json<AclTokenJson>('GET', path))
    const given = linksBody(f)
    const merge = (field: keyof AclTokenJson, on: boolean): unknown[] => [...(on || given[field] === undefined ? ((current[field] as unknown[] | null | undefined) ?? []) : []), ...((given[field] as unknown[] | undefined) ?? [])]
    const body = {
      Description: f.description ?? current.Description,
      Policies: merge('Policies', f['merge-policies']),
      Roles: merge('Roles', f['merge-roles']),
      ServiceIdentities: merge('ServiceIdentities', f['merge-service-identities']),
      NodeIdentities: merge('NodeIdentities', f['merge-node-identities']),
    }
    const token = await this.attempt('Failed to update token: ', () => this.client.json<AclTokenJson>('PUT', path, { body: JSON.stringify(body) }))
    this.log(f.format === 'json' ? JSON.stringify(token, null, 4) : tokenText(token))
  }
}

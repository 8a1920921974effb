import { Flags } from '@oclif/core'
import { ApiCommand } from '../../../client/api-command.js'
import { formatFlag, linkFlags, linksBody, roleLinkFlags, tokenText, type AclTokenJson } from '../../../client/acl-cli.js'

export default class AclTokenCreate extends ApiCommand<typeof AclTokenCreate> {
  static override summary = 'Create a token with policies, roles and identities.'
  static override examples = [
    '<%= config.bin %> acl token create -description "web deployer" -policy-name web',
    '<%= config.bin %> acl token create -service-identity web:dc1 -expires-ttl 1h',
  ]
  static override flags = {
    ...formatFlag,
    ...linkFlags,
    ...roleLinkFlags,
    description: Flags.string({ description: 'What the token is for.' }),
    local: Flags.boolean({ description: 'A token of this datacenter only.' }),
    'expires-ttl': Flags.string({ description: 'Lifetime, as a Go duration (1m to 24h).' }),
    accessor: Flags.string({ description: 'Choose the AccessorID (a UUID).' }),
    secret: Flags.string({ description: 'Choose the SecretID (a UUID).' }),
  }

  async run(): Promise<void> {
    const f = this.flags
    const body = { ...linksBody(f), ...(f.description !== undefined ? { Description: f.description } : {}), Local: f.local, ...(f['expires-ttl'] ? { ExpirationTTL: f['expires-ttl'] } : {}), ...(f.accessor ? { AccessorID: f.accessor } : {}), ...(f.secret ? { SecretID: f.secret } : {}) }
    const token = await this.attempt('Failed to create new token: ', () => this.client.json<AclTokenJson>('PUT', '/v1/acl/token', { body: JSON.stringify(body) }))
    this.log(f.format === 'json' ? JSON.stringify(token, null, 4) : tokenText(token))
  }
}

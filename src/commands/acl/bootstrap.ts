import { ApiCommand } from '../../client/api-command.js'
import { formatFlag, tokenText, type AclTokenJson } from '../../client/acl-cli.js'

export default class AclBootstrap extends ApiCommand<typeof AclBootstrap> {
  static override summary = 'Create the first management token (once per cluster).'
  static override description = 'Refused once ACLs have been bootstrapped; the error names the reset index to write to data_dir/acl-bootstrap-reset to allow it once more.'
  static override examples = ['<%= config.bin %> acl bootstrap', '<%= config.bin %> acl bootstrap -format=json']
  static override flags = { ...formatFlag }

  async run(): Promise<void> {
    const token = await this.attempt('Failed ACL bootstrapping: ', () => this.client.json<AclTokenJson>('PUT', '/v1/acl/bootstrap'))
    this.log(this.flags.format === 'json' ? JSON.stringify(token, null, 4) : tokenText(token))
  }
}

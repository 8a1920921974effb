import { ApiCommand } from '../../../client/api-command.js'
import { formatFlag, tokenText, type AclTokenJson } from '../../../client/acl-cli.js'

export default class AclTokenList extends ApiCommand<typeof AclTokenList> {
  static override summary = 'List every token (secrets shown only to tokens with acl:write).'
  static override examples = ['<%= config.bin %> acl token list', '<%= config.bin %> acl token list -format=json']
  static override flags = { ...formatFlag }

  async run(): Promise<void> {
    const tokens = await this.attempt('Failed to retrieve the token list: ', () => this.client.json<AclTokenJson[]>('GET', '/v1/acl/tokens'))
    this.log(this.flags.format === 'json' ? JSON.stringify(tokens, null, 4) : tokens.map(tokenText).join('\n\n'))
  }
}

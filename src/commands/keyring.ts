import { Flags } from '@oclif/core'
import { ApiCommand } from '../client/api-command.js'

interface PoolKeys {
  WAN: boolean
  Datacenter: string
  Keys: Record<string, number>
  PrimaryKeys?: Record<string, number>
  NumNodes: number
}

export default class Keyring extends ApiCommand<typeof Keyring> {
  static override summary = 'List, install, use or remove gossip encryption keys on every member of the pools.'
  static override description =
    "Runs on every member of the WAN pool and of every datacenter's LAN pool, through a server (as Consul relays it). To rotate: -install the new key, -use it, then -remove the old one."
  static override examples = [
    '<%= config.bin %> keyring -list',
    '<%= config.bin %> keyring -install=$(consul keygen)',
    '<%= config.bin %> keyring -use=NEWKEY',
    '<%= config.bin %> keyring -remove=OLDKEY',
  ]
  static override flags = {
    list: Flags.boolean({ description: 'List the keys installed on the members, and how many members hold each.' }),
    install: Flags.string({ description: 'Install a new key on every member (it opens messages; -use makes it the one that seals).' }),
    use: Flags.string({ description: 'Make an installed key the primary one on every member.' }),
    remove: Flags.string({ description: 'Remove a key that is not the primary from every member.' }),
  }

  async run(): Promise<void> {
    const { list, install, use, remove } = this.flags
    const chosen = [list, install, use, remove].filter((x) => x !== undefined && x !== false).length
    if (chosen !== 1) this.error('Exactly one of -list, -install, -use, or -remove must be provided', { exit: 1 })
    if (list) {
      this.log('==> Gathering installed encryption keys...')
      const pools = await this.attempt('error: ', () => this.client.json<PoolKeys[]>('GET', '/v1/operator/keyring'))
      for (const p of pools) {
        this.log(`\n${p.WAN ? 'WAN' : `${p.Datacenter} (LAN)`}:`)
        for (const [key, n] of Object.entries(p.Keys)) this.log(`  ${key} [${n}/${p.NumNodes}]`)
      }
      return
    }
    const [method, what, key] = install ? ['POST', 'Installing new gossip encryption key...', install] : use ? ['PUT', 'Changing primary gossip encryption key...', use] : ['DELETE', 'Removing gossip encryption key...', remove!]
    this.log(`==> ${what}`)
    await this.attempt('error: ', () => this.client.call(method, '/v1/operator/keyring', { body: JSON.stringify({ Key: key }) }))
  }
}

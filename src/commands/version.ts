import { Command } from '@oclif/core'
import { CONSUL_COMPAT_VERSION, RAFT_PROTOCOL, VERSION } from '../version.js'

export default class Version extends Command {
  static override summary = 'Print the version, and the Consul release this build is compatible with.'
  static override examples = ['<%= config.bin %> version']

  async run(): Promise<void> {
    this.log(`Consul v${CONSUL_COMPAT_VERSION}`)
    this.log(`Revision consulate-${VERSION}`)
    this.log(`Build Date 2026-11-26T00:00:00Z`)
    this.log(`Protocol 2 spoken by default, understands 2 to 3 (agent will automatically use protocol >2 when speaking to compatible agents)`)
    this.log(`Raft protocol ${RAFT_PROTOCOL}`)
  }
}

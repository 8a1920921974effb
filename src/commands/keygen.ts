import { randomBytes } from 'node:crypto'
import { Command } from '@oclif/core'

/** Gossip encryption keys are 32 random bytes (AES-256), written in base64 as Consul does. */
const GOSSIP_KEY_BYTES = 32

export default class Keygen extends Command {
  static override summary = 'Print a new gossip encryption key (for the encrypt config key).'
  static override examples = ['<%= config.bin %> keygen']

  async run(): Promise<void> {
    this.log(randomBytes(GOSSIP_KEY_BYTES).toString('base64'))
  }
}

import type { Hook } from '@oclif/core'
import { rejectMisplacedFlag, rejectUnknownCommand } from './not-supported.js'

/** oclif's command_not_found hook: `consul snapshot save x` arrives as the id `snapshot:save:x`. */
const commandNotFound: Hook<'command_not_found'> = async function (opts) {
  // A flag before any command (`consul -http-addr=x members`): Consul's flags belong to the command.
  if (opts.id.startsWith('-')) rejectMisplacedFlag(opts.id)
  rejectUnknownCommand(opts.config, opts.id.split(':'))
}

export default commandNotFound

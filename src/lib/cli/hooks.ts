import type { Hook } from '@oclif/core'
import { rejectUnknownCommand } from './not-supported.js'

/** oclif's command_not_found hook: `consul snapshot save x` arrives as the id `snapshot:save:x`. */
const commandNotFound: Hook<'command_not_found'> = async function (opts) {
  rejectUnknownCommand(opts.config, opts.id.split(':'))
}

export default commandNotFound

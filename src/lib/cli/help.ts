import { Help } from '@oclif/core'
import { commandWords, FACES, rejectUnknownCommand } from './not-supported.js'

// `$ consul consulkv read` -> `$ consulkv read`: the faces are their own bins. Tolerates ANSI colour between words.
const SGR = '(?:\\x1b\\[[0-9;]*m)*'
const FACE_USAGE = new RegExp(`(\\$${SGR}\\s+${SGR})consul${SGR}\\s+${SGR}(${FACES.join('|')})\\b`, 'g')

/** oclif's help with usage lines as the user types them, and Consul commands we lack answered as such. */
export default class ConsulHelp extends Help {
  override async showHelp(argv: string[]): Promise<void> {
    const words = commandWords(argv.filter((a) => a !== 'help'))
    if (words.length > 0 && !this.config.findCommand(words.join(':')) && !this.config.findTopic(words.join(':'))) {
      // A command's own positional arguments (`consul kv get -h key`) are not part of its id.
      const known = words.findIndex((_, i) => !!this.config.findCommand(words.slice(0, i + 1).join(':')))
      if (known < 0) rejectUnknownCommand(this.config, words)
    }
    await super.showHelp(argv)
  }

  protected override log(...args: string[]): void {
    super.log(...args.map((a) => a.replace(FACE_USAGE, '$1$2')))
  }
}

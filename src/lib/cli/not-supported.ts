import { Errors, type Interfaces } from '@oclif/core'
import { isConsulCommand } from './consul-commands.js'

/** The bins that run one topic of ours directly: `consulkv read` is `consul consulkv read`. */
export const FACES = ['consulkv', 'consul-template', 'distributive'] as const

/** How many leading words of `words` name a command or topic we have. */
function knownDepth(config: Interfaces.Config, words: readonly string[]): number {
  let depth = 0
  while (depth < words.length) {
    const id = words.slice(0, depth + 1).join(':')
    if (!config.findCommand(id) && !config.findTopic(id)) break
    depth++
  }
  return depth
}

/**
 * Answers a command line naming no command of ours as Consul would have us answer: a Consul command we lack is
 * "not supported yet" (exit 1), an unknown verb of a topic lists the topic's verbs. Prints one line and exits.
 */
export function rejectUnknownCommand(config: Interfaces.Config, words: readonly string[]): never {
  const depth = knownDepth(config, words)
  const path = words.slice(0, depth + 1)
  if (words[0] !== 'consulkv' && isConsulCommand(path)) line(`\`consul ${path.join(' ')}\` is not supported by this version yet`, 1)
  const topic = words.slice(0, depth)
  const verbs = config.commands
    .filter((c) => !c.hidden && c.id.startsWith(topic.length ? `${topic.join(':')}:` : ''))
    .map((c) => c.id.split(':')[topic.length]!)
  const list = [...new Set(verbs)].sort().join(', ')
  const unknown = words[depth] ?? ''
  // consulkv's usage errors exit 2, consul's exit 1.
  if (topic[0] === 'consulkv') line(`consulkv: unknown verb ${JSON.stringify(unknown)}; the verbs are: ${list}`, 2)
  const where = ['consul', ...topic].join(' ')
  line(`${where}: unknown ${topic.length ? 'subcommand' : 'command'} ${JSON.stringify(unknown)}; the ${topic.length ? 'subcommands' : 'commands'} are: ${list}`, 1)
}

/** A flag where a command was expected. */
export function rejectMisplacedFlag(flag: string): never {
  line(`consul: unknown flag ${flag.replace(/^--/, '-')}; flags go after the command: consul COMMAND [flags] (consul -h lists the commands)`, 1)
}

function line(text: string, exit: number): never {
  process.stderr.write(`${text}\n`)
  throw new Errors.ExitError(exit)
}

/** The command words of an oclif id or argv: everything before the first flag. */
export function commandWords(argv: readonly string[]): string[] {
  const words: string[] = []
  for (const arg of argv) {
    if (arg.startsWith('-')) break
    words.push(...arg.split(':'))
  }
  return words
}

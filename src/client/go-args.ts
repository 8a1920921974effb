/**
 * Go's flag package stops at the first non-flag argument; oclif does not. Commands that run a
 * child (`consul lock PREFIX CMD...`, `consul watch ... HANDLER...`) need Go's rule, or a child's
 * own flags (`sleep -n`, `sh -c`) would be taken as ours. These helpers split the argv the Go way
 * before oclif sees it, and recover the child's words exactly as the user typed them (the bin shim
 * has already rewritten `-word` to `--word` everywhere).
 */

/** What the splitter needs to know about a flag: whether it takes a value, and its `--no-` form. */
export interface FlagShape {
  type: 'boolean' | 'option'
  allowNo?: boolean
}

export interface GoSplit {
  /** Flags in oclif's `--name[=value]` form. */
  flags: string[]
  /** The positional words, from the first non-flag argument (or after `--`) on. */
  rest: string[]
}

/**
 * Splits argv at Go's boundary. Boolean flags take `=true|false` (`-shell=false`); option flags
 * take `=value` or the next word; `--` ends the flags; a lone `-` is positional.
 */
export function splitGoArgs(argv: readonly string[], shapes: Readonly<Record<string, FlagShape>>): GoSplit {
  const flags: string[] = []
  let i = 0
  for (; i < argv.length; i++) {
    const arg = argv[i]!
    if (arg === '--') {
      i++
      break
    }
    if (!arg.startsWith('-') || arg === '-') break
    const body = arg.replace(/^--?/, '')
    const eq = body.indexOf('=')
    const name = eq === -1 ? body : body.slice(0, eq)
    const shape = shapes[name]
    if (!shape) {
      // Unknown: hand it to oclif as is, which reports it properly.
      flags.push(`--${body}`)
      continue
    }
    if (shape.type === 'boolean') {
      const value = eq === -1 ? 'true' : body.slice(eq + 1).toLowerCase()
      if (/^(1|t|true)$/.test(value)) flags.push(`--${name}`)
      else if (/^(0|f|false)$/.test(value)) {
        if (shape.allowNo) flags.push(`--no-${name}`)
      } else flags.push(`--${body}`) // let oclif complain about the odd value
      continue
    }
    if (eq !== -1) flags.push(`--${body}`)
    else if (i + 1 < argv.length) {
      flags.push(`--${name}=${argv[i + 1]}`)
      i++
    } else flags.push(`--${name}`) // oclif reports the missing value
  }
  return { flags, rest: argv.slice(i) }
}

/**
 * The last `count` words as typed. `normalized` is what the command received; the same words sit
 * at the end of process.argv, each either unchanged or missing the dash the shim added.
 */
export function originalTail(normalized: readonly string[], count: number, raw: readonly string[] = process.argv.slice(2)): string[] {
  if (count === 0) return []
  const tail = normalized.slice(-count)
  const rawTail = raw.slice(-count)
  if (rawTail.length !== count) return tail
  const same = tail.every((n, k) => n === rawTail[k] || n === `-${rawTail[k]}`)
  return same ? rawTail : tail
}

/** The shapes of an oclif flag table, for splitGoArgs. */
export function shapesOf(...tables: Array<Record<string, { type: string; allowNo?: boolean }>>): Record<string, FlagShape> {
  const out: Record<string, FlagShape> = {}
  for (const table of tables)
    for (const [name, def] of Object.entries(table)) out[name] = { type: def.type === 'boolean' ? 'boolean' : 'option', allowNo: def.allowNo }
  return out
}

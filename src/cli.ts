import { execute } from '@oclif/core'

/**
 * Rewrites Go-style flags (`-data-dir=x`, `-recurse`) to oclif's `--data-dir=x`.
 * `-h` is Consul's help flag. Other single-letter flags (`-n`), numbers (`-1`), a lone `-` (stdin) and everything after
 * `--` are left alone, because Go's flag package treats them the same way.
 */
export function normalizeArgv(argv: readonly string[]): string[] {
  const out: string[] = []
  let passthrough = false
  for (const arg of argv) {
    if (passthrough || arg === '--') {
      passthrough = true
      out.push(arg)
      continue
    }
    if (arg === '-h') out.push('--help') // Consul's short help flag
    else out.push(/^-[A-Za-z][A-Za-z0-9_.-]+(=[\s\S]*)?$/.test(arg) ? `-${arg}` : arg)
  }
  return out
}

/** Consul's version flags (`consul -v`, `-version`, `--version`) print what `consul version` prints. */
const VERSION_FLAGS = new Set(['-v', '--version'])

export async function runCli(argv: readonly string[], binUrl: string): Promise<void> {
  const args = normalizeArgv(argv)
  await execute({ args: VERSION_FLAGS.has(args[0] ?? '') ? ['version', ...args.slice(1)] : args, dir: binUrl })
}

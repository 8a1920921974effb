/**
 * Rewrites upstream distributive spellings that oclif does not parse, before the Go-style normaliser runs:
 * `-s=true`/`--stdin=true` (codegangsta's bool syntax) → `--stdin`, `-s=false` → nothing, and `-d=''`/`-d ''`
 * (Mantl passes `-f x.json -d ''`) → dropped, since an empty directory means "not set".
 */
export function distributiveArgv(argv: readonly string[]): string[] {
  const out: string[] = []
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!
    if (arg === '--') {
      out.push(...argv.slice(i))
      break
    }
    const bool = /^--?(s|stdin|no-cache|legacy-exit-codes)=(true|false|1|0|t|f)$/i.exec(arg)
    if (bool) {
      if (/^(true|1|t)$/i.test(bool[2]!)) out.push(bool[1]!.length === 1 ? `-${bool[1]}` : `--${bool[1]}`)
      continue
    }
    if (/^--?(d|directory)=$/.test(arg)) continue
    if (/^--?(d|directory)$/.test(arg) && argv[i + 1] === '') {
      i++
      continue
    }
    out.push(arg)
  }
  return out
}

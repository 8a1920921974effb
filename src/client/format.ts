import type { KvPair } from './client.js'

/** A pair's value as the CLI prints it: text, or base64 with -base64. */
export function kvValueText(pair: KvPair, base64: boolean): string {
  if (pair.Value === null) return ''
  return base64 ? pair.Value : Buffer.from(pair.Value, 'base64').toString('utf8')
}

/** `consul kv get -detailed`: one aligned `Field  value` line per field, sorted. */
export function formatKvDetailed(pair: KvPair, base64: boolean): string {
  const rows: Array<[string, string]> = [
    ['CreateIndex', String(pair.CreateIndex)],
    ['Flags', String(pair.Flags)],
    ['Key', pair.Key],
    ['LockIndex', String(pair.LockIndex)],
    ['ModifyIndex', String(pair.ModifyIndex)],
    ['Session', pair.Session || '-'],
    ['Value', kvValueText(pair, base64)],
  ]
  return rows.map(([k, v]) => `${k.padEnd(17)}${v}`).join('\n')
}

/** Consul's `consul info` layout: `section:` then tab-indented `key = value`, both sorted. */
export function formatInfo(stats: Record<string, Record<string, unknown>>): string {
  const lines: string[] = []
  for (const section of Object.keys(stats).sort()) {
    lines.push(`${section}:`)
    const values = stats[section] ?? {}
    for (const key of Object.keys(values).sort()) lines.push(`\t${key} = ${String(values[key])}`)
  }
  return lines.join('\n')
}

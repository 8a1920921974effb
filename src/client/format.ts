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

/**
 * Consul's table layout (ryanuber/columnize with its defaults): cells trimmed, every column but
 * the last padded to its widest cell, joined by two spaces, no trailing newline.
 */
export function columnize(rows: readonly (readonly string[])[]): string {
  const cells = rows.map((r) => r.map((c) => c.trim()))
  const widths: number[] = []
  for (const r of cells) r.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, [...c].length)))
  return cells.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c + ' '.repeat(widths[i]! - [...c].length) + '  ')).join('')).join('\n')
}

/**
 * Go's text/tabwriter as `consul catalog services -tags` configures it (minwidth 0, padding 6,
 * pad with spaces): each tab-terminated cell is padded to its column's widest plus six; the last
 * cell of a line is not padded. Consul trims the whole block afterwards.
 */
export function tabwrite(rows: readonly (readonly string[])[], padding = 6): string {
  const widths: number[] = []
  for (const r of rows) r.slice(0, -1).forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, [...c].length)))
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c + ' '.repeat(widths[i]! + padding - [...c].length))).join('')).join('\n').trim()
}

/** `k=v` pairs sorted by key, as Consul prints metadata and tagged addresses. */
export function mapToKv(m: Record<string, string> | null | undefined, joiner = ', '): string {
  if (!m) return ''
  return Object.keys(m).sort().map((k) => `${k}=${m[k]}`).join(joiner)
}

/** Go's encoding/json escapes <, > and & inside strings; JSON has them nowhere else. */
export function goJsonEscape(json: string): string {
  return json.replace(/</g, '\\u003c').replace(/>/g, '\\u003e').replace(/&/g, '\\u0026')
}

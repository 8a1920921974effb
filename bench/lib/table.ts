/**
 * A plain-text table for benchmark output: the columns in `left` left-aligned (text), the others
 * right-aligned (numbers), as a reader scans them; a dashed rule under the header.
 */
export function textTable(head: readonly string[], rows: readonly string[][], left: ReadonlySet<number>): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)))
  const line = (r: readonly string[]): string => r.map((v, i) => (left.has(i) ? v.padEnd(widths[i]!) : v.padStart(widths[i]!))).join('  ').trimEnd()
  return [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n')
}

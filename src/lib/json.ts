import { parse as losslessParse, stringify as losslessStringify, isSafeNumber } from 'lossless-json'

/**
 * JSON with Go's uint64 range: numbers above 2^53 come back as bigint instead of losing
 * precision (KV Flags, indexes), and bigint values print as plain JSON numbers.
 */
export function parseJson(text: string): unknown {
  return losslessParse(text, null, (value: string) => {
    if (isSafeNumber(value)) return Number(value)
    if (/^-?\d+$/.test(value)) return BigInt(value)
    return Number(value)
  })
}

/** Stringifies with the native encoder when it can (the hot path), with bigint support otherwise. */
export function toJson(value: unknown, pretty = false): string {
  try {
    return pretty ? JSON.stringify(value, null, 4) : JSON.stringify(value)
  } catch (err) {
    if (!(err instanceof TypeError)) throw err
    return losslessStringify(value, null, pretty ? 4 : undefined) ?? 'null'
  }
}

/** Looks up a field the way Go's encoding/json does: exact name first, then case-insensitively. */
export function field(obj: unknown, name: string): unknown {
  if (obj === null || typeof obj !== 'object') return undefined
  const rec = obj as Record<string, unknown>
  if (name in rec) return rec[name]
  const lower = name.toLowerCase()
  for (const key of Object.keys(rec)) if (key.toLowerCase() === lower) return rec[key]
  return undefined
}

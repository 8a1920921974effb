/** Unsigned 64-bit integers as Consul sends them: a number when it is exact, a bigint above 2^53. */
export type Uint64 = number | bigint

export const UINT64_MAX = (1n << 64n) - 1n

/** Parses a decimal uint64 the way Go's strconv.ParseUint(s, 10, 64) does; undefined when invalid. */
export function parseUint64(text: string): Uint64 | undefined {
  if (!/^[0-9]+$/.test(text)) return undefined
  const big = BigInt(text)
  if (big > UINT64_MAX) return undefined
  return normalizeUint64(big)
}

/** A number when exact, a bigint otherwise. */
export function normalizeUint64(value: number | bigint): Uint64 {
  if (typeof value === 'number') return value
  return value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value
}

/** Accepts a JSON value (number or bigint from parseJson, or a decimal string) as a uint64. */
export function toUint64(value: unknown): Uint64 | undefined {
  if (typeof value === 'number') return Number.isInteger(value) && value >= 0 ? value : undefined
  if (typeof value === 'bigint') return value >= 0n && value <= UINT64_MAX ? normalizeUint64(value) : undefined
  if (typeof value === 'string') return parseUint64(value)
  return undefined
}

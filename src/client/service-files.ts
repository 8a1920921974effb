import { readFile } from 'node:fs/promises'
import { parseJson } from '../lib/json.js'

/** Case- and underscore-insensitive lookup, as Consul's config decoder matches keys. */
export function getField(obj: Record<string, unknown>, name: string): unknown {
  const want = name.replace(/_/g, '').toLowerCase()
  for (const [k, v] of Object.entries(obj)) if (k.replace(/_/g, '').toLowerCase() === want) return v
  return undefined
}

/** Sets a field, reusing the key spelling the file already has so nothing ends up duplicated. */
export function setField(obj: Record<string, unknown>, name: string, value: unknown): void {
  const want = name.replace(/_/g, '').toLowerCase()
  for (const k of Object.keys(obj)) {
    if (k.replace(/_/g, '').toLowerCase() === want) {
      obj[k] = value
      return
    }
  }
  obj[name] = value
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v)

/**
 * Service definitions from Consul config files: `{"service": {...}}` or `{"services": [...]}`
 * (JSON only; HCL is refused with a clear message). The definitions are passed to the agent as
 * written, since /v1/agent/service/register accepts the same keys, snake_case included.
 */
export async function servicesFromFiles(files: readonly string[]): Promise<Array<Record<string, unknown>>> {
  const out: Array<Record<string, unknown>> = []
  for (const file of files) {
    if (/\.hcl$/i.test(file)) throw new Error(`${file}: HCL service files are not supported; use JSON`)
    let text: string
    try {
      text = await readFile(file, 'utf8')
    } catch (err) {
      throw new Error(`Error loading ${file}: ${(err as Error).message}`)
    }
    let doc: unknown
    try {
      doc = parseJson(text)
    } catch (err) {
      throw new Error(`Error parsing ${file}: ${(err as Error).message}`)
    }
    if (!isObject(doc)) throw new Error(`Error parsing ${file}: the file must hold a JSON object`)
    for (const [key, value] of Object.entries(doc)) {
      const k = key.toLowerCase()
      if (k === 'service') {
        if (!isObject(value)) throw new Error(`${file}: "service" must be an object`)
        out.push(value)
      } else if (k === 'services') {
        const list = Array.isArray(value) ? value : [value]
        for (const s of list) {
          if (!isObject(s)) throw new Error(`${file}: every entry of "services" must be an object`)
          out.push(s)
        }
      }
    }
  }
  return out
}

/** `key=value` flag values as a map; Consul splits at the first `=`. */
export function parseKvFlags(values: readonly string[] | undefined, flag: string): Record<string, string> {
  const out: Record<string, string> = {}
  for (const v of values ?? []) {
    const i = v.indexOf('=')
    if (i === -1) throw new Error(`invalid value "${v}" for flag -${flag}: missing '=' in key=value`)
    out[v.slice(0, i)] = v.slice(i + 1)
  }
  return out
}

/** `-node-meta key=value` flags as the catalog API's `node-meta=key:value` filters. */
export function nodeMetaFilters(values: readonly string[] | undefined): string[] {
  return Object.entries(parseKvFlags(values, 'node-meta')).map(([k, v]) => `${k}:${v}`)
}

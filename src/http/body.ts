import type { ApiRequest } from './request.js'
import { badRequest } from '../lib/errors.js'
import { field, parseJson } from '../lib/json.js'
import { LIMITS } from '../lib/limits.js'

/** Reads a JSON request body (empty means null), with Consul's 400 for bad JSON. */
export async function readJsonBody(req: ApiRequest, limitBytes: number = LIMITS.jsonBodyMax): Promise<unknown> {
  const body = await req.body(limitBytes, (size) => `Request body(${size} bytes) too large, max size: ${limitBytes} bytes`)
  if (body.length === 0) return null
  try {
    return parseJson(body.toString('utf8'))
  } catch (err) {
    throw badRequest(`Request decode failed: ${(err as Error).message}`)
  }
}

/** A body field Go would decode into a string: absent, null or a string, else Consul's 400. */
export function stringField(body: unknown, name: string): string | undefined {
  const v = field(body, name)
  if (v === undefined || v === null) return undefined
  if (typeof v !== 'string') throw badRequest(`Request decode failed: ${name} must be a string`)
  return v
}

/** A body field Go would decode into a []string. */
export function stringsField(body: unknown, name: string): string[] | undefined {
  const v = field(body, name)
  if (v === undefined || v === null) return undefined
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) throw badRequest(`Request decode failed: ${name} must be a list of strings`)
  return v
}

/** A body field Go would decode into a map[string]string. */
export function stringMapField(body: unknown, name: string): Record<string, string> | undefined {
  const v = field(body, name)
  if (v === undefined || v === null) return undefined
  if (typeof v !== 'object' || Array.isArray(v) || !Object.values(v).every((x) => typeof x === 'string')) throw badRequest(`Request decode failed: ${name} must be an object of strings`)
  return v as Record<string, string>
}

/** A body field Go would decode into a slice: absent, null or a JSON array. */
export function listField(body: unknown, name: string): unknown[] | undefined {
  const v = field(body, name)
  if (v === undefined || v === null) return undefined
  if (!Array.isArray(v)) throw badRequest(`Request decode failed: ${name} must be a list`)
  return v
}

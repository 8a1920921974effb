import type { ApiRequest } from './request.js'
import { badRequest } from '../lib/errors.js'
import { parseJson } from '../lib/json.js'
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
